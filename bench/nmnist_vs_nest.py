#!/usr/bin/env python3
"""eprop vs NEST 3.10 on the N-MNIST tutorial network (spec 11.2): identical input, same traces?

Both engines get the network of NEST's ``eprop_supervised_classification_neuromorphic_mnist.py``
with the same weights and masks (``eprop.classification.draw_weights``: NEST's draw order,
seed 1), parameters and learning rate, and the same spike trains for the first N samples,
fed in groups the way NEST's example feeds them (targets at sample start + 2, learning
window 0/1 at start + 2 / start + 292, eta_train, learning on). The NEST network is built
here from the spec (spike_generator → parrot_neuron → eprop_iaf ⇄ eprop_readout,
step_rate_generators on receptors 1 and 2, one-to-one index lists of the non-zero masked
weights); eprop runs ``eprop.classification.TutorialNetwork.run_group``, the pipeline's own
code. The script compares the readout traces (V_m = y and readout_signal = y·λ at every
step, tolerance 1e-9 relative to the largest value), the final weights of every projection
and the per-sample predictions, and prints the wall time per sample of both.

Input: the saccade-MNIST files (``eprop.saccade_mnist`` cache, through ``eprop.nmnist`` with
the 1196 most active pixels) if they exist, else a Poisson stand-in: every one of the 1196
inputs fires at 12.5 Hz (Poisson counts per 1-ms step, so an input can fire twice in a step,
i.e. multiplicity > 1 as in N-MNIST), ≈ 4,500 spikes per 300-ms sample, labels uniform.

NEST runs with 1 thread (``total_num_virtual_procs=1``; NEST's example uses 4), eprop is
single-threaded. Wall times are the Simulate calls for NEST, and input setup + simulate for
eprop.

    python3 bench/nmnist_vs_nest.py                  # first 20 samples, one group
    python3 bench/nmnist_vs_nest.py --samples 200 --group-size 100 --poisson
    python3 bench/nmnist_vs_nest.py --samples 100 --repeats 3   # alternating, fastest of each

Needs NEST 3.10 (pip install nest-simulator==3.10.0) and the eprop package (make python).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

import eprop
from eprop import classification as cl

TOLERANCE = 1e-9


def saccade_source(n_keep: int):
    """(source, description) of the saccade-MNIST Train split, or None if unavailable."""
    try:
        from eprop import nmnist, saccade_mnist
    except ImportError:
        return None
    root = Path(saccade_mnist.DEFAULT_CACHE).expanduser()
    if not (root / "saccade_mnist.json").is_file():  # a complete conversion only
        return None
    ds = nmnist.NMNISTDataset(root, "Train")
    blocked = nmnist.activity_blocklist(ds, n_keep=n_keep)
    pmap = nmnist.pixel_map(blocklist=blocked)
    return cl.NMNISTSource(ds, pmap), f"saccade-MNIST Train ({root})"


def poisson_source(n: int, n_in: int, seed: int, rate_hz: float = 12.5):
    src = cl.PoissonSource(n, n_in=n_in, n_classes=10, n_steps=300, rate_hz=rate_hz, active_fraction=0.0, seed=seed)
    return src, f"Poisson stand-in ({rate_hz:g} Hz per input, counts per step)"


def run_eprop(config, groups, labels, etas, recordables=("V_m", "readout_signal"), threads=1):
    """Traces, weights, results and wall time of eprop's pipeline on ``groups``."""
    tnet = cl.TutorialNetwork(config, record_spikes=False, threads=threads)
    trace = tnet.network.record_state(tnet.readout, list(recordables))
    results, wall = [], 0.0
    for spikes, lab, eta in zip(groups, labels, etas):
        res = tnet.run_group(spikes, lab, eta=eta, phase="train")
        if res is not None:
            results.append(res)
    last = tnet.flush()
    results.append(last)
    wall = sum(r.wall_s for r in results)
    simulate = sum(r.simulate_s for r in results)   # what the NEST side's timer measures
    tnet.network.simulate(config.dt)  # NEST simulates one step more (see run_nest): same time for the weights
    times, data = trace.get()
    out = {
        "times": times, **{name: data[:, i, :] for i, name in enumerate(recordables)},
        "weights": tnet.connections(), "predictions": np.concatenate([r.predictions for r in results]),
        "losses": np.concatenate([r.losses for r in results]), "wall": wall, "simulate": simulate,
        "synapses": {k: len(p) for k, p in tnet.projections.items()}, "dropped_spikes": tnet.dropped_spikes,
    }
    tnet.close()
    return out


def run_nest(config, groups, labels, etas, connections, recordables=("V_m", "readout_signal")):
    """The same network and input in NEST 3.10 (built from spec 2 and 11.2), 1 thread."""
    import nest

    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.ERROR
    else:
        nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    dt = config.dt
    nest.set(resolution=dt, total_num_virtual_procs=1, print_time=False)
    n_in, n_rec, n_out = config.n_in, config.n_rec, config.n_out

    # Creation order matters for generator timing (spec 5.4): readouts before the generators.
    gen_in = nest.Create("spike_generator", n_in)
    parrots = nest.Create("parrot_neuron", n_in)
    rec = nest.Create(config.model, n_rec, cl.recurrent_parameters(config))
    # NEST's eprop_readout has no `loss` (mean squared error only; cross-entropy is ours).
    if config.loss != "mean_squared_error":
        raise SystemExit(f"NEST's eprop_readout supports only mean_squared_error, not {config.loss}")
    readout = {k: v for k, v in cl.readout_parameters(config).items() if k != "loss"}
    out = nest.Create("eprop_readout", n_out, readout)
    gen_target = nest.Create("step_rate_generator", n_out)
    gen_window = nest.Create("step_rate_generator")
    mm = nest.Create("multimeter", {"interval": dt, "record_from": list(recordables)})

    opt = cl.optimizer_parameters(config)
    nest.SetDefaults("eprop_synapse", {"optimizer": opt})  # before any eprop_synapse exists

    nest.Connect(gen_in, parrots, {"rule": "one_to_one"}, {"synapse_model": "static_synapse", "delay": dt})
    ids = {"inputs": np.array(parrots.tolist()), "recurrent": np.array(rec.tolist()), "readout": np.array(out.tolist())}
    for name, (pre_pop, post_pop, model) in cl.PROJECTIONS.items():
        pre, post, w = connections[name]
        nest.Connect(ids[pre_pop][pre], ids[post_pop][post], {"rule": "one_to_one"},
                     {"synapse_model": model, "delay": dt * np.ones(len(w)), "weight": np.asarray(w, dtype=float)})
    nest.Connect(gen_target, out, {"rule": "one_to_one"},
                 {"synapse_model": "rate_connection_delayed", "delay": dt, "receptor_type": 2})
    nest.Connect(gen_window, out, {"rule": "all_to_all"},
                 {"synapse_model": "rate_connection_delayed", "delay": dt, "receptor_type": 1})
    nest.Connect(mm, out)

    seq = config.sequence_ms
    wall, t0 = 0.0, 0.0
    for spikes, lab, eta in zip(groups, labels, etas):
        nest.SetDefaults("eprop_synapse", {"optimizer": {**opt, "eta": eta}})  # as NEST's example, at T0
        n = len(spikes)
        per_neuron = [[] for _ in range(n_in)]
        for g, (neurons, steps) in enumerate(spikes):
            times = t0 + g * seq + (np.asarray(steps) + 1) * dt
            for i, t in zip(np.asarray(neurons), times):
                per_neuron[i].append(t)
        gen_in.set([{"spike_times": sorted(t)} for t in per_neuron])
        starts = t0 + np.arange(n) * seq + cl.TOTAL_OFFSET * dt
        for k in range(n_out):
            gen_target[k].set({"amplitude_times": starts, "amplitude_values": (np.asarray(lab) == k).astype(float)})
        window_times = np.stack([starts, starts + (config.steps - config.learning_window) * dt], axis=1).ravel()
        gen_window.set({"amplitude_times": window_times, "amplitude_values": np.tile([0.0, 1.0], n)})
        start = time.perf_counter()
        nest.Simulate(n * seq)
        wall += time.perf_counter() - start
        t0 += n * seq
    # The last window ends 2 steps after the last sample; NEST's multimeter returns the sample
    # of the last simulated step only after a further Simulate, hence 3 steps.
    start = time.perf_counter()
    nest.Simulate(3 * dt)
    wall += time.perf_counter() - start

    ev = mm.get("events")
    senders, times = np.asarray(ev["senders"]), np.asarray(ev["times"], dtype=float)
    first = out[0].global_id
    cols = {}
    for name in recordables:
        vals = np.asarray(ev[name], dtype=float)
        per = [vals[senders == first + k] for k in range(n_out)]
        cols[name] = np.stack(per, axis=1)
    t_nest = times[senders == first]

    weights = {}
    for name, (pre_pop, post_pop, _) in cl.PROJECTIONS.items():
        pre_nodes = {"inputs": parrots, "recurrent": rec, "readout": out}[pre_pop]
        post_nodes = {"inputs": parrots, "recurrent": rec, "readout": out}[post_pop]
        c = nest.GetConnections(pre_nodes, post_nodes).get(["source", "target", "weight"])
        src = np.asarray(c["source"]) - pre_nodes[0].global_id
        tgt = np.asarray(c["target"]) - post_nodes[0].global_id
        order = np.lexsort((tgt, src))
        weights[name] = (src[order], tgt[order], np.asarray(c["weight"], dtype=float)[order])
    return {"times": t_nest, **cols, "weights": weights,
            "wall": wall}


def compare(a: np.ndarray, b: np.ndarray) -> float:
    """max |a − b| / max |b| (0 if both are 0)."""
    scale = np.max(np.abs(b))
    return float(np.max(np.abs(a - b)) / scale) if scale > 0 else float(np.max(np.abs(a - b)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20, help="samples fed to both engines (default 20)")
    parser.add_argument("--group-size", type=int, help="samples per group / simulate call (default: all in one)")
    parser.add_argument("--seed", type=int, default=1, help="weights and masks (NEST's seed 1)")
    parser.add_argument("--poisson", action="store_true", help="use the Poisson stand-in even if saccade-MNIST exists")
    parser.add_argument("--test-after", type=int, help="groups from this one on run with eta = 0 (test phase)")
    parser.add_argument("--rate-hz", type=float, default=12.5, help="rate of the Poisson stand-in (default 12.5 Hz)")
    parser.add_argument("--model", default="eprop_iaf", help="recurrent model (default eprop_iaf)")
    parser.add_argument("--n-rec", type=int, default=150, help="recurrent neurons (default 150)")
    parser.add_argument("--threads", type=int, default=1, help="eprop threads (NEST always runs 1; default 1)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="alternate eprop and NEST this many times; each engine's fastest run counts "
                             "(the machine is shared: one slow moment can halve a single run; default 1)")
    parser.add_argument("--optimizer", choices=["gradient_descent", "adam"], default="gradient_descent",
                        help="both engines' optimizer (default gradient_descent, as NEST's example; "
                             "anchors.md also times adam)")
    args = parser.parse_args(argv)

    config = cl.CONFIGS["tutorial"].replace(seed=args.seed, model=args.model, n_rec=args.n_rec,
                                            optimizer={"type": args.optimizer})
    got = None if args.poisson else saccade_source(config.n_in)
    source, what = got if got is not None else poisson_source(args.samples, config.n_in, args.seed, args.rate_hz)
    n = min(args.samples, len(source))
    gs = args.group_size or n
    # the first n samples of a seeded shuffle (Train is stored digit by digit)
    order = np.random.RandomState([args.seed, 0, 1]).permutation(len(source))[:n] if got is not None else np.arange(n)
    spikes = [source.spikes(int(i)) for i in order]
    labels = np.array([source.label(int(i)) for i in order], dtype=np.int64)
    groups = [spikes[i:i + gs] for i in range(0, n, gs)]
    glabels = [labels[i:i + gs] for i in range(0, n, gs)]
    n_spikes = np.array([len(s[0]) for s in spikes])
    etas = [config.eta_test if args.test_after is not None and g >= args.test_after else config.eta_train
            for g in range(len(groups))]
    import nest

    print(f"N-MNIST tutorial network: {config.n_in} inputs, {config.n_rec} {config.model}, {config.n_out} readouts, "
          f"seed {config.seed}; input: {what}")
    print(f"{n} samples in groups of {gs}, {n_spikes.mean():.0f} input spikes per sample "
          f"(min {n_spikes.min()}, max {n_spikes.max()}); optimizer {args.optimizer}; eta per group {', '.join(f'{e:g}' for e in etas)}; "
          f"NEST {nest.__version__} with 1 thread (total_num_virtual_procs=1), "
          f"eprop {eprop.version()} with {args.threads} thread(s); "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores", flush=True)

    weights0 = cl.connections_from_weights(cl.draw_weights(config))
    if args.repeats < 1:
        sys.exit(f"--repeats: must be at least 1, got {args.repeats}")
    ours = run_eprop(config, groups, glabels, etas, threads=args.threads)
    theirs = run_nest(config, groups, glabels, etas, weights0)
    for repeat in range(1, args.repeats):
        # Fresh networks, same inputs, alternating: each engine's fastest run counts.
        print(f"repeat {repeat}: eprop {1000 * ours['simulate'] / n:.2f} ms per sample (best so far), "
              f"NEST {1000 * theirs['wall'] / n:.1f}", flush=True)
        again = run_eprop(config, groups, glabels, etas, threads=args.threads)
        if again["simulate"] < ours["simulate"]:
            ours = again
        again = run_nest(config, groups, glabels, etas, weights0)
        if again["wall"] < theirs["wall"]:
            theirs = again
    if ours["dropped_spikes"]:
        print(f"WARNING: eprop dropped {ours['dropped_spikes']} input spikes at group boundaries (no spike-free "
              "step to replace the schedule at; eprop's set_spike_times drops spikes NEST's generator has already "
              "emitted) - expect differences after the first boundary")

    # Common sample times: 1 … n·300 + 2 (NEST returns one sample less than it simulated).
    t_end = n * config.sequence_ms + 2 * config.dt
    mo = (ours["times"] <= t_end)
    mn = (theirs["times"] <= t_end)
    if not np.array_equal(ours["times"][mo], theirs["times"][mn]):
        sys.exit(f"sample times differ: eprop {ours['times'][mo][[0, -1]]}, NEST {theirs['times'][mn][[0, -1]]}")
    worst = 0.0
    for name in ("V_m", "readout_signal"):
        rel = compare(ours[name][mo], theirs[name][mn])
        worst = max(worst, rel)
        print(f"readout {name:15s}: {np.count_nonzero(mo)} steps × {config.n_out} readouts, "
              f"max |eprop − NEST| / max |NEST| = {rel:.1e}")
    for name in cl.PROJECTIONS:
        pe, qe, we = ours["weights"][name]
        pn, qn, wn = theirs["weights"][name]
        if not (np.array_equal(pe, pn) and np.array_equal(qe, qn)):
            sys.exit(f"projection {name}: the connections differ between eprop and NEST")
        rel = compare(we, wn)
        worst = max(worst, rel)
        print(f"weights {name:9s}: {len(we):6d} synapses, max relative difference {rel:.1e}")
    # Predictions from NEST's traces with the same evaluation code.
    y = theirs["readout_signal"][mn]
    ks = np.rint(theirs["times"][mn] / config.dt).astype(np.int64)
    sel = ks > cl.TOTAL_OFFSET
    y_star = np.zeros_like(y[sel])
    y_star.reshape(n, config.steps, config.n_out)[np.arange(n), :, labels] = 1.0
    _, pred_nest, _, _ = cl.evaluate_window(y[sel], y_star, n, config.steps, config.learning_window)
    same = np.array_equal(pred_nest, ours["predictions"])
    print(f"predictions of the {n} samples identical: {same}")

    # Both engines are timed around their simulate calls only (NEST: nest.Simulate; eprop:
    # Network.simulate), not around setting the next group's inputs; eprop's whole
    # run_group (with its input setup) is shown as well.
    ms_nest = 1000 * theirs["wall"] / n
    ms_eprop = 1000 * ours["simulate"] / n
    ms_pipeline = 1000 * ours["wall"] / n
    print()
    print(f"| engine | wall s ({n} samples, {n * config.sequence_ms / 1000:.1f} s simulated) | ms per sample | "
          f"wall s per simulated s |")
    print("|---|---|---|---|")
    sim_s = n * config.sequence_ms / 1000
    print(f"| NEST {nest.__version__}, 1 thread: Simulate | {theirs['wall']:.2f} | {ms_nest:.1f} | "
          f"{theirs['wall'] / sim_s:.3f} |")
    print(f"| eprop {eprop.version()}: simulate | {ours['simulate']:.2f} | {ms_eprop:.2f} | {ours['simulate'] / sim_s:.4f} |")
    print(f"| eprop {eprop.version()}: run_group (input setup + simulate) | {ours['wall']:.2f} | {ms_pipeline:.2f} | "
          f"{ours['wall'] / sim_s:.4f} |")
    if args.repeats > 1:
        print(f"(fastest of {args.repeats} alternating runs of each engine)")
    print(f"eprop is {ms_nest / ms_eprop:.1f}x faster than NEST per sample ({ms_nest / ms_pipeline:.1f}x with its input "
          f"setup); traces and weights agree to {worst:.1e} relative (tolerance {TOLERANCE:g})")
    if worst > TOLERANCE or not same:
        print("MISMATCH", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
