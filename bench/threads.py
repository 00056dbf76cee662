#!/usr/bin/env python3
"""eprop with 1 and 2 (or more) threads, side by side in one run: N-MNIST and sparse 100k.

Cases (eprop only; every run in its own subprocess, thread counts alternating, `--repeats`
rounds, so the ratios compare runs made under the same load):

* N-MNIST tutorial network (1196 inputs, 150 eprop_iaf, 10 readouts), the pipeline's
  ``TutorialNetwork.run_group`` as in ``nmnist_vs_nest.py``: ms per 300-ms sample inside
  ``Network.simulate`` (as NEST is timed), saccade-MNIST if converted, else the Poisson
  stand-in;
* the sparse network of ``sparse_vs_nest.py`` (100k by default): wall s per simulated s.

For each case and thread count it prints the fastest and the median run, the ratio of the
1-thread time to each thread count's (fastest against fastest, and median against median),
the load average around the case, and whether the results (readout traces, spikes, final
weights) are bit-identical across thread counts.

    python3 bench/threads.py                                   # 1 vs 2 threads, 3 rounds
    python3 bench/threads.py --samples 40 --sizes 100000 --duration 200 --repeats 5
    python3 bench/threads.py --cases nmnist --threads 1 2
    python3 bench/threads.py --libraries /tmp/old/libeprop.so ""   # before/after, same run ("" = the package's)
"""
from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def nmnist_child(samples: int, threads: int, seed: int = 1) -> dict:
    """One eprop run of the N-MNIST tutorial network (called in a subprocess)."""
    import nmnist_vs_nest as nv
    from eprop import classification as cl

    config = cl.CONFIGS["tutorial"].replace(seed=seed)
    got = nv.saccade_source(config.n_in)
    source, what = got if got is not None else nv.poisson_source(samples, config.n_in, seed)
    n = min(samples, len(source))
    order = np.random.RandomState([seed, 0, 1]).permutation(len(source))[:n] if got is not None else np.arange(n)
    spikes = [source.spikes(int(i)) for i in order]
    labels = np.array([source.label(int(i)) for i in order], dtype=np.int64)
    ours = nv.run_eprop(config, [spikes], [labels], [config.eta_train], threads=threads)
    weights = [ours["weights"][k][2] for k in sorted(ours["weights"])]
    return dict(wall=ours["simulate"], samples=n, source=what,
                digest=_digest(ours["V_m"], ours["readout_signal"], *weights))


def run_nmnist(samples: int, threads: int) -> dict:
    r = harness.run_isolated("threads:nmnist_child", samples=samples, threads=threads)
    return dict(time=1000.0 * r["wall"] / r["samples"], digest=str(r["digest"]), source=str(r["source"]))


def run_sparse(spec_path: str, threads: int) -> dict:
    r = harness.run_isolated("sparse_vs_nest:run_engine", engine="eprop", spec_path=spec_path, threads=threads)
    sim_ms = float(np.load(spec_path)["duration_ms"]) - 1.0
    digest = _digest(r["out_readout_signal"], r["spike_times"], r["spike_senders"], r["w_in"], r["w_rec"], r["w_out"])
    return dict(time=r["simulate_s"] / (sim_ms / 1000.0), digest=digest)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["nmnist", "sparse"], choices=["nmnist", "sparse"])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=40, help="N-MNIST samples per run (default 40)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000], help="sparse network sizes")
    parser.add_argument("--duration", type=float, default=200.0, help="simulated ms of the sparse runs")
    parser.add_argument("--libraries", nargs="+", default=[""],
                        help="libeprop.so files to compare, alternately (EPROP_LIBRARY; \"\" = the package's own)")
    args = parser.parse_args(argv)
    import sparse_vs_nest as sv

    rows = []
    with tempfile.TemporaryDirectory(prefix="eprop-threads-") as tmp:
        cases = []
        if "nmnist" in args.cases:
            cases.append(("N-MNIST tutorial, ms per sample", lambda t: run_nmnist(args.samples, t)))
        if "sparse" in args.cases:
            for n in args.sizes:
                path = os.path.join(tmp, f"spec{n}.npz")
                np.savez(path, **sv.make_spec(n, args.duration, 1))
                cases.append((f"sparse {n // 1000}k, s per simulated s", lambda t, p=path: run_sparse(p, t)))
        configs = [(lib, t) for lib in args.libraries for t in args.threads]

        def label(lib):
            return "" if len(args.libraries) == 1 else (os.path.basename(os.path.dirname(lib)) or lib or "package") + ", "

        for name, fn in cases:
            times = {c: [] for c in configs}
            digests = set()
            load0 = os.getloadavg()
            for rep in range(args.repeats):
                for lib, t in configs:
                    if lib:
                        os.environ["EPROP_LIBRARY"] = lib
                    else:
                        os.environ.pop("EPROP_LIBRARY", None)
                    r = fn(t)
                    times[(lib, t)].append(r["time"])
                    digests.add(r["digest"])
                    print(f"{name}: {label(lib)}{t} thread(s), round {rep + 1}: {r['time']:.4g} "
                          f"(load {os.getloadavg()[0]:.2f})", flush=True)
            load1 = os.getloadavg()
            for lib, t in configs:
                base = times[(lib, args.threads[0])]
                best, med = min(times[(lib, t)]), statistics.median(times[(lib, t)])
                rows.append([name, f"{label(lib)}{t}", f"{best:.4g}", f"{med:.4g}", f"{min(base) / best:.2f}×",
                             f"{statistics.median(base) / med:.2f}×", f"{load0[0]:.1f} → {load1[0]:.1f}",
                             "yes" if len(digests) == 1 else f"NO ({len(digests)} results)"])
    print()
    print(harness.machine())
    harness.table(["case", "threads", "fastest", "median", f"speed-up vs {args.threads[0]} (fastest)",
                   "(median)", "load average", "identical"], rows)
    return 0 if all(r[-1] == "yes" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
