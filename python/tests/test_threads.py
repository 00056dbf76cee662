"""Threads: results are bit-identical for any number of threads (issue 5)."""
import numpy as np
import pytest

import eprop
from eprop import tasks
from eprop.errors import InvalidArgumentError
from eprop.sine_waves import train_sine_waves


@pytest.fixture(autouse=True)
def always_parallel(monkeypatch):
    """Every network of these tests runs every step on its threads: they are small, and
    below ``parallel_min_work`` a step would run on the calling thread."""
    original = eprop.Network.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.parallel_min_work = 0

    monkeypatch.setattr(eprop.Network, "__init__", init)


@pytest.mark.parametrize("optimizer", ["gradient_descent", "adam"])
def test_sine_task_identical_for_1_and_2_threads(optimizer):
    task = tasks.sine_wave_task(seed=3, n_iter=3, steps_per_sequence=200, variant="test")
    runs = []
    for threads in (1, 2):
        result = train_sine_waves(task=task, optimizer=optimizer, final_update=False, threads=threads)
        net = result.net
        assert net.network.threads == threads
        runs.append((result.losses, net.proj_in.weights, net.proj_rec.weights, net.proj_out.weights))
        learned = net.proj_rec.weight_matrix()
    for a, b in zip(runs[0], runs[1]):
        assert np.array_equal(a, b)
    assert np.abs(learned - task.weights_rec).max() > 0   # learning happened


def test_thread_count_validation():
    net = eprop.Network(threads=2)
    assert net.threads == 2
    with pytest.raises(InvalidArgumentError, match="threads"):
        net.threads = 0
    with pytest.raises(InvalidArgumentError, match="threads"):
        eprop.Network(threads=1000)
    net.threads = 1
    assert net.threads == 1


def test_parallel_min_work_validation_and_default(monkeypatch):
    monkeypatch.undo()   # the library's default, not the fixture's 0
    net = eprop.Network(threads=2)
    assert net.parallel_min_work == 32768
    net.parallel_min_work = 0
    assert net.parallel_min_work == 0
    with pytest.raises(InvalidArgumentError, match=r"parallel_min_work: must be ≥ 0, got -1"):
        net.parallel_min_work = -1
    with pytest.raises(InvalidArgumentError, match="parallel_min_work: expected a whole number"):
        net.parallel_min_work = 1.5
    assert eprop.Network(parallel_min_work=5).parallel_min_work == 5


@pytest.mark.parametrize("min_work", [0, 2000, 10**9])
def test_steps_below_parallel_min_work_give_the_same_results(min_work):
    """With 2 threads, steps run on the threads (0), some on the threads and some on the
    calling thread (2000: this network's steps straddle it) or all on the calling thread
    (10^9): the same weights and spikes as 1 thread."""
    reference = _mixed_network(1, "eprop_iaf_adapt", "adam", False, "double", 10.0, 50.0)
    other = _mixed_network(2, "eprop_iaf_adapt", "adam", False, "double", 10.0, 50.0, min_work=min_work)
    for a, b in zip(reference, other):
        assert np.array_equal(a, b)


def _mixed_network(threads, model, optimizer, each_step, precision, tau_spread, flush_ms, min_work=None):
    """A sparse network with every path of the kernel: rows of many lengths (full groups of
    8 and 4, 1–3 synapse tails), first events, flush events, cutoffs, Adam, adaptive targets,
    per-synapse z̄ (τ_m differing across targets), readouts and single precision."""
    rng = np.random.default_rng(7)
    net = eprop.Network(threads=threads, synapse_precision=precision)
    if min_work is not None:
        net.parallel_min_work = min_work
    n_in, n_rec, n_out = 40, 61, 3
    inp = net.add_population("input", n_in)
    tau = 20.0 + tau_spread * rng.random(n_rec)
    rec = net.add_population(model, n_rec, C_m=1.0, E_L=0.0, V_m=0.0, V_th=0.03, t_ref=0.0, c_reg=50.0,
                             eprop_isi_trace_cutoff=30.0, flush_event_send_interval=flush_ms)
    if tau_spread:
        rec.set(tau_m=tau)
    out = net.add_population("eprop_readout", n_out, C_m=1.0, E_L=0.0, V_m=0.0)
    net.set_optimizer(type=optimizer, eta=1e-3, optimize_each_step=each_step)
    pre = rng.integers(0, n_in, 900)
    post = rng.integers(0, n_rec, 900)
    net.connect(inp, rec, "eprop_synapse", pre_ids=pre, post_ids=post, weights=rng.normal(0.02, 0.01, 900))
    net.connect(rec, rec, "eprop_synapse", rule="pairwise_bernoulli", p=0.3, allow_autapses=False,
                weights=("normal", -0.002, 0.004), seed=3)
    net.connect(rec, out, "eprop_synapse", weights=rng.normal(0, 0.05, (n_out, n_rec)))
    net.connect(out, rec, "eprop_learning_signal_connection", weights=rng.normal(0, 0.3, (n_rec, n_out)))
    ids = rng.integers(0, n_in, 1500)
    inp.set_spike_times(ids, np.sort(rng.uniform(1, 299, 1500)).round())
    t = np.arange(1.0, 300.0, 10.0)
    out.set_target(t, np.sin(t[None, :] / 40.0 + np.arange(n_out)[:, None]) * 0.5)
    out.set_learning_window([1.0], [1.0])
    trace = net.record_state(out, ["readout_signal"])
    plastic = [p for p in net.projections if p.synapse_model == "eprop_synapse"]
    initial = [p.weights.copy() for p in plastic]
    net.simulate(300.0)
    _, data = trace.get()
    final = [p.weights.copy() for p in plastic]
    assert all(not np.array_equal(a, b) for a, b in zip(initial, final))   # every projection learned
    return final + [data, net.counters()["spikes"]]


@pytest.mark.parametrize("model,optimizer,each_step,precision,tau_spread,flush_ms", [
    ("eprop_iaf", "adam", False, "double", 0.0, 40.0),
    ("eprop_iaf", "gradient_descent", False, "single", 0.0, 40.0),
    ("eprop_iaf_adapt", "adam", False, "double", 0.0, 40.0),
    ("eprop_iaf", "adam", False, "double", 10.0, 40.0),
    ("eprop_iaf", "adam", True, "double", 0.0, 40.0),
])
def test_mixed_network_identical_for_1_2_3_threads(model, optimizer, each_step, precision, tau_spread, flush_ms):
    runs = [_mixed_network(t, model, optimizer, each_step, precision, tau_spread, flush_ms) for t in (1, 2, 3)]
    assert runs[0][-1] > 500   # the recurrent neurons spike
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            assert np.array_equal(a, b)


def _feedback_network(threads):
    rng = np.random.default_rng(11)
    net = eprop.Network(threads=threads)
    inp = net.add_population("input", 20)
    rec = net.add_population("eprop_iaf", 30, C_m=1.0, E_L=0.0, V_m=0.0, V_th=0.03, t_ref=0.0,
                             eprop_isi_trace_cutoff=20.0)
    out = net.add_population("eprop_readout", 2, C_m=1.0, E_L=0.0, V_m=0.0)
    net.set_optimizer(type="adam", eta=1e-3)
    net.connect(inp, rec, "eprop_synapse", weights=rng.normal(0.03, 0.01, (30, 20)))
    net.connect(rec, rec, "eprop_synapse", weights=rng.normal(0.0, 0.005, (30, 30)))
    net.connect(rec, out, "eprop_synapse", weights=rng.normal(0.0, 0.1, (2, 30)))
    feedback = net.connect(out, rec, "eprop_learning_signal_connection", weights=rng.normal(0, 1.0, (30, 2)))
    inp.set_spike_times(rng.integers(0, 20, 600), np.sort(rng.uniform(1, 119, 600)).round())
    out.set_target([1.0], [[0.5], [-0.5]])
    out.set_learning_window([1.0], [1.0])
    return net, feedback


@pytest.mark.parametrize("threads", [1, 2])
def test_learning_signals_never_fused_across_calls_or_interruptions(threads):
    """Step t + 1's learning signals are delivered at the end of step t only inside one
    simulate call. A change of B between calls, or after a progress callback stopped the
    run, must reach the next step's signals: L of entry t − 2, recorded after step t, is
    B·(readout errors of step t − 1) with the B in effect at step t."""
    def run(split):
        net, feedback = _feedback_network(threads)
        rec, out = net.populations[1], net.populations[2]
        learning = net.record_state(rec, ["learning_signal"])
        errors = net.record_state(out, ["error_signal"])
        if split == "interrupt":
            with pytest.raises(eprop.SimulationInterrupted):
                net.simulate(120.0, progress=lambda done, total: done < 37, every=1)
        else:
            net.simulate(37.0)
        old = feedback.weight_matrix()
        feedback.weights = feedback.weights * -2.0   # B changes between the two parts
        new = feedback.weight_matrix()
        net.simulate(120.0 - net.time)
        L, e = learning.get()[1][:, 0, :], errors.get()[1][:, 0, :]
        for step, b in [(20, old), (37, new), (60, new)]:   # 20, 60: delivered fused; 37: after the split
            expected = np.zeros(30)
            for k in range(2):   # readout by readout, as the engine adds them
                expected = expected + b[:, k] * e[step - 1, k]
            assert np.array_equal(L[step], expected), f"step {step}"
        assert not np.array_equal(L[37], np.zeros(30))
        return [p.weights.copy() for p in net.projections if p.synapse_model == "eprop_synapse"]

    for a, b in zip(run("calls"), run("interrupt")):
        assert np.array_equal(a, b)
