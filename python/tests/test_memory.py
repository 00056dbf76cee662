"""Memory: the engine's own count, the estimate before building, failing fast (issue 5)."""
import pytest

import numpy as np

import eprop
from eprop.errors import InvalidArgumentError, OutOfMemoryError


def test_memory_report_and_estimate():
    net = eprop.Network()
    rec = net.add_population("eprop_iaf", 300, C_m=1.0, E_L=0.0, V_m=0.0, eprop_isi_trace_cutoff=50.0)
    net.set_optimizer(type="adam", optimize_each_step=True)
    proj = net.connect(rec, rec, "eprop_synapse", rule="fixed_indegree", indegree=30, allow_autapses=False, seed=1)
    held = net.memory
    assert held["history"] > 0 and held["total"] > 30 * 300 * 44        # Adam, each step: 44 B per synapse
    estimate = eprop.estimate_memory(300, len(proj), optimizer="adam", optimize_each_step=True, cutoff_ms=50.0,
                                     flush_interval_ms=50.0)
    assert 0.5 * held["total"] < estimate < 2.0 * held["total"]
    assert eprop.estimate_memory(10**6, 10**8) > 3.6e9                   # 1e8 synapses at ≥ 36 B each


def test_estimate_each_step_without_cutoff():
    # No cutoff with a flush interval: the history spans at most two flush intervals
    # (this used to overflow and crash). 1000 neurons × 128 slots × 24 B of history.
    with_flush = eprop.estimate_memory(1000, 10**5, optimize_each_step=True, cutoff_ms=float("inf"),
                                       flush_interval_ms=50.0)
    assert with_flush == eprop.estimate_memory(1000, 10**5, optimize_each_step=True, cutoff_ms=50.0,
                                               flush_interval_ms=50.0)
    # Neither a cutoff nor flushes: nothing bounds the history, and the estimate says so.
    unbounded = eprop.estimate_memory(1000, 10**5, optimize_each_step=True)
    assert unbounded > 100 * with_flush


def test_estimate_argument_errors():
    with pytest.raises(InvalidArgumentError, match="n_plastic"):
        eprop.estimate_memory(10, -1)
    with pytest.raises(eprop.BadPropertyError, match="optimizer"):
        eprop.estimate_memory(10, 10, optimizer="sgd")


def test_impossible_network_fails_fast():
    net = eprop.Network()
    rec = net.add_population("eprop_iaf", 100_000)
    with pytest.raises(OutOfMemoryError, match="GB"):
        net.connect(rec, rec, "eprop_synapse", rule="fixed_indegree", indegree=1_000_000, seed=1)
    with pytest.raises(OutOfMemoryError, match="GB"):
        net.add_population("eprop_iaf", 2_000_000_000)


def _silent_after_one_spike(flush_ms, steps):
    """Baseline: one input spike (5 ms) makes one recurrent neuron spike once; then both stay
    silent and send flush events every ``flush_ms``; 20-ms update intervals."""
    net = eprop.Network(resolution=1.0)
    net.set_kernel(eprop_update_interval=20.0, eprop_learning_window=20.0, eprop_reset_neurons_on_update=True)
    inp = net.add_population("input", 1, flush_event_send_interval=flush_ms)
    rec = net.add_population("eprop_iaf_bsshslm_2020", 1, C_m=1.0, E_L=0.0, V_m=0.0, V_th=0.5, t_ref=0.0,
                             regular_spike_arrival=True, flush_event_send_interval=flush_ms)
    out = net.add_population("eprop_readout_bsshslm_2020", 1, C_m=1.0, E_L=0.0, V_m=0.0)
    net.connect(inp, rec, "eprop_synapse_bsshslm_2020", np.array([[0.6]]))
    net.connect(rec, rec, "eprop_synapse_bsshslm_2020", np.array([[0.0]]))
    net.connect(rec, out, "eprop_synapse_bsshslm_2020", np.array([[0.1]]))
    net.connect(out, rec, "eprop_learning_signal_connection_bsshslm_2020", np.array([[1.0]]))
    inp.set_spike_times([0], [5.0])
    spikes = net.record_spikes(rec)
    net.simulate(float(steps))
    assert spikes.get()[0].tolist() == [7.0]
    return net


def test_baseline_history_is_released_after_a_silent_source_flushed():
    """A baseline source whose flush closed its interval needs no history once that interval
    is over (its next spike starts afresh), so the rings stay small however long it stays
    silent; before, every step since the flush was kept."""
    short, long = _silent_after_one_spike(30.0, 2_000), _silent_after_one_spike(30.0, 40_000)
    assert long.counters()["flush_events"] > 1000
    assert long.memory["history"] == short.memory["history"] < 4096
