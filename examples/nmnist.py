#!/usr/bin/env python3
"""NEST's N-MNIST e-prop tutorial (spec 11.2), re-done with eprop.

The network of NEST 3.10's ``eprop_supervised_classification_neuromorphic_mnist.py``:
1196 input neurons (active pixels), 150 ``eprop_iaf`` neurons (25 % of input synapses,
1 % recurrent), 10 MSE readouts (``--loss cross_entropy``: softmax readouts, an eprop extension), NEST's weights, masks and parameters, gradient descent
with eta = 5e-3·(1 − κ)² once per spike, 300 ms per sample, continuous dynamics, groups of
100 samples per simulate call. Training runs until the validation criterion (mean error of
the last validation groups < 0.07), ``--iterations`` or ``--time-budget``; then every test
sample is classified with eta = 0.

Data (one of):

* ``--data DIR``: the real N-MNIST (``DIR/Train/<digit>/*.bin``, ``DIR/Test/…``), with
  NEST's pixel blocklist (``--blocklist``, or the file of an installed NEST);
* default: saccade-MNIST, N-MNIST-format files made from real MNIST digits
  (:mod:`eprop.saccade_mnist`, cached in ``~/.cache/eprop/saccade-mnist``), with the 1196
  most active pixels;
* ``--synthetic N``: N class-dependent Poisson samples (no files; a quick smoke run).

Usage::

    python examples/nmnist.py --time-budget 1500 --save out/nmnist.npz --out out
    python examples/nmnist.py --load out/nmnist.npz --iterations 0 --test-samples 2000
    python examples/nmnist.py --synthetic 600 --iterations 5 --group-size 20 --out out

Writes ``OUT/nmnist_training.png`` (loss and accuracy during training, validation points),
``OUT/nmnist_raster.png`` (input and recurrent spikes and readout traces of the first test
samples), ``OUT/nmnist_confusion.png`` and ``OUT/nmnist_summary.json``, and prints a summary:
test accuracy, samples seen, train time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import eprop
from eprop import classification as cl

N_PIXELS = 2 * 34 * 34


def _nmnist():
    try:
        from eprop import nmnist
    except ImportError as exc:
        sys.exit(f"eprop.nmnist is not available ({exc}); use --synthetic N for a run without data")
    return nmnist


def nest_blocklist_file():
    """NEST's ``NMNIST_pixels_blocklist.txt`` if an installed NEST ships it (not imported)."""
    import importlib.util

    spec = importlib.util.find_spec("nest")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "doc" / "examples" / "pynest" / "eprop_plasticity" / "NMNIST_pixels_blocklist.txt"
    return path if path.is_file() else None


def load_data(args, config_n_in: int, saved_pixel_map=None):
    """(train, validation, test, pixel_map, description) sources."""
    if args.synthetic:
        n = args.synthetic
        src = cl.PoissonSource(n + n // 5, n_in=config_n_in, n_classes=10, n_steps=300, seed=args.seed)
        perm = np.random.RandomState([args.seed, 9]).permutation(n)
        n_val = min(args.validation_samples, n // 5)
        return (cl.SubsetSource(src, perm[n_val:]), cl.SubsetSource(src, perm[:n_val]),
                cl.SubsetSource(src, np.arange(n, n + n // 5)), None,
                f"synthetic Poisson patterns ({n} train, {n // 5} test)")
    nmnist = _nmnist()
    if args.data is not None:
        root = Path(args.data)
        what = f"N-MNIST from {root}"
    else:
        try:
            from eprop import saccade_mnist
        except ImportError as exc:
            sys.exit(f"eprop.saccade_mnist is not available ({exc}); give --data DIR (real N-MNIST) "
                     "or --synthetic N")
        got = saccade_mnist.ensure_dataset()
        root = Path(got) if isinstance(got, (str, os.PathLike)) else Path.home() / ".cache" / "eprop" / "saccade-mnist"
        what = f"saccade-MNIST from {root}"
    train_ds = nmnist.NMNISTDataset(root, "Train")
    test_ds = nmnist.NMNISTDataset(root, "Test")
    blocklist_file = args.blocklist
    if blocklist_file is None and args.data is not None:
        blocklist_file = nest_blocklist_file()
    if saved_pixel_map is not None:
        pixel_map = np.asarray(saved_pixel_map, dtype=np.int64)
        what += ", pixel map from the saved file"
    elif blocklist_file is not None:
        pixel_map = nmnist.pixel_map(blocklist=np.loadtxt(blocklist_file))
        what += f", blocklist {blocklist_file}"
    else:
        blocked = nmnist.activity_blocklist(train_ds, n_keep=config_n_in)
        pixel_map = nmnist.pixel_map(blocklist=blocked)
        what += f", the {config_n_in} most active pixels"
    n_in = int(pixel_map.max()) + 1
    if n_in != config_n_in:
        sys.exit(f"the pixel map has {n_in} active pixels, the network {config_n_in} inputs")
    train_all = cl.NMNISTSource(train_ds, pixel_map)
    test_src = cl.NMNISTSource(test_ds, pixel_map)
    perm = np.random.RandomState([args.seed, 9]).permutation(len(train_all))
    n_val = min(args.validation_samples, len(perm) // 10)
    train_idx = perm[n_val:]
    if args.train_samples is not None:
        train_idx = train_idx[:args.train_samples]
    return (cl.SubsetSource(train_all, train_idx), cl.SubsetSource(train_all, perm[:n_val]), test_src,
            pixel_map, what)


def plot_training(history, path: Path, group_size: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc) = plt.subplots(2, 1, figsize=(8, 6), sharex=True, constrained_layout=True)
    seen, xs = 0, {"train": [], "validation": []}
    ys = {"train": ([], []), "validation": ([], [])}
    for r in history.results:
        if r.phase == "train":
            seen += r.n
        if r.phase in xs:
            xs[r.phase].append(seen)
            ys[r.phase][0].append(r.loss)
            ys[r.phase][1].append(r.accuracy)
    styles = {"train": dict(color="C0", lw=0.8, alpha=0.6), "validation": dict(color="C3", marker="o", lw=1.5)}
    for phase, style in styles.items():
        if xs[phase]:
            ax_loss.plot(xs[phase], ys[phase][0], label=phase, **style)
            ax_acc.plot(xs[phase], ys[phase][1], label=phase, **style)
    if len(xs["train"]) >= 10:
        k = 10
        smooth = np.convolve(ys["train"][1], np.ones(k) / k, mode="valid")
        ax_acc.plot(xs["train"][k - 1:], smooth, color="k", lw=1.5, label=f"train, mean of {k} groups")
    ax_loss.set_ylabel(r"loss $\frac{1}{2}\,\langle\sum_t (y-y^*)^2\rangle$")
    ax_acc.set_ylabel(f"accuracy per group of {group_size}")
    ax_acc.set_xlabel("training samples seen")
    ax_acc.set_ylim(0, 1)
    ax_loss.legend(loc="upper right")
    ax_acc.legend(loc="lower right")
    ax_loss.set_title("e-prop on the N-MNIST tutorial network (eprop)")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_raster(snapshot: dict, config, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0, t1 = snapshot["t_start"], snapshot["t_end"] + 2
    fig, axes = plt.subplots(3, 1, figsize=(10, 8), sharex=True, constrained_layout=True,
                             gridspec_kw={"height_ratios": [2, 1.4, 1.6]})
    ax_in, ax_rec, ax_out = axes
    ax_in.scatter(snapshot["input_times"] + config.dt, snapshot["input_neurons"], s=0.15, c="k", lw=0)
    ax_in.set_ylabel("input neuron")
    ax_in.set_ylim(-5, config.n_in + 5)
    if "rec_times" in snapshot:
        ax_rec.scatter(snapshot["rec_times"], snapshot["rec_senders"], s=1.5, c="C0", lw=0)
    ax_rec.set_ylabel("recurrent neuron")
    ax_rec.set_ylim(-2, config.n_rec + 2)
    seq = config.sequence_ms
    labels, preds = snapshot["labels"], snapshot["predictions"]
    for g in range(len(labels)):
        start = t0 + g * seq
        for ax in axes:
            ax.axvline(start, color="0.7", lw=0.8)
        ax_out.axvspan(start + (config.steps - config.learning_window) * config.dt + 2, start + seq + 2,
                       color="0.9", zorder=0)
        ax_in.text(start + 5, config.n_in * 0.97, f"digit {labels[g]} → {preds[g]}", va="top", fontsize=9)
    # readout V_m is y (readout_signal is y·λ, zero outside the windows); the true class bold
    t, y = snapshot["readout_times"], snapshot["readout_V_m"]
    for k in range(config.n_out):
        ax_out.plot(t, y[:, k], lw=1.8 if k in labels else 0.6, label=str(k))
    ax_out.set_ylabel(r"readout $y_k$")
    ax_out.set_xlabel("time (ms)")
    ax_out.legend(ncol=10, fontsize=7, loc="upper left", title="readout (digit); bold: shown digits",
                  title_fontsize=7)
    ax_out.set_xlim(t0, t1)
    fig.suptitle("first test samples: input spikes, recurrent spikes, readouts (grey: learning windows)")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_confusion(confusion: np.ndarray, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5), constrained_layout=True)
    ax.imshow(confusion, cmap="Blues")
    for i in range(confusion.shape[0]):
        for j in range(confusion.shape[1]):
            ax.text(j, i, str(confusion[i, j]), ha="center", va="center", fontsize=7,
                    color="w" if confusion[i, j] > confusion.max() / 2 else "k")
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_xticks(range(confusion.shape[1]))
    ax.set_yticks(range(confusion.shape[0]))
    acc = np.trace(confusion) / max(confusion.sum(), 1)
    ax.set_title(f"test confusion matrix, accuracy {acc:.4f}")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--data", type=Path, help="real N-MNIST folder (with Train/ and Test/)")
    data.add_argument("--synthetic", type=int, metavar="N", help="N synthetic Poisson samples instead of files")
    parser.add_argument("--blocklist", type=Path, help="file of blocked pixel indices (default: with --data NEST's "
                        "NMNIST_pixels_blocklist.txt if NEST is installed, else the most active pixels)")
    parser.add_argument("--config", choices=sorted(cl.CONFIGS), default="tutorial",
                        help="tutorial: NEST's network (150 eprop_iaf); large: 300 eprop_iaf, 2 %% recurrent, 2x eta")
    parser.add_argument("--train-samples", type=int, help="size of the training pool (default: all of Train "
                        "minus the validation samples)")
    parser.add_argument("--validation-samples", type=int, default=1000, help="held-out Train samples (default 1000)")
    parser.add_argument("--test-samples", type=int, help="test samples (default: all of Test)")
    parser.add_argument("--iterations", type=int, help="training iterations at most (0: test only)")
    parser.add_argument("--time-budget", type=float, default=1500.0, help="training wall time budget, s (default 1500)")
    parser.add_argument("--group-size", type=int, default=100, help="samples per iteration (default 100)")
    parser.add_argument("--validate-every", type=int, default=10, help="validate every k iterations (default 10)")
    parser.add_argument("--early-stop-window", type=int, default=8,
                        help="validation groups averaged by the stop criterion (default 8)")
    parser.add_argument("--stop-criterion", type=float, default=0.07, help="stop below this validation error (0.07)")
    parser.add_argument("--loss", choices=["mean_squared_error", "cross_entropy"],
                        help="readout loss (default: the configuration's, NEST's mean_squared_error; cross_entropy "
                             "is eprop's softmax extension)")
    parser.add_argument("--seed", type=int, default=1, help="weights, masks and data order (default 1, NEST's)")
    parser.add_argument("--threads", type=int, default=1, help="threads of the network (default 1)")
    parser.add_argument("--precision", choices=["double", "single"], default="double",
                        help="storage precision of the eprop synapses (default double; docs/precision.md)")
    parser.add_argument("--save", type=Path, help="write the trained weights and configuration (.npz)")
    parser.add_argument("--load", type=Path, help="start from weights and configuration saved by --save")
    parser.add_argument("--out", type=Path, default=Path("out"), help="directory for plots (default out)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)

    saved_pixel_map = None
    if args.load is not None:
        config, connections, extra = cl.TutorialNetwork.read_file(args.load)
        saved_pixel_map = extra.get("pixel_map")
    else:
        config = cl.CONFIGS[args.config].replace(seed=args.seed)
        connections = None
    if args.loss is not None:
        config = config.replace(loss=args.loss)
    train_src, val_src, test_src, pixel_map, what = load_data(args, config.n_in, saved_pixel_map)
    train_only = args.iterations != 0
    tnet = cl.TutorialNetwork(config, connections, eta=None if train_only else config.eta_test,
                              threads=args.threads, synapse_precision=args.precision)
    n_syn = {k: len(p) for k, p in tnet.projections.items()}
    print(f"eprop {eprop.version()}: N-MNIST tutorial ({args.config if args.load is None else args.load}), "
          f"{config.n_in} inputs, {config.n_rec} {config.model}, {config.n_out} readouts; "
          f"synapses in {n_syn['in']}, rec {n_syn['rec']}, out {n_syn['out']}", flush=True)
    print(f"data: {what}; {len(train_src)} training, {len(val_src)} validation, "
          f"{len(test_src) if args.test_samples is None else min(args.test_samples, len(test_src))} test samples",
          flush=True)

    t_start = time.perf_counter()
    history = None
    if train_only:
        tcfg = cl.TrainingConfig(group_size=args.group_size, max_iterations=args.iterations,
                                 time_budget_s=args.time_budget, validate_every=args.validate_every,
                                 early_stop_window=args.early_stop_window, stop_criterion=args.stop_criterion,
                                 shuffle_seed=args.seed)
        history = cl.train(tnet, train_src, val_src, tcfg, progress=not args.quiet)
        print(f"training stopped: {history.stop_reason}; {history.train_samples} samples in {history.wall_s:.1f} s",
              flush=True)
    train_s = time.perf_counter() - t_start

    trained = []
    result = cl.run_test(tnet, test_src, group_size=args.group_size, n_samples=args.test_samples, seed=args.seed,
                         progress=not args.quiet, capture=3, callback=lambda r: r.phase != "test" and trained.append(r))
    if history is not None:
        history.results.extend(trained)  # the last training group completes during the test
    test_s = result.wall_s

    if args.save is not None:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        extra = {} if pixel_map is None else {"pixel_map": pixel_map}
        path = tnet.save(args.save, **extra)
        print(f"wrote {path}")

    args.out.mkdir(parents=True, exist_ok=True)
    if history is not None and history.results:
        plot_training(history, args.out / "nmnist_training.png", args.group_size)
        print(f"wrote {args.out / 'nmnist_training.png'}")
    if result.results and result.results[0].snapshot is not None:
        plot_raster(result.results[0].snapshot, config, args.out / "nmnist_raster.png")
        print(f"wrote {args.out / 'nmnist_raster.png'}")
    plot_confusion(result.confusion, args.out / "nmnist_confusion.png")
    print(f"wrote {args.out / 'nmnist_confusion.png'}")

    train_samples = history.train_samples if history is not None else 0
    val_samples = sum(r.n for r in history.results if r.phase == "validation") if history is not None else 0
    summary = {
        "data": what, "config": config.to_dict(), "synapses": n_syn, "synapse_precision": args.precision,
        "test_accuracy": result.accuracy, "test_loss": result.loss, "test_samples": result.n,
        "train_samples_seen": train_samples, "validation_samples_seen": val_samples,
        "train_time_s": train_s, "test_time_s": test_s,
        "stop_reason": history.stop_reason if history is not None else None,
        "validation_errors": history.validation_errors if history is not None else [],
        "confusion": result.confusion.tolist(),
        "ms_per_test_sample": 1000 * test_s / max(result.n, 1),
    }
    (args.out / "nmnist_summary.json").write_text(json.dumps(summary, indent=1))
    print()
    print("confusion matrix (rows: true digit, columns: predicted):")
    for i, row in enumerate(result.confusion):
        print(f"  {i}: " + " ".join(f"{v:5d}" for v in row))
    print()
    print(f"test accuracy {result.accuracy:.4f} ({result.n} test samples, loss {result.loss:.4f})")
    print(f"training samples seen {train_samples} (+ {val_samples} validation), train time {train_s:.1f} s"
          + (f" ({1000 * train_s / max(train_samples + val_samples, 1):.1f} ms per sample)" if train_samples else ""))
    print(f"test time {test_s:.1f} s ({summary['ms_per_test_sample']:.1f} ms per sample)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
