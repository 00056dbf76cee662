"""``eprop.evidence_accumulation`` against NEST's evidence-accumulation example and test.

References (no NEST needed):

* ``Tests/Fixtures/nest/bsshslm/evidence_example_inputs.npz``: what NEST's example
  ``eprop_supervised_classification_evidence-accumulation_bsshslm_2020.py`` (seed 1, batch 32)
  gave its spike and rate generators in its first two iterations, and its initial weights,
  captured by ``tools/nest_evidence_example.py``;
* ``classification_batch1`` / ``classification_batch2``: NEST's test_eprop_classification runs
  (their inputs were made by this module and reproduce NEST's published losses).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import bsshslm_fixtures as fixtures
from eprop import evidence_accumulation as ea

EXAMPLE = fixtures.DIRECTORY / "evidence_example_inputs.npz"


@pytest.fixture(scope="module")
def example():
    with np.load(EXAMPLE) as z:
        data = {k: z[k] for k in z.files}
    data["config"] = json.loads(str(data["config"]))
    return data


def _split(counts, times):
    return np.split(times, np.cumsum(counts)[:-1])


def test_matches_nest_example_inputs(example):
    n_iter = example["config"]["iterations_stored"]
    weights, batches = ea.example_inputs(n_iter, batch_size=32, seed=1)
    for key in ("in_rec", "rec_rec", "rec_out", "out_rec"):
        np.testing.assert_array_equal(weights[key], example["weights_" + key])
    for k, batch in enumerate(batches):
        nest_times = _split(example[f"iter{k}_spike_counts"], example[f"iter{k}_spike_times"])
        assert len(batch.spike_times) == 40
        for i in range(40):
            np.testing.assert_array_equal(batch.spike_times[i], nest_times[i])
        np.testing.assert_array_equal(np.broadcast_to(batch.target_times, (2, 32)), example[f"iter{k}_target_times"])
        np.testing.assert_array_equal(batch.target_values, example[f"iter{k}_target_values"])


@pytest.mark.parametrize("name,batch_size", [("classification_batch1", 1), ("classification_batch2", 2)])
def test_matches_nest_test_inputs(name, batch_size):
    fx = fixtures.load(name)
    weights, batches = ea.example_inputs(5, batch_size=batch_size, seed=1)
    spikes = [np.concatenate([b.spike_times[i] for b in batches]) for i in range(40)]
    for i in range(40):
        np.testing.assert_array_equal(spikes[i], fx["input_spike_times"][i])
    np.testing.assert_array_equal(np.concatenate([b.target_times for b in batches]), fx["target_times"][0])
    np.testing.assert_array_equal(np.concatenate([b.target_values for b in batches], axis=1), fx["target_values"])
    assert [int(x) for b in batches for x in b.labels] == fx["task"]["labels"]
    np.testing.assert_array_equal(fixtures.dense(fx, "in_rec"), weights["in_rec"])
    np.testing.assert_array_equal(fixtures.dense(fx, "rec_out"), weights["rec_out"])


def test_layout_and_constants():
    b = ea.generate(6, seed=3)
    assert b.n_batch == 6 and b.n_in == 40 and b.n_out == 2
    assert b.steps_per_sequence == 2250 and b.steps_recall == 150 and b.dt == 1.0 and b.t_start == 1.0
    assert b.input_spikes.shape == (6, 2250, 40) and b.input_spikes.dtype == bool
    assert b.duration_ms == 6 * 2250.0
    assert not b.input_spikes[:, 0, :].any()  # no spike in step 0 of a sequence
    p = ea.spike_probabilities(b.cues)
    assert not b.input_spikes[p == 0].any()  # spikes only where the probability is positive
    # recall group only in the last 150 steps; cue groups only during cues of their side
    assert not b.input_spikes[:, :-150, 20:30].any()
    for s in range(6):
        for c in range(7):
            first = c * 150 + 50
            other = 1 - b.cues[s, c]
            assert not b.input_spikes[s, first : first + 100, other * 10 : other * 10 + 10].any()
    np.testing.assert_array_equal(b.labels, (b.cues.sum(axis=1) > 3).astype(int))
    np.testing.assert_array_equal(b.targets.argmax(axis=1), b.labels)
    np.testing.assert_array_equal(b.target_times, 4.0 + 2250.0 * np.arange(6))
    assert b.target_per_step().shape == (6 * 2250, 2)
    neurons, times = b.spike_arrays()
    assert neurons.size == b.input_spikes.sum() == sum(t.size for t in b.spike_times)
    assert np.all(np.diff(times) >= 0)
    for i in range(40):
        np.testing.assert_array_equal(np.sort(times[neurons == i]), b.spike_times[i])


def test_rates_roughly_as_specified():
    b = ea.generate(32, seed=5)
    noise = b.input_spikes[:, 1:, 30:].mean()
    recall = b.input_spikes[:, -150:, 20:30].mean()
    assert abs(noise - 0.01) < 0.002 and abs(recall - 0.04) < 0.006


def test_rng_continues_stream():
    rs = np.random.RandomState(7)
    a = ea.generate(2, rng=rs)
    b = ea.generate(2, rng=rs)
    rs2 = np.random.RandomState(7)
    ea.generate(2, rng=rs2)
    c = ea.generate(2, rng=rs2)
    np.testing.assert_array_equal(b.input_spikes, c.input_spikes)
    assert not np.array_equal(a.input_spikes, b.input_spikes)


def test_other_sizes_and_timing():
    b = ea.generate(3, seed=1, n_in=8, n_cues=3, steps_cue=10, steps_spacing=5, steps_bg_noise=20, steps_recall=7, dt=0.5, t_start=10.0)
    assert b.steps_per_sequence == 3 * 15 + 20 + 7
    assert b.input_spikes.shape == (3, 72, 8)
    np.testing.assert_array_equal(b.target_times, 10.0 + 1.5 + 36.0 * np.arange(3))
    assert all(np.all((t - 10.0) / 0.5 == np.round((t - 10.0) / 0.5)) for t in b.spike_times)


@pytest.mark.parametrize(
    "kwargs,error,words",
    [
        ({"n_batch": 0, "seed": 1}, ValueError, ["n_batch", ">= 1", "0"]),
        ({"n_batch": 2.5, "seed": 1}, TypeError, ["n_batch", "integer"]),
        ({"n_batch": 1, "seed": 1, "n_in": 42}, ValueError, ["n_in", "multiple of 4", "42"]),
        ({"n_batch": 1, "seed": 1, "n_in": 0}, ValueError, ["n_in", ">= 4"]),
        ({"n_batch": 1, "seed": 1, "n_cues": 0}, ValueError, ["n_cues", ">= 1"]),
        ({"n_batch": 1, "seed": 1, "prob_group": 1.5}, ValueError, ["prob_group", "[0, 1]", "1.5"]),
        ({"n_batch": 1, "seed": 1, "spike_prob": -0.1}, ValueError, ["spike_prob", "[0, 1]"]),
        ({"n_batch": 1, "seed": 1, "steps_recall": 0}, ValueError, ["steps_recall", ">= 1"]),
        ({"n_batch": 1, "seed": 1, "steps_spacing": 0}, ValueError, ["steps_spacing", ">= 1"]),
        ({"n_batch": 1, "seed": 1, "steps_bg_noise": -1}, ValueError, ["steps_bg_noise", ">= 0"]),
        ({"n_batch": 1, "seed": 1, "dt": 0.0}, ValueError, ["dt", "(0"]),
        ({"n_batch": 1, "seed": 1, "t_start": -1.0}, ValueError, ["t_start"]),
        ({"n_batch": 1, "seed": -1}, ValueError, ["seed", "[0, 4294967295]"]),
        ({"n_batch": 1}, ValueError, ["seed is required"]),
        ({"n_batch": 1, "seed": 1, "rng": np.random.RandomState(1)}, ValueError, ["either seed or rng"]),
        ({"n_batch": 1, "rng": np.random.default_rng(1)}, TypeError, ["RandomState"]),
    ],
)
def test_errors_name_parameter_and_range(kwargs, error, words):
    with pytest.raises(error) as info:
        ea.generate(**kwargs)
    for w in words:
        assert w in str(info.value)


def test_example_inputs_errors():
    with pytest.raises(ValueError, match="n_iter"):
        ea.example_inputs(0)
    with pytest.raises(ValueError, match="batch_size"):
        ea.example_inputs(1, batch_size=0)
