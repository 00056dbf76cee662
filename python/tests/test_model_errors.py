"""Every BadProperty case of the parameter tables of all four recurrent models (spec 3.1,
3.3, 3.4, 3.5, 3.7), one by one, at the Python and the raw C level; per-neuron values;
state of adaptive models. Each error names the model, the parameter and the allowed range.
"""

from __future__ import annotations

import ctypes
import math

import numpy as np
import pytest

import eprop
from eprop import _capi, errors
from eprop.errors import BadPropertyError, InvalidArgumentError, UnknownNameError

NAN, INF = math.nan, math.inf
RECURRENT = ["eprop_iaf", "eprop_iaf_adapt", "eprop_iaf_psc_delta", "eprop_iaf_psc_delta_adapt"]

SHARED_BAD = [  # (parameter, bad value, fragment of the rule in the message)
    ("C_m", 0.0, "C_m > 0"), ("C_m", -1.0, "C_m > 0"), ("tau_m", 0.0, "tau_m > 0"), ("tau_m", -3.0, "tau_m > 0"),
    ("t_ref", -0.5, "t_ref ≥ 0"), ("c_reg", -1.0, "c_reg ≥ 0"), ("f_target", -0.1, "f_target ≥ 0"),
    ("kappa", -0.1, "0 ≤ kappa ≤ 1"), ("kappa", 1.5, "0 ≤ kappa ≤ 1"),
    ("kappa_reg", -0.1, "0 ≤ kappa_reg ≤ 1"), ("kappa_reg", 1.1, "0 ≤ kappa_reg ≤ 1"),
    ("surrogate_gradient_height", 0.0, "surrogate_gradient_height > 0"),
    ("surrogate_gradient_width", -2.0, "surrogate_gradient_width > 0"),
    ("eprop_isi_trace_cutoff", -1.0, "eprop_isi_trace_cutoff ≥ 0"),
    ("flush_event_send_interval", 0.0, "flush_event_send_interval > 0"),
    ("ignore_and_spike_offset", 0.0, "ignore_and_spike_offset > 0"),
    ("ignore_and_spike_interval", -1.0, "ignore_and_spike_interval > 0"),
    ("ignore_and_spike", 0.5, "ignore_and_spike 0 (false) or 1 (true)"),
    ("V_th", NAN, "must be finite"), ("E_L", INF, "must be finite"),
]
ADAPT_BAD = [("adapt_beta", -0.1, "adapt_beta ≥ 0"), ("adapt_tau", 0.0, "adapt_tau > 0"), ("adapt_tau", -5.0, "adapt_tau > 0")]
PSC_DELTA_BAD = [("refractory_input", 2.0, "refractory_input 0 (false) or 1 (true)")]


def cases():
    for model in RECURRENT:
        bad = list(SHARED_BAD)
        if model.endswith("adapt"):
            bad += ADAPT_BAD
        if "psc_delta" in model:
            bad += PSC_DELTA_BAD
        for name, value, rule in bad:
            yield pytest.param(model, name, value, rule, id=f"{model}-{name}={value}")


@pytest.fixture
def net():
    network = eprop.Network(resolution=1.0)
    yield network
    network.close()


@pytest.mark.parametrize("model,name,value,rule", list(cases()))
def test_bad_property_python(net, model, name, value, rule):
    pop = net.add_population(model, 3)
    before = pop.params
    with pytest.raises(BadPropertyError) as info:
        pop.set(**{name: value})
    message = str(info.value)
    assert model in message and name in message and rule in message, message
    assert _same(pop.params, before), "a rejected change must leave every parameter unchanged"


@pytest.mark.parametrize("model,name,value,rule", list(cases()))
def test_bad_property_c(net, model, name, value, rule):
    pop = net.add_population(model, 2)
    names = (ctypes.c_char_p * 1)(name.encode())
    values = np.array([value], dtype=np.float64)
    status = _capi.lib.eprop_set_parameters(net._h, pop.id, names, values, 1)
    assert status == errors.ERR_BAD_PROPERTY
    message = _capi.last_error()
    assert name in message and rule in message, message


def _same(a, b):
    return all((a[k] == b[k]) or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k])) for k in a)


@pytest.mark.parametrize("model", RECURRENT)
def test_threshold_rules(net, model):
    pop = net.add_population(model, 2)
    with pytest.raises(BadPropertyError, match="V_th ≥ V_min"):
        pop.set(V_min=-50.0)                      # V_th = -55 below it
    if "psc_delta" in model:
        with pytest.raises(BadPropertyError, match="V_reset < V_th"):
            pop.set(V_reset=-55.0)                # equal to V_th
        with pytest.raises(BadPropertyError, match="V_reset ≥ V_min"):
            pop.set(V_min=-60.0)                  # V_reset = -70 below it
        pop.set(V_min=-80.0, V_reset=-60.0)       # together: fine
        assert pop.get("V_reset") == -60.0 and pop.get("V_min") == -80.0


@pytest.mark.parametrize("model", RECURRENT)
def test_unknown_surrogate_lists_names(net, model):
    pop = net.add_population(model, 1)
    with pytest.raises(BadPropertyError) as info:
        pop.set(surrogate_gradient_function="unsupported_surrogate_gradient")
    for name in ["piecewise_linear", "exponential", "fast_sigmoid_derivative", "arctan_derivative"]:
        assert name in str(info.value)


@pytest.mark.parametrize("model,name", [("eprop_iaf", "adapt_beta"), ("eprop_iaf", "V_reset"),
                                        ("eprop_iaf_adapt", "refractory_input"), ("eprop_readout", "kappa"),
                                        ("eprop_readout", "flush_event_send_interval"), ("input", "tau_m")])
def test_parameters_of_other_models_are_unknown(net, model, name):
    pop = net.add_population(model, 1)
    with pytest.raises(UnknownNameError, match=name):
        pop.set(**{name: 1.0})


def test_per_neuron_values_and_errors(net):
    pop = net.add_population("eprop_iaf_psc_delta_adapt", 3)
    pop.set(tau_m=np.array([10.0, 20.0, 30.0]), adapt_beta=np.array([0.0, 1.0, 2.0]))
    assert list(pop.get_array("tau_m")) == [10.0, 20.0, 30.0]
    assert list(pop.get("tau_m")) == [10.0, 20.0, 30.0]   # set per neuron: get gives every value
    with pytest.raises(InvalidArgumentError, match="set per neuron"):
        _capi.get_parameter(net._h, pop.id, "tau_m")      # the C scalar getter refuses
    with pytest.raises(BadPropertyError, match="at neuron 1"):
        pop.set(C_m=np.array([1.0, -1.0, 1.0]))
    with pytest.raises(BadPropertyError, match="V_reset < V_th.*at neuron 2"):
        pop.set(V_reset=np.array([-70.0, -70.0, -50.0]))
    with pytest.raises(InvalidArgumentError, match=r"tau_m: .*\(3\), got 2"):
        pop.set(tau_m=np.array([1.0, 2.0]))
    with pytest.raises(InvalidArgumentError, match="one value for the whole population"):
        pop.set(eprop_isi_trace_cutoff=np.array([1.0, 2.0, 3.0]))
    assert list(pop.get_array("tau_m")) == [10.0, 20.0, 30.0]   # unchanged by the failures
    pop.set(tau_m=15.0)                           # a scalar replaces the array
    assert pop.get("tau_m") == 15.0


@pytest.mark.parametrize("model", ["eprop_iaf_adapt", "eprop_iaf_psc_delta_adapt"])
def test_adaptation_state(net, model):
    pop = net.add_population(model, 2, V_th=-50.0, adapt_beta=2.0)
    pop.set(adaptation=0.5)
    assert list(pop.get_state("adaptation")) == [0.5, 0.5]
    assert list(pop.get_state("V_th_adapt")) == [-49.0, -49.0]   # V_th + β·a, absolute
    pop.set_state("adaptation", np.array([1.0, 0.0]))
    assert list(pop.get_state("V_th_adapt")) == [-48.0, -50.0]
    with pytest.raises(BadPropertyError, match="adaptation"):
        pop.set(adaptation=NAN)


def test_adaptation_is_not_state_of_plain_models(net):
    pop = net.add_population("eprop_iaf", 2)
    with pytest.raises(UnknownNameError):
        pop.set(adaptation=1.0)


@pytest.mark.parametrize("model", RECURRENT + ["eprop_readout"])
def test_changing_e_l_keeps_absolute_voltages(net, model):
    pop = net.add_population(model, 1, V_m=-65.0)
    pop.set(E_L=-60.0)
    assert pop.get_state("V_m")[0] == -65.0
    if model != "eprop_readout":
        assert pop.get("V_th") == -55.0


def test_per_neuron_surrogate_functions():
    """Each neuron's ψ follows its own surrogate function (per-neuron choice values)."""
    functions = ["piecewise_linear", "exponential", "fast_sigmoid_derivative", "arctan_derivative"]

    def psi(per_neuron):
        net = eprop.Network()
        inp = net.add_population("input", 1)
        rec = net.add_population("eprop_iaf", 4, C_m=1.0, E_L=0.0, V_m=0.0, V_th=0.6, t_ref=3.0,
                                 surrogate_gradient_height=0.5, surrogate_gradient_width=1 / 1.7)
        rec.set(surrogate_gradient_function=per_neuron)
        net.connect(inp, rec, "eprop_synapse", pre_ids=[0] * 4, post_ids=[0, 1, 2, 3], weights=[0.3] * 4)
        inp.set_spike_times([0] * 6, [1.0, 2.0, 3.0, 5.0, 9.0, 11.0])
        rec_psi = net.record_state(rec, ["surrogate_gradient"])
        net.simulate(20.0)
        return rec_psi["surrogate_gradient"]

    mixed = psi(functions)
    for j, name in enumerate(functions):
        uniform = psi([name] * 4)
        assert np.array_equal(mixed[:, j], uniform[:, j]), name
    assert len({tuple(mixed[:, j]) for j in range(4)}) == 4        # four different traces
    net = eprop.Network()
    pop = net.add_population("eprop_iaf_adapt", 2)
    pop.set(surrogate_gradient_function=["exponential", "arctan_derivative"])
    assert pop.get("surrogate_gradient_function") == ["exponential", "arctan_derivative"]
    with pytest.raises(BadPropertyError, match="piecewise_linear"):
        pop.set(surrogate_gradient_function=["exponential", "nonsense"])
    assert pop.get("surrogate_gradient_function") == ["exponential", "arctan_derivative"]


def test_durations_too_long_for_a_step_count_act_as_infinite():
    """t_ref, cutoff and flush interval of 1e300 ms count as never (no overflow, no crash):
    the same spikes and weights as +inf."""
    import numpy as np

    def run(duration_ms):
        net = eprop.Network(resolution=1.0)
        inp = net.add_population("input", 3)
        rec = net.add_population("eprop_iaf", 4, C_m=1.0, E_L=0.0, V_m=0.0, V_th=0.03, tau_m=30.0, t_ref=0.0,
                                 flush_event_send_interval=duration_ms, eprop_isi_trace_cutoff=duration_ms)
        out = net.add_population("eprop_readout", 1, C_m=1.0, E_L=0.0, tau_m=30.0)
        net.connect(inp, rec, "eprop_synapse", np.full((4, 3), 0.05))
        p = net.connect(rec, out, "eprop_synapse", np.full((1, 4), 0.1))
        net.connect(out, rec, "eprop_learning_signal_connection", weights=np.full((4, 1), 0.5))
        inp.set_spike_times(np.array([0, 1, 2, 0, 1]), np.array([1.0, 2.0, 3.0, 10.0, 11.0]))
        out.set_target(np.arange(1.0, 41.0), np.sin(np.arange(1.0, 41.0) / 7.0)[None, :])
        spikes = net.record_spikes(rec)
        net.simulate(40.0)
        return spikes.get(), p.weights

    (t_inf, s_inf), w_inf = run(float("inf"))
    (t_big, s_big), w_big = run(1e300)
    assert np.array_equal(t_inf, t_big) and np.array_equal(s_inf, s_big)
    assert np.array_equal(w_inf, w_big)
    assert len(t_big) > 0   # the neurons spiked: the runs are not trivially equal
