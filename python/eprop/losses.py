"""Losses computed from recorded readout signals (NumPy only).

``eprop_readout`` with ``loss="cross_entropy"`` (an eprop extension, see the README and
``Sources/EpropCore/Models/EpropReadout.swift``) records

* ``readout_signal`` = π·λ, with π_k = exp(V_k) / Σ_j exp(V_j) over the population's
  readouts in the same step;
* ``target_signal`` = y*·λ;
* ``error_signal`` = (π − y*)·λ, which for λ uniform over the readouts and targets summing
  to 1 is ∂L/∂V of the loss computed here.

:func:`cross_entropy` turns such recordings back into L = −Σ_k λ·y*_k·log π_k per step;
:func:`softmax` recomputes π from recorded ``V_m`` as the engine does.
"""

from __future__ import annotations

import numpy as np

__all__ = ["softmax", "cross_entropy"]


def softmax(v, axis: int = -1) -> np.ndarray:
    """π = exp(v) / Σ exp(v) along ``axis``, evaluated as exp(v − max v) / Σ exp(v − max v)
    (the engine's order of operations; never overflows)."""
    v = np.asarray(v, dtype=np.float64)
    u = np.exp(v - np.max(v, axis=axis, keepdims=True))
    return u / np.sum(u, axis=axis, keepdims=True)


def cross_entropy(readout_signal, target_signal, window=None) -> np.ndarray:
    """Per-step cross-entropy −Σ_k λ·y*_k·log π_k from recorded signals.

    Args:
        readout_signal: (..., n_readouts) recorded ``readout_signal`` (π·λ).
        target_signal: same shape, recorded ``target_signal`` (y*·λ).
        window: the learning window λ, broadcastable to that shape. None means every λ is 0
            or 1 (as in NEST's examples): then the recorded signals are π and y* where λ = 1.

    Returns:
        (...,) the loss of every step, summed over the readouts; steps (and readouts) with
        y*·λ = 0 contribute 0. Sum over a sample's steps for its loss.
    """
    y = np.asarray(readout_signal, dtype=np.float64)
    t = np.asarray(target_signal, dtype=np.float64)
    if y.shape != t.shape:
        raise ValueError(f"readout_signal and target_signal: shapes must match, got {y.shape} and {t.shape}")
    if window is None:
        lam = np.ones_like(y)
    else:
        lam = np.broadcast_to(np.asarray(window, dtype=np.float64), y.shape)
    used = (t != 0) & (lam != 0)
    terms = np.zeros_like(y)
    lam_used = lam[used]
    # λ·y*·log π = (y*λ)·log((πλ)/λ)
    terms[used] = -t[used] * np.log(y[used] / lam_used)
    return terms.sum(axis=-1)
