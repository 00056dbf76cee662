#!/usr/bin/env python3
"""eprop at scale: 1,000,000 ``eprop_iaf`` neurons, ≈ 1.1e8 plastic synapses, eprop only.

The network is the sparse benchmark's (bench/sparse_vs_nest.py: same neuron parameters,
weight scales, optimizer and cutoff, ≈ 10 Hz; no flush interval unless `--flush-interval`
is given: eprop's automatic flushes bound the history, with the same results), built with the
engine's own connection rules so that Python never holds a synapse-sized array:

* 100 Poisson inputs (10 Hz, frozen spike times) → every recurrent neuron: 10 plastic
  synapses per neuron (``fixed_indegree``), weights normal(0.020, 0.005);
* recurrent → recurrent: 100 plastic synapses per neuron (``fixed_indegree``, no
  autapses), weights normal(−0.0035, 0.0045);
* recurrent → 10 readouts: 1000 plastic synapses per readout, weights normal(0, 0.03/√1000);
* readouts → recurrent: learning-signal connections (B), normal(0, 0.03/√10);
* a sine target per readout, learning on (gradient descent, accumulate mode).

Reports build time, eprop's memory estimate (before building) against the RSS growth and
the engine's own accounting, peak RSS (VmHWM), firing rate and wall seconds per simulated
second (after a 1-step setup).

    python3 bench/scale_1m.py                                # 1,000,000 neurons, 1 s
    python3 bench/scale_1m.py --neurons 100000 --duration 200 --threads 1
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import sparse_vs_nest as sparse  # noqa: E402  (the network's parameters)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--neurons", type=int, default=1_000_000)
    ap.add_argument("--duration", type=float, default=1000.0, help="simulated ms (after the setup step)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--precision", choices=("double", "single"), default="double")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--flush-interval", type=float, default=None,
                    help="flush_event_send_interval in ms (default: none; eprop's automatic flushes bound the "
                         "history, docs/memory); the NEST-side sparse benchmark uses 100")
    args = ap.parse_args()

    import eprop

    n, dt = args.neurons, sparse.DT
    rec_params = dict(sparse.REC_PARAMS)
    rec_params.pop("flush_event_send_interval")
    if args.flush_interval is not None:
        rec_params["flush_event_send_interval"] = args.flush_interval
    steps = int(round(args.duration / dt)) + 1
    n_plastic = n * (sparse.INDEGREE_IN + sparse.INDEGREE_REC) + sparse.N_OUT * sparse.OUT_FANIN
    estimate = eprop.estimate_memory(
        n, n_plastic, n_readout=sparse.N_OUT, n_input=sparse.N_IN, n_fixed=n * sparse.N_OUT,
        n_sources=sparse.N_IN + 2 * n, optimizer=sparse.OPTIMIZER["type"],
        optimize_each_step=sparse.OPTIMIZER["optimize_each_step"], batch_size=sparse.OPTIMIZER["batch_size"],
        cutoff_ms=sparse.REC_PARAMS["eprop_isi_trace_cutoff"],
        flush_interval_ms=float("inf") if args.flush_interval is None else args.flush_interval, resolution_ms=dt,
        synapse_precision=args.precision)

    rng = np.random.default_rng(args.seed)
    mask = rng.random((steps - 1, sparse.N_IN)) < sparse.RATE_IN_HZ * dt / 1000.0
    ks, input_neurons = np.nonzero(mask)
    input_times = (ks + 1).astype(np.float64) * dt
    target_times = np.arange(2, steps + 2, dtype=np.float64) * dt
    periods = rng.uniform(200.0, 1000.0, size=sparse.N_OUT)
    phases = rng.uniform(0.0, 2 * np.pi, size=sparse.N_OUT)
    target_values = np.sin(2 * np.pi * target_times[None, :] / periods[:, None] + phases[:, None])
    feedback = rng.normal(0.0, sparse.B_STD, size=(n, sparse.N_OUT))  # n × 10 doubles

    rss_before = harness.rss_now()
    t0 = time.perf_counter()
    net = eprop.Network(resolution=dt, threads=args.threads, synapse_precision=args.precision)
    inp = net.add_population("input", sparse.N_IN)
    rec = net.add_population("eprop_iaf", n, **rec_params)
    out = net.add_population("eprop_readout", sparse.N_OUT, **sparse.OUT_PARAMS)
    opt = dict(sparse.OPTIMIZER)
    net.set_optimizer(type=opt.pop("type"), **opt)
    net.connect(inp, rec, "eprop_synapse", rule="fixed_indegree", indegree=sparse.INDEGREE_IN,
                weights=("normal", *sparse.W_IN), seed=args.seed + 1)
    net.connect(rec, rec, "eprop_synapse", rule="fixed_indegree", indegree=sparse.INDEGREE_REC,
                allow_autapses=False, weights=("normal", *sparse.W_REC), seed=args.seed + 2)
    net.connect(rec, out, "eprop_synapse", rule="fixed_indegree", indegree=sparse.OUT_FANIN,
                weights=("normal", 0.0, sparse.W_OUT_STD), seed=args.seed + 3)
    net.connect(out, rec, "eprop_learning_signal_connection", weights=feedback)
    del feedback
    inp.set_spike_times(input_neurons.astype(np.int64), input_times)
    out.set_target(target_times, target_values)
    out.set_learning_window([2.0 * dt], np.ones((sparse.N_OUT, 1)))
    build_s = time.perf_counter() - t0
    rss_build = harness.rss_now()
    mem_build = net.memory
    spikes = net.record_spikes(rec)

    t0 = time.perf_counter()
    net.simulate(dt)
    setup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.simulate(args.duration)
    sim_s = time.perf_counter() - t0
    rss_end, peak = harness.rss()
    mem = net.memory
    times, _ = spikes.get()
    rate = len(times) / n / ((args.duration + dt) / 1000.0)

    gib = 1024.0 ** 3
    print(f"eprop {eprop.version()}, {n:,} eprop_iaf, {n_plastic:,} plastic synapses, {args.threads} thread(s), "
          f"precision {args.precision}, flush_event_send_interval "
          f"{'none (automatic flushes)' if args.flush_interval is None else f'{args.flush_interval:g} ms'}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"  build {build_s:.1f} s, setup step {setup_s:.2f} s, simulate {args.duration:.0f} ms in {sim_s:.1f} s "
          f"= {sim_s / (args.duration / 1000.0):.1f} s per simulated s, rate {rate:.1f} Hz")
    print(f"  RSS +{(rss_build - rss_before) / gib:.2f} GiB after build "
          f"({(rss_build - rss_before) / n_plastic:.1f} B per plastic synapse), "
          f"+{(rss_end - rss_before) / gib:.2f} GiB at the end, peak (VmHWM) {peak / gib:.2f} GiB")
    print(f"  engine accounting: {mem_build['total'] / gib:.2f} GiB after build, {mem['total'] / gib:.2f} GiB at the end "
          f"(history {mem['history'] / gib:.2f} GiB)")
    print(f"  estimate_memory before building: {estimate / gib:.2f} GiB = "
          f"{estimate / max(rss_end - rss_before, 1):.2f} × the RSS growth")


if __name__ == "__main__":
    main()
