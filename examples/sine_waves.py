#!/usr/bin/env python3
"""NEST's e-prop sine-wave regression example, re-done with eprop.

Same task, parameters and seed as NEST 3.10's
``pynest/examples/eprop_plasticity/eprop_supervised_regression_sine-waves.py``
(spec 11.1): 100 input parrots with a frozen Poisson pattern, 100 ``eprop_iaf`` neurons,
one ``eprop_readout`` learning a sum of four sines, dense connectivity, gradient descent
(eta = 1e-4·(1 − κ)², once per presynaptic spike), 1000 ms per iteration, seed 1. The
random draws come from ``eprop.tasks`` and are identical to NEST's, so the losses match
NEST's run (iteration 200: 75.7327183875).

Usage::

    python examples/sine_waves.py [--iterations 200] [--out out]

Prints the loss of each iteration and writes ``OUT/sine_waves.png`` (readout vs target of
the last iteration, and the loss curve).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import eprop
from eprop.sine_waves import train_sine_waves

NEST_LOSS_200 = 75.7327183875
FIXTURE = Path(__file__).resolve().parents[1] / "Tests" / "Fixtures" / "nest" / "sine_example_losses.npz"


def plot(result, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    losses = result.losses
    fig, (ax_sig, ax_loss) = plt.subplots(2, 1, figsize=(8, 6), constrained_layout=True)
    t = result.last_times - result.last_times[0]
    ax_sig.plot(t, result.last_target[:, 0], color="k", lw=2, label="target $y^*$")
    ax_sig.plot(t, result.last_readout[:, 0], color="C1", lw=1.5, label="readout $y$")
    ax_sig.set_xlabel("time in the last iteration (ms)")
    ax_sig.set_ylabel("signal")
    ax_sig.set_title(f"Iteration {len(losses)}: readout vs target")
    ax_sig.legend(loc="upper right")
    ax_loss.plot(np.arange(1, len(losses) + 1), losses, color="C0")
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel(r"loss $\frac{1}{2}\sum_t (y - y^*)^2$")
    ax_loss.set_title("Training loss")
    ax_loss.set_xlim(1, max(len(losses), 2))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=200, help="training iterations (default 200)")
    parser.add_argument("--out", type=Path, default=Path("out"), help="output directory (default out)")
    parser.add_argument("--precision", choices=["double", "single"], default="double",
                        help="storage precision of the eprop synapses (default double; docs/precision.md)")
    args = parser.parse_args(argv)
    if args.iterations < 1:
        parser.error("--iterations must be at least 1")

    t_start = time.perf_counter()
    print(f"eprop {eprop.version()}: NEST's sine-wave example, {args.iterations} iterations of 1000 ms", flush=True)
    width = len(str(args.iterations))

    def report(iteration, loss, _net):
        print(f"iteration {iteration:{width}d}/{args.iterations}  loss {loss:.4f}", flush=True)

    result = train_sine_waves(iterations=args.iterations, seed=1, variant="example", final_update=True,
                              callback=report, synapse_precision=args.precision)

    args.out.mkdir(parents=True, exist_ok=True)
    png = args.out / "sine_waves.png"
    plot(result, png)
    wall = time.perf_counter() - t_start
    print(f"wrote {png}")
    print(f"total wall time {wall:.1f} s (simulation {result.simulate_seconds:.1f} s)")
    if args.iterations == 200 and args.precision == "double":
        reference = NEST_LOSS_200
        if FIXTURE.exists():
            data = np.load(FIXTURE)
            reference = float(data["losses"][-1])
            nest_wall = float(data["simulate_wall_time"])
            print(f"NEST 3.10 Simulate wall time for the same run: {nest_wall:.1f} s")
        ours = float(result.losses[-1])
        print(f"loss at iteration 200: eprop {ours:.10f}, NEST {reference:.10f} "
              f"(relative difference {abs(ours - reference) / abs(reference):.1e})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
