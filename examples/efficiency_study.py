"""Event-driven e-prop vs the time-driven baseline (Bellec et al. 2020) on the same tasks, in one
engine, with the work each actually did (issue 6; docs/efficiency.md).

    python3 examples/efficiency_study.py                      # the full study (≈ 10 min)
    python3 examples/efficiency_study.py --sine-iterations 20 --evidence-iterations 10

For each task the script trains the baseline (``*_bsshslm_2020``, NEST's example set-up) and
the event-driven models and prints, side by side: loss or accuracy, synaptic updates
(synapse-steps of eligibility integration, presynaptic-trace steps), optimizer calls,
weight writes, spikes delivered, the energy estimate of the default 45 nm table
(docs/energy.md) and wall time. It writes a markdown table and a bar plot to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import eprop  # noqa: E402
from eprop.baseline_sine_waves import build_regression  # noqa: E402
from eprop.evidence_training import train as train_evidence  # noqa: E402
from eprop.sine_waves import train_sine_waves  # noqa: E402

UPDATES = ("eligibility_steps", "readout_eligibility_steps")


def summarize(task, family, quality, net_or_counters, energy_j, wall_s):
    c = net_or_counters
    return dict(task=task, family=family, quality=quality,
                synaptic_updates=int(sum(c[k] for k in UPDATES)),
                presynaptic_trace_steps=int(c["presynaptic_trace_steps"]),
                optimizer_calls=int(c["optimizer_calls"]), weight_writes=int(c["weight_writes"]),
                synaptic_events=int(c["synaptic_events"]), spikes=int(c["spikes"]),
                energy_mJ=energy_j * 1e3, wall_s=wall_s)


def sine(iterations):
    rows = []
    # Baseline: NEST's bsshslm sine-wave example (one weight update per 1-s interval).
    net, rec, n_iter, seq = build_regression(n_iter=iterations)
    t0 = time.perf_counter()
    net.simulate(n_iter * seq + 5.0)
    wall = time.perf_counter() - t0
    times, vals = rec.get()
    sel = (times >= 5) & (times < 5 + n_iter * seq)
    y, ys = vals[sel, 0, 0].reshape(n_iter, seq), vals[sel, 1, 0].reshape(n_iter, seq)
    loss = 0.5 * np.sum((y - ys) ** 2, axis=1)
    rows.append(summarize("sine waves", "baseline", f"loss {loss[0]:.1f} → {loss[-1]:.1f}", net.counters(),
                          net.energy()["total"], wall))
    # Event-driven: NEST's eprop_iaf sine-wave example (updates at every spike).
    captured = {}

    def keep(it, loss_value, built):
        captured["net"] = built.network
        return True

    t0 = time.perf_counter()
    result = train_sine_waves(iterations=iterations, callback=keep)
    wall = time.perf_counter() - t0
    net = captured["net"]
    losses = np.asarray(result.losses)
    rows.append(summarize("sine waves", "event-driven", f"loss {losses[0]:.1f} → {losses[-1]:.1f}", net.counters(),
                          net.energy()["total"], wall))
    return rows


def evidence(iterations, batch_size):
    rows = []
    for family, label in (("baseline", "baseline"), ("event", "event-driven")):
        run = train_evidence(family, n_iter_train=iterations, batch_size=batch_size, progress=False)
        energy = run.energy_j if hasattr(run, "energy_j") else None
        rows.append(summarize("evidence accumulation", label, f"test accuracy {run.test_accuracy:.3f}", run.counters,
                              energy if energy is not None else float("nan"), run.wall_s))
    return rows


def markdown(rows):
    head = ("| task | model | result | synaptic updates | presynaptic trace steps | optimizer calls | weight writes "
            "| spikes delivered | energy (mJ) | wall (s) |\n|---|---|---|---|---|---|---|---|---|---|\n")
    body = ""
    for r in rows:
        body += (f"| {r['task']} | {r['family']} | {r['quality']} | {r['synaptic_updates']:,} | "
                 f"{r['presynaptic_trace_steps']:,} | {r['optimizer_calls']:,} | {r['weight_writes']:,} | "
                 f"{r['synaptic_events']:,} | {r['energy_mJ']:.2f} | {r['wall_s']:.1f} |\n")
    ratios = ""
    for task in dict.fromkeys(r["task"] for r in rows):
        b = next(r for r in rows if r["task"] == task and r["family"] == "baseline")
        e = next(r for r in rows if r["task"] == task and r["family"] == "event-driven")
        ratios += (f"* {task}: event-driven does {100 * (1 - e['synaptic_updates'] / b['synaptic_updates']):.0f} % fewer "
                   f"synaptic updates, {100 * (1 - e['weight_writes'] / max(b['weight_writes'], 1)):.0f} % fewer weight "
                   f"writes ({e['weight_writes']:,} vs {b['weight_writes']:,}) and uses "
                   f"{100 * (1 - e['energy_mJ'] / b['energy_mJ']):.0f} % less estimated energy.\n")
    return head + body + "\n" + ratios


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    keys = ("synaptic_updates", "optimizer_calls", "weight_writes", "energy_mJ")
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.2))
    for ax, key in zip(axes, keys):
        for i, family in enumerate(("baseline", "event-driven")):
            values = [next(r[key] for r in rows if r["task"] == t and r["family"] == family) for t in tasks]
            ax.bar(np.arange(len(tasks)) + 0.4 * i, values, width=0.4, label=family)
        ax.set_xticks(np.arange(len(tasks)) + 0.2, tasks, fontsize=8)
        ax.set_yscale("log")
        ax.set_title(key.replace("_", " "))
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sine-iterations", type=int, default=50)
    parser.add_argument("--evidence-iterations", type=int, default=50, help="training iterations (NEST's example: 50)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", default="out")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    rows = sine(args.sine_iterations) + evidence(args.evidence_iterations, args.batch_size)
    table = markdown(rows)
    print(table)
    with open(os.path.join(args.out, "efficiency.md"), "w", encoding="utf-8") as f:
        f.write(table)
    with open(os.path.join(args.out, "efficiency.json"), "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=1)
    plot(rows, os.path.join(args.out, "efficiency.png"))
    print(f"wrote {args.out}/efficiency.md, efficiency.json, efficiency.png", file=sys.stderr)


if __name__ == "__main__":
    main()
