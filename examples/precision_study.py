#!/usr/bin/env python3
"""Single vs double precision eprop synapses on NEST's two tutorial tasks (docs/precision.md).

For each task the same network, weights, data and seed are trained twice, once with the
eprop synapses stored in double precision (NEST's arithmetic, bit for bit) and once in
single precision (``Network(synapse_precision="single")``: weight, ē, ē_reg and Adam's
moments stored as 4-byte floats, every event computed in double):

* NEST's sine-wave regression example (spec 11.1; gradient descent, accumulate mode, the
  example's final-update spike) for several seeds, and with Adam;
* NEST's N-MNIST tutorial network (spec 11.2) on saccade-MNIST (real MNIST digits rendered
  as N-MNIST-format events, :mod:`eprop.saccade_mnist`), trained with early stopping, then
  tested on every test sample — by running ``examples/nmnist.py`` once per precision.

Usage::

    python examples/precision_study.py --out out                        # ≈ 20 min
    python examples/precision_study.py --sine-iterations 20 --nmnist-iterations 0   # quick

Prints a Markdown table and writes ``OUT/precision.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import eprop
from eprop import tasks
from eprop.sine_waves import train_sine_waves

HERE = Path(__file__).resolve().parent


def sine(seed: int, iterations: int, optimizer: str, precision: str) -> dict:
    task = tasks.sine_wave_task(seed=seed, n_iter=iterations, steps_per_sequence=1000, variant="example")
    t0 = time.perf_counter()
    r = train_sine_waves(task=task, optimizer=optimizer, optimize_each_step=False, final_update=True,
                         synapse_precision=precision)
    weights = np.concatenate([r.net.proj_in.weights, r.net.proj_rec.weights, r.net.proj_out.weights])
    return {"losses": np.asarray(r.losses), "weights": weights, "wall_s": time.perf_counter() - t0}


def run_sine(seeds, iterations: int, optimizers) -> list:
    rows = []
    for optimizer in optimizers:
        for seed in seeds:
            d = sine(seed, iterations, optimizer, "double")
            s = sine(seed, iterations, optimizer, "single")
            rel = np.abs(s["losses"] - d["losses"]) / np.abs(d["losses"])
            row = {
                "task": "sine waves", "optimizer": optimizer, "seed": seed, "iterations": iterations,
                "loss_double": float(d["losses"][-1]), "loss_single": float(s["losses"][-1]),
                "loss_first": float(d["losses"][0]),
                "max_rel_loss_diff": float(rel.max()),
                "max_weight_diff": float(np.abs(s["weights"] - d["weights"]).max()),
                "weight_scale": float(np.abs(d["weights"]).max()),
                "wall_s_double": d["wall_s"], "wall_s_single": s["wall_s"],
            }
            print(f"sine waves {optimizer} seed {seed}: loss {row['loss_first']:.4f} → double {row['loss_double']:.10f}, "
                  f"single {row['loss_single']:.10f}; max relative loss difference {row['max_rel_loss_diff']:.1e}, "
                  f"weights {row['max_weight_diff']:.1e} (largest |w| {row['weight_scale']:.3f})", flush=True)
            rows.append(row)
    return rows


def run_nmnist(iterations: int, out: Path, extra) -> list:
    rows = {}
    for precision in ("double", "single"):
        folder = out / f"nmnist_{precision}"
        cmd = [sys.executable, str(HERE / "nmnist.py"), "--config", "tutorial", "--precision", precision,
               "--iterations", str(iterations), "--time-budget", "1e9", "--quiet", "--out", str(folder)] + extra
        print("running", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        summary = json.loads((folder / "nmnist_summary.json").read_text())
        rows[precision] = summary
        print(f"N-MNIST {precision}: test accuracy {summary['test_accuracy']:.4f} (loss {summary['test_loss']:.5f}) "
              f"after {summary['train_samples_seen']} training samples ({summary['stop_reason']})", flush=True)
    d, s = rows["double"], rows["single"]
    return [{
        "task": "N-MNIST tutorial (saccade-MNIST)", "optimizer": "gradient_descent",
        "accuracy_double": d["test_accuracy"], "accuracy_single": s["test_accuracy"],
        "loss_double": d["test_loss"], "loss_single": s["test_loss"], "test_samples": d["test_samples"],
        "train_samples_double": d["train_samples_seen"], "train_samples_single": s["train_samples_seen"],
        "stop_double": d["stop_reason"], "stop_single": s["stop_reason"],
        "train_s_double": d["train_time_s"], "train_s_single": s["train_time_s"],
    }]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sine-iterations", type=int, default=200, help="iterations per sine run (0: skip)")
    parser.add_argument("--sine-seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--nmnist-iterations", type=int, default=250,
                        help="at most this many groups of 100 training samples (early stopping as NEST; 0: skip)")
    parser.add_argument("--nmnist-args", nargs=argparse.REMAINDER, default=[],
                        help="further arguments for examples/nmnist.py (e.g. --test-samples 2000)")
    parser.add_argument("--out", type=Path, default=Path("out"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"eprop {eprop.version()}: single vs double precision synapses", flush=True)
    rows = []
    if args.sine_iterations > 0:
        rows += run_sine(args.sine_seeds, args.sine_iterations, ["gradient_descent"])
        rows += run_sine(args.sine_seeds[:1], args.sine_iterations, ["adam"])
    if args.nmnist_iterations > 0:
        rows += run_nmnist(args.nmnist_iterations, args.out, args.nmnist_args)
    (args.out / "precision.json").write_text(json.dumps(rows, indent=1))
    print(f"wrote {args.out / 'precision.json'}\n")
    print("| task | optimizer | seed | result double | result single | difference |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        if r["task"] == "sine waves":
            print(f"| sine waves, {r['iterations']} iterations | {r['optimizer']} | {r['seed']} | loss {r['loss_double']:.6f} "
                  f"| loss {r['loss_single']:.6f} | max rel. loss diff {r['max_rel_loss_diff']:.1e}, "
                  f"weights {r['max_weight_diff']:.1e} |")
        else:
            print(f"| {r['task']} | {r['optimizer']} | 1 | accuracy {r['accuracy_double']:.4f}, loss {r['loss_double']:.5f} "
                  f"({r['train_samples_double']} samples) | accuracy {r['accuracy_single']:.4f}, loss {r['loss_single']:.5f} "
                  f"({r['train_samples_single']} samples) | {100 * (r['accuracy_single'] - r['accuracy_double']):+.2f} points |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
