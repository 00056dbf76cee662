#!/usr/bin/env python3
"""Shared helpers of the benchmarks: memory, timers, isolated runs and tables.

* :func:`rss` reads the resident set size (``VmRSS``) and its high-water mark (``VmHWM``)
  of this process from ``/proc/self/status``; :func:`trim` returns freed heap pages to the
  OS first (glibc ``malloc_trim``), so an RSS difference counts what a build *keeps*.
* :class:`Timer` is a ``perf_counter`` stopwatch with named laps.
* :func:`run_isolated` runs one function in a fresh Python subprocess and returns what it
  returned, plus the child's RSS before it started and its peak RSS. One engine per process
  is the only way to get clean RSS deltas and per-engine peaks (NEST and eprop never share
  a heap, and nothing of an earlier run is left over). Runs are sequential: the benchmarks
  call it for NEST and eprop alternately, never in parallel.
* :func:`table` prints a Markdown table; :func:`machine` describes the machine.

The child side is this file run as a script::

    python3 bench/harness.py --call sparse_vs_nest:run_engine --kwargs '{"engine": "nest", ...}' --out r.npz

The called function returns a dict of numbers, strings and numpy arrays.
"""
from __future__ import annotations

import argparse
import ctypes
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)

# ---------------------------------------------------------------------------------------------
# memory


def rss() -> tuple:
    """``(VmRSS, VmHWM)`` of this process in bytes (Linux ``/proc/self/status``)."""
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, amount, unit = line.split()
                assert unit == "kB"
                values[key[:-1]] = int(amount) * 1024
    return values["VmRSS"], values["VmHWM"]


def trim() -> None:
    """Give freed heap memory back to the OS (glibc ``malloc_trim(0)``; no-op elsewhere)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def rss_now(trimmed: bool = True) -> int:
    """Current RSS in bytes, after :func:`trim` unless ``trimmed`` is False."""
    if trimmed:
        trim()
    return rss()[0]


def mib(n_bytes) -> str:
    """``n_bytes`` as MiB text (or "–")."""
    if n_bytes is None or (isinstance(n_bytes, float) and not np.isfinite(n_bytes)):
        return "–"
    return f"{n_bytes / 2**20:,.0f} MiB"


# ---------------------------------------------------------------------------------------------
# timers


class Timer:
    """Stopwatch: ``t = Timer(); …; t.lap("build"); …; t.lap("simulate"); t.laps["build"]``."""

    def __init__(self):
        self.laps = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> float:
        """Seconds since the previous lap (or creation), stored under ``name``."""
        now = time.perf_counter()
        self.laps[name] = now - self._last
        self._last = now
        return self.laps[name]

    def restart(self) -> None:
        """Start the next lap now (time since the last lap is not counted)."""
        self._last = time.perf_counter()


# ---------------------------------------------------------------------------------------------
# isolated runs


def run_isolated(call: str, timeout: float | None = None, **kwargs) -> dict:
    """Run ``module:function(**kwargs)`` in a fresh Python process; return its dict.

    ``module`` is a file of ``bench/`` (imported by name). Keyword arguments must be JSON.
    Added keys: ``rss_start`` (RSS of the child before the call, after its imports of
    numpy and this file), ``rss_end``, ``peak_rss`` (VmHWM at the end of the call) and
    ``child_wall`` (seconds of the call). Raises RuntimeError if the child fails.
    """
    with tempfile.TemporaryDirectory(prefix="eprop-bench-") as tmp:
        out = os.path.join(tmp, "result.npz")
        cmd = [sys.executable, os.path.abspath(__file__), "--call", call, "--kwargs", json.dumps(kwargs), "--out", out]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([BENCH, os.path.join(ROOT, "tools")] + (
            [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        env.setdefault("OMP_NUM_THREADS", "1")
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        env.setdefault("PYNEST_QUIET", "1")  # no NEST banner
        proc = subprocess.run(cmd, env=env, timeout=timeout, stdout=sys.stdout, stderr=sys.stderr)
        if proc.returncode != 0:
            raise RuntimeError(f"{call} failed in its subprocess (exit {proc.returncode})")
        with np.load(out, allow_pickle=False) as z:
            return {k: (z[k].item() if z[k].ndim == 0 else z[k]) for k in z.files}


def _child(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--call", required=True)
    ap.add_argument("--kwargs", default="{}")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    module_name, func_name = args.call.split(":")
    warnings.filterwarnings("ignore", message="Provided for backward compatibility")  # NEST's set_verbosity
    sys.path.insert(0, BENCH)
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import importlib

    func = getattr(importlib.import_module(module_name), func_name)
    rss_start = rss_now()
    t0 = time.perf_counter()
    result = dict(func(**json.loads(args.kwargs)))
    result["child_wall"] = time.perf_counter() - t0
    result["rss_end"], result["peak_rss"] = rss()
    result["rss_start"] = rss_start
    arrays = {k: np.asarray(v) for k, v in result.items() if v is not None}
    np.savez(args.out, **arrays)


def quiet_nest(nest) -> None:
    """Only errors from NEST (its new-style setting if present, else the old one)."""
    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.ERROR
    else:
        nest.set_verbosity("M_ERROR")


# ---------------------------------------------------------------------------------------------
# tables and machine


def table(headers, rows, stream=None) -> str:
    """Print (and return) a Markdown table; cells are str() of the values."""
    stream = sys.stdout if stream is None else stream
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for r in cells:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    text = "\n".join(lines)
    print(text, file=stream, flush=True)
    return text


def fmt(x, digits: int = 3) -> str:
    """A number with ``digits`` significant digits (thousands separated); "–" for None/NaN."""
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "–"
    if isinstance(x, (int, np.integer)):
        return f"{x:,}"
    if x == 0:
        return "0"
    magnitude = int(np.floor(np.log10(abs(x))))
    decimals = max(0, digits - 1 - magnitude)
    return f"{x:,.{decimals}f}"


def machine() -> str:
    """One line: date, CPU model, cores, memory, Python, commit of the repository."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 2**20:.0f} GB"
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        commit = commit + ("+changes" if dirty else "")
    except OSError:
        commit = "?"
    date = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{date}, {cpu}, {os.cpu_count()} cores, {mem}, Python {platform.python_version()}, "
            f"eprop commit {commit}, load average {load}")


if __name__ == "__main__":
    _child()
