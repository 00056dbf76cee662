"""eprop's time-driven baseline against every NEST 3.10 bsshslm_2020 fixture
(``Tests/Fixtures/nest/bsshslm``): each network is rebuilt in eprop from the fixture's own
description (``bsshslm_networks``) and every output NEST recorded must come out bit for bit:
multimeter traces of recurrent neurons and readouts (V_m, surrogate gradient, learning
signal, readout, target and error signals, eprop_history_duration), all recurrent spikes,
the weight_recorder entries, the final weight of every plastic synapse and the losses."""

from __future__ import annotations

import numpy as np
import pytest

import bsshslm_fixtures as fixtures
import bsshslm_networks as networks

NAMES = fixtures.names()
SLOW = {"classification_batch1", "classification_batch2", "regression_reference", "regression_adapt"}
NOT_OUTPUTS = {"sim_time_ms", "spike_rate_hz", "wr_dropped_flush_entries", "wr_pair", "wr_times"}


def nest_outputs(fx) -> set:
    """Every array of the fixture that NEST produced by simulating (not a network input)."""
    keys = {k for k in fx["arrays"] if not k.startswith(("conn_", "in_spike", "target_amplitude", "noflush_"))}
    keys |= {k for k in fx["arrays"] if k.startswith("conn_") and k.endswith("_weight_final")}
    return keys - NOT_OUTPUTS


def assert_identical(fx, result, keys) -> None:
    missing = keys - set(result)
    assert not missing, f"eprop produced no {sorted(missing)}"
    differing = {}
    for key in sorted(keys):
        got, want = result[key], fx["arrays"][key]
        if got.shape != want.shape:
            differing[key] = f"shape {got.shape} vs NEST {want.shape}"
        elif not np.array_equal(got, want, equal_nan=True):
            diff = np.abs(got - want)
            differing[key] = f"max abs diff {np.nanmax(diff):.3g} at {np.unravel_index(np.nanargmax(diff), diff.shape)}"
    assert not differing, f"{fx['case']}: differs from NEST: {differing}"


def _param(name):
    return pytest.param(name, marks=pytest.mark.slow) if name in SLOW else name


@pytest.mark.parametrize("name", [_param(n) for n in NAMES])
def test_engine_reproduces_nest_fixture(name):
    fx = fixtures.load(name)
    assert_identical(fx, networks.simulate(fx), nest_outputs(fx))


@pytest.mark.parametrize("name", ["random_seed2", "ce_3out", "flush", "reset_off"])
def test_two_threads_reproduce_nest_fixture(name):
    fx = fixtures.load(name)
    assert_identical(fx, networks.simulate(fx, threads=2), nest_outputs(fx))


def test_without_flush_events_reproduces_nest():
    """flush_reset_off: with flush_event_send_interval infinite NEST learns differently; eprop
    gives NEST's no-flush losses and weights too, and the weights differ from the flushed ones."""
    fx = fixtures.load("flush_reset_off")
    result = networks.simulate(fx, no_flush=True)
    keys = [k[len("noflush_"):] for k in fx["arrays"] if k.startswith("noflush_")]
    assert "losses" in keys and any(k.endswith("_weight_final") for k in keys)
    for key in keys:
        np.testing.assert_array_equal(result[key], fx["arrays"]["noflush_" + key], err_msg=key)
    assert any(not np.array_equal(result[k], fx["arrays"][k]) for k in keys if k.endswith("_weight_final"))


def test_coinciding_input_spikes_are_one_event_of_multiplicity_two():
    """random_seed1 lists input 0's first four spike times twice; NEST's parrot relays one
    event of multiplicity 2 (input 2w, one spike for the gradient). Dropping the duplicates
    must change the outcome, so the case really tests this."""
    fx = fixtures.load("random_seed1")
    times = fx["input_spike_times"][0]
    assert len(times) - len(np.unique(times)) == 4
    single = dict(fx, input_spike_times=[np.unique(t) for t in fx["input_spike_times"]])
    result = networks.simulate(single)
    assert not np.array_equal(result["out_readout_signal"], fx["arrays"]["out_readout_signal"])
