"""Bad input gives a clear error naming the parameter or argument, never a crash.

Two levels: the Pythonic API (exception classes per status code, eprop.errors) and the raw
ctypes functions of `_capi.lib` (status codes and `eprop_last_error()`), including NULL
handles and pointers. Spec sections: 3.1/3.2 (eprop_iaf), 5.1 (eprop_readout), 8.5
(connections), 9.1 (optimizer).
"""

from __future__ import annotations

import ctypes
import math

import numpy as np
import pytest

import eprop
from eprop import _capi, errors
from eprop.errors import (
    BadPropertyError,
    BufferTooSmallError,
    EpropError,
    IllegalConnectionError,
    InvalidArgumentError,
    InvalidStateError,
    NullArgumentError,
    UnknownNameError,
)

NAN, INF = math.nan, math.inf


def expect(exc_type, fn, *fragments):
    """``fn()`` raises ``exc_type`` whose message contains every fragment; returns the exception."""
    with pytest.raises(exc_type) as info:
        fn()
    err = info.value
    message = str(err)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    if isinstance(err, EpropError) and getattr(exc_type, "code", None) is not None and err.status is not None:
        assert err.status == exc_type.code
    return err


# ---- parameters: BadProperty cases of spec 3.1, 3.2 and 5.1 ----------------------------------

IAF_BAD = [
    ("C_m", 0.0), ("C_m", -1.0), ("tau_m", 0.0), ("tau_m", -5.0), ("t_ref", -1.0),
    ("c_reg", -0.1), ("f_target", -1.0),
    ("kappa", -0.01), ("kappa", 1.01), ("kappa_reg", -0.5), ("kappa_reg", 2.0),
    ("surrogate_gradient_height", 0.0), ("surrogate_gradient_height", -1.0),
    ("surrogate_gradient_width", 0.0), ("surrogate_gradient_width", -1.0),
    ("eprop_isi_trace_cutoff", -1.0), ("flush_event_send_interval", 0.0), ("flush_event_send_interval", -3.0),
    ("C_m", NAN), ("tau_m", NAN), ("V_th", NAN), ("E_L", NAN), ("kappa", NAN), ("C_m", INF), ("V_th", INF),
    ("I_e", -INF),
]


@pytest.mark.parametrize("name,value", IAF_BAD, ids=[f"{n}={v}" for n, v in IAF_BAD])
def test_eprop_iaf_bad_property(small_network, name, value):
    net, inp, rec, out = small_network
    before = rec.params
    expect(BadPropertyError, lambda: rec.set(**{name: value}), name, "eprop_iaf")
    assert _same(rec.params, before)


READOUT_BAD = [("C_m", 0.0), ("C_m", -2.0), ("tau_m", 0.0), ("tau_m", -1.0), ("eprop_isi_trace_cutoff", -1.0),
               ("C_m", NAN), ("E_L", NAN), ("tau_m", INF)]


@pytest.mark.parametrize("name,value", READOUT_BAD, ids=[f"{n}={v}" for n, v in READOUT_BAD])
def test_eprop_readout_bad_property(small_network, name, value):
    net, inp, rec, out = small_network
    before = out.params
    expect(BadPropertyError, lambda: out.set(**{name: value}), name, "eprop_readout")
    assert _same(out.params, before)


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k] == b[k] for k in a)


def test_v_th_below_v_min(small_network):
    net, inp, rec, out = small_network
    expect(BadPropertyError, lambda: rec.set(V_min=0.0, V_th=-1.0), "V_th", "V_min")
    expect(BadPropertyError, lambda: rec.set(V_min=rec.get("V_th") + 1.0), "V_th", "V_min")


def test_unknown_surrogate_lists_the_allowed_names(small_network):
    net, inp, rec, out = small_network
    err = expect(BadPropertyError, lambda: rec.set(surrogate_gradient_function="sigmoid"),
                 "surrogate_gradient_function", "sigmoid")
    for name in ("piecewise_linear", "exponential", "fast_sigmoid_derivative", "arctan_derivative"):
        assert name in str(err)
    assert rec.get("surrogate_gradient_function") == "piecewise_linear"


def test_infinite_cutoff_and_flush_interval_are_allowed(small_network):
    # spec 3.1: +inf (the default) means "never".
    net, inp, rec, out = small_network
    rec.set(eprop_isi_trace_cutoff=INF, flush_event_send_interval=INF)
    out.set(eprop_isi_trace_cutoff=INF)
    assert rec.get("eprop_isi_trace_cutoff") == INF and rec.get("flush_event_send_interval") == INF


def test_nan_membrane_potential(small_network):
    net, inp, rec, out = small_network
    expect(BadPropertyError, lambda: rec.set(V_m=NAN), "V_m")
    expect(BadPropertyError, lambda: rec.set_state("V_m", np.full(4, NAN)), "V_m")
    np.testing.assert_array_equal(rec.get_state("V_m"), np.full(4, rec.get("E_L")))


@pytest.mark.parametrize("model,name", [("eprop_iaf", "bogus"), ("eprop_readout", "regular_spike_arrival"),
                                        ("eprop_readout", "flush_event_send_interval"), ("input", "V_th")])
def test_unknown_parameter(small_network, model, name):
    net, inp, rec, out = small_network
    pop = {"input": inp, "eprop_iaf": rec, "eprop_readout": out}[model]
    err = expect(UnknownNameError, lambda: pop.set(**{name: 1.0}), name, model)
    expect(UnknownNameError, lambda: pop.get(name), name)
    # KeyError's repr-quoting is overridden: the message prints plainly.
    assert isinstance(err, KeyError) and str(err) == err.message and not str(err).startswith("'")


def test_wrong_python_types(small_network):
    net, inp, rec, out = small_network
    expect(InvalidArgumentError, lambda: rec.set(C_m="big"), "C_m")
    expect(InvalidArgumentError, lambda: rec.set(C_m=None), "C_m")
    expect(InvalidArgumentError, lambda: rec.set(C_m=[1.0, 2.0]), "C_m")
    expect(InvalidArgumentError, lambda: rec.set(surrogate_gradient_function=1), "surrogate_gradient_function")
    expect(InvalidArgumentError, lambda: net.add_population("eprop_iaf", 2.5), "size")


def test_transactional_parameter_set(small_network):
    net, inp, rec, out = small_network
    rec.set(C_m=1.0, tau_m=30.0)
    before = rec.params
    expect(BadPropertyError, lambda: rec.set(C_m=2.0, tau_m=20.0, kappa=1.5), "kappa")
    assert _same(rec.params, before)
    # A name (set first, separately) is restored when the numbers fail.
    expect(BadPropertyError, lambda: rec.set(surrogate_gradient_function="exponential", c_reg=-1.0), "c_reg")
    assert rec.get("surrogate_gradient_function") == "piecewise_linear"
    assert _same(rec.params, before)
    # Unknown names in a batch: nothing applied either.
    expect(UnknownNameError, lambda: rec.set(C_m=5.0, nope=1.0), "nope")
    assert rec.get("C_m") == 1.0
    # A failing V_m in a batch leaves the state alone too.
    expect(BadPropertyError, lambda: rec.set(V_m=1.0, tau_m=-1.0), "tau_m")
    np.testing.assert_array_equal(rec.get_state("V_m"), np.full(4, rec.get("E_L")))


def test_transactional_at_the_c_level(small_network):
    net, inp, rec, out = small_network
    lib = _capi.lib
    names = (ctypes.c_char_p * 2)(b"C_m", b"tau_m")
    values = np.array([3.0, -1.0])
    status = lib.eprop_set_parameters(net._h, rec.id, names, values, 2)
    assert status == errors.ERR_BAD_PROPERTY
    assert "tau_m" in _capi.last_error()
    assert rec.get("C_m") == 250.0


def test_get_returns_what_set_took(small_network):
    # design item 4: no f_target /1000 asymmetry (spec 1.4 quirk not reproduced).
    net, inp, rec, out = small_network
    values = dict(C_m=1.5, E_L=-65.0, I_e=2.0, t_ref=3.0, tau_m=25.0, V_min=-80.0, V_th=-50.0, c_reg=0.3,
                  f_target=10.0, kappa=0.95, kappa_reg=0.9, surrogate_gradient_height=7.0,
                  surrogate_gradient_width=0.5, eprop_isi_trace_cutoff=100.0, flush_event_send_interval=50.0,
                  surrogate_gradient_function="arctan_derivative")
    rec.set(**values)
    for name, value in values.items():
        assert rec.get(name) == value, name
    assert rec.get("f_target") == 10.0
    rec.set(f_target=rec.get("f_target"))
    assert rec.get("f_target") == 10.0
    assert rec.params == {**rec.params, **values}


# ---- optimizer (spec 9.1) -----------------------------------------------------------------------

OPT_BAD = [("batch_size", 0), ("batch_size", 1.5), ("batch_size", -1), ("eta", -1e-3), ("eta", NAN),
           ("beta_1", 1.0), ("beta_1", -0.1), ("beta_2", 1.0), ("epsilon", -1e-9), ("optimize_each_step", 2)]


@pytest.mark.parametrize("name,value", OPT_BAD, ids=[f"{n}={v}" for n, v in OPT_BAD])
def test_optimizer_bad_property(small_network, name, value):
    net, *_ = small_network
    before = net.optimizer_params
    expect(BadPropertyError, lambda: net.set_optimizer(**{name: value}), name)
    assert net.optimizer_params == before


def test_optimizer_wmin_above_wmax_and_transactions(small_network):
    net, *_ = small_network
    expect(BadPropertyError, lambda: net.set_optimizer(Wmin=1.0, Wmax=0.0), "Wmin", "Wmax")
    before = net.optimizer_params
    expect(BadPropertyError, lambda: net.set_optimizer(eta=0.5, beta_1=1.0), "beta_1")
    assert net.optimizer_params == before
    # The type (set first by name) is restored when the numbers fail.
    expect(BadPropertyError, lambda: net.set_optimizer(type="adam", epsilon=-1.0), "epsilon")
    assert net.optimizer == "gradient_descent" and net.optimizer_params == before


def test_optimizer_unknown_type_and_name(small_network):
    net, *_ = small_network
    expect(BadPropertyError, lambda: net.set_optimizer(type="sgd"), "type", "sgd", "gradient_descent", "adam")
    expect(UnknownNameError, lambda: net.set_optimizer(momentum=0.9), "momentum")
    expect(UnknownNameError, lambda: net.get_optimizer("momentum"), "momentum")
    assert net.optimizer == "gradient_descent"


def test_optimizer_type_change_after_eprop_synapses(small_network):
    net, inp, rec, out = small_network
    net.set_optimizer(type="adam")  # fine before any eprop_synapse
    net.connect(inp, rec, "static_synapse", np.ones((4, 3)))
    net.set_optimizer(type="gradient_descent")  # static synapses do not lock the type
    net.connect(inp, rec, "eprop_synapse", np.ones((4, 3)))
    expect(InvalidStateError, lambda: net.set_optimizer(type="adam"), "type")
    assert net.optimizer == "gradient_descent"
    net.set_optimizer(type="gradient_descent", eta=1e-3)  # no change of type: allowed
    assert net.get_optimizer("eta") == 1e-3


def test_optimizer_round_trip(small_network):
    net, *_ = small_network
    values = dict(batch_size=3, eta=2e-4, Wmin=-5.0, Wmax=5.0, optimize_each_step=False, beta_1=0.8,
                  beta_2=0.99, epsilon=1e-8)
    net.set_optimizer(type="adam", **values)
    assert net.optimizer_params == {"type": "adam", **values}


# ---- names ------------------------------------------------------------------------------------


def test_unknown_model_recordable_synapse(small_network):
    net, inp, rec, out = small_network
    err = expect(UnknownNameError, lambda: net.add_population("iaf_psc_alpha", 3), "iaf_psc_alpha", "eprop_iaf")
    assert str(err) == err.message
    expect(UnknownNameError, lambda: eprop.model_parameters("iaf_psc_alpha"), "iaf_psc_alpha")
    expect(UnknownNameError, lambda: eprop.model_recordables("nope"), "nope")
    expect(UnknownNameError, lambda: net.record_state(rec, ["V_m", "bogus"]), "bogus", "V_m")
    expect(UnknownNameError, lambda: rec.get_state("bogus"), "bogus")
    expect(UnknownNameError, lambda: net.connect(inp, rec, "stdp_synapse", np.ones((4, 3))), "stdp_synapse",
           "eprop_synapse")
    assert len(net.projections) == 0


# ---- arrays, ids, numbers ------------------------------------------------------------------------


def test_wrong_array_lengths(small_network):
    net, inp, rec, out = small_network
    expect(InvalidArgumentError, lambda: net.connect(inp, rec, "eprop_synapse", np.ones((3, 4))), "n_")
    expect(InvalidArgumentError, lambda: net.connect(inp, rec, "eprop_synapse", np.ones(12)), "weights")
    expect(InvalidArgumentError,
           lambda: net.connect(inp, rec, "eprop_synapse", [1.0, 2.0], pre_ids=[0, 1, 2], post_ids=[0, 1, 2]),
           "weights")
    expect(InvalidArgumentError, lambda: net.connect(inp, rec, "eprop_synapse", 1.0, pre_ids=[0, 1], post_ids=[0]),
           "post")
    expect(InvalidArgumentError, lambda: rec.set_state("V_m", [1.0, 2.0]), "count", "4")
    expect(InvalidArgumentError, lambda: out.set_target([2.0, 3.0], np.ones((2, 3))), "values")
    expect(InvalidArgumentError, lambda: out.set_target([2.0, 3.0], np.ones((3, 2))), "n_neurons")
    expect(InvalidArgumentError, lambda: out.set_learning_window([2.0], np.ones((1, 2))), "values")
    expect(InvalidArgumentError, lambda: inp.set_spike_times([0, 1], [2.0]), "neurons", "times_ms")
    proj = net.connect(inp, rec, "eprop_synapse", np.ones((4, 3)))
    expect(InvalidArgumentError, lambda: proj.set_weights(np.zeros(5)), "weights", "12")
    expect(InvalidArgumentError, lambda: proj.set_weights(np.zeros((3, 4))), "weights")
    assert len(net.projections) == 1


def test_ids_out_of_range(small_network):
    net, inp, rec, out = small_network
    expect(InvalidArgumentError, lambda: net.connect(inp, rec, "eprop_synapse", 1.0, pre_ids=[3], post_ids=[0]),
           "pre[0]", "3")
    expect(InvalidArgumentError, lambda: net.connect(inp, rec, "eprop_synapse", 1.0, pre_ids=[0], post_ids=[-1]),
           "post[0]")
    expect(InvalidArgumentError, lambda: inp.set_spike_times([3], [2.0]), "neurons[0]")
    expect(InvalidArgumentError, lambda: inp.set_spike_times([1.5], [2.0]), "whole")
    expect(InvalidArgumentError, lambda: net.record_state(rec, ["V_m"], [4]), "neurons[0]")
    expect(InvalidArgumentError, lambda: net.record_state(rec, ["V_m"], []), "neurons")
    proj = net.connect(inp, rec, "eprop_synapse", np.ones((4, 3)))
    expect(InvalidArgumentError, lambda: net.record_weights(proj, [0], [7]), "post", "no such synapse")
    other = eprop.Network()
    foreign = other.add_population("eprop_iaf", 4)
    expect(InvalidArgumentError, lambda: net.connect(inp, foreign, "static_synapse", 1.0), "post", "network")


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
def test_non_finite_weights(small_network, bad):
    net, inp, rec, out = small_network
    w = np.ones((4, 3))
    w[2, 1] = bad
    expect(InvalidArgumentError, lambda: net.connect(inp, rec, "eprop_synapse", w), "weights[", "finite")
    expect(InvalidArgumentError, lambda: net.connect(inp, rec, "static_synapse", [1.0, bad], pre_ids=[0, 1],
                                                     post_ids=[0, 0]), "weights[1]")
    proj = net.connect(inp, rec, "eprop_synapse", np.ones((4, 3)))
    expect(InvalidArgumentError, lambda: proj.set_weights(np.where(np.arange(12) == 5, bad, 0.0)), "weights[5]")
    np.testing.assert_array_equal(proj.weights, np.ones(12))


def test_eprop_weights_outside_bounds(small_network):
    net, inp, rec, out = small_network
    proj = net.connect(inp, rec, "eprop_synapse", np.ones((4, 3)) * 200.0)  # Connect does not check (spec 8.5)
    expect(BadPropertyError, lambda: proj.set_weights(np.full(12, 150.0)), "Wmin", "Wmax")


@pytest.mark.parametrize("bad", [NAN, INF, 1.5, 0.0, -1.0], ids=["nan", "inf", "off-grid", "now", "past"])
def test_bad_spike_times(small_network, bad):
    net, inp, rec, out = small_network
    expect(InvalidArgumentError, lambda: inp.set_spike_times([0, 1], [5.0, bad]), "times_ms[1]")


def test_times_in_the_past_after_simulating(small_network):
    net, inp, rec, out = small_network
    net.simulate(10.0)
    expect(InvalidArgumentError, lambda: inp.set_spike_times([0], [5.0]), "times_ms[0]", "current time")
    expect(InvalidArgumentError, lambda: inp.set_spike_times([0], [10.0]), "times_ms[0]", "current time")
    inp.set_spike_times([0], [11.0])
    expect(InvalidArgumentError, lambda: out.set_target([9.0], [1.0]), "times_ms[0]", "current time")
    out.set_target([10.0], [1.0])
    expect(InvalidArgumentError, lambda: out.set_learning_window([9.0, 12.0], [1.0, 0.0]), "times_ms[0]")


def test_bad_target_and_window_times(small_network):
    net, inp, rec, out = small_network
    expect(InvalidArgumentError, lambda: out.set_target([2.0, 2.0], [1.0, 2.0]), "strictly increasing")
    expect(InvalidArgumentError, lambda: out.set_target([3.0, 2.0], [1.0, 2.0]), "strictly increasing")
    expect(InvalidArgumentError, lambda: out.set_learning_window([2.0, 5.0, 4.0], [1.0, 0.0, 1.0]),
           "strictly increasing")
    expect(InvalidArgumentError, lambda: out.set_target([2.5], [1.0]), "times_ms[0]", "resolution")
    expect(InvalidArgumentError, lambda: out.set_target([NAN], [1.0]), "times_ms[0]")
    expect(InvalidArgumentError, lambda: out.set_target([2.0], [NAN]), "values[0]", "finite")
    expect(InvalidArgumentError, lambda: out.set_learning_window([2.0], [INF]), "values[0]")
    expect(InvalidArgumentError, lambda: rec.set_target([2.0], [1.0]), "eprop_readout")
    expect(InvalidArgumentError, lambda: rec.set_spike_times([0], [2.0]), "input")


# ---- connections (spec 6, 8.5) -------------------------------------------------------------------


def test_illegal_connections(small_network):
    net, inp, rec, out = small_network
    expect(IllegalConnectionError, lambda: net.connect(out, rec, "eprop_synapse", np.ones((4, 2))),
           "eprop_synapse", "eprop_readout")
    expect(IllegalConnectionError, lambda: net.connect(rec, inp, "eprop_synapse", np.ones((3, 4))), "input")
    expect(IllegalConnectionError, lambda: net.connect(inp, rec, "eprop_synapse", np.ones((4, 3)), delay=2.0),
           "delay", "one step")
    expect(IllegalConnectionError, lambda: net.connect(inp, rec, "eprop_synapse", np.ones((4, 3)), delay=1.5),
           "delay")
    expect(InvalidArgumentError, lambda: net.connect(inp, rec, "eprop_synapse", np.ones((4, 3)), delay=0.0), "delay")
    expect(InvalidArgumentError, lambda: net.connect(inp, rec, "eprop_synapse", np.ones((4, 3)), delay=NAN), "delay")
    expect(IllegalConnectionError,
           lambda: net.connect(rec, rec, "eprop_learning_signal_connection", np.ones((4, 4))),
           "eprop_learning_signal_connection", "eprop_iaf")
    expect(IllegalConnectionError,
           lambda: net.connect(out, out, "eprop_learning_signal_connection", np.ones((2, 2))), "eprop_readout")
    expect(IllegalConnectionError,
           lambda: net.connect(inp, rec, "eprop_learning_signal_connection", np.ones((4, 3))), "input")
    assert net.projections == ()
    # The learning-signal delay is ignored (spec 1.2) but must be a legal delay.
    net.connect(out, rec, "eprop_learning_signal_connection", np.ones((4, 2)), delay=3.0)
    expect(InvalidArgumentError,
           lambda: net.connect(out, rec, "eprop_learning_signal_connection", np.ones((4, 2)), delay=0.5), "delay")


def test_no_changes_of_structure_after_simulate(small_network):
    net, inp, rec, out = small_network
    net.connect(inp, rec, "eprop_synapse", np.ones((4, 3)))
    net.simulate(5.0)
    expect(InvalidStateError, lambda: net.connect(rec, out, "eprop_synapse", np.ones((2, 4))), "connect", "5")
    expect(InvalidStateError, lambda: net.add_population("eprop_iaf", 2), "population")
    assert len(net.projections) == 1 and len(net.populations) == 3


# ---- simulate ---------------------------------------------------------------------------------


@pytest.mark.parametrize("duration", [-1.0, 0.5, 2.25, NAN, INF])
def test_bad_durations(small_network, duration):
    net, *_ = small_network
    expect(InvalidArgumentError, lambda: net.simulate(duration), "duration_ms")
    assert net.time == 0.0


@pytest.mark.parametrize("resolution", [0.0, -1.0, NAN, INF, 1e-4])
def test_bad_resolution(resolution):
    expect(InvalidArgumentError, lambda: eprop.Network(resolution=resolution), "resolution")


def test_progress_argument_errors(small_network):
    net, *_ = small_network
    with pytest.raises(TypeError):
        net.simulate(5.0, progress=42)
    expect(InvalidArgumentError, lambda: net.simulate(5.0, progress=lambda d, t: True, every=0), "every_steps")
    assert net.time == 0.0


def test_closed_network(small_network):
    net, inp, rec, out = small_network
    net.close()
    expect(InvalidStateError, lambda: net.simulate(1.0), "closed")
    expect(InvalidStateError, lambda: rec.get("C_m"), "closed")
    net.close()  # twice is fine
    assert "closed" in repr(net)


# ---- the raw C functions ------------------------------------------------------------------------


def _dummy(t):
    if t is ctypes.c_double:
        return 1.0
    if t in (ctypes.c_int32, ctypes.c_int64, ctypes.c_uint64):
        return 1
    if t is ctypes.c_char_p:
        return b"V_m"
    if t is _capi.PROGRESS_FN:
        return _capi.PROGRESS_FN(lambda d, n, u: 0)
    return None  # every pointer: NULL


NETWORK_FUNCTIONS = sorted(
    name for name, (_, argtypes) in _capi.SIGNATURES.items()
    if argtypes and argtypes[0] is _capi.NetworkPointer and name != "eprop_network_destroy"
)


@pytest.mark.parametrize("name", NETWORK_FUNCTIONS)
def test_null_network_handle(name):
    _, argtypes = _capi.SIGNATURES[name]
    fn = getattr(_capi.lib, name)
    status = fn(None, *[_dummy(t) for t in argtypes[1:]])
    assert status == errors.ERR_NULL_ARGUMENT, (name, _capi.last_error())
    assert "network" in _capi.last_error()
    with pytest.raises(NullArgumentError, match="network"):
        _capi.check(status)


def test_null_pointers_and_counts(small_network):
    net, inp, rec, out = small_network
    lib, h = _capi.lib, net._h
    _capi.lib.eprop_network_destroy(None)  # no-op
    cases = [
        (lambda: lib.eprop_network_create(1.0, None), errors.ERR_NULL_ARGUMENT, "network"),
        (lambda: lib.eprop_network_time(h, None), errors.ERR_NULL_ARGUMENT, "time_ms"),
        (lambda: lib.eprop_network_resolution(h, None), errors.ERR_NULL_ARGUMENT, "resolution_ms"),
        (lambda: lib.eprop_model_count(None), errors.ERR_NULL_ARGUMENT, "count"),
        (lambda: lib.eprop_model_recordables(None, None), errors.ERR_NULL_ARGUMENT, "must not be NULL"),
        (lambda: lib.eprop_add_population(h, None, 3, ctypes.byref(ctypes.c_int32())), errors.ERR_NULL_ARGUMENT,
         "model"),
        (lambda: lib.eprop_add_population(h, b"eprop_iaf", 3, None), errors.ERR_NULL_ARGUMENT, "population"),
        (lambda: lib.eprop_set_parameters(h, rec.id, None, np.ones(1), 1), errors.ERR_NULL_ARGUMENT, "names"),
        (lambda: lib.eprop_set_parameters(h, rec.id, (ctypes.c_char_p * 1)(b"C_m"), None, 1),
         errors.ERR_NULL_ARGUMENT, "values"),
        (lambda: lib.eprop_set_parameters(h, rec.id, (ctypes.c_char_p * 1)(None), np.ones(1), 1),
         errors.ERR_NULL_ARGUMENT, "names[0]"),
        (lambda: lib.eprop_set_parameters(h, rec.id, None, None, -1), errors.ERR_INVALID_ARGUMENT, "count"),
        (lambda: lib.eprop_set_parameter_string(h, rec.id, b"surrogate_gradient_function", None),
         errors.ERR_NULL_ARGUMENT, "value"),
        (lambda: lib.eprop_get_parameter(h, rec.id, b"C_m", None), errors.ERR_NULL_ARGUMENT, "value"),
        (lambda: lib.eprop_get_parameter(h, 7, b"C_m", ctypes.byref(ctypes.c_double())),
         errors.ERR_INVALID_ARGUMENT, "population"),
        (lambda: lib.eprop_get_parameter(h, rec.id, b"V_m", ctypes.byref(ctypes.c_double())),
         errors.ERR_INVALID_ARGUMENT, "get_state"),
        (lambda: lib.eprop_get_parameter_string(h, rec.id, b"C_m", ctypes.byref(ctypes.c_char_p())),
         errors.ERR_INVALID_ARGUMENT, "C_m"),
        (lambda: lib.eprop_get_state(h, rec.id, b"V_m", None, 4), errors.ERR_NULL_ARGUMENT, "values"),
        (lambda: lib.eprop_get_state(h, rec.id, b"V_m", np.empty(3), 3), errors.ERR_INVALID_ARGUMENT, "count"),
        (lambda: lib.eprop_set_spike_times(h, inp.id, None, np.ones(2), 2), errors.ERR_NULL_ARGUMENT, "neurons"),
        (lambda: lib.eprop_set_target(h, out.id, np.ones(1) * 2, None, 1, 2), errors.ERR_NULL_ARGUMENT, "values"),
        (lambda: lib.eprop_set_target(h, out.id, None, None, 0, 0), errors.ERR_INVALID_ARGUMENT, "n_neurons"),
        (lambda: lib.eprop_connect(h, inp.id, rec.id, None, None, None, None, 0, 1.0,
                                   ctypes.byref(ctypes.c_int32())), errors.ERR_NULL_ARGUMENT, "synapse_model"),
        (lambda: lib.eprop_connect_dense(h, inp.id, rec.id, b"eprop_synapse", None, 4, 3, 1, 1.0,
                                         ctypes.byref(ctypes.c_int32())), errors.ERR_NULL_ARGUMENT, "weights"),
        (lambda: lib.eprop_connect_dense(h, inp.id, rec.id, b"eprop_synapse", np.ones(12), 0, 3, 1, 1.0,
                                         ctypes.byref(ctypes.c_int32())), errors.ERR_INVALID_ARGUMENT, "n_post"),
        (lambda: lib.eprop_connect_dense(h, 9, rec.id, b"eprop_synapse", np.ones(12), 4, 3, 1, 1.0,
                                         ctypes.byref(ctypes.c_int32())), errors.ERR_INVALID_ARGUMENT, "population"),
        (lambda: lib.eprop_projection_size(h, 0, ctypes.byref(ctypes.c_int64())), errors.ERR_INVALID_ARGUMENT,
         "projection"),
        (lambda: lib.eprop_recorder_count(h, 0, ctypes.byref(ctypes.c_int64())), errors.ERR_INVALID_ARGUMENT,
         "recorder"),
        (lambda: lib.eprop_set_optimizer_parameters(h, (ctypes.c_char_p * 1)(b"type"), np.ones(1), 1),
         errors.ERR_INVALID_ARGUMENT, "type"),
        (lambda: lib.eprop_set_optimizer_string(h, b"eta", b"adam"), errors.ERR_UNKNOWN_NAME, "eta"),
        (lambda: lib.eprop_get_optimizer_string(h, b"eta", ctypes.byref(ctypes.c_char_p())),
         errors.ERR_UNKNOWN_NAME, "eta"),
        (lambda: lib.eprop_get_optimizer_parameter(h, b"eta", None), errors.ERR_NULL_ARGUMENT, "value"),
        (lambda: lib.eprop_record_state(h, rec.id, None, np.zeros(1, np.int64), 1, ctypes.byref(ctypes.c_int32())),
         errors.ERR_NULL_ARGUMENT, "recordables"),
        (lambda: lib.eprop_record_state(h, rec.id, b"V_m", None, 1, ctypes.byref(ctypes.c_int32())),
         errors.ERR_NULL_ARGUMENT, "neurons"),
        (lambda: lib.eprop_simulate_progress(h, 1.0, _capi.PROGRESS_FN(), None, 1), errors.ERR_NULL_ARGUMENT,
         "progress"),
        (lambda: lib.eprop_simulate_progress(h, 1.0, _capi.PROGRESS_FN(lambda d, t, u: 0), None, 0),
         errors.ERR_INVALID_ARGUMENT, "every_steps"),
        (lambda: lib.eprop_model_name(99, ctypes.byref(ctypes.c_char_p())), errors.ERR_INVALID_ARGUMENT, "index"),
        (lambda: lib.eprop_model_parameter_info(b"eprop_iaf", 999, None, None, None, None, None, None),
         errors.ERR_INVALID_ARGUMENT, "index"),
    ]
    for i, (call, status, fragment) in enumerate(cases):
        got = call()
        message = _capi.last_error()
        assert got == status, (i, got, message)
        assert fragment in message, (i, message)
    assert net.time == 0.0 and len(net.projections) == 0
    # Every OUT pointer of eprop_model_parameter_info may be NULL.
    assert lib.eprop_model_parameter_info(b"eprop_iaf", 0, None, None, None, None, None, None) == errors.OK


def test_buffer_too_small(small_network):
    net, inp, rec, out = small_network
    lib, h = _capi.lib, net._h
    inp.set_spike_times([0, 1, 2], [1.0, 2.0, 3.0])
    spikes = net.record_spikes(inp)
    state = net.record_state(rec, ["V_m", "surrogate_gradient"])
    net.simulate(6.0)
    assert len(spikes) == 3 and len(state) == 6
    status = lib.eprop_recorder_get_spikes(h, spikes.id, np.empty(2), np.empty(2, np.int64), 2)
    assert status == errors.ERR_BUFFER_TOO_SMALL and "capacity" in _capi.last_error()
    with pytest.raises(BufferTooSmallError, match="capacity"):
        _capi.check(status)
    status = lib.eprop_recorder_get_samples(h, state.id, np.empty(5), np.empty(5 * 8), 5)
    assert status == errors.ERR_BUFFER_TOO_SMALL and "capacity" in _capi.last_error()
    # Reading a spike recorder as samples (and vice versa) is an invalid argument, not a crash.
    status = lib.eprop_recorder_get_samples(h, spikes.id, np.empty(3), np.empty(3), 3)
    assert status == errors.ERR_INVALID_ARGUMENT and "spikes" in _capi.last_error()
    status = lib.eprop_recorder_get_spikes(h, state.id, np.empty(6), np.empty(6, np.int64), 6)
    assert status == errors.ERR_INVALID_ARGUMENT
    # Exactly enough is fine.
    times, senders = np.empty(3), np.empty(3, np.int64)
    assert lib.eprop_recorder_get_spikes(h, spikes.id, times, senders, 3) == errors.OK
    np.testing.assert_array_equal(times, [2.0, 3.0, 4.0])


def test_weights_and_connections_count_must_match(small_network):
    net, inp, rec, out = small_network
    lib, h = _capi.lib, net._h
    proj = net.connect(inp, rec, "eprop_synapse", np.ones((4, 3)))
    assert lib.eprop_get_weights(h, proj.id, np.empty(11), 11) == errors.ERR_INVALID_ARGUMENT
    assert "count" in _capi.last_error()
    assert lib.eprop_get_connections(h, proj.id, np.empty(13, np.int64), np.empty(13, np.int64), 13) \
        == errors.ERR_INVALID_ARGUMENT
    assert lib.eprop_get_weight_matrix(h, proj.id, np.empty(12), 3, 4) == errors.ERR_INVALID_ARGUMENT
    assert "n_post" in _capi.last_error()


def test_ctypes_rejects_wrong_dtypes_before_c(small_network):
    net, inp, rec, out = small_network
    with pytest.raises(ctypes.ArgumentError):
        _capi.lib.eprop_set_spike_times(net._h, inp.id, np.zeros(2, np.int32), np.ones(2), 2)
    with pytest.raises(ctypes.ArgumentError):
        _capi.lib.eprop_get_state(net._h, rec.id, b"V_m", np.zeros(4, np.float32), 4)


def test_error_classes():
    for status in range(1, 11):
        err = errors.error_for_status(status, "x: message")
        assert isinstance(err, EpropError) and err.status == status and str(err) == "x: message"
    assert isinstance(errors.error_for_status(3, "m"), KeyError)
    assert isinstance(errors.error_for_status(4, "m"), ValueError)
    assert isinstance(errors.error_for_status(8, "m"), MemoryError)
    assert isinstance(errors.error_for_status(6, "m"), RuntimeError)
    assert type(errors.error_for_status(99, "m")) is EpropError
    import pickle
    err = pickle.loads(pickle.dumps(errors.error_for_status(4, "C_m: bad")))
    assert type(err) is BadPropertyError and err.status == 4 and str(err) == "C_m: bad"
