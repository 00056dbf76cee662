"""The N-MNIST tutorial network (:mod:`eprop.classification`) with the time-driven baseline
models of Bellec et al. 2020 (NEST's ``*_bsshslm_2020`` family), for the efficiency study
(issue 6, ``examples/efficiency_study.py``, docs/efficiency.md).

:class:`BaselineTutorialNetwork` is a :class:`~eprop.classification.TutorialNetwork`: the same
sizes, masks and weight draw (:func:`~eprop.classification.draw_weights`), the same input
feeding (one sample of 300 steps after another, continuous time, spike times
``T0 + 300·g + step + 1``), the same one-hot targets, the same evaluation
(:func:`~eprop.classification.evaluate_window`: MSE loss and argmax of the window mean over
the last ``learning_window`` = 10 steps of each sample) and the same training loop
(:func:`~eprop.classification.train`, :func:`~eprop.classification.run_test`). What changes:

* models ``eprop_iaf_bsshslm_2020`` (``eprop_iaf_adapt_bsshslm_2020`` for ``eprop_iaf_adapt``),
  ``eprop_readout_bsshslm_2020`` (same ``loss``), ``eprop_synapse_bsshslm_2020`` and
  ``eprop_learning_signal_connection_bsshslm_2020``;
* kernel: update interval = one sample (``steps · dt`` = 300 ms), so each sample is one
  interval and every synapse updates its weight at most once per sample (batch 1 = one
  interval); learning window = the tutorial's (the last 10 steps); neurons reset at every
  interval start (the baseline's rule);
* the loss is mean squared error, as NEST's tutorial (both families support it, so the
  readouts, targets, windows and evaluation are the same; the baseline's cross-entropy would
  add a softmax the event-driven tutorial does not have). ``TutorialConfig(loss=
  "cross_entropy")`` works too.

**Parameter mapping.** NEST's tutorial rescales by s = 1 − κ (W_out·s, B/s, c_reg/s²,
eta·s²) only to make up for the event-driven model's filters without (1 − κ) and its readout
without the (1 − α_out) input factor (spec 10.8). The baseline has those factors, so it
gets Bellec's unscaled parameterization of the same network, chosen so that the forward
pass is the same (up to the reset rule: ``eprop_iaf`` subtracts V_th in the spike step and
lets it decay, the baseline subtracts it undecayed one step later) and a gradient-descent
step changes the effective weights by the same amount as in the event-driven network (up to
the cutoff, the interval resets and the different regularisation filters):

* recurrent neurons ``regular_spike_arrival=True`` (input ×1, as ``eprop_iaf``): W_in and
  W_rec unchanged;
* readouts ``regular_spike_arrival=False`` (input ×(1 − α_out)) and W_out / (1 − α_out): the
  same readout voltages;
* B·s (the draw without the 1/s), ``tau_m_readout`` = −dt / ln κ (the synapse's κ equals the
  neurons' κ = 0.99);
* gradient descent eta = eta_event / s² (5e-3 for the tutorial; Adam keeps eta: it is
  invariant to the gradient's scale), batch 1 (one interval), ``average_gradient`` off
  (the event-driven synapse sums the window's gradient too);
* c_reg = c_reg_event · s² · T (= 2): the baseline adds c_reg·(f_av − f_target)/T · Σ e once
  per interval, the event-driven model c_reg·(f_av − f_target)·ē_reg at every step;
* no ``kappa``, ``kappa_reg`` or ``eprop_isi_trace_cutoff`` (the baseline integrates the whole
  interval, from each synapse's first spike in it to its end);
* flush events after 1.5 samples (450 ms) of silence, from recurrent *and* input neurons
  (:data:`FLUSH_INTERVALS`), instead of the tutorial's 300 ms from recurrent neurons only. A
  baseline synapse keeps its interval pending until its source's next event, and the
  history ring holds every step since; the event-driven network flushes silent inputs
  automatically, the baseline needs the inputs' own flushes. With a multiple of the interval
  a flush that lands on an interval start (dropped there, spec 10.3) would land on one again
  each time and never arrive. Result-neutral: every flush arrives at least two steps after
  its interval's end, when the learning signals are complete (spec S-5.5).

**Timing** (dt = 1 ms; a sample g of a group starting at T0 occupies
[T0 + 300·g, T0 + 300·(g+1)), with T0 a multiple of 300 — the baseline's intervals are phased
from time 0, so groups must follow each other from the start as :func:`train` does):

========================================  =====================  =====================
                                          event-driven           baseline
========================================  =====================  =====================
sample step i: input spike time           T0 + 300g + i + 1      same
recurrent interval (shift 2)              –                      steps [2, 302) + 300n
readout interval (shift 3)                –                      steps [3, 303) + 300n
target of the sample from time            T0 + 300g + 2          T0 + 300g + 4
readout y compared in step                2 + i                  4 + i (MSE: y = V one
                                                                 step earlier; CE:
                                                                 softmax one step late)
window (recorded times, 10 steps)         (292, 302] + 300g      (294, 304] + 300g
evaluated readout samples                 (start + 2, end + 2]   (start + 4, end + 4]
========================================  =====================  =====================

So both families evaluate the same sample steps i = 290 … 299, the baseline's readout two
steps later (``total_offset`` 4 instead of 2: the readout's interval shift 3, one step for
the spike to reach it, plus the baseline's one-step readout lag). The baseline masks
readout, target and error outside the window itself (kernel ``eprop_learning_window``), so the
recorded ``target_signal`` is non-zero exactly on the evaluated steps; the tests check that.

**Other baseline rules that show here:** input spikes of sample step 0 (stamp = a recurrent
interval start) and recurrent spikes of an interval's last step towards recurrent neurons
are dropped (NEST's rule, spec 10.3), and each interval's traces start from zero after the
reset, whereas the event-driven network carries its state from sample to sample.
"""

from __future__ import annotations

import math

import numpy as np

from . import classification as _cl

__all__ = ["BASELINE_MODELS", "FLUSH_INTERVALS", "BaselineTutorialNetwork", "baseline_connections", "baseline_recurrent_parameters",
           "baseline_readout_parameters", "baseline_synapse_parameters"]

#: Baseline model of each event-driven recurrent model of the tutorial.
BASELINE_MODELS = {"eprop_iaf": "eprop_iaf_bsshslm_2020", "eprop_iaf_adapt": "eprop_iaf_adapt_bsshslm_2020"}
SYNAPSE = "eprop_synapse_bsshslm_2020"
FEEDBACK = "eprop_learning_signal_connection_bsshslm_2020"
#: Steps from a sample's start to its first compared readout step (see the module docstring).
BASELINE_OFFSET = 4
#: Flush intervals of the recurrent and input neurons, in samples (module docstring).
FLUSH_INTERVALS = 1.5


def _alpha_out(config: _cl.TutorialConfig) -> float:
    return math.exp(-config.dt / _cl.readout_parameters(config)["tau_m"])


def baseline_recurrent_parameters(config: _cl.TutorialConfig) -> dict:
    """The tutorial's recurrent parameters for the baseline model (see the module docstring)."""
    params = _cl.recurrent_parameters(config)
    for name in ("kappa", "kappa_reg", "eprop_isi_trace_cutoff"):
        params.pop(name, None)
    params["c_reg"] = params["c_reg"] * config.scale**2 * config.steps
    params["regular_spike_arrival"] = True
    params["flush_event_send_interval"] = FLUSH_INTERVALS * config.sequence_ms
    params.update({k: v for k, v in config.rec_params.items() if k == "flush_event_send_interval"})
    return params


def baseline_readout_parameters(config: _cl.TutorialConfig) -> dict:
    """The tutorial's readout parameters for ``eprop_readout_bsshslm_2020``."""
    params = _cl.readout_parameters(config)
    params.pop("eprop_isi_trace_cutoff", None)
    params["regular_spike_arrival"] = False
    return params


def baseline_synapse_parameters(config: _cl.TutorialConfig, eta: float | None = None) -> dict:
    """Common properties of ``eprop_synapse_bsshslm_2020``: the tutorial's optimizer with the
    baseline's eta (:meth:`BaselineTutorialNetwork.synapse_eta`), κ of the tutorial."""
    params = _cl.optimizer_parameters(config, eta)
    params.pop("optimize_each_step", None)
    params["eta"] = BaselineTutorialNetwork.synapse_eta(config, params["eta"], params["type"])
    params["average_gradient"] = False
    params["tau_m_readout"] = -config.dt / math.log(config.kappa)
    return params


def baseline_connections(config: _cl.TutorialConfig, weights: _cl.NetworkWeights | None = None) -> dict:
    """The tutorial's connections (default: :func:`~eprop.classification.draw_weights`) in the
    baseline's parameterization: W_out / (1 − α_out), B·s; W_in, W_rec unchanged."""
    weights = _cl.draw_weights(config) if weights is None else weights
    conns = _cl.connections_from_weights(weights)
    pre, post, w = conns["out"]
    conns["out"] = (pre, post, w / (1.0 - _alpha_out(config)))
    pre, post, w = conns["feedback"]
    conns["feedback"] = (pre, post, w * config.scale)
    return conns


class BaselineTutorialNetwork(_cl.TutorialNetwork):
    """The tutorial network with the ``*_bsshslm_2020`` models (module docstring).

    Args as :class:`~eprop.classification.TutorialNetwork`; ``connections`` default to
    :func:`baseline_connections`; ``eta`` is on the tutorial's (event-driven) scale and is
    mapped with :meth:`synapse_eta` (also by :meth:`set_eta`, so :func:`train` and
    :func:`run_test` pass the tutorial's rates unchanged).
    """

    total_offset = BASELINE_OFFSET
    synapse_models = {"in": SYNAPSE, "rec": SYNAPSE, "out": SYNAPSE, "feedback": FEEDBACK}

    def __init__(self, config: _cl.TutorialConfig | None = None, connections: dict | None = None, **kwargs):
        config = _cl.TutorialConfig() if config is None else config
        if config.model not in BASELINE_MODELS:
            raise ValueError(f"model: the baseline family has {sorted(BASELINE_MODELS)}, got {config.model!r}")
        weights = None
        if connections is None:
            weights = _cl.draw_weights(config)
            connections = baseline_connections(config, weights)
        super().__init__(config, connections, **kwargs)
        if weights is not None:
            self.weights0 = weights

    @staticmethod
    def synapse_eta(config: _cl.TutorialConfig, eta: float, optimizer: str | None = None) -> float:
        """The baseline synapse's eta for the tutorial's ``eta``: eta / s² for gradient descent
        (the baseline's gradients are s² times the event-driven ones in the tutorial's
        parameterization, module docstring), unchanged for Adam."""
        optimizer = optimizer or _cl.optimizer_parameters(config)["type"]
        return float(eta) / config.scale**2 if optimizer == "gradient_descent" else float(eta)

    @property
    def loss(self) -> str:
        return baseline_readout_parameters(self.config)["loss"]

    def _add_populations(self) -> None:
        cfg, net = self.config, self.network
        net.set_kernel(eprop_update_interval=cfg.sequence_ms, eprop_learning_window=cfg.learning_window * cfg.dt,
                       eprop_reset_neurons_on_update=True)
        self.inputs = net.add_population("input", cfg.n_in, flush_event_send_interval=FLUSH_INTERVALS * cfg.sequence_ms)
        self.recurrent = net.add_population(BASELINE_MODELS[cfg.model], cfg.n_rec, **baseline_recurrent_parameters(cfg))
        self.readout = net.add_population("eprop_readout_bsshslm_2020", cfg.n_out, **baseline_readout_parameters(cfg))

    def _set_optimizer(self, eta: float | None) -> None:
        params = baseline_synapse_parameters(self.config, eta)
        self.eta = _cl.optimizer_parameters(self.config, eta)["eta"]
        self.network.set_synapse_defaults(SYNAPSE, type=params.pop("type"), **params)

    def _set_learning_window(self, starts: np.ndarray) -> None:
        """Nothing: the baseline's window is the kernel's ``eprop_learning_window``."""

    def set_eta(self, eta: float) -> None:
        """Set the baseline synapse's eta to :meth:`synapse_eta` of the tutorial-scale ``eta``
        (effective one optimization late, as in NEST)."""
        self.network.set_synapse_defaults(SYNAPSE, eta=self.synapse_eta(self.config, eta))
        self.eta = float(eta)
