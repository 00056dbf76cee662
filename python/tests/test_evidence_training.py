"""eprop.evidence_training follows NEST's example protocol: with batches of 2 its first
iteration is the first batch of NEST's test_eprop_classification (batch 2), drawn from the
same stream in the same order, so its loss equals NEST's reference (spec 10.7). Later
iterations differ from the test on purpose: the example, unlike the test, sets eta per
phase, so its first eta change is the validation's 0 (spec 9.4)."""

import numpy as np
import pytest

from eprop.evidence_training import train

NEST_BATCH2_FIRST = 0.702163370672


def test_first_iterations_match_nest_references():
    run = train("baseline", n_iter_train=2, batch_size=2, progress=False)
    assert [r["phase"] for r in run.rows] == ["validation", "training", "training", "test", "test", "test", "test"]
    np.testing.assert_allclose(run.rows[0]["loss"], NEST_BATCH2_FIRST, rtol=1e-8)
    assert run.counters["eligibility_steps"] > 0 and run.energy_j > 0


def test_event_family_runs_and_rejects_unknown_family():
    run = train("event", n_iter_train=1, batch_size=1, progress=False)
    assert len(run.rows) == 6 and all(np.isfinite(r["loss"]) for r in run.rows)
    with pytest.raises(ValueError, match='family: "baseline" or "event" required'):
        train("tf", n_iter_train=1)
