#!/usr/bin/env python3
"""eprop vs NEST 3.10 on NEST's sine-wave example (spec 11.1), side by side in one run.

Both engines train the same network (100 inputs, 100 eprop_iaf, 1 readout, dense,
seed 1, gradient descent, optimize_each_step False) for the same iterations; the script
checks that the per-iteration losses agree and prints the wall-time ratio of the simulate
calls. Repetitions alternate NEST and eprop so machine load hits both alike.

    python3 bench/sine_waves_vs_nest.py                 # 200 iterations (~40 s NEST)
    python3 bench/sine_waves_vs_nest.py --iterations 20 --repeats 3
    python3 bench/sine_waves_vs_nest.py --iterations 20 --optimizer adam --each-step   # other optimizer set-ups

Needs NEST 3.10 (pip install nest-simulator==3.10.0) and the eprop package (make python).
"""
import argparse
import os
import platform
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import eprop  # noqa: E402
from eprop import tasks  # noqa: E402
from eprop.sine_waves import train_sine_waves  # noqa: E402


def run_eprop(task, optimizer="gradient_descent", each_step=False):
    start = time.perf_counter()
    result = train_sine_waves(task=task, final_update=True, optimizer=optimizer, optimize_each_step=each_step)
    return result.losses, result.simulate_seconds, time.perf_counter() - start


def run_nest(task, optimizer="gradient_descent", each_step=False):
    from nest_runner import run_nest as nest_run
    start = time.perf_counter()
    out = nest_run(task, record={"rec_neurons": [], "synapses": {}, "spikes": False, "final_weights": False},
                   final_update=True, optimizer=optimizer, optimize_each_step=each_step)
    return out["losses"], float(out["simulate_wall_time"]), time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--optimizer", choices=["gradient_descent", "adam"], default="gradient_descent",
                        help="both engines' optimizer (default gradient_descent, as NEST's example)")
    parser.add_argument("--each-step", action="store_true",
                        help="optimize_each_step True (NEST's default and its test's set-up; the example uses False)")
    args = parser.parse_args()
    task = tasks.sine_wave_task(seed=1, n_iter=args.iterations, steps_per_sequence=1000, variant="example")
    nest_times, eprop_times = [], []
    for rep in range(args.repeats):
        nest_losses, nest_sim, _ = run_nest(task, args.optimizer, args.each_step)
        eprop_losses, eprop_sim, _ = run_eprop(task, args.optimizer, args.each_step)
        nest_times.append(nest_sim)
        eprop_times.append(eprop_sim)
        rel = np.max(np.abs(eprop_losses - nest_losses) / np.abs(nest_losses))
        print(f"repeat {rep + 1}: NEST {nest_sim:.2f} s, eprop {eprop_sim:.2f} s, "
              f"ratio {nest_sim / eprop_sim:.1f}x, max relative loss difference {rel:.1e}", flush=True)
        if rel > 1e-9:
            sys.exit(f"losses disagree: max relative difference {rel:.3e}")
    nest_best, eprop_best = min(nest_times), min(eprop_times)
    simulated = task.sim_time_ms / 1000.0
    synapses = 100 * 100 + 100 * 99 + 100
    print()
    print(f"sine-wave example, {args.iterations} iterations ({simulated:.0f} s simulated), "
          f"{synapses} plastic synapses, {args.optimizer}, optimize_each_step {args.each_step}, 1 thread, "
          f"{platform.processor() or platform.machine()}")
    print(f"| engine | wall s (simulate, best of {args.repeats}) | wall s per simulated s | final loss |")
    print("|---|---|---|---|")
    print(f"| NEST {eprop_version_of_nest()} | {nest_best:.2f} | {nest_best / simulated:.4f} | {nest_losses[-1]:.6f} |")
    print(f"| eprop {eprop.version()} | {eprop_best:.2f} | {eprop_best / simulated:.4f} | {eprop_losses[-1]:.6f} |")
    print(f"eprop is {nest_best / eprop_best:.1f}x faster than NEST; losses agree to {rel:.1e} relative")


def eprop_version_of_nest():
    import nest
    return nest.__version__


if __name__ == "__main__":
    main()
