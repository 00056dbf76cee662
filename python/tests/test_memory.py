"""Memory: the engine's own count, the estimate before building, failing fast (issue 5)."""
import pytest

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
