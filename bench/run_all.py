#!/usr/bin/env python3
"""Every eprop vs NEST 3.10 benchmark, one table.

* the sine-wave example (``sine_waves_vs_nest.py``: 100 in / 100 rec / 1 out, dense,
  200 iterations of 1 s);
* the sparse recurrent network (``sparse_vs_nest.py``) at 10k neurons (1 s simulated) and
  100k neurons (0.3 s simulated: NEST needs 5–9 minutes per simulated second there).

Each engine runs in its own subprocess (``harness.run_isolated``), NEST and eprop
alternately, never in parallel; RSS is measured inside each subprocess. NEST uses one
thread (eprop is single-threaded).

    python3 bench/run_all.py                               # ≈ 8 minutes on 2 cores
    python3 bench/run_all.py --repeats 3 --update-readme   # and rewrite bench/README.md's table
    python3 bench/run_all.py --sine-iterations 20 --sizes 10000 --durations 300   # quick

Needs NEST 3.10 (pip install nest-simulator==3.10.0) and the eprop package (make python).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import sparse_vs_nest  # noqa: E402

README = os.path.join(harness.BENCH, "README.md")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
SINE_SYNAPSES = 100 * 100 + 100 * 99 + 100


def sine_engine(engine: str, iterations: int) -> dict:
    """One engine on the sine-wave example, with sine_waves_vs_nest's own run functions
    (called by harness.run_isolated, so in a subprocess)."""
    import sine_waves_vs_nest as sw

    task = sw.tasks.sine_wave_task(seed=1, n_iter=iterations, steps_per_sequence=1000, variant="example")
    if engine == "nest":
        import nest
        rss_before = harness.rss_now()
        losses, simulate_s, total_s = sw.run_nest(task)
        version = nest.__version__
    else:
        import eprop
        rss_before = harness.rss_now()
        losses, simulate_s, total_s = sw.run_eprop(task)
        version = eprop.version()
    return dict(losses=np.asarray(losses, dtype=np.float64), simulate_s=simulate_s, total_s=total_s,
                sim_time_ms=task.sim_time_ms, version=version, rss_before=rss_before,
                peak_rss_simulate=harness.rss()[1])


def run_sine(iterations: int, repeats: int = 1, log=print) -> list:
    """Rows for the sine-wave case (fastest of ``repeats`` rounds NEST, eprop)."""
    results = {}
    for rep in range(repeats):
        for engine in ("nest", "eprop"):
            log(f"sine-wave example, {iterations} iterations: {engine}"
                f"{f' (round {rep + 1})' if repeats > 1 else ''} …")
            r = harness.run_isolated("run_all:sine_engine", engine=engine, iterations=iterations)
            log(f"  simulate {r['simulate_s']:.2f} s (total {r['total_s']:.2f} s), final loss {r['losses'][-1]:.10g}, "
                f"peak RSS {harness.mib(r['peak_rss_simulate'])} (baseline {harness.mib(r['rss_before'])})")
            if engine not in results or r["simulate_s"] < results[engine]["simulate_s"]:
                results[engine] = r
    nest, ep = results["nest"], results["eprop"]
    rel = float(np.max(np.abs(ep["losses"] - nest["losses"]) / np.abs(nest["losses"])))
    agreement = dict(agree=rel <= sparse_vs_nest.TOLERANCE, summary=f"losses {rel:.0e}")
    log(f"  agreement: per-iteration losses max rel diff {rel:.1e}")
    rows = []
    simulated = nest["sim_time_ms"] / 1000.0
    for key, r in (("nest", nest), ("eprop", ep)):
        rows.append(dict(
            case=f"sine-wave 100/100/1 dense, {SINE_SYNAPSES / 1e3:.1f} k syn, {simulated:.0f} s", key=key,
            engine=f"{'NEST' if key == 'nest' else 'eprop'} {r['version']}", wall_per_sim_s=r["simulate_s"] / simulated,
            peak_rss=r["peak_rss_simulate"], rss_baseline=r["rss_before"], agreement=agreement,
            n_plastic=SINE_SYNAPSES,
        ))
    return rows


def update_readme(text: str) -> None:
    with open(README) as f:
        readme = f.read()
    if BEGIN not in readme or END not in readme:
        raise SystemExit(f"{README}: markers {BEGIN} … {END} not found")
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(README, "w") as f:
        f.write(head + BEGIN + "\n" + text + "\n" + END + tail)
    print(f"updated {README}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sine-iterations", type=int, default=200, help="0 skips the sine-wave case")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000], help="sparse network sizes")
    parser.add_argument("--durations", type=float, nargs="+", default=[1000.0, 300.0],
                        help="simulated ms per sparse size (one value: all sizes)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="rounds NEST, eprop per case (the fastest run counts); NEST runs the 100k case once")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--update-readme", action="store_true", help=f"write the table into {README}")
    args = parser.parse_args()
    durations = args.durations * len(args.sizes) if len(args.durations) == 1 else args.durations
    rows = []
    if args.sine_iterations > 0:
        rows += run_sine(args.sine_iterations, args.repeats)
    for n, d in zip(args.sizes, durations):
        # Below 100k also eprop with single-precision synapses (bytes per synapse, speed).
        engines = ("nest", "eprop") if n >= 100_000 else ("nest", "eprop", "eprop-single")
        rows += sparse_vs_nest.run_case(n, d, engines, seed=args.seed, repeats=args.repeats,
                                        nest_repeats=1 if n >= 100_000 else args.repeats)
    print()
    lines = [harness.machine(), ""]
    print(lines[0])
    lines.append(harness.table(sparse_vs_nest.HEADERS, sparse_vs_nest.table_rows(rows)))
    if args.update_readme:
        update_readme("\n".join(lines))
    bad = [r for r in rows if r.get("agreement") is not None and not r["agreement"]["agree"]]
    if bad:
        sys.exit("engines disagree beyond relative 1e-9: " + ", ".join(sorted({r["case"] for r in bad})))


if __name__ == "__main__":
    main()
