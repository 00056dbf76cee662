"""Load the NEST 3.10 fixtures of the time-driven e-prop baseline (``Tests/Fixtures/nest/bsshslm``).

Pure NumPy (no NEST, no eprop library). Every key is documented in
``Tests/Fixtures/nest/README.md`` (section "bsshslm_2020 baseline fixtures"); the semantics
NEST implements are in ``tools/bsshslm_semantics.md``.

Typical use::

    from bsshslm_fixtures import load, names
    fx = load("regression_reference")
    fx["kernel"]["eprop_update_interval"]          # 1000.0 (ms)
    for pop in fx["populations"]:                  # creation order
        pop["name"], pop["model"], pop["n"], pop["params"]
    for c in fx["connections"]:                    # creation order
        c["name"], c["pre"], c["post"], c["synapse_model"], c["receptor_type"], c["delay"], c["params"]
        c["pre_idx"], c["post_idx"], c["weight"], c.get("weight_final")   # arrays
    fx["synapse_defaults"]["optimizer"]            # {"type": "adam", "batch_size": 1, ...}
    fx["input_spike_times"]                        # list: spike times (ms) per input neuron
    fx["target_times"], fx["target_values"]        # (n_out, K): step_rate_generator amplitudes
    fx["sim_time_ms"], fx["losses"], fx["arrays"]  # everything else: fx["arrays"][key]

Indices are 0-based within the connection's pre/post *group* (``fx["groups"]``: e.g. ``rec`` =
``reg`` + ``ad`` in the classification cases; a population is its own group).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
#: The fixture directory; the environment variable BSSHSLM_FIXTURES points elsewhere (e.g. a
#: freshly generated set: ``python3 tools/nest_bsshslm.py --out DIR``).
DIRECTORY = Path(os.environ.get("BSSHSLM_FIXTURES", REPO / "Tests" / "Fixtures" / "nest" / "bsshslm"))

#: Files in the directory that are not network cases.
NON_CASES = ("evidence_example_inputs",)


def names():
    """Sorted names of the case fixtures (without ``.npz``)."""
    return sorted(p.stem for p in DIRECTORY.glob("*.npz") if p.stem not in NON_CASES)


def _decode(value):
    """The config writes infinities as strings ("inf", "-inf", "nan")."""
    if isinstance(value, str) and value in ("inf", "-inf", "nan"):
        return float(value)
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    return value


def load(name_or_path):
    """A fixture as a plain dict.

    Keys: everything of the JSON ``config`` (``kernel``, ``populations``, ``groups``,
    ``synapse_defaults``, ``connections``, ``inputs``, ``targets``, ``record``, ``task``,
    ``sim_time_ms``, provenance), with infinities decoded, plus

    * ``arrays``: dict of every numpy array in the file;
    * in each ``connections`` entry: ``pre_idx``, ``post_idx`` (int64), ``weight`` (initial) and,
      for eprop synapses, ``weight_final``;
    * ``input_spike_times``: list (one per input neuron) of float64 arrays (ms);
    * ``target_times``, ``target_values``: (n_generators, K) or None;
    * ``group_sizes``: group name -> number of neurons (populations included);
    * ``losses`` (and ``accuracy`` for classification) if present.
    """
    path = Path(name_or_path)
    if path.suffix != ".npz":
        path = DIRECTORY / f"{name_or_path}.npz"
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    fx = _decode(json.loads(str(arrays.pop("config"))))
    fx["arrays"] = arrays
    for c in fx["connections"]:
        n = c["name"]
        c["pre_idx"] = arrays[f"conn_{n}_pre"]
        c["post_idx"] = arrays[f"conn_{n}_post"]
        c["weight"] = arrays[f"conn_{n}_weight"]
        if f"conn_{n}_weight_final" in arrays:
            c["weight_final"] = arrays[f"conn_{n}_weight_final"]
    sizes = {p["name"]: p["n"] for p in fx["populations"]}
    fx["group_sizes"] = dict(sizes)
    for g, members in fx["groups"].items():
        fx["group_sizes"][g] = sum(sizes[m] for m in members)
    if fx.get("inputs"):
        neuron, times = arrays["in_spike_neuron"], arrays["in_spike_time"]
        fx["input_spike_times"] = [times[neuron == i] for i in range(fx["inputs"]["n"])]
    else:
        fx["input_spike_times"] = []
    if fx.get("targets"):
        fx["target_times"] = arrays["target_amplitude_times"]
        fx["target_values"] = arrays["target_amplitude_values"]
    else:
        fx["target_times"] = fx["target_values"] = None
    for key in ("losses", "accuracy"):
        if key in arrays:
            fx[key] = arrays[key]
    return fx


def connection(fx, name):
    """The ``connections`` entry called ``name``."""
    for c in fx["connections"]:
        if c["name"] == name:
            return c
    raise KeyError(f"no connection group {name!r} in {fx['case']}")


def dense(fx, name, final=False):
    """Weights of connection group ``name`` as a dense [post, pre] matrix (0 where absent)."""
    c = connection(fx, name)
    w = np.zeros((fx["group_sizes"][c["post"]], fx["group_sizes"][c["pre"]]))
    w[c["post_idx"], c["pre_idx"]] = c["weight_final"] if final else c["weight"]
    return w


def population(fx, name):
    for p in fx["populations"]:
        if p["name"] == name:
            return p
    raise KeyError(f"no population {name!r} in {fx['case']}")


def reference_module():
    """``tools/bsshslm_reference.py`` (the NumPy reference; NumPy only), imported once."""
    name = "_bsshslm_reference"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "tools" / "bsshslm_reference.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
