"""Threads: results are bit-identical for any number of threads (issue 5)."""
import numpy as np
import pytest

import eprop
from eprop import tasks
from eprop.errors import InvalidArgumentError
from eprop.sine_waves import train_sine_waves


@pytest.mark.parametrize("optimizer", ["gradient_descent", "adam"])
def test_sine_task_identical_for_1_and_2_threads(optimizer):
    task = tasks.sine_wave_task(seed=3, n_iter=3, steps_per_sequence=200, variant="test")
    runs = []
    for threads in (1, 2):
        result = train_sine_waves(task=task, optimizer=optimizer, final_update=False, threads=threads)
        net = result.net
        assert net.network.threads == threads
        runs.append((result.losses, net.proj_in.weights, net.proj_rec.weights, net.proj_out.weights))
        learned = net.proj_rec.weight_matrix()
    for a, b in zip(runs[0], runs[1]):
        assert np.array_equal(a, b)
    assert np.abs(learned - task.weights_rec).max() > 0   # learning happened


def test_thread_count_validation():
    net = eprop.Network(threads=2)
    assert net.threads == 2
    with pytest.raises(InvalidArgumentError, match="threads"):
        net.threads = 0
    with pytest.raises(InvalidArgumentError, match="threads"):
        eprop.Network(threads=1000)
    net.threads = 1
    assert net.threads == 1
