"""Recorders: NEST's time conventions (spec 1.1), shapes, clear(), and agreement with the
network's state and weights."""

from __future__ import annotations

import numpy as np
import pytest

import eprop

from conftest import regression_network


def _driven_network():
    """input neuron 0 -> eprop_iaf neuron 1 with a weight far above threshold."""
    net = eprop.Network(resolution=1.0)
    inp = net.add_population("input", 2)
    rec = net.add_population("eprop_iaf", 3, C_m=1.0, E_L=0.0, V_m=0.0, V_th=1.0, t_ref=0.0, tau_m=10.0)
    net.connect(inp, rec, "static_synapse", 1.5, pre_ids=[0], post_ids=[1])
    return net, inp, rec


def test_spike_times_follow_nest_convention():
    net, inp, rec = _driven_network()
    s_in, s_rec = net.record_spikes(inp), net.record_spikes(rec)
    inp.set_spike_times([0, 1, 0], [5.0, 7.0, 9.0])
    net.simulate(20.0)
    # spike_generator time T -> the parrot (input) fires in step T, recorded at T + 1.
    np.testing.assert_array_equal(s_in.times, [6.0, 8.0, 10.0])
    np.testing.assert_array_equal(s_in.senders, [0, 1, 0])
    # The recurrent neuron integrates the input spike one step later and fires in that step.
    np.testing.assert_array_equal(s_rec.times, [7.0, 11.0])
    np.testing.assert_array_equal(s_rec.senders, [1, 1])
    assert s_in.times.dtype == np.float64 and s_in.senders.dtype == np.int64
    assert len(s_in) == 3 and s_in.width == 1


def test_clear_drops_samples_and_recording_goes_on():
    net, inp, rec = _driven_network()
    spikes = net.record_spikes(inp)
    state = net.record_state(rec, "V_m, surrogate_gradient")
    inp.set_spike_times([0, 0], [3.0, 12.0])
    net.simulate(10.0)
    assert len(spikes) == 1 and len(state) == 10
    spikes.clear()
    state.clear()
    assert len(spikes) == 0 and len(state) == 0
    assert spikes.times.shape == (0,) and state.data.shape == (0, 2, 3)
    net.simulate(5.0)
    np.testing.assert_array_equal(spikes.times, [13.0])
    np.testing.assert_array_equal(state.times, np.arange(11.0, 16.0))


def test_state_recorder_shapes_and_values():
    net, inp, rec = _driven_network()
    inp.set_spike_times([0], [2.0])
    all_neurons = net.record_state(rec, ["V_m", "surrogate_gradient", "learning_signal"])
    some = net.record_state(rec, ["learning_signal", "V_m"], neurons=[2, 1])
    net.simulate(12.0)
    times, data = all_neurons.get()
    np.testing.assert_array_equal(times, np.arange(1.0, 13.0))  # sample after step t at (t + 1)·dt
    assert data.shape == (12, 3, 3)
    assert all_neurons.recordables == ["V_m", "surrogate_gradient", "learning_signal"]
    assert all_neurons["V_m"].shape == (12, 3)
    np.testing.assert_array_equal(all_neurons["V_m"], data[:, 0, :])
    np.testing.assert_array_equal(all_neurons.data, data)
    assert some.data.shape == (12, 2, 2)
    np.testing.assert_array_equal(some["V_m"], data[:, 0, [2, 1]])
    np.testing.assert_array_equal(some.neurons, [2, 1])
    # The last sample is the state now.
    np.testing.assert_array_equal(all_neurons["V_m"][-1], rec.get_state("V_m"))
    # The input fired in step 2; neuron 1 got 1.5 mV in step 3 and fired there, reset by
    # subtracting V_th = 1 in the same step (spec 3.2): the sample of step 3 (time 4) is 0.5.
    v = all_neurons["V_m"][:, 1]
    assert v[2] == 0.0 and v[3] == 0.5
    np.testing.assert_allclose(v[4:], 0.5 * np.exp(-np.arange(1, 9) / 10.0), rtol=1e-14)
    assert np.all(all_neurons["V_m"][:, [0, 2]] == 0.0)
    with pytest.raises(KeyError, match="surrogate_gradient"):
        some["surrogate_gradient"]


def test_state_recorder_matches_get_state_on_the_regression_network():
    net, _ = regression_network()
    net.network.simulate(123.0)
    rec = net.recurrent_recorder
    np.testing.assert_array_equal(rec["V_m"][-1], net.recurrent.get_state("V_m")[rec.neurons])
    np.testing.assert_array_equal(rec["learning_signal"][-1], net.recurrent.get_state("learning_signal")[:5])
    np.testing.assert_array_equal(net.readout_recorder["readout_signal"][-1],
                                  net.readout.get_state("readout_signal"))


def test_weight_recorder_values_equal_get_weights_at_the_end():
    net, config = regression_network()
    net.network.simulate(505.0)
    for key, proj in (("in", net.proj_in), ("rec", net.proj_rec), ("out", net.proj_out)):
        rec = net.weight_recorders[key]
        times, weights = rec.get()
        assert times.shape == (505,) and weights.shape == (505, 5)
        np.testing.assert_array_equal(times, np.arange(1.0, 506.0))
        matrix = proj.weight_matrix()
        np.testing.assert_array_equal(weights[-1], matrix[rec.post, rec.pre])
        pairs = np.asarray(config["record"]["synapses"][key])
        np.testing.assert_array_equal(rec.pre, pairs[:, 0])
        np.testing.assert_array_equal(rec.post, pairs[:, 1])
        assert not np.all(weights == weights[0]), "weights are learnt"


def test_weight_recorder_of_every_synapse_in_storage_order():
    net, _ = regression_network()
    all_out = net.network.record_weights(net.proj_out)
    net.network.simulate(50.0)
    pre, post = net.proj_out.connections
    np.testing.assert_array_equal(all_out.pre, pre)
    np.testing.assert_array_equal(all_out.post, post)
    np.testing.assert_array_equal(all_out.weights[-1], net.proj_out.weights)
    assert all_out.weights.shape == (50, len(net.proj_out))


def test_recorder_added_later_starts_then():
    net, inp, rec = _driven_network()
    net.simulate(5.0)
    state = net.record_state(rec, ["V_m"], neurons=0)
    net.simulate(3.0)
    np.testing.assert_array_equal(state.times, [6.0, 7.0, 8.0])
    assert state.data.shape == (3, 1, 1)


def test_readout_recordables():
    net, _ = regression_network()
    assert net.readout_recorder.recordables == ["V_m", "readout_signal", "target_signal", "error_signal"]
    net.network.simulate(20.0)
    r = net.readout_recorder
    # error = (y - y*)·λ, readout_signal = y·λ, target_signal = y*·λ (spec 5.2).
    np.testing.assert_allclose(r["error_signal"], r["readout_signal"] - r["target_signal"], rtol=0, atol=1e-15)
    assert set(eprop.model_recordables("eprop_readout")) >= {"V_m", "readout_signal", "target_signal", "error_signal"}


def test_learning_signal_is_plus_zero_while_the_window_is_closed():
    """With the learning window closed every readout error is ±0 (0 · (y − y*)); the
    learning signals are then exactly +0 (NEST's sum of ±0 terms from +0), and the engine
    skips their delivery. Opening the window makes them nonzero."""
    rng = np.random.default_rng(5)
    net = eprop.Network()
    inp = net.add_population("input", 10)
    rec = net.add_population("eprop_iaf", 12, C_m=1.0, E_L=0.0, V_m=0.0, V_th=0.03, t_ref=0.0)
    out = net.add_population("eprop_readout", 3, C_m=1.0, E_L=0.0, V_m=0.0)
    net.connect(inp, rec, "eprop_synapse", weights=rng.normal(0.05, 0.02, (12, 10)))
    net.connect(rec, out, "eprop_synapse", weights=rng.normal(0.0, 0.3, (3, 12)))
    net.connect(out, rec, "eprop_learning_signal_connection", weights=rng.normal(0.0, 1.0, (12, 3)))  # B of both signs
    inp.set_spike_times(rng.integers(0, 10, 300), np.sort(rng.integers(1, 99, 300)).astype(float))
    out.set_target([1.0], np.full((3, 1), 0.5))          # y − y* of both signs
    out.set_learning_window([1.0, 60.0], [[0.0, 1.0]] * 3)   # closed, then open from 60 ms
    trace = net.record_state(rec, ["learning_signal"])
    net.simulate(100.0)
    times, data = trace.get()
    ls = data[:, 0, :]
    closed = times < 55.0
    assert np.all(ls[closed] == 0.0) and not np.any(np.signbit(ls[closed]))
    assert np.count_nonzero(ls[times > 65.0]) > 0
