"""Successive simulate calls continue exactly where the previous one stopped (eprop.h,
eprop_simulate): any split of a run into calls gives bit-identical recordings, state and
weights (exact equality, no tolerance)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import eprop
from eprop import tasks
from eprop.sine_waves import build_sine_wave_network, train_sine_waves

from conftest import regression_network

TOTAL_MS = 505.0  # regression_iaf_adam: 5 iterations × 100 steps + 5


def _snapshot(net):
    """Everything observable after a run."""
    snap = {
        "time": net.network.time,
        "readout": net.readout_recorder.get(),
        "recurrent": net.recurrent_recorder.get(),
        "spikes": net.spike_recorder.get(),
        "V_m": net.recurrent.get_state("V_m"),
        "readout_V_m": net.readout.get_state("V_m"),
        "w_in": net.proj_in.weights,
        "w_rec": net.proj_rec.weights,
        "w_out": net.proj_out.weights,
    }
    for key, rec in net.weight_recorders.items():
        snap["wr_" + key] = rec.get()
    return snap


def _run(splits, progress=None, every=None):
    net, _ = regression_network()
    assert sum(splits) == TOTAL_MS
    for ms in splits:
        net.network.simulate(ms, progress=progress, every=every)
    snap = _snapshot(net)
    net.network.close()
    return snap


def _assert_identical(a, b):
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, tuple):
            assert len(x) == len(y)
            for u, v in zip(x, y):
                assert u.shape == v.shape, key
                assert np.array_equal(u, v), key
        else:
            assert np.array_equal(x, y), key


@pytest.fixture(scope="module")
def one_call():
    return _run([TOTAL_MS])


def test_one_call_is_sane(one_call):
    assert one_call["time"] == TOTAL_MS
    assert one_call["readout"][0].shape == (505,)
    np.testing.assert_array_equal(one_call["readout"][0], np.arange(1.0, 506.0))
    assert len(one_call["spikes"][0]) > 100


def test_five_calls_of_101_ms(one_call):
    _assert_identical(_run([101.0] * 5), one_call)


@pytest.mark.parametrize(
    "splits",
    [
        [1.0, 0.0, 2.0, 97.0, 150.0, 3.0, 252.0],  # includes a 0 ms call
        [7.0] * 72 + [1.0],
        [504.0, 1.0],
        [1.0] * 505,
    ],
    ids=["odd", "sevens", "all-but-last", "single-steps"],
)
def test_odd_splits(one_call, splits):
    _assert_identical(_run(splits), one_call)


def test_progress_callback_does_not_change_the_result(one_call):
    seen = []
    _assert_identical(_run([200.0, 305.0], progress=lambda d, t: seen.append((d, t)), every=7), one_call)
    assert seen[-1] == (305, 305) and seen[0] == (7, 200)


def test_interrupted_run_continues_exactly(one_call):
    net, _ = regression_network()
    with pytest.raises(eprop.SimulationInterrupted) as info:
        net.network.simulate(TOTAL_MS, progress=lambda done, total: done < 123, every=1)
    assert "progress callback" in str(info.value)
    assert net.network.time == 123.0  # stopped after the step whose callback said stop
    net.network.simulate(TOTAL_MS - 123.0)
    snap = _snapshot(net)
    net.network.close()
    _assert_identical(snap, one_call)


def test_exception_in_progress_callback_stops_cleanly_and_continues(one_call):
    net, _ = regression_network()

    def bad(done, total):
        if done >= 50:
            raise ZeroDivisionError("boom in callback")

    with pytest.raises(ZeroDivisionError, match="boom in callback"):
        net.network.simulate(TOTAL_MS, progress=bad, every=10)
    assert net.network.time == 50.0
    net.network.simulate(TOTAL_MS - 50.0)
    snap = _snapshot(net)
    net.network.close()
    _assert_identical(snap, one_call)


def test_train_sine_waves_equals_one_long_call():
    """train_sine_waves (one call per iteration, recorder cleared each time) gives the same
    losses and final weights as one Simulate(sim_time_ms) and loss_per_iteration."""
    task = tasks.sine_wave_task(seed=1, n_iter=4, steps_per_sequence=1000, variant="example")
    trained = train_sine_waves(task, final_update=True)

    single = build_sine_wave_network(task, record_rec_neurons=(), final_update=True)
    single.network.simulate(task.sim_time_ms)
    losses = single.losses()

    assert trained.net.network.time == single.network.time == task.sim_time_ms
    assert np.array_equal(trained.losses, losses)
    for proj in ("proj_in", "proj_rec", "proj_out"):
        assert np.array_equal(getattr(trained.net, proj).weights, getattr(single, proj).weights), proj
    # Only the last iteration's samples are kept, and the recorder was emptied as it went.
    np.testing.assert_array_equal(trained.last_times, np.arange(3003.0, 4003.0))
    assert len(trained.net.readout_recorder) == 0
    times, data = single.readout_recorder.get()
    idx = np.searchsorted(times, trained.last_times)
    assert np.array_equal(trained.last_readout, data[idx, 0, :])
    assert np.array_equal(trained.last_target, data[idx, 1, :])


def test_final_update_changes_only_the_final_weights():
    """The final-update spike (spec 11.1) leaves the losses alone and moves pending gradients
    into the weights."""
    task = tasks.sine_wave_task(seed=1, n_iter=2, steps_per_sequence=200, variant="example")
    with_update = train_sine_waves(task, final_update=True)
    without = train_sine_waves(task, final_update=False)
    assert np.array_equal(with_update.losses, without.losses)
    assert not np.array_equal(with_update.net.proj_out.weights, without.net.proj_out.weights)
    assert with_update.net.final_input is not None and len(with_update.net.proj_final) == task.n_rec
    # Every input neuron and every recurrent neuron fires once more at the end.
    assert with_update.net.proj_final.weight_matrix().shape == (task.n_rec, 1)
    np.testing.assert_array_equal(with_update.net.proj_final.weights, np.full(task.n_rec, 1000.0))


def test_train_callback_can_stop_early():
    task = tasks.sine_wave_task(seed=1, n_iter=5, steps_per_sequence=100, variant="test")
    seen = []
    result = train_sine_waves(task, callback=lambda it, loss, net: seen.append((it, loss)) or it < 3)
    assert [it for it, _ in seen] == [1, 2, 3]
    assert result.losses.shape == (3,)
    np.testing.assert_array_equal(result.losses, [loss for _, loss in seen])
    full = train_sine_waves(task)
    np.testing.assert_array_equal(full.losses[:3], result.losses)
    assert dataclasses.is_dataclass(result)
