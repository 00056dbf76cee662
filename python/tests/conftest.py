"""Shared helpers of the Python tests: fixture loading and network builders.

The tests never import NEST: the NEST 3.10 reference data are the committed fixtures in
``Tests/Fixtures/nest`` (see their README for provenance and the meaning of every array).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import eprop
from eprop import tasks
from eprop.sine_waves import build_sine_wave_network

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests" / "Fixtures" / "nest"
HEADER = REPO / "Include" / "eprop.h"


def _decode(value):
    """Fixture configs write infinities as strings (README: "infinity_encoding")."""
    if isinstance(value, str) and value in ("inf", "-inf", "nan"):
        return float(value)
    return value


def load_fixture(name: str):
    """(arrays, config) of ``Tests/Fixtures/nest/<name>.npz``."""
    data = np.load(FIXTURES / f"{name}.npz")
    config = json.loads(str(data["config"]))
    return data, config


def fixture_names() -> list:
    return sorted(p.stem for p in FIXTURES.glob("*.npz"))


def task_from_config(config) -> tasks.SineWaveTask:
    t = config["task"]
    return tasks.sine_wave_task(
        seed=t["seed"], n_iter=t["n_iter"], steps_per_sequence=t["steps_per_sequence"], n_in=t["n_in"],
        n_rec=t["n_rec"], n_out=t["n_out"], model=t["model"], input_rate_probability=t["input_rate_probability"],
        variant=t["variant"],
    )


def network_from_config(config, record_spikes=True, rec_recordables=("V_m", "surrogate_gradient", "learning_signal"),
                        **kwargs):
    """The network of a fixture case, recording what the NEST runner recorded."""
    task = task_from_config(config)
    rp = {k: _decode(v) for k, v in config["recurrent_params"].items()}
    op = {k: _decode(v) for k, v in config["readout_params"].items()}
    opt = dict(config["optimizer_params"])
    rec = config["record"]
    return build_sine_wave_network(
        task, rp, op, opt,
        record_rec_neurons=rec["rec_neurons"],
        record_synapses=rec["synapses"],
        final_update=config.get("final_update", False),
        record_spikes=record_spikes and rec["spikes"],
        readout_recordables=("V_m", "readout_signal", "target_signal", "error_signal"),
        rec_recordables=rec_recordables,
        **kwargs,
    )


def regression_network(**kwargs):
    """The network of ``regression_iaf_adam`` (spec 12.3): 5 iterations × 100 steps, 505 ms."""
    _, config = load_fixture("regression_iaf_adam")
    return network_from_config(config, **kwargs), config


@pytest.fixture
def small_network():
    """A tiny network: 3 inputs, 4 eprop_iaf, 2 readouts, not connected."""
    net = eprop.Network(resolution=1.0)
    inp = net.add_population("input", 3)
    rec = net.add_population("eprop_iaf", 4)
    out = net.add_population("eprop_readout", 2)
    yield net, inp, rec, out
    net.close()
