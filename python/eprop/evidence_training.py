"""Training on Bellec's evidence-accumulation task with either e-prop family.

``family="baseline"`` rebuilds NEST's example
``eprop_supervised_classification_evidence-accumulation_bsshslm_2020.py`` (spec 11.3): 40
input parrots, 50 ``eprop_iaf_bsshslm_2020`` + 50 ``eprop_iaf_adapt_bsshslm_2020``, 2
``eprop_readout_bsshslm_2020`` with cross-entropy, Adam (eta 5e-3, average_gradient),
update interval = one 2250-ms sequence, learning window = the 150-ms recall, batches of 32
sequences, and the example's protocol (validation every 10 training iterations with
eta 0, early stopping below an error of 0.07, 4 test iterations). Weights and inputs are
drawn with the example's seed and order (:mod:`eprop.evidence_accumulation`), so every
iteration's loss and error equal NEST's.

``family="event"`` trains the same task with the event-driven models (``eprop_iaf``,
``eprop_iaf_adapt``, ``eprop_readout`` with our cross-entropy extension, ``eprop_synapse``
accumulating each sequence's gradient): no resets between sequences, the learning window
given by ``set_learning_window``, an eprop configuration of ours (NEST has no event-driven
version of this example), documented in :data:`EVENT_DEFAULTS`.

:func:`train` returns the per-iteration rows, the work counters when the library has them,
and the wall time.
"""

from __future__ import annotations

import dataclasses
import sys
import time as _time

import numpy as np

from . import evidence_accumulation as _task
from .network import Network

__all__ = ["EvidenceRun", "train", "EVENT_DEFAULTS", "BASELINE_DEFAULTS"]

#: The example's settings (NEST 3.10, spec 11.3).
BASELINE_DEFAULTS = dict(batch_size=32, n_iter_train=50, n_iter_test=4, n_iter_validate_every=10,
                         n_iter_early_stop=8, stop_crit=0.07, eta_train=5e-3, eta_test=0.0, seed=1)

#: Settings of the event-driven variant (ours): κ = κ_reg = exp(−dt/τ_out), readout weights
#: scaled by (1 − α_out) (the event-driven readout has no input factor), Adam with one update
#: per batch (optimize_each_step off, batch_size = the batch's steps), cutoff 100 ms.
EVENT_DEFAULTS = dict(eta_train=5e-3, isi_trace_cutoff=100.0)

N_IN, N_REG, N_AD, N_OUT = 40, 50, 50, 2
TAU_M, TAU_OUT, V_TH, T_REF, ADAPT_TAU = 20.0, 20.0, 0.6, 5.0, 2000.0
TOTAL_OFFSET = 4   # steps: generator offset + input→rec + rec→out + normalisation (baseline)


@dataclasses.dataclass
class EvidenceRun:
    """What :func:`train` measured.

    Attributes:
        family: "baseline" or "event".
        rows: one dict per evaluated iteration: iteration (1-based), phase, loss, error, accuracy.
        test_accuracy: mean accuracy of the test iterations.
        counters: work counters after the run (dict).
        energy_j: energy estimate of the counters with the default table, J.
        wall_s: wall time of the whole run, s.
        simulated_ms: biological time simulated.
    """

    family: str
    rows: list
    test_accuracy: float
    counters: dict
    energy_j: float
    wall_s: float
    simulated_ms: float


def _build(family: str, weights: dict, batch_size: int, threads: int, eta: float):
    steps_seq = 2250
    net = Network(resolution=1.0, threads=threads)
    inp = net.add_population("input", N_IN)
    neuron = dict(C_m=1.0, c_reg=300.0, E_L=0.0, f_target=10.0, I_e=0.0, surrogate_gradient_function="piecewise_linear",
                  surrogate_gradient_height=0.3 / V_TH, surrogate_gradient_width=1.0 * V_TH, t_ref=T_REF, tau_m=TAU_M,
                  V_m=0.0, V_th=V_TH)
    beta = 1.7 * ((1.0 - np.exp(-1.0 / ADAPT_TAU)) / (1.0 - np.exp(-1.0 / TAU_M)))
    w_in, w_rec, w_out, b = weights["in_rec"], weights["rec_rec"], weights["rec_out"], weights["out_rec"]
    if family == "baseline":
        net.set_kernel(eprop_update_interval=float(steps_seq), eprop_learning_window=150.0, eprop_reset_neurons_on_update=True)
        reg = net.add_population("eprop_iaf_bsshslm_2020", N_REG)
        ad = net.add_population("eprop_iaf_adapt_bsshslm_2020", N_AD)
        out = net.add_population("eprop_readout_bsshslm_2020", N_OUT)
        neuron.update(flush_event_send_interval=float(steps_seq), regular_spike_arrival=True)
        reg.set(**neuron)
        ad.set(**neuron, adapt_tau=ADAPT_TAU, adaptation=0.0, adapt_beta=beta)
        out.set(C_m=1.0, E_L=0.0, I_e=0.0, loss="cross_entropy", regular_spike_arrival=False, tau_m=TAU_OUT, V_m=0.0)
        synapse = "eprop_synapse_bsshslm_2020"
        # As the example: eta is not set here but by each phase, so NEST's eta bookkeeping
        # (the first change is to the validation's 0, spec 9.4) is the same.
        net.set_synapse_defaults(synapse, type="adam", batch_size=batch_size, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                                 Wmin=-100.0, Wmax=100.0, average_gradient=True, tau_m_readout=TAU_OUT)
        feedback = "eprop_learning_signal_connection_bsshslm_2020"
    else:
        reg = net.add_population("eprop_iaf", N_REG)
        ad = net.add_population("eprop_iaf_adapt", N_AD)
        out = net.add_population("eprop_readout", N_OUT)
        kappa = float(np.exp(-1.0 / TAU_OUT))
        neuron.update(kappa=kappa, kappa_reg=kappa, eprop_isi_trace_cutoff=EVENT_DEFAULTS["isi_trace_cutoff"])
        reg.set(**neuron)
        ad.set(**neuron, adapt_tau=ADAPT_TAU, adaptation=0.0, adapt_beta=beta)
        out.set(C_m=1.0, E_L=0.0, I_e=0.0, loss="cross_entropy", tau_m=TAU_OUT, V_m=0.0)
        synapse = "eprop_synapse"
        # One weight update per batch: batch_size counts time steps in the event-driven model.
        net.set_optimizer(type="adam", batch_size=batch_size * steps_seq, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                          Wmin=-100.0, Wmax=100.0, optimize_each_step=False)
        # Recurrent neurons take spikes as the baseline's (regular_spike_arrival); the
        # baseline readout scales its input by (1 − α), which the event-driven readout does
        # not: scale its weights instead. Adam makes ē's missing (1 − κ) irrelevant.
        w_out = w_out * (1.0 - np.exp(-1.0 / TAU_OUT))
        feedback = "eprop_learning_signal_connection"
    r, a = slice(0, N_REG), slice(N_REG, N_REG + N_AD)
    net.connect(inp, reg, synapse, w_in[r])
    net.connect(inp, ad, synapse, w_in[a])
    net.connect(reg, reg, synapse, w_rec[r, r], allow_autapses=False)
    net.connect(reg, ad, synapse, w_rec[a, r])
    net.connect(ad, reg, synapse, w_rec[r, a])
    net.connect(ad, ad, synapse, w_rec[a, a], allow_autapses=False)
    net.connect(reg, out, synapse, w_out[:, r])
    net.connect(ad, out, synapse, w_out[:, a])
    net.connect(out, reg, feedback, b[r])
    net.connect(out, ad, feedback, b[a])
    recorder = net.record_state(out, ["readout_signal", "target_signal"])
    return net, inp, out, recorder, synapse


def train(family: str = "baseline", *, n_iter_train: int | None = None, batch_size: int | None = None,
          threads: int = 1, seed: int = 1, eta_train: float | None = None, progress: bool = True,
          stream=None) -> EvidenceRun:
    """Train with NEST's example protocol; see the module docstring.

    Args:
        family: "baseline" (``*_bsshslm_2020``, NEST's example) or "event" (event-driven models).
        n_iter_train: training iterations (default 50, as the example).
        batch_size: sequences per iteration (default 32).
        threads: engine threads (results do not depend on it).
        seed: the example's seed (1).
        eta_train: learning rate of the training phase (default: the family's).
        progress: print a line per iteration to ``stream`` (default stderr).
    """
    if family not in ("baseline", "event"):
        raise ValueError(f'family: "baseline" or "event" required, got {family!r}')
    d = dict(BASELINE_DEFAULTS)
    n_iter_train = d["n_iter_train"] if n_iter_train is None else int(n_iter_train)
    batch_size = d["batch_size"] if batch_size is None else int(batch_size)
    if n_iter_train < 1 or batch_size < 1:
        raise ValueError(f"n_iter_train and batch_size: must be ≥ 1, got {n_iter_train} and {batch_size}")
    eta_train = (d["eta_train"] if family == "baseline" else EVENT_DEFAULTS["eta_train"]) if eta_train is None else float(eta_train)
    stream = sys.stderr if stream is None else stream
    rng = np.random.RandomState(seed)
    weights = _task.example_weights(rng, n_in=N_IN, n_rec=N_REG + N_AD)
    start = _time.perf_counter()
    net, inp, out, recorder, synapse = _build(family, weights, batch_size, threads, eta_train)
    steps_seq, recall = 2250, 150
    iteration_steps = batch_size * steps_seq
    state = dict(n_sim=0, error=0.0, previous_phase="")
    rows: list = []

    def set_eta(eta):
        if family == "baseline":
            net.set_synapse_defaults(synapse, eta=eta)
        else:
            net.set_optimizer(eta=eta)

    def evaluate():
        times, values = recorder.get()
        n = state["n_sim"]
        lo, hi = (n - 1) * iteration_steps + TOTAL_OFFSET, n * iteration_steps + TOTAL_OFFSET
        if family == "event":
            lo, hi = lo - 1, hi - 1   # no normalisation lag
        sel = (times > lo) & (times <= hi)
        y = values[sel, 0, :].T.reshape(N_OUT, batch_size, steps_seq)[..., -recall:]
        y_star = values[sel, 1, :].T.reshape(N_OUT, batch_size, steps_seq)[..., -recall:]
        loss = -np.mean(np.sum(y_star * np.log(y), axis=0))
        accuracy = float(np.mean(np.argmax(y.mean(axis=2), axis=0) == np.argmax(y_star.mean(axis=2), axis=0)))
        rows.append(dict(iteration=n, phase=state["previous_phase"], loss=float(loss), error=1.0 - accuracy,
                         accuracy=accuracy))
        state["error"] = 1.0 - accuracy
        if progress:
            print(f"iteration {n:3d}  {state['previous_phase']:<15} loss {loss:.6f}  accuracy {accuracy:.3f}", file=stream)

    def run_phase(label, eta):
        set_eta(eta)
        batch = _task.generate(batch_size, rng=rng, t_start=1.0 + state["n_sim"] * iteration_steps)
        neurons, times = batch.spike_arrays()
        inp.set_spike_times(neurons, times)
        shift = TOTAL_OFFSET if family == "baseline" else TOTAL_OFFSET - 1
        target_times = np.arange(batch_size) * steps_seq + state["n_sim"] * iteration_steps + shift
        out.set_target(target_times.astype(float), batch.target_values)
        if family == "event":
            window = np.zeros((batch_size, 2))
            window[:, 1] = 1.0
            wtimes = np.stack([np.arange(batch_size) * steps_seq + state["n_sim"] * iteration_steps + shift,
                               np.arange(batch_size) * steps_seq + state["n_sim"] * iteration_steps + shift
                               + steps_seq - recall], axis=1).ravel()
            out.set_learning_window(wtimes.astype(float), np.tile(window.ravel(), (N_OUT, 1)))
        net.simulate(TOTAL_OFFSET + 1.0)
        if state["n_sim"] > 0:
            evaluate()
        net.simulate(float(iteration_steps - TOTAL_OFFSET - 1))
        state["n_sim"] += 1
        state["previous_phase"] = label

    k, early_stop = 0, False
    while k < n_iter_train and not early_stop:
        if k % d["n_iter_validate_every"] == 0:
            run_phase("validation", d["eta_test"])
            if k > 0 and state["error"] < d["stop_crit"]:
                errors = []
                for _ in range(d["n_iter_early_stop"]):
                    run_phase("early-stopping", d["eta_test"])
                    errors.append(state["error"])
                early_stop = np.mean(errors) < d["stop_crit"]
        run_phase("training", eta_train)
        k += 1
    for _ in range(d["n_iter_test"]):
        run_phase("test", d["eta_test"])
    net.simulate(TOTAL_OFFSET + 1.0)
    evaluate()
    wall = _time.perf_counter() - start
    test = [r["accuracy"] for r in rows if r["phase"] == "test"]
    return EvidenceRun(family, rows, float(np.mean(test)), net.counters(), net.energy()["total"], wall, net.time)
