"""Regenerate the NEST reference fixtures in Tests/Fixtures/nest/.

Each case builds the sine-wave regression network of NEST's e-prop test/example with
``tools/nest_runner.py``, simulates it in NEST and writes ``<case>.npz`` (uncompressed
``np.savez``; float64 and int64 arrays plus a ``config`` JSON string) and a README.md that
lists the cases, the losses obtained and the provenance.

Usage::

    python3 tools/make_nest_fixtures.py            # all cases (about 30-50 s, the sine example dominates)
    python3 tools/make_nest_fixtures.py --skip-slow # everything except sine_example_losses
    python3 tools/make_nest_fixtures.py --cases regression_iaf_adam,trace_seed3_batch3_adam

The script fails (exit status 1) if a loss curve that has a published reference
(spec sections 11.1 and 12.3) is not reproduced.
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
import nest_runner  # noqa: E402

tasks = nest_runner.tasks

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
DEFAULT_OUT = os.path.join(ROOT, "Tests", "Fixtures", "nest")
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

Every case is the sine-wave regression network of NEST's `test_eprop_regression` /
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


def _fmt_opt(s):
    opt = "Adam" if s["optimizer"] == "adam" else "GD"
    mode = "each step" if s["optimize_each_step"] else "accumulate"
    extra = f", batch {s['batch_size']}" if s["batch_size"] != 1 else ""
    return f"{opt}, {mode}{extra}"


def write_readme(out_dir, nest_version):
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
    text = README_HEAD.format(
        nest_version=nest_version,
        python_version=config["python_version"],
        numpy_version=config["numpy_version"],
        command=COMMAND,
        case_rows="\n".join(case_rows),
        loss_rows="\n".join(loss_rows),
        size_rows="\n".join(size_rows),
    )
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Regenerate Tests/Fixtures/nest/*.npz from NEST.")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: %(default)s)")
    ap.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    ap.add_argument("--skip-slow", action="store_true", help="skip sine_example_losses")
    args = ap.parse_args(argv)

    import nest

    selected = [c for c in CASES if not args.cases or c["name"] in args.cases.split(",")]
    if args.skip_slow:
        selected = [c for c in selected if c["name"] not in SLOW_CASES]
    unknown = set(filter(None, args.cases.split(","))) - {c["name"] for c in CASES}
    if unknown:
        ap.error(f"unknown cases: {sorted(unknown)}")
    os.makedirs(args.out, exist_ok=True)

    failures = []
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
        np.savez(path, **arrays)
        print(f"    wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")
    write_readme(args.out, nest.__version__)
    if failures:
        print("REFERENCE MISMATCH:", ", ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
