"""The bsshslm_2020 fixtures (``Tests/Fixtures/nest/bsshslm``) and their NumPy reference.

``tools/bsshslm_reference.py`` rebuilds each NEST 3.10 fixture from its stored network
description alone (``bsshslm_fixtures.load``) and simulates it; every array it produces must
equal NEST's bit for bit (the reference performs NEST's floating-point operations in NEST's
order). This proves that each fixture is complete (nothing needed to rebuild the network is
missing) and pins the semantics written down in ``tools/bsshslm_semantics.md``. No NEST, no
eprop library needed.
"""

from __future__ import annotations


import numpy as np
import pytest

import bsshslm_fixtures as fixtures

reference = fixtures.reference_module()

NAMES = fixtures.names()
SLOW = {"classification_batch1", "classification_batch2", "regression_reference", "regression_adapt"}

# Published values of NEST's test_eprop_bsshslm_2020_plasticity.py (spec 10.7), hard-coded on
# purpose: they pin the fixtures themselves.
PUBLISHED = {
    "regression_reference": [101.964356999041, 103.466731126205, 103.340607074771, 103.680244037686, 104.412775748752],
    "classification_batch1": [0.741152550006, 0.740388187700, 0.665785233177, 0.663644193322, 0.729428962844],
    "classification_batch2": [0.702163370672, 0.735555303152, 0.740354864111, 0.683882815282, 0.707841122268],
}
HISTORY = {
    "history_cleaning_rec": [(1, 3), (1, 61), (21, 61), (41, 48)],
    "history_cleaning_readout": [(1, 4), (1, 21), (20, 60), (20, 60), (40, 46)],
}


def test_fixture_set_complete():
    expected = {
        "regression_reference", "classification_batch1", "classification_batch2", "history_cleaning_rec",
        "history_cleaning_readout", "regression_adapt", "regression_adam", "regression_first_step_kept", "rsa_true",
        "reset_off", "window_short", "gd_batch2", "flush", "flush_reset_off", "surrogate_exponential",
        "surrogate_fast_sigmoid", "surrogate_arctan", "tref_vmin", "creg_avg", "ce_3out", "target_generator_first",
        "random_seed1", "random_seed2", "random_seed3",
    }
    assert expected <= set(NAMES)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_losses(name):
    fx = fixtures.load(name)
    np.testing.assert_allclose(fx["losses"], PUBLISHED[name], rtol=1e-8, atol=0.0)


@pytest.mark.parametrize("name", sorted(HISTORY))
def test_published_history_duration(name):
    fx = fixtures.load(name)
    want = np.hstack([np.arange(a, b, dtype=np.float64) for a, b in HISTORY[name]])
    np.testing.assert_array_equal(fx["arrays"]["rec_eprop_history_duration"][:, 0], want)


@pytest.mark.parametrize("name", NAMES)
def test_fixture_is_self_describing(name):
    fx = fixtures.load(name)
    k = fx["kernel"]
    assert k["resolution"] == 1.0 and k["eprop_update_interval"] > 0 and k["eprop_learning_window"] > 0
    sizes = fx["group_sizes"]
    for c in fx["connections"]:
        assert c["pre_idx"].shape == c["post_idx"].shape == c["weight"].shape == (c["n"],)
        assert c["pre_idx"].max() < sizes[c["pre"]] and c["post_idx"].max() < sizes[c["post"]]
        assert c["delay"] == 1.0
        if c["synapse_model"] == "eprop_synapse_bsshslm_2020":
            assert c["weight_final"].shape == c["weight"].shape
            assert c["params"].get("tau_m_readout", 10.0) > 0  # NEST default 10 ms (history cases)
    assert len(fx["input_spike_times"]) == fx["inputs"]["n"]
    for times in fx["input_spike_times"]:
        assert np.all(np.diff(times) >= 0) and np.all(times >= 1.0)


def _param(name):
    return pytest.param(name, marks=pytest.mark.slow) if name in SLOW else name


@pytest.mark.parametrize("name", [_param(n) for n in NAMES])
def test_reference_reproduces_nest(name):
    fx = fixtures.load(name)
    res = reference.simulate(fx)
    compared = reference.compare(fx, res)
    # every output of NEST is compared (spikes, traces, weight_recorder, final weights, losses)
    outputs = {k for k in fx["arrays"] if not k.startswith(("conn_", "in_spike", "target_amplitude", "noflush_"))}
    outputs |= {k for k in fx["arrays"] if k.endswith("_weight_final") and not k.startswith("noflush_")}
    outputs -= {"sim_time_ms", "spike_rate_hz", "wr_dropped_flush_entries"}
    assert outputs <= set(compared), sorted(outputs - set(compared))
    differing = {k: v[:2] for k, v in compared.items() if not v[2]}
    assert not differing, f"{name}: arrays differ from NEST (max rel, max abs): {differing}"


def test_flush_events_change_results_only_in_flush_reset_off():
    fx = fixtures.load("flush_reset_off")
    alt = reference.Reference(fx, {"flush_off": True}).run()
    for c in fx["connections"]:
        if "weight_final" in c:
            np.testing.assert_array_equal(alt[f"conn_{c['name']}_weight_final"], fx["arrays"][f"noflush_conn_{c['name']}_weight_final"])
    assert any(
        not np.array_equal(fx["arrays"][f"noflush_conn_{c['name']}_weight_final"], c["weight_final"])
        for c in fx["connections"]
        if "weight_final" in c
    )


@pytest.mark.parametrize(
    "name,option",
    [
        ("regression_first_step_kept", "no_drop"),
        ("reset_off", "readout_boundary_next"),
        ("reset_off", "final_L"),
        ("target_generator_first", "ignore_creation_order"),
        ("flush", "no_catchup"),
        ("creg_avg", "average_by_interval"),
        ("window_short", "keep_z_on_reset"),
        ("random_seed1", "no_lag"),
        ("random_seed1", "shift_L_2"),
    ],
)
def test_each_documented_rule_matters(name, option):
    """Deviating from one rule of tools/bsshslm_semantics.md breaks the agreement with NEST."""
    fx = fixtures.load(name)
    ref = reference.Reference(fx)
    ref.run()
    value = ref.r_L.copy() if option == "final_L" else True
    alt = reference.Reference(fx, {option: value}).run()
    compared = reference.compare(fx, alt)
    assert any(not v[2] for k, v in compared.items() if k.endswith("_weight_final") or k == "losses")
