"""The Pythonic API: catalogue, populations, projections, optimizer, simulate, packaging."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import eprop
from eprop import _capi
from eprop.network import optimizer_parameters


def test_version_and_library():
    assert eprop.version() == eprop.__version__ == "0.1.0"
    assert _capi.abi_version() == _capi.ABI_VERSION == 1
    assert os.path.exists(_capi.library_path())


def test_catalogue():
    models = eprop.models()
    assert {"input", "eprop_iaf", "eprop_readout"} <= set(models)
    assert len(set(models)) == len(models)
    rows = eprop.model_parameters("eprop_iaf")
    by_name = {r.name: r for r in rows}
    assert isinstance(rows[0], eprop.ParameterInfo)
    # Defaults and units of spec 3.1/3.2.
    assert by_name["C_m"].default == 250.0 and by_name["C_m"].unit == "pF" and by_name["C_m"].kind == "real"
    assert by_name["V_th"].default == -55.0 and by_name["tau_m"].default == 10.0
    assert by_name["f_target"].default == 10.0 and by_name["f_target"].unit == "Hz"
    assert by_name["kappa"].default == 0.97 and "kappa" in by_name["kappa"].rule
    assert by_name["eprop_isi_trace_cutoff"].default == np.inf
    assert by_name["surrogate_gradient_function"].kind == "choice"
    assert by_name["surrogate_gradient_function"].default == "piecewise_linear"
    assert all(r.doc for r in rows)
    readout = {r.name: r for r in eprop.model_parameters("eprop_readout")}
    assert readout["E_L"].default == 0.0
    # NEST's eprop_readout has no loss; ours adds cross_entropy, MSE (NEST's) the default.
    assert readout["loss"].kind == "choice" and readout["loss"].default == "mean_squared_error"
    assert eprop.model_recordables("eprop_iaf")[:3] == ["V_m", "surrogate_gradient", "learning_signal"]
    assert eprop.model_parameters("eprop_iaf") is not eprop.model_parameters("eprop_iaf")  # callers may mutate


def test_population_basics():
    with eprop.Network(resolution=1.0) as net:
        assert net.resolution == 1.0 and net.time == 0.0
        rec = net.add_population("eprop_iaf", 7, C_m=1.0, surrogate_gradient_function="exponential", V_m=-60.0)
        assert len(rec) == rec.size == 7 and rec.model == "eprop_iaf" and rec.id == 0
        assert net.populations == (rec,)
        assert rec.get("C_m") == 1.0 and rec.get("surrogate_gradient_function") == "exponential"
        np.testing.assert_array_equal(rec.get_state("V_m"), np.full(7, -60.0))
        params = rec.params
        assert set(params) == {r.name for r in eprop.model_parameters("eprop_iaf")}
        assert "eprop_iaf" in repr(rec) and "eprop_iaf[7]" in repr(net)
        rec.set_state("V_m", np.arange(7.0))
        np.testing.assert_array_equal(rec.get_state("V_m"), np.arange(7.0))
        rec.set_state("V_m", -65.0)
        np.testing.assert_array_equal(rec.get_state("V_m"), np.full(7, -65.0))
        # Changing E_L keeps absolute voltages (spec 1.4).
        rec.set(E_L=-60.0)
        np.testing.assert_array_equal(rec.get_state("V_m"), np.full(7, -65.0))
        assert rec.recordables == eprop.model_recordables("eprop_iaf")


def test_bool_and_int_results():
    with eprop.Network() as net:
        net.set_optimizer(optimize_each_step=False, batch_size=4)
        assert net.get_optimizer("optimize_each_step") is False
        assert net.get_optimizer("batch_size") == 4 and isinstance(net.get_optimizer("batch_size"), int)
        assert set(net.optimizer_params) == set(optimizer_parameters()) == {"type", "batch_size", "eta", "Wmin", "Wmax", "optimize_each_step", "beta_1", "beta_2", "epsilon"}
        net.set_optimizer(optimize_each_step=np.bool_(True))
        assert net.optimizer_params["optimize_each_step"] is True


def test_dense_and_explicit_connections():
    with eprop.Network() as net:
        a = net.add_population("input", 3)
        b = net.add_population("eprop_iaf", 2)
        w = np.arange(6.0).reshape(2, 3) / 10
        dense = net.connect(a, b, "eprop_synapse", w)
        assert len(dense) == 6 and dense.delay == 1.0 and dense.synapse_model == "eprop_synapse"
        np.testing.assert_array_equal(dense.weight_matrix(), w)
        pre, post = dense.connections
        np.testing.assert_array_equal(pre, [0, 0, 1, 1, 2, 2])  # storage order: by pre, then post
        np.testing.assert_array_equal(post, [0, 1, 0, 1, 0, 1])
        np.testing.assert_array_equal(dense.weights, w[post, pre])
        dense.set_weights(w * 2)  # a matrix is read at each synapse's (post, pre)
        np.testing.assert_array_equal(dense.weight_matrix(), w * 2)
        dense.weights = np.zeros(6)
        np.testing.assert_array_equal(dense.weights, np.zeros(6))

        explicit = net.connect(a, b, "static_synapse", [0.5, 0.25, 0.125], pre_ids=[2, 0, 2], post_ids=[1, 1, 1])
        np.testing.assert_array_equal(explicit.weight_matrix(), [[0, 0, 0], [0.25, 0, 0.625]])  # parallel add up
        uniform = net.connect(a, b, "static_synapse", 2.0, pre_ids=[1], post_ids=[0])
        np.testing.assert_array_equal(uniform.weights, [2.0])
        default = net.connect(a, b, "static_synapse")
        np.testing.assert_array_equal(default.weight_matrix(), np.ones((2, 3)))  # NEST's default weight
        assert net.projections == (dense, explicit, uniform, default)
        assert "static_synapse" in repr(explicit)


def test_autapses():
    with eprop.Network() as net:
        r = net.add_population("eprop_iaf", 4)
        with_self = net.connect(r, r, "eprop_synapse", np.ones((4, 4)))
        without = net.connect(r, r, "eprop_synapse", np.ones((4, 4)), allow_autapses=False)
        assert len(with_self) == 16 and len(without) == 12
        np.testing.assert_array_equal(without.weight_matrix(), 1 - np.eye(4))


def test_spike_times_per_neuron_form():
    with eprop.Network() as net:
        inp = net.add_population("input", 3)
        spikes = net.record_spikes(inp)
        inp.set_spike_times(times_ms=[[2.0, 5.0], [], [3.0]])
        net.simulate(10.0)
        np.testing.assert_array_equal(spikes.times, [3.0, 4.0, 6.0])
        np.testing.assert_array_equal(spikes.senders, [0, 2, 0])
        with pytest.raises(eprop.InvalidArgumentError, match="one array of times per neuron"):
            inp.set_spike_times(times_ms=[[12.0]])


def test_target_broadcast_and_timing():
    """A 1-D target is used for every readout; a value with time T is in effect from the
    readout step T on (spec 5.4), i.e. in the sample with time T + 1."""
    with eprop.Network() as net:
        out = net.add_population("eprop_readout", 2)
        out.set_target([3.0, 6.0], [1.0, -2.0])
        out.set_learning_window(2.0, 1.0)
        rec = net.record_state(out, ["target_signal"])
        net.simulate(8.0)
        y_star = rec["target_signal"]
        np.testing.assert_array_equal(y_star[:, 0], y_star[:, 1])
        np.testing.assert_array_equal(y_star[:, 0], [0, 0, 0, 1, 1, 1, -2, -2])


def test_progress_bar_and_callable(capsys):
    with eprop.Network() as net:
        net.add_population("eprop_iaf", 2)
        net.simulate(50.0, progress=True)
        err = capsys.readouterr().err
        assert "100.0%" in err and err.endswith("\n")
        calls = []
        net.simulate(10.0, progress=lambda done, total: calls.append((done, total)), every=4)
        assert calls == [(4, 10), (8, 10), (10, 10)]
        assert net.time == 60.0
        with pytest.raises(eprop.SimulationInterrupted):
            net.simulate(10.0, progress=lambda done, total: False, every=1)
        assert net.time == 61.0


def test_keyboard_interrupt_in_callback_is_reraised():
    with eprop.Network() as net:
        net.add_population("eprop_iaf", 2)

        def ctrl_c(done, total):
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            net.simulate(10.0, progress=ctrl_c, every=3)
        assert net.time == 3.0


def test_tasks_import_needs_no_library():
    """eprop loads libeprop lazily: eprop.tasks works even if the library cannot be found."""
    env = dict(os.environ, EPROP_LIBRARY="/nonexistent/libeprop.so")
    code = (
        "import eprop, eprop.tasks\n"
        "t = eprop.tasks.sine_wave_task(n_iter=1, steps_per_sequence=100)\n"
        "try:\n"
        "    eprop.models()\n"
        "except eprop.LibraryNotFoundError as e:\n"
        "    assert 'Likely causes' in str(e) and '/nonexistent/libeprop.so' in str(e)\n"
        "    print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_library_never_prints(capfd):
    with eprop.Network() as net:
        rec = net.add_population("eprop_iaf", 3)
        with pytest.raises(eprop.BadPropertyError):
            rec.set(C_m=-1.0)
        net.simulate(20.0)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_no_copy_for_right_arrays():
    a = np.arange(5.0)
    assert _capi.f64(a) is a
    ids = np.arange(5, dtype=np.int64)
    assert _capi.i64(ids) is ids
    assert _capi.f64([1, 2]).dtype == np.float64


def test_per_neuron_parameters():
    with eprop.Network() as net:
        rec = net.add_population("eprop_iaf", 4, C_m=1.0)
        tau = np.array([10.0, 20.0, 30.0, 40.0])
        rec.set(tau_m=tau, V_th=-50.0)
        np.testing.assert_array_equal(rec.get_array("tau_m"), tau)
        np.testing.assert_array_equal(rec.get_array("V_th"), np.full(4, -50.0))
        np.testing.assert_array_equal(rec.get_array("C_m"), np.ones(4))
        rec.set_array("V_m", [-70.0, -69.0, -68.0, -67.0])
        np.testing.assert_array_equal(rec.get_state("V_m"), [-70.0, -69.0, -68.0, -67.0])
        # One bad neuron: the message names it and nothing changes (arrays are restored too).
        with pytest.raises(eprop.BadPropertyError, match="tau_m"):
            rec.set(tau_m=[5.0, 5.0, -1.0, 5.0])
        with pytest.raises(eprop.BadPropertyError, match="kappa"):
            rec.set(tau_m=[5.0, 6.0, 7.0, 8.0], surrogate_gradient_function="exponential", kappa=3.0)
        np.testing.assert_array_equal(rec.get_array("tau_m"), tau)
        assert rec.get("surrogate_gradient_function") == "piecewise_linear"
        with pytest.raises(eprop.InvalidArgumentError, match="tau_m"):
            rec.set(tau_m=[1.0, 2.0])
        np.testing.assert_array_equal(rec.get("tau_m"), tau)  # per neuron: get gives the array
        np.testing.assert_array_equal(rec.params["tau_m"], tau)
        # A single value replaces the per-neuron array.
        rec.set(tau_m=15.0)
        np.testing.assert_array_equal(rec.get_array("tau_m"), np.full(4, 15.0))
        assert rec.get("tau_m") == 15.0
        # Restoring after a failure keeps a population-wide parameter population-wide.
        with pytest.raises(eprop.BadPropertyError, match="kappa"):
            rec.set(tau_m=tau, kappa=5.0)
        assert rec.get("tau_m") == 15.0


def test_current_input_timing():
    """eprop_set_current: a current from step T enters I_in at the end of step T, so the
    membrane feels it in step T + 1 (sample time T + 2)."""
    with eprop.Network() as net:
        rec = net.add_population("eprop_iaf", 2, C_m=1.0, E_L=0.0, V_m=0.0, V_th=100.0, tau_m=10.0)
        rec.set_current([3.0, 5.0], [[1.0, 0.0], [2.0, 0.0]])
        v = net.record_state(rec, ["V_m"])
        net.simulate(8.0)
        vm = v["V_m"]
        p_i = 10.0 * (1 - np.exp(-0.1))
        assert np.all(vm[:4] == 0.0)
        assert vm[4, 0] == pytest.approx(p_i, rel=1e-12) and vm[4, 1] == pytest.approx(2 * p_i, rel=1e-12)
        with pytest.raises(eprop.InvalidArgumentError, match="times_ms"):
            rec.set_current([2.0, 2.0], [1.0, 1.0])
