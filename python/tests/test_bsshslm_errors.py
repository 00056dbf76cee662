"""Bad input to the baseline family gets a clear error naming the parameter and the range
(spec 10.1–10.4, 10.7 connection rules)."""

from __future__ import annotations

import numpy as np
import pytest

import eprop
from eprop.errors import (BadPropertyError, IllegalConnectionError, InvalidArgumentError, InvalidStateError,
                          UnknownNameError)

BASELINE_SOURCES = ["eprop_iaf_bsshslm_2020", "eprop_iaf_adapt_bsshslm_2020"]
BASELINE_TARGETS = BASELINE_SOURCES + ["eprop_readout_bsshslm_2020"]
EVENT_DRIVEN = ["eprop_iaf", "eprop_iaf_adapt", "eprop_iaf_psc_delta", "eprop_iaf_psc_delta_adapt", "eprop_readout"]


@pytest.mark.parametrize("source", BASELINE_SOURCES + ["input"])
@pytest.mark.parametrize("target", BASELINE_TARGETS)
def test_supported_pairs_connect(source, target):
    net = eprop.Network(1.0)
    projection = net.connect(net.add_population(source, 2), net.add_population(target, 3), "eprop_synapse_bsshslm_2020", 0.5)
    assert len(projection) == 6
    assert np.all(projection.weights == 0.5)


@pytest.mark.parametrize("target", EVENT_DRIVEN + ["input"])
def test_baseline_synapse_onto_other_models_is_illegal(target):
    net = eprop.Network(1.0)
    with pytest.raises(IllegalConnectionError, match=r"eprop_synapse_bsshslm_2020 onto .*the target must be a baseline"):
        net.connect(net.add_population("eprop_iaf_bsshslm_2020", 2), net.add_population(target, 2), "eprop_synapse_bsshslm_2020")


@pytest.mark.parametrize("target", BASELINE_TARGETS)
def test_event_driven_synapse_onto_baseline_is_illegal(target):
    net = eprop.Network(1.0)
    with pytest.raises(IllegalConnectionError, match=r"baseline models take eprop_synapse_bsshslm_2020"):
        net.connect(net.add_population("input", 2), net.add_population(target, 2), "eprop_synapse")


def test_learning_signal_connections_mix_families_as_nest():
    net = eprop.Network(1.0)
    rec = net.add_population("eprop_iaf_bsshslm_2020", 2)
    out = net.add_population("eprop_readout", 1)
    net.connect(out, rec, "eprop_learning_signal_connection_bsshslm_2020", 1.0)
    net.connect(out, rec, "eprop_learning_signal_connection", 1.0)
    with pytest.raises(IllegalConnectionError, match="the source must be an eprop_readout or eprop_readout_bsshslm_2020"):
        net.connect(rec, rec, "eprop_learning_signal_connection_bsshslm_2020", 1.0)


@pytest.mark.parametrize("params,message", [
    ({"eprop_update_interval": 0.0}, r"kernel parameter eprop_update_interval \(ms\): eprop_update_interval > 0 required, got 0"),
    ({"eprop_learning_window": -1.0}, r"eprop_learning_window > 0 required, got -1"),
    ({"eprop_update_interval": 10.0, "eprop_learning_window": 20.0},
     r"eprop_learning_window ≤ eprop_update_interval \(10 ms\) required, got 20"),
    ({"eprop_update_interval": 10.5}, r"eprop_update_interval: must be a multiple of the resolution 1 ms, got 10.5"),
    ({"eprop_reset_neurons_on_update": 2.0}, r"eprop_reset_neurons_on_update 0 \(false\) or 1 \(true\) required"),
])
def test_kernel_parameter_errors(params, message):
    net = eprop.Network(1.0)
    before = net.kernel_params
    with pytest.raises(BadPropertyError, match=message):
        net.set_kernel(**params)
    assert net.kernel_params == before   # transactional


def test_kernel_parameters_round_trip_and_lock():
    net = eprop.Network(1.0)
    net.set_kernel(eprop_update_interval=20.0)   # the window is checked only when set (NEST)
    assert net.kernel_params == {"eprop_update_interval": 20.0, "eprop_learning_window": 1000.0,
                                 "eprop_reset_neurons_on_update": True}
    with pytest.raises(UnknownNameError, match="kernel has no parameter foo; parameters are eprop_update_interval"):
        net.set_kernel(foo=1.0)
    net.add_population("eprop_iaf_bsshslm_2020", 1)
    net.simulate(1.0)
    with pytest.raises(InvalidStateError, match="cannot set kernel parameters after simulation has started"):
        net.set_kernel(eprop_update_interval=30.0)


def test_flush_interval_must_cover_the_update_interval():
    net = eprop.Network(1.0)
    net.set_kernel(eprop_update_interval=100.0, eprop_learning_window=100.0)
    rec = net.add_population("eprop_iaf_bsshslm_2020", 3)
    rec.set(flush_event_send_interval=50.0)
    with pytest.raises(BadPropertyError, match=r"flush_event_send_interval \(ms\): ≥ eprop_update_interval \(100 ms\) required, got 50"):
        net.simulate(10.0)


def test_synapse_defaults_validation_and_values():
    net = eprop.Network(1.0)
    net.set_synapse_defaults("eprop_synapse_bsshslm_2020", type="adam", eta=5e-3, average_gradient=True, tau_m_readout=20.0)
    d = net.get_synapse_defaults("eprop_synapse_bsshslm_2020")
    assert d["type"] == "adam" and d["eta"] == 5e-3 and d["average_gradient"] is True and d["tau_m_readout"] == 20.0
    assert net.optimizer == "gradient_descent"   # eprop_synapse's optimizer is separate
    with pytest.raises(BadPropertyError, match=r"tau_m_readout \(ms\): tau_m_readout > 0 required, got 0"):
        net.set_synapse_defaults("eprop_synapse_bsshslm_2020", tau_m_readout=0.0, eta=1.0)
    assert net.get_synapse_defaults("eprop_synapse_bsshslm_2020")["eta"] == 5e-3   # transactional
    with pytest.raises(UnknownNameError, match="eprop_synapse_bsshslm_2020 has no parameter kappa"):
        net.set_synapse_defaults("eprop_synapse_bsshslm_2020", kappa=0.5)
    with pytest.raises(UnknownNameError, match='synapse_model: "static_synapse" has no settable parameters'):
        net.set_synapse_defaults("static_synapse", eta=1.0)
    net.connect(net.add_population("input", 1), net.add_population("eprop_readout_bsshslm_2020", 1), "eprop_synapse_bsshslm_2020")
    with pytest.raises(InvalidStateError, match="optimizer type cannot change after eprop synapses were created"):
        net.set_synapse_defaults("eprop_synapse_bsshslm_2020", type="gradient_descent")


def test_readout_parameters():
    net = eprop.Network(1.0)
    out = net.add_population("eprop_readout_bsshslm_2020", 2)
    out.set(loss="cross_entropy")
    assert out.get("loss") == "cross_entropy"
    with pytest.raises(BadPropertyError, match='loss: loss one of "mean_squared_error", "cross_entropy" required, got "softmax"'):
        out.set(loss="softmax")
    with pytest.raises(InvalidArgumentError, match="its learning window is the kernel parameter eprop_learning_window"):
        out.set_learning_window([1.0], [[1.0], [1.0]])
    with pytest.raises(UnknownNameError, match="eprop_readout_bsshslm_2020 has no parameter eprop_isi_trace_cutoff"):
        out.set(eprop_isi_trace_cutoff=10.0)


@pytest.mark.parametrize("model", BASELINE_SOURCES)
def test_recurrent_parameters(model):
    net = eprop.Network(1.0)
    rec = net.add_population(model, 2)
    with pytest.raises(BadPropertyError, match='surrogate_gradient_function one of "piecewise_linear"'):
        rec.set(surrogate_gradient_function="unsupported_surrogate_gradient")
    for name in ("kappa", "kappa_reg", "eprop_isi_trace_cutoff"):
        with pytest.raises(UnknownNameError, match=f"{model} has no parameter {name}"):
            rec.set(**{name: 0.5})
    rec.set(regular_spike_arrival=False, c_reg=300.0)
    assert rec.get("regular_spike_arrival") is False


@pytest.mark.parametrize("how", ["scalar", "dense", "explicit", "rule"])
def test_baseline_connect_rejects_weights_outside_bounds(how):
    """NEST's Connect of eprop_synapse_bsshslm_2020 rejects a weight outside [Wmin, Wmax]
    (the event-driven eprop_synapse accepts it, as NEST)."""
    net = eprop.Network(1.0)
    net.set_synapse_defaults("eprop_synapse_bsshslm_2020", Wmin=-0.5, Wmax=0.5)
    pre, post = net.add_population("input", 2), net.add_population("eprop_iaf_bsshslm_2020", 2)
    S = "eprop_synapse_bsshslm_2020"
    connect = {
        "scalar": lambda: net.connect(pre, post, S, 0.75),
        "dense": lambda: net.connect(pre, post, S, np.array([[0.1, 0.2], [-0.6, 0.0]])),
        "explicit": lambda: net.connect(pre, post, S, [0.5, 0.75], pre_ids=[0, 1], post_ids=[0, 1]),
        "rule": lambda: net.connect(pre, post, S, ("uniform", -1.0, 1.0), rule="all_to_all", seed=3),
    }[how]
    with pytest.raises(IllegalConnectionError, match=r"weights\[\d\]: eprop_synapse_bsshslm_2020 weights must lie in "
                                                     r"\[Wmin, Wmax\] = \[-0\.5, 0\.5\], got -?0\.\d+"):
        connect()
    assert len(net.projections) == 0
    net.connect(pre, post, S, [0.5, -0.5], pre_ids=[0, 1], post_ids=[0, 1])   # the bounds themselves are inside
    other = net.add_population("eprop_iaf", 2)
    net.connect(pre, other, "eprop_synapse", 200.0)                            # NEST: Connect unchecked
