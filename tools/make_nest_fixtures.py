"""Regenerate the NEST reference fixtures in Tests/Fixtures/nest/.

Each case builds the sine-wave regression network of NEST's e-prop test/example with
``tools/nest_runner.py``, simulates it in NEST and writes ``<case>.npz`` (uncompressed
``np.savez``; float64 and int64 arrays plus a ``config`` JSON string) and a README.md that
lists the cases, the losses obtained and the provenance.

The "features" group (``tools/nest_features.py``) adds small networks of the complete
recurrent model set (4 models x 4 surrogate functions, current input, refractory input,
ignore-and-spike, per-neuron parameters, state changes between Simulate calls, history
bookkeeping, surrogate references); they are written to ``Tests/Fixtures/nest/features/``.

Usage::

    python3 tools/make_nest_fixtures.py            # all cases (about 30-50 s, the sine example dominates)
    python3 tools/make_nest_fixtures.py --skip-slow # everything except sine_example_losses
    python3 tools/make_nest_fixtures.py --cases regression_iaf_adam,trace_seed3_batch3_adam
    python3 tools/make_nest_fixtures.py --group features        # only the feature fixtures
    python3 tools/make_nest_fixtures.py --group models,history  # feature groups by name

An existing fixture is only rewritten if its arrays changed (``simulate_wall_time``, a
measurement, is ignored in the comparison); a changed fixture is refused unless ``--force``
is given, so regenerating leaves the committed files byte-identical.

The script fails (exit status 1) if a loss curve that has a published reference
(spec sections 11.1 and 12.3) is not reproduced, if a feature case's check fails (see
``tools/nest_features.py``), or if an existing fixture would change without ``--force``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nest_features  # noqa: E402
import nest_runner  # noqa: E402

tasks = nest_runner.tasks

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
DEFAULT_OUT = os.path.join(ROOT, "Tests", "Fixtures", "nest")
FEATURES_SUBDIR = "features"
FEATURE_GROUPS = ("models", "current", "refractory_input", "ignore_and_spike", "per_neuron", "state", "history", "surrogate")
# Arrays that are measurements, not results: ignored when deciding whether a fixture changed.
VOLATILE_ARRAYS = ("simulate_wall_time",)
COMMAND = "python3 tools/make_nest_fixtures.py"

INF = float("inf")

# Reference losses of test_eprop_regression (spec 12.3).
REF_REGRESSION = {
    "eprop_iaf": [0.14000491891386, 0.28735818029752, 0.22263713699860, 0.23015072431384, 0.17565248170694],
    "eprop_iaf_adapt": [0.02242584487453, 0.01916753791522, 0.00571493935652, 0.00037875376195, 0.00037823157578],
    "eprop_iaf_psc_delta": [0.27039631749159, 0.51390204375229, 0.53473859833866, 0.53608474802202, 0.49323580244201],
    "eprop_iaf_psc_delta_adapt": [0.16416646182675, 0.27952159282830, 0.29937515524341, 0.26160957500433, 0.26384514215024],
}
# Sine example (spec 11.1): loss at iterations 1, 5, 50, 100, 150, 200 (printed to 3-5 digits).
REF_SINE = {1: 107.737, 5: 107.764, 50: 104.49, 100: 95.01, 150: 86.04, 200: 75.733}

REGRESSION_RTOL = 1e-9


def _case(name, description, **settings):
    base = dict(
        variant="test",
        model="eprop_iaf",
        seed=1,
        n_iter=5,
        steps_per_sequence=100,
        n_in=100,
        n_rec=100,
        n_out=1,
        optimizer="gradient_descent",
        optimize_each_step=True,
        batch_size=1,
        cutoff=None,  # None: the variant's default (100 ms)
        flush_event_send_interval=None,  # None: the variant's default (steps_per_sequence ms)
        final_update=False,
        record="default",
        reference=None,
    )
    base.update(settings)
    return {"name": name, "description": description, "settings": base}


CASES = [
    _case(
        "regression_iaf_adam",
        "test_eprop_regression (spec 12.3), eprop_iaf, Adam, optimize_each_step True.",
        optimizer="adam",
        reference="eprop_iaf",
    ),
    _case(
        "regression_iaf_gd_each_step",
        "As regression_iaf_adam but gradient descent, optimize_each_step True.",
    ),
    _case(
        "regression_iaf_gd_accumulate",
        "As regression_iaf_adam but gradient descent, optimize_each_step False.",
        optimize_each_step=False,
    ),
    _case(
        "trace_seed2_cutoff5_flush3",
        "Seed 2, eprop_isi_trace_cutoff 5 ms (recurrent and readout), flush interval 3 ms, "
        "gradient descent, optimize_each_step False, 3 iterations of 100 steps.",
        seed=2,
        n_iter=3,
        cutoff=5.0,
        flush_event_send_interval=3.0,
        optimize_each_step=False,
    ),
    _case(
        "trace_seed3_batch3_adam",
        "Seed 3, Adam, batch_size 3, optimize_each_step False, cutoff 10 ms, flush interval 10 ms, "
        "3 iterations of 100 steps.",
        seed=3,
        n_iter=3,
        optimizer="adam",
        batch_size=3,
        optimize_each_step=False,
        cutoff=10.0,
        flush_event_send_interval=10.0,
    ),
    _case(
        "trace_seed4_nocutoff_adam_each",
        "Seed 4, no cutoff and no flush (both infinite), Adam, optimize_each_step True, "
        "3 iterations of 100 steps.",
        seed=4,
        n_iter=3,
        optimizer="adam",
        cutoff=INF,
        flush_event_send_interval=INF,
    ),
    _case(
        "regression_eprop_iaf_adapt_gd",
        "test_eprop_regression (spec 12.3), eprop_iaf_adapt, gradient descent, optimize_each_step True.",
        model="eprop_iaf_adapt",
        reference="eprop_iaf_adapt",
    ),
    _case(
        "regression_eprop_iaf_psc_delta_gd",
        "test_eprop_regression (spec 12.3), eprop_iaf_psc_delta, gradient descent, optimize_each_step True.",
        model="eprop_iaf_psc_delta",
        reference="eprop_iaf_psc_delta",
    ),
    _case(
        "regression_eprop_iaf_psc_delta_adapt_gd",
        "test_eprop_regression (spec 12.3), eprop_iaf_psc_delta_adapt, gradient descent, "
        "optimize_each_step True.",
        model="eprop_iaf_psc_delta_adapt",
        reference="eprop_iaf_psc_delta_adapt",
    ),
    _case(
        "sine_example_losses",
        "The sine-wave example (spec 11.1): variant example, 200 iterations of 1000 steps, seed 1, "
        "gradient descent, optimize_each_step False, final-update spike generator. Only the 200 "
        "losses and the Simulate wall time are stored.",
        variant="example",
        n_iter=200,
        steps_per_sequence=1000,
        optimize_each_step=False,
        final_update=True,
        record="losses_only",
        reference="sine",
    ),
]

SLOW_CASES = {"sine_example_losses"}


def _jsonable(value):
    """Make a value JSON-safe: floats inf/-inf/nan become the strings "inf"/"-inf"/"nan"."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if math.isnan(value):
            return "nan"
        return value
    return value


def run_case(case):
    """Run one case in NEST. Returns (arrays for the npz, config dict)."""
    s = case["settings"]
    task = tasks.sine_wave_task(
        seed=s["seed"],
        n_iter=s["n_iter"],
        steps_per_sequence=s["steps_per_sequence"],
        n_in=s["n_in"],
        n_rec=s["n_rec"],
        n_out=s["n_out"],
        model=s["model"],
        variant=s["variant"],
    )
    if s["record"] == "losses_only":
        record = {"rec_neurons": [], "synapses": {}, "spikes": False, "final_weights": False}
    else:
        record = None
    res = nest_runner.run_nest(
        task,
        tasks.recurrent_parameters(task),
        tasks.readout_parameters(task),
        tasks.optimizer_parameters(
            task, optimizer=s["optimizer"], optimize_each_step=s["optimize_each_step"], batch_size=s["batch_size"]
        ),
        record=record,
        cutoff=s["cutoff"],
        flush_event_send_interval=s["flush_event_send_interval"],
        final_update=s["final_update"],
    )

    import nest

    record_used = nest_runner._default_record()
    if record is not None:
        record_used.update(record)
    config = {
        "case": case["name"],
        "description": case["description"],
        "nest_version": nest.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "command": COMMAND,
        "task": {
            "function": "eprop.tasks.sine_wave_task",
            "seed": task.seed,
            "n_iter": task.n_iter,
            "steps_per_sequence": task.steps_per_sequence,
            "n_in": task.n_in,
            "n_rec": task.n_rec,
            "n_out": task.n_out,
            "model": task.model,
            "variant": task.variant,
            "input_rate_probability": task.input_rate_probability,
            "dt": task.dt,
            "scale": task.scale,
            "total_offset": task.total_offset,
            "sim_time_ms": task.sim_time_ms,
        },
        "recurrent_params": res["rec_params"],
        "readout_params": res["out_params"],
        "optimizer_params": res["opt_params"],
        "final_update": bool(s["final_update"]),
        "record": {
            "rec_neurons": [int(i) for i in record_used["rec_neurons"]],
            "synapses": {k: [list(p) for p in v] for k, v in record_used["synapses"].items()},
            "spikes": bool(record_used["spikes"]),
            "final_weights": bool(record_used["final_weights"]),
        },
        "infinity_encoding": "float values +inf/-inf/nan are written as the strings 'inf'/'-inf'/'nan'",
    }

    arrays = {}
    if s["record"] == "losses_only":
        keep = ("losses", "simulate_wall_time", "sim_time_ms")
    else:
        keep = tuple(k for k, v in res.items() if isinstance(v, (np.ndarray, np.generic)))
    for k in keep:
        arrays[k] = np.asarray(res[k])
    arrays["config"] = np.array(json.dumps(_jsonable(config), sort_keys=True, allow_nan=False))
    return arrays, config


def run_feature_case(name):
    """Run one feature case (tools/nest_features.py). Returns (arrays, config, ok, check lines)."""
    import nest

    case = nest_features.CASES[name]
    spec, res, ok, lines, _ = nest_features.run_case(name)
    config = dict(spec)
    config.update(
        case=name,
        group=case["group"],
        description=case["description"],
        nest_version=nest.__version__,
        numpy_version=np.__version__,
        python_version=platform.python_version(),
        command=COMMAND + " --group " + case["group"],
        builder="tools/nest_features.py (run_spec)",
        conventions="Tests/Fixtures/nest/README.md, section 'config of a feature fixture'; 0-based "
        "indices, ms, [post, pre]",
        infinity_encoding="float values +inf/-inf/nan are written as the strings 'inf'/'-inf'/'nan'",
    )
    arrays = {k: np.asarray(v) for k, v in res.items()}
    arrays["config"] = np.array(json.dumps(_jsonable(config), sort_keys=True, allow_nan=False, separators=(",", ":")))
    return arrays, config, ok, lines


def _arrays_equal(path, arrays):
    """(True, []) if the npz at path holds exactly these arrays (volatile ones ignored)."""
    diffs = []
    with np.load(path) as old:
        old_keys = set(old.files) - set(VOLATILE_ARRAYS)
        new_keys = set(arrays) - set(VOLATILE_ARRAYS)
        if old_keys != new_keys:
            diffs.append(f"keys differ: only old {sorted(old_keys - new_keys)}, only new {sorted(new_keys - old_keys)}")
        for k in sorted(old_keys & new_keys):
            a, b = old[k], np.asarray(arrays[k])
            if a.dtype != b.dtype or a.shape != b.shape:
                diffs.append(f"{k}: dtype/shape {a.dtype}{a.shape} -> {b.dtype}{b.shape}")
            elif not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
                if a.dtype.kind == "f":
                    diffs.append(f"{k}: max |diff| {np.nanmax(np.abs(a - b)):.3g}")
                else:
                    diffs.append(f"{k}: differs")
    return not diffs, diffs


def write_fixture(path, arrays, force=False):
    """Write ``arrays`` to ``path`` unless an identical fixture is already there.

    Returns "new", "unchanged", "rewritten" (changed and --force) or "refused" (changed)."""
    if os.path.exists(path):
        same, diffs = _arrays_equal(path, arrays)
        if same:
            return "unchanged", []
        if not force:
            return "refused", diffs
        np.savez(path, **arrays)
        return "rewritten", diffs
    np.savez(path, **arrays)
    return "new", []


def check_reference(case, losses):
    """Return (ok, message) comparing losses with the published reference, if any."""
    ref = case["settings"]["reference"]
    if ref is None:
        return True, "no published reference"
    if ref == "sine":
        msgs = []
        ok = True
        for it, value in REF_SINE.items():
            got = losses[it - 1]
            digits = len(repr(value).split(".")[1])
            good = round(got, digits) == value or abs(got - value) <= 0.5 * 10.0 ** (-digits) * (1 + 1e-12)
            ok &= bool(good)
            msgs.append(f"it {it}: {got:.6f} vs {value}{'' if good else ' MISMATCH'}")
        return ok, "spec 11.1 table: " + "; ".join(msgs)
    expected = np.array(REF_REGRESSION[ref])
    rel = np.max(np.abs(losses - expected) / np.abs(expected))
    ok = bool(np.allclose(losses, expected, rtol=REGRESSION_RTOL, atol=0.0))
    return ok, f"spec 12.3 reference: max relative difference {rel:.3e} (rtol {REGRESSION_RTOL:g})"


README_HEAD = """# NEST reference fixtures

Generated by `tools/make_nest_fixtures.py` from NEST {nest_version} (Python {python_version},
NumPy {numpy_version}) on 1 virtual process, resolution 1 ms. Regenerate with

    {command}

(`--skip-slow` leaves out `sine_example_losses`, which simulates 200 s of network time, 25-45 s
wall time depending on machine load; everything else takes about 3 s). Do not edit these files by hand.

Every top-level case is the sine-wave regression network of NEST's `test_eprop_regression` /
`eprop_supervised_regression_sine-waves.py` (spec sections 2, 11.1, 12.3), built by
`tools/nest_runner.py` from the draws of `python/eprop/tasks.py::sine_wave_task`
(`np.random.seed(seed)`, legacy global RNG, order W_in, W_rec, W_out, B, input mask, target
amplitudes, target phases; float32 weights converted to float64). The `config` entry of each
npz is a JSON string with every setting needed to rebuild the same network: the task
arguments, the NEST parameter dictionaries of the recurrent neurons, the readouts and the
`eprop_synapse` optimizer as actually used, and what was recorded. Infinite values are
written as the string `"inf"`.

## Cases

| File | Seed | Model | Iterations x steps | Optimizer | What it is |
|---|---|---|---|---|---|
{case_rows}

Losses obtained (iterations 1-5, or all for 3-iteration cases):

{loss_rows}

The regression cases with a published reference (`regression_iaf_adam`,
`regression_eprop_iaf_adapt_gd`, `regression_eprop_iaf_psc_delta_gd`,
`regression_eprop_iaf_psc_delta_adapt_gd`) reproduce the losses of spec 12.3 to rtol 1e-9;
the script refuses to write fixtures otherwise. `sine_example_losses` reproduces the rounded
values of the spec 11.1 table (iteration 200: 75.733). When this script was written, the
runner's losses were also checked to be bit-identical to those of NEST's own
`test_eprop_regression` body (all four models) and of the sine-wave example script (7
iterations), so the extra recorders do not perturb the network.

## Arrays in each npz (uncompressed `np.savez`, float64 unless noted)

All neuron indices are 0-based within their population; all times are in ms.

* `config`: 0-d unicode string, JSON (see above).
* `losses` (n_iter,): 0.5 * mean over readouts of sum_t (y - y*)^2 per iteration, from the
  readout samples at times 3 ... T + 2 (T = n_iter * steps), as `tasks.loss_per_iteration`.
* `simulate_wall_time`, `sim_time_ms`: scalars; seconds spent in `nest.Simulate`, and the
  simulated duration T + 5 ms.
* `out_times` (S,), `out_V_m`, `out_readout_signal`, `out_target_signal`, `out_error_signal`
  (S, n_out): readout multimeter, every step of the whole run.
* `rec_neurons` (R,) int64, `rec_times` (S,), `rec_V_m`, `rec_surrogate_gradient`,
  `rec_learning_signal` (S, R), plus `rec_adaptation`, `rec_V_th_adapt` for the adapt models:
  multimeter on recurrent neurons 0-4.
* `spike_times`, `spike_senders` (int64): every recurrent spike (spike_recorder times).
* `wr_projection` (int64: 0 = input->recurrent, 1 = recurrent->recurrent,
  2 = recurrent->readout), `wr_senders`, `wr_targets` (int64, presynaptic and postsynaptic
  index), `wr_times`, `wr_weights`: weight_recorder entries of the chosen synapses, in
  recording order; `wr_pairs_in`, `wr_pairs_rec`, `wr_pairs_out` ((P, 2) int64, (pre, post))
  list the chosen synapses.
* `weights_in_final` (n_rec, n_in), `weights_rec_final` (n_rec, n_rec), `weights_out_final`
  (n_out, n_rec): all `eprop_synapse` weights after `Simulate`, [post, pre].

## Recording conventions observed in NEST {nest_version}

* **weight_recorder time** is the stamp of the presynaptic spike, i.e. the time the
  spike_recorder reports for that spike ((t + 1) ms for a spike emitted in update step t, also
  the step at whose start the 1-step-delay synapse processes it), not stamp + delay; the
  recorded weight is the new weight after that event's plasticity update, the one transmitted
  with the spike. So the stored entries are exactly one per transmitted presynaptic spike.
* **weight_recorder quirk (NEST {nest_version}):** `eprop_synapse::send` also returns true for
  flush events, so the connector emits weight_recorder entries for a flush whenever the reused
  event object still holds a valid receiver from an earlier delivery. Those entries have the
  flush stamp as time, a stale target id and a stale weight, and appear for every outgoing
  synapse of the flushing neuron (e.g. 100 entries at once). `tools/nest_runner.py` drops them
  (a genuine entry's time is always a spike time of its sender; flushes happen only in steps
  without a spike); `wr_dropped_flush_entries` counts how many matched a chosen pair.
  A re-implementation should not reproduce them.
* **multimeter** (interval 1 ms, no start/stop): samples at times 1 ... sim_time - 1; the
  sample of update step t carries time t + 1, and the last step's sample is never returned
  (`Simulate(505)` gives 504 samples).
* The final weights (no final-update generator in these cases) are the weights as left by each
  synapse's last processed event. With `optimize_each_step` False they are the weights after
  the last presynaptic spike; with True, flush events after that spike also apply their
  per-step updates. Hence `regression_iaf_gd_each_step` and `regression_iaf_gd_accumulate`
  have the same losses (to about 1e-16) but final recurrent weights that differ by up to ~1e-5.

## Files

| File | Size (bytes) |
|---|---|
{size_rows}
"""


README_FEATURES = """
## Feature fixtures (`features/`)

Small networks covering the complete recurrent model set (eprop_iaf, eprop_iaf_adapt,
eprop_iaf_psc_delta, eprop_iaf_psc_delta_adapt), built by `tools/nest_features.py` and
written by `{command} --group features` ({n_features} files, a few seconds in total). They live
in the subdirectory `features/` so that tools globbing `Tests/Fixtures/nest/*.npz` for
sine-wave regression cases (e.g. `python/tests/conftest.py::fixture_names`) do not pick them
up: their `config` has a different layout. Every file is deterministic (no wall-time entry;
rerunning the script leaves them byte-identical) and below 150 KB; uncompressed `np.savez`.

### `config` of a feature fixture

A JSON object (compact separators, sorted keys) that is itself the *network spec* that
`tools/nest_features.py::run_spec` executed, plus provenance keys (`case`, `group`,
`description`, `nest_version`, `numpy_version`, `python_version`, `command`, `builder`,
`conventions`, `infinity_encoding`). Indices are 0-based within each population, times in
ms; infinite floats are the string `"inf"`.

* `resolution` (ms, always 1.0); 1 virtual process; NEST's RNG is never used.
* `populations`: list, **created in this order** (each a contiguous NodeCollection):
  `name`, `model`, `n`, `params` (the dict given to `nest.Create`; a list of length n means
  per-neuron values, NEST's own mechanism) and `per_neuron` (null or a list of n dicts set on
  the nodes right after creation, e.g. `spike_times` of the spike generators, amplitude
  times/values of `step_rate_generator` / `step_current_generator`, per-neuron surrogate
  functions). Parameters not listed keep NEST's defaults.
* `synapse_defaults`: `{{"eprop_synapse": {{"optimizer": {{...}}}}}}`, applied with SetDefaults
  **before** any connection (so `eta_change_count` = 1, spec 12.3); empty = NEST defaults
  (gradient descent, eta 1e-4, batch 1, optimize_each_step True, W in [-100, 100]).
* `connections`: list, created in this order, each with `name`, `pre`, `post`
  (population names), `synapse_model`, `receptor_type` (0 = default; 1 = learning window,
  2 = target on `eprop_readout`), `delay` (ms) and the explicit lists `sources`, `targets`,
  `weights` (one entry per connection). Typical groups: `gen_in_in` (spike_generator ->
  parrot, static), `in_rec`, `rec_rec` (no autapses), `rec_out` (eprop_synapse), `out_rec`
  (eprop_learning_signal_connection, weight B), `gen_target_out`, `gen_window_out`
  (rate_connection_delayed), `gen_current_rec_<k>` (step_current_generator -> neuron, static).
* `record`: `multimeters` (`name`, `population`, `neurons`, `record_from`, `interval` 1 ms;
  created after all populations), `spike_recorders` (`name`, `population`),
  `final_weights` (connection groups whose weights are stored) and `loss` (null, or the
  readout multimeter, `n_iter`, `steps`, `first_time` 3 ms).
* `schedule`: executed in order after connecting: `{{"op": "simulate", "duration": ms}}`,
  `{{"op": "set_status", "population", "neurons" (null = all), "params"}}` (one
  `nodes.set(list of dicts)` call; a list value gives one value per listed neuron),
  `{{"op": "get_status", "label", "population", "keys"}}`.
* `task` (learning networks and random history variants): how the draws were made
  (`numpy.random.default_rng(seed)`); informative only, everything is explicit above.
  Weights are rounded to 5 decimals and target amplitudes to 4 decimals before they are given
  to NEST, so the JSON values are exactly what NEST used.

### Arrays of a feature fixture (float64 unless noted)

* `config` (0-d unicode string, see above); `sim_time_ms` (sum of all simulate durations).
* `<mm>_neurons` (R,) int64, `<mm>_times` (S,), `<mm>_<recordable>` (S, R) for each
  multimeter `<mm>` (`rec`: recurrent, `out`: readout). Recurrent recordables: `V_m`,
  `surrogate_gradient`, `learning_signal`, `eprop_history_duration` (+ `adaptation`,
  `V_th_adapt` for the adaptive models); readout: `V_m`, `readout_signal`, `target_signal`,
  `error_signal`, `eprop_history_duration`. Samples at times 1 ... sim - 1 (the last step's
  sample is never returned; with several Simulate calls the samples are contiguous).
* `spike_times`, `spike_senders` (int64): all recurrent spikes (spike_recorder times = step + 1).
* `weights_<conn>_final` (n_post, n_pre) [post, pre]: eprop_synapse weights after the run
  (0 where no connection exists: see the config's connection lists).
* `losses` (n_iter,): where a target exists, 0.5 * mean_readouts sum_t (y - y*)^2 over the
  readout samples at times 3 ... T + 2, per iteration (as for the regression fixtures).
* `status_<label>_<key>` (n,): GetStatus values of the recurrent population at the
  `get_status` steps of the schedule.
* `surrogate_*` only: `surrogate_gradient_last5` (5,) (NEST's reference samples, the last 5 of
  `rec_surrogate_gradient`) and `surrogate_gradient_spec_reference` (5,) (the published values
  of spec 12.5). `history_test_*` only: `eprop_history_duration_spec_reference` (109,) (spec 12.6).

### Findings (NEST {nest_version}; each is asserted by the generating script)

* **Current input (`current_*`).** A `step_current_generator` amplitude with amplitude time
  T reaching the neuron over a static synapse of delay d steps is first felt in update step
  **T + d** (multimeter sample time T + d + 1), for all four models alike (eprop_iaf:
  spec 3.2 step 11, I_in set at the end of step T + d - 1; psc_delta: spec 3.4 step 7 the
  same). Checked by integrating the membrane equations of spec 3.2/3.4 (with the recorded
  spikes' resets and refractoriness) and comparing with NEST's V_m to 0 ulp, for delays 1 and
  2 ms, several amplitude changes and two generators summing; shifting the assumed onset by
  one step either way fails by 0.96-1.2 mV. The result does not depend on whether the
  generator is created before or after the neuron (probe: T = 5, d = 1: first non-zero V_m
  sample at time 7 either way).
* **I_e.** eprop_iaf and eprop_iaf_adapt: I_e enters through I_in, so it is first felt in
  step 1 (sample time 2; step 0 has no I_e), and an I_e changed by SetStatus between two
  Simulate calls ending at time t0 is first felt in step t0 + 1 (step t0 still uses the old
  value). eprop_iaf_psc_delta(_adapt): I_e is used directly, from step 0 and, after a change,
  from step t0 on. (Both confirmed by the same 0-ulp reference integration; assuming the
  other model family's I_e timing fails by 0.03-1.2 mV.)
* **ignore_and_spike.** With offset o and interval i (steps), forced spikes happen in steps
  o - 1, o - 1 + i, ... (spike_recorder times o, o + i, ...): the counter is set to o at
  creation and decremented in every step including step 0. Setting
  `ignore_and_spike_offset` between Simulate calls (at time t0) restarts the counter: next
  forced spike in step t0 + o_new - 1. Setting only `ignore_and_spike_interval` does **not**
  restart it: the pending countdown finishes with the old reload value and the new interval
  applies from the following spike on. Setting `ignore_and_spike` False returns the neuron to
  normal threshold dynamics. Forced spikes have the normal spike effects (checked: psc_delta
  models read V_m = V_reset in the forced spike step, eprop_iaf_adapt's adaptation grows by 1
  in the next step; eprop_iaf_psc_delta_adapt's adaptation stays 0 as for any spike with
  t_ref 2, spec 3.5) and are transmitted and learned from like other spikes. The flag is per
  neuron: neuron 4 of `ignore_and_spike_<model>` (False) follows the threshold dynamics.
* **Per-neuron parameters.** `nest.Create(model, n, params)` accepts a list of n values for
  every numeric or boolean parameter of the four models (checked: tau_m, V_th, C_m, t_ref,
  I_e, E_L, V_m, V_min, kappa, kappa_reg, eprop_isi_trace_cutoff, surrogate_gradient_height,
  surrogate_gradient_width, c_reg, f_target, flush_event_send_interval, ignore_and_spike,
  ignore_and_spike_offset, ignore_and_spike_interval, V_reset, refractory_input, adapt_beta,
  adapt_tau, adaptation). These are ordinary per-node parameters, so kappa, kappa_reg and the
  cutoff act per **postsynaptic** neuron (the synapse reads them from its target, spec 8.3;
  probe: one parrot onto two eprop_iaf neurons with kappa 0.5 / 0.9 gives different final
  weights, with 0.9 / 0.9 identical ones, equal to the 0.9 neuron's of the first run), and
  the surrogate parameters per neuron. `surrogate_gradient_function` as a list alone is a
  `TypeMismatch`; a list works when the dict also holds a numeric list, and per-node dicts
  (`nodes.set([{{...}}, ...])`) always work. Pitfall: once any value in the dict is a list,
  PyNEST splits *every* value per node, so a scalar string (e.g. `"piecewise_linear"`) is then
  a `BadProperty`; the builder writes strings as lists of n equal strings in that case. The
  `per_neuron_*` cases use per-neuron tau_m, V_th, C_m, t_ref (0, 1, 2, 3, 2, 5 ms), I_e,
  kappa, kappa_reg, cutoff, surrogate height/width, c_reg, f_target (+ V_reset; adapt_beta,
  adapt_tau) and four different surrogate functions.
* **State changes between Simulate calls (`state_*`).** SetStatus of V_m (and adaptation)
  reads back the set values; V_th_adapt then reads V_th + adapt_beta * adaptation. Changing only
  E_L keeps the absolute V_m, V_th, V_min, V_reset and V_th_adapt (GetStatus identical before
  and after, to 1e-12; spec 1.4); the neuron then relaxes towards the new E_L. The full
  before/after/end values are stored as `status_*` arrays and listed below.
* **V_m read-back rounding.** V_m is stored relative to E_L, so `V_m = 0.7` with the default
  E_L = -70 reads back {vm_readback!r}. (All feature networks use E_L = 0 except after the
  E_L change.)
* **f_target round trip.** Setting `f_target = 10` (Hz) reads back {f_set!r} (stored /1000);
  setting that value again reads back {f_again!r}; GetDefaults reads {f_default!r} (spec 1.4).
* **psc_delta_adapt adaptation with t_ref > 0 (spec 3.5).** In every `*_psc_delta_adapt` case
  with t_ref = 2 or 3 ms, `adaptation` stays exactly 0 and V_th_adapt = V_th, although
  adapt_beta = 0.3 and the neurons spike: the increment is lost in the refractory step. In
  `per_neuron_eprop_iaf_psc_delta_adapt`, neuron 0 (t_ref 0) does adapt. The fixtures record
  what NEST does.
* **History bookkeeping.** The three `history_test_*` files reproduce NEST's
  test_eprop_history_cleaning: `eprop_history_duration` (109 samples) equals the spec 12.6
  reference (inclusive ranges 1-11, 2-21, 12-31, 12-21, 12-41, 32-49 ms) **exactly**, for
  eprop_iaf with cutoff 5 and 100000 ms and for eprop_readout. The ten `history_random_*`
  variants record `eprop_history_duration` and `learning_signal`; in each of them the
  `learning_signal` recordable differs from the true L of entry t - 2 (= B * readout error
  sample at time t, for the sample at time t + 1) at the listed samples, because entry t - 2
  had been pruned and lower_bound(t - 2) found a later entry whose L is not written yet: the
  recordable then reads **0** (spec 7.2). Everywhere else it equals B * error exactly.
* **Surrogate references.** The four `surrogate_*` files reproduce spec 12.5 / NEST's
  test_eprop_surrogate_gradients (last 5 samples, max relative difference about 2e-14).
* **Refractoriness in the learning networks** (checked on the recorded neurons of every
  `model_*`, `per_neuron_*`, `state_*` and `refractory_input_*` file, before any SetStatus).
  eprop_iaf(_adapt): a spike in step s - 1 blocks steps s ... s + n_ref - 2; psi = 0 on all
  of them, and in most `model_eprop_iaf*` files some of them have V_m >= threshold without a
  spike (one input neuron fires 2-step bursts with strong weights onto half of the recurrent
  neurons to make this happen); minimum ISI 2 steps with t_ref 2 ms. psc_delta models: V_m =
  V_reset in the spike step and in the n_ref refractory steps after it, psi = 0 on all of them
  but the last (spec 3.4), input arriving then is lost (refractory_input False) or buffered
  (`refractory_input_*`, neurons 0-2 True, neuron 3 False); minimum ISI t_ref + 1 steps.
  The buffering rule of spec 3.4 (b += z_in * exp(-r dt / tau_m) with r before its decrement,
  added after the propagation in the first non-refractory step) reproduces NEST to 1e-12 in a
  probe (one parrot, weight 1.2, spikes at 5-10 and 20 ms, t_ref 3 ms, True and False).
  Mean firing rates of the `model_*` networks are {model_rates} (listed per file below).

### Files
"""


def _feature_readme(out_dir, nest_version, probe):
    feat_dir = os.path.join(out_dir, FEATURES_SUBDIR)
    if not os.path.isdir(feat_dir):
        return ""
    lines = []
    rates = []
    total = 0
    n = 0
    current_group = None
    for name, case in nest_features.CASES.items():
        path = os.path.join(feat_dir, name + ".npz")
        if not os.path.exists(path):
            continue
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        config = json.loads(str(arrays["config"]))
        spec = nest_features._decode(config)
        ok, check_lines, _ = nest_features.CHECKS[case["check"]](spec, arrays)
        size = os.path.getsize(path)
        total += size
        n += 1
        if case["group"] == "models":
            n_rec = next(p["n"] for p in spec["populations"] if p["name"] == "rec")
            rates.append(arrays["spike_times"].size / n_rec / (float(arrays["sim_time_ms"]) / 1000.0))
        if case["group"] != current_group:
            current_group = case["group"]
            lines.append(f"\n#### {current_group}\n")
        lines.append(f"* `features/{name}.npz` ({size} bytes): {case['description']}")
        for cl in check_lines:
            lines.append(f"  * {cl}")
        if not ok:
            lines.append("  * **CHECK FAILED**")
    lines.append(f"\nTotal: {n} files, {total} bytes.")
    f = probe or {}
    head = README_FEATURES.format(
        command=COMMAND,
        n_features=len(nest_features.CASES),
        nest_version=nest_version,
        vm_readback=f.get("V_m_0.7_with_E_L_-70_reads", 0.7000000000000028),
        f_set=f.get("f_target", {}).get("set_10_reads", 0.01),
        f_again=f.get("f_target", {}).get("set_again_reads", 1e-05),
        f_default=f.get("f_target", {}).get("default_reads", 0.01),
        model_rates=f"{min(rates):.0f}-{max(rates):.0f} Hz" if rates else "(not generated)",
    )
    return head + "\n".join(lines) + "\n"


EXPECTED_PROBE = {
    "f_target": {"set_10_reads": 0.01, "set_again_reads": 1e-05, "default_reads": 0.01},
    "V_m_0.7_with_E_L_-70_reads": 0.7000000000000028,
    "current_first_sample_time_T5_d1": {"generator_first": 7.0, "generator_last": 7.0},
    "refractory_input_matches_spec_3_4": [True, True],
    "kappa_is_per_target_neuron": True,
}


def check_probe(probe):
    """The README's statements about probes must hold; returns list of problems."""
    problems = []
    for key, value in EXPECTED_PROBE.items():
        if probe.get(key) != value:
            problems.append(f"probe {key}: {probe.get(key)!r} != {value!r}")
    for model, res in probe["per_neuron_support"].items():
        for key, verdict in res.items():
            want = {
                "surrogate_gradient_function list alone": "TypeMismatch",
                "scalar string next to a numeric list": "BadProperty",
            }.get(key, "ok")
            if verdict != want:
                problems.append(f"probe per-neuron {model} {key}: {verdict} (README says {want})")
    return problems


def _fmt_opt(s):
    opt = "Adam" if s["optimizer"] == "adam" else "GD"
    mode = "each step" if s["optimize_each_step"] else "accumulate"
    extra = f", batch {s['batch_size']}" if s["batch_size"] != 1 else ""
    return f"{opt}, {mode}{extra}"


def write_readme(out_dir, nest_version, probe=None):
    case_rows, loss_rows, size_rows = [], [], []
    config = None
    for case in CASES:
        name = case["name"]
        path = os.path.join(out_dir, name + ".npz")
        if not os.path.exists(path):
            continue
        with np.load(path) as z:
            config = json.loads(str(z["config"]))
            losses = z["losses"]
        s = case["settings"]
        case_rows.append(
            f"| `{name}.npz` | {s['seed']} | {s['model']} | {s['n_iter']} x {s['steps_per_sequence']} | "
            f"{_fmt_opt(s)} | {case['description']} |"
        )
        shown = losses if losses.size <= 5 else losses[[0, 1, 2, 3, 4, 49, 99, 149, 199]]
        label = "" if losses.size <= 5 else " (iterations 1-5, 50, 100, 150, 200)"
        loss_rows.append(f"* `{name}`{label}: " + ", ".join(f"{v:.14g}" for v in shown))
        size_rows.append(f"| `{name}.npz` | {os.path.getsize(path)} |")
    if config is None:
        return
    feat_dir = os.path.join(out_dir, FEATURES_SUBDIR)
    if os.path.isdir(feat_dir):
        feat_bytes = sum(os.path.getsize(os.path.join(feat_dir, f)) for f in os.listdir(feat_dir) if f.endswith(".npz"))
        size_rows.append(f"| `features/` | {feat_bytes} (all feature fixtures, listed below) |")
    text = README_HEAD.format(
        nest_version=nest_version,
        python_version=config["python_version"],
        numpy_version=config["numpy_version"],
        command=COMMAND,
        case_rows="\n".join(case_rows),
        loss_rows="\n".join(loss_rows),
        size_rows="\n".join(size_rows),
    )
    text += _feature_readme(out_dir, nest_version, probe)
    path = os.path.join(out_dir, "README.md")
    # Keep the section that tools/nest_bsshslm.py maintains (bsshslm_2020 fixtures).
    marker = "<!-- bsshslm section: written by tools/nest_bsshslm.py -->"
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
        if marker in old:
            text = text.rstrip("\n") + "\n\n" + marker + old.split(marker, 1)[1]
    with open(path, "w") as f:
        f.write(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Regenerate Tests/Fixtures/nest/*.npz from NEST.")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: %(default)s)")
    ap.add_argument("--cases", default="", help="comma-separated case names (default: all of the selected groups)")
    ap.add_argument(
        "--group",
        default="all",
        help="comma-separated: all (default), regression (the sine-wave fixtures), features (all feature "
        "groups), or feature groups: " + ", ".join(FEATURE_GROUPS),
    )
    ap.add_argument("--skip-slow", action="store_true", help="skip sine_example_losses")
    ap.add_argument("--force", action="store_true", help="overwrite fixtures whose arrays changed")
    args = ap.parse_args(argv)

    import nest

    groups = set(filter(None, args.group.split(",")))
    unknown_groups = groups - {"all", "regression", "features", *FEATURE_GROUPS}
    if unknown_groups:
        ap.error(f"unknown groups: {sorted(unknown_groups)}")
    if "all" in groups:
        groups = {"regression", *FEATURE_GROUPS}
    if "features" in groups:
        groups = (groups - {"features"}) | set(FEATURE_GROUPS)
    wanted = set(filter(None, args.cases.split(",")))
    unknown = wanted - {c["name"] for c in CASES} - set(nest_features.CASES)
    if unknown:
        ap.error(f"unknown cases: {sorted(unknown)}")

    selected = []
    if "regression" in groups or wanted:
        selected = [c for c in CASES if (not wanted and "regression" in groups) or c["name"] in wanted]
    if args.skip_slow:
        selected = [c for c in selected if c["name"] not in SLOW_CASES]
    selected_features = [
        n for n, c in nest_features.CASES.items() if (not wanted and c["group"] in groups) or n in wanted
    ]
    os.makedirs(args.out, exist_ok=True)

    failures = []
    refused = []
    np.set_printoptions(precision=14, linewidth=120)
    for case in selected:
        arrays, _ = run_case(case)
        losses = arrays["losses"]
        ok, msg = check_reference(case, losses)
        print(f"{case['name']}: losses {losses if losses.size <= 5 else losses[[0, 4, 49, 99, 149, 199]]}")
        print(f"    {msg}; Simulate {float(arrays['simulate_wall_time']):.3f} s")
        if not ok:
            failures.append(case["name"])
            continue
        path = os.path.join(args.out, case["name"] + ".npz")
        status, diffs = write_fixture(path, arrays, args.force)
        _report_write(path, status, diffs, refused)

    probe = None
    if selected_features:
        feat_dir = os.path.join(args.out, FEATURES_SUBDIR)
        os.makedirs(feat_dir, exist_ok=True)
        probe = nest_features.probe_facts()
        problems = check_probe(probe)
        for p in problems:
            print("PROBE MISMATCH: " + p, file=sys.stderr)
        if problems:
            failures.append("probe_facts")
        for name in selected_features:
            arrays, _, ok, lines = run_feature_case(name)
            print(f"{name}: {'checks ok' if ok else 'CHECK FAILED'}")
            for line in lines:
                print("    " + line)
            if not ok:
                failures.append(name)
                continue
            path = os.path.join(feat_dir, name + ".npz")
            status, diffs = write_fixture(path, arrays, args.force)
            _report_write(path, status, diffs, refused)
    if probe is None:
        probe = nest_features.probe_facts()
        if check_probe(probe):
            probe = None  # README falls back to the documented values
    write_readme(args.out, nest.__version__, probe)
    if failures:
        print("REFERENCE/CHECK MISMATCH:", ", ".join(failures), file=sys.stderr)
    if refused:
        print(
            "CHANGED FIXTURES NOT WRITTEN (rerun with --force if intended): " + ", ".join(refused),
            file=sys.stderr,
        )
    return 1 if failures or refused else 0


def _report_write(path, status, diffs, refused):
    rel = os.path.relpath(path, ROOT)
    if status == "unchanged":
        print(f"    {rel} unchanged (arrays identical; file kept)")
    elif status == "new":
        print(f"    wrote {rel} ({os.path.getsize(path)} bytes)")
    elif status == "rewritten":
        print(f"    REWROTE {rel} ({os.path.getsize(path)} bytes); changes: " + "; ".join(diffs))
    else:
        refused.append(rel)
        print(f"    NOT WRITTEN {rel}: arrays changed: " + "; ".join(diffs))


if __name__ == "__main__":
    sys.exit(main())
