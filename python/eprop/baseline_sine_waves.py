"""NEST's time-driven baseline sine-wave task (``eprop_supervised_regression_sine-waves_bsshslm_2020.py``,
spec 11.3, and ``test_eprop_regression`` of ``test_eprop_bsshslm_2020_plasticity.py``) built with
eprop: 100 input parrots, 100 ``eprop_iaf_bsshslm_2020``, one ``eprop_readout_bsshslm_2020``,
``eprop_synapse_bsshslm_2020`` with gradient descent (eta 1e-4) once per 1000-ms interval,
drawn with NEST's seed and draw order (float32 weights), so the losses equal NEST's.
"""

from __future__ import annotations

import numpy as np

from .network import Network

__all__ = ["build_regression", "regression_losses"]


def build_regression(n_iter: int = 5, seed: int = 1, threads: int = 1):
    """Build the network, input and target for ``n_iter`` sequences of 1000 ms.

    Returns ``(network, readout_recorder, n_iter, sequence_steps)``; simulate
    ``n_iter * 1000 + 5`` ms (NEST's total offset 4 plus one extension step).
    """
    if not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
        raise ValueError(f"n_iter: must be a whole number ≥ 1, got {n_iter!r}")
    rng = np.random.RandomState(seed)   # NEST's np.random.seed stream, without touching the global one
    seq = 1000; n_in = n_rec = 100; n_out = 1
    net = Network(resolution=1.0, threads=threads)
    net.set_kernel(eprop_update_interval=seq, eprop_learning_window=seq, eprop_reset_neurons_on_update=True)
    inp = net.add_population("input", n_in)
    rec = net.add_population("eprop_iaf_bsshslm_2020", n_rec)
    rec.set(C_m=1.0, c_reg=300.0, E_L=0.0, f_target=10.0, flush_event_send_interval=float(seq), I_e=0.0,
            regular_spike_arrival=False, surrogate_gradient_function="piecewise_linear",
            surrogate_gradient_height=0.3/0.03, surrogate_gradient_width=1.0*0.03, t_ref=0.0, tau_m=30.0, V_m=0.0, V_th=0.03)
    out = net.add_population("eprop_readout_bsshslm_2020", n_out)
    out.set(C_m=1.0, E_L=0.0, I_e=0.0, loss="mean_squared_error", regular_spike_arrival=False, tau_m=30.0, V_m=0.0)
    f32 = np.float32
    w_in = np.array(rng.randn(n_in, n_rec).T / np.sqrt(n_in), dtype=f32).astype(float)
    w_rec = np.array(rng.randn(n_rec, n_rec).T / np.sqrt(n_rec), dtype=f32); np.fill_diagonal(w_rec, 0.0); w_rec = w_rec.astype(float)
    w_out = np.array(rng.randn(n_rec, n_out).T / np.sqrt(n_rec), dtype=f32).astype(float)
    w_fb = np.array(rng.randn(n_rec, n_out) / np.sqrt(n_rec), dtype=f32).astype(float)
    net.set_synapse_defaults("eprop_synapse_bsshslm_2020", type="gradient_descent", batch_size=1, eta=1e-4,
                             Wmin=-100.0, Wmax=100.0, average_gradient=False, tau_m_readout=30.0)
    net.connect(inp, rec, "eprop_synapse_bsshslm_2020", w_in)
    net.connect(rec, rec, "eprop_synapse_bsshslm_2020", w_rec, allow_autapses=False)
    net.connect(rec, out, "eprop_synapse_bsshslm_2020", w_out)
    net.connect(out, rec, "eprop_learning_signal_connection_bsshslm_2020", w_fb)
    bools = (rng.rand(seq, n_in) < 0.05).swapaxes(0, 1)
    bools[:, 0] = 0
    starts = np.arange(0.0, n_iter*seq, seq) + 1
    ids, ts = [], []
    for i, b in enumerate(bools):
        t0 = np.arange(0.0, seq, 1.0)[b]
        t = np.hstack([t0 + s for s in starts]).astype(np.float32).astype(float)
        ids.append(np.full(len(t), i)); ts.append(t)
    # parrot: spike_generator time t -> parrot spike in step t
    inp.set_spike_times(np.concatenate(ids), np.concatenate(ts))
    def sines(steps, periods):
        A = rng.uniform(0.5, 2.0, len(periods)); ph = rng.uniform(0, 2*np.pi, len(periods))
        s = sum(a*np.sin(np.linspace(p, p + 2*np.pi*(steps//T), steps)) for a, p, T in zip(A, ph, periods))
        s -= s[0]; s /= max(np.abs(s).max(), 1e-6); return s
    target = sines(seq, [1000, 500, 333, 200])
    out.set_target(np.arange(0.0, n_iter*seq, 1.0) + 4, np.tile(target, n_iter)[None, :])
    rr = net.record_state(out, ["readout_signal", "target_signal"])
    return net, rr, n_iter, seq



def regression_losses(n_iter: int = 5, seed: int = 1, threads: int = 1):
    """Simulate :func:`build_regression` and return (loss per iteration, network); the loss
    is NEST's: 0.5·Σ_t (y − y*)² over each 1000-step sequence."""
    net, rr, n_iter, seq = build_regression(n_iter=n_iter, seed=seed, threads=threads)
    net.simulate(n_iter * seq + 4 + 1)
    times, vals = rr.get()
    sel = (times >= 5) & (times < 5 + n_iter * seq)   # NEST's multimeter: start 4, stop 4 + task
    v = vals[sel]
    y = v[:, 0, 0].reshape(n_iter, seq)
    y_star = v[:, 1, 0].reshape(n_iter, seq)
    return 0.5 * np.sum((y - y_star) ** 2, axis=1), net
