#!/usr/bin/env python3
"""Per-step cost of the worker pool's barriers, on an almost empty network.

A network of 2 inputs, 4 eprop_iaf neurons and 1 readout (plastic input, recurrent and
readout synapses, learning signals) has almost no work per step, so the wall time per step
with 2 threads minus the time with 1 thread is what the two barriers per step cost
(publishing the work, waking or reaching the waiting threads, waiting for the slowest
part). Thread counts run alternately, `--repeats` times; the fastest run of each counts,
and the median is printed too (on a shared machine the median shows what preemption costs).

    python3 bench/sync_overhead.py                       # 1 and 2 threads, 200k steps each
    python3 bench/sync_overhead.py --threads 1 2 3 --steps 50000 --repeats 5
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import eprop


def build(threads: int, n_rec: int):
    net = eprop.Network(resolution=1.0, threads=threads)
    rng = np.random.default_rng(1)
    inputs = net.add_population("input", 2)
    rec = net.add_population("eprop_iaf", n_rec, C_m=1.0, tau_m=30.0, V_th=0.03, t_ref=0.0)
    out = net.add_population("eprop_readout", 1)
    net.connect(inputs, rec, "eprop_synapse", weights=rng.normal(0.02, 0.005, (n_rec, 2)))
    w = rng.normal(0.0, 0.01, (n_rec, n_rec))
    np.fill_diagonal(w, 0.0)
    net.connect(rec, rec, "eprop_synapse", weights=w, allow_autapses=False)
    net.connect(rec, out, "eprop_synapse", weights=rng.normal(0.0, 0.01, (1, n_rec)))
    net.connect(out, rec, "eprop_learning_signal_connection", weights=rng.normal(0.0, 0.01, (n_rec, 1)))
    times = np.arange(1.0, 1e6, 7.0)
    inputs.set_spike_times(np.zeros(len(times), dtype=np.int64), times)
    return net


def time_per_step(threads: int, steps: int, n_rec: int) -> float:
    net = build(threads, n_rec)
    net.simulate(100.0)  # first steps: allocation of histories, thread start-up
    t0 = time.perf_counter()
    net.simulate(float(steps))
    return (time.perf_counter() - t0) / steps


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-rec", type=int, default=4)
    args = parser.parse_args(argv)
    results = {t: [] for t in args.threads}
    load0 = os.getloadavg()
    for _ in range(args.repeats):
        for t in args.threads:
            results[t].append(time_per_step(t, args.steps, args.n_rec))
    load1 = os.getloadavg()
    print(f"{args.steps} steps, {args.n_rec} recurrent neurons, {os.cpu_count()} cores, "
          f"load average {load0[0]:.2f} → {load1[0]:.2f}")
    base = min(results[args.threads[0]])
    for t in args.threads:
        best, med = min(results[t]), statistics.median(results[t])
        print(f"threads {t}: best {best * 1e6:7.2f} µs/step, median {med * 1e6:7.2f} µs/step, "
              f"best − best({args.threads[0]}) {(best - base) * 1e6:+7.2f} µs/step")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
