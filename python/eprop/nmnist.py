"""N-MNIST event files: reading (through libeprop's C reader), writing, datasets, input maps.

N-MNIST (Orchard et al. 2015, *Converting static image datasets to spiking neuromorphic
datasets using saccades*, Front. Neurosci. 9:437) stores one sample per ``.bin`` file as
5-byte records (spec §11.2)::

    byte 0  x (0 … 33)
    byte 1  y (0 … 33), or 240 for a timestamp-overflow record
    byte 2  bit 7: polarity (1 = ON, 0 = OFF); bits 6…0: time bits 22…16
    byte 3  time bits 15…8
    byte 4  time bits 7…0         time (µs) = (b2<<16 | b3<<8 | b4) & 0x7FFFFF

A record with ``y == 240`` is no event: it adds 2^13 µs to the time of every later event.
The real N-MNIST files hold none (their times fit in 23 bits, and NEST's example reader
would fail on one); :func:`read_events` applies them, :func:`write_events` writes them only
when asked to (or when a time does not fit in 23 bits).

NEST's N-MNIST e-prop example (``eprop_supervised_classification_neuromorphic_mnist.py``)
maps an event to input pixel ``polarity·34·34 + y·34 + x`` (2312 pixels), drops the pixels
of a blocklist shipped with NEST (1116 of them, leaving 1196 inputs) and puts the event at
step ``round(t·300/336040)`` (0 … 300) of the sample. :func:`sample_spikes` does exactly
that, in Swift. NEST's blocklist file is GPL and is not copied here:
:func:`activity_blocklist` derives a list of the same size from pixel activity instead (the
reason NEST gives for its list is that those pixels "never record events or do so
infrequently").

Layout of a dataset folder (as the real N-MNIST download unpacks)::

    root/Train/<digit>/<name>.bin      root/Test/<digit>/<name>.bin
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _capi

__all__ = [
    "SENSOR_SIZE",
    "N_PIXELS",
    "OVERFLOW_Y",
    "OVERFLOW_US",
    "NEST_N_STEPS",
    "NEST_DURATION_US",
    "NEST_N_INPUTS",
    "Events",
    "read_events",
    "write_events",
    "sample_spikes",
    "pixel_index",
    "pixel_map",
    "activity_blocklist",
    "NMNISTDataset",
]

#: Sensor width and height (pixels).
SENSOR_SIZE = 34
#: Input pixels: 2 polarities × 34 × 34 = 2312.
N_PIXELS = 2 * SENSOR_SIZE * SENSOR_SIZE
#: ``y`` of a timestamp-overflow record.
OVERFLOW_Y = 240
#: Time an overflow record adds to later events (2^13 µs).
OVERFLOW_US = 1 << 13
#: Largest time the 23-bit field holds.
MAX_FIELD_US = (1 << 23) - 1
#: Steps per sample in NEST's N-MNIST example.
NEST_N_STEPS = 300
#: Sample duration (µs) in NEST's time mapping round(t·300/336040).
NEST_DURATION_US = 336040.0
#: Input neurons NEST's example keeps (2312 − 1116 blocked pixels).
NEST_N_INPUTS = 1196


@dataclass(frozen=True, eq=False)  # arrays: compare fields with np.array_equal
class Events:
    """The events of one N-MNIST file, in file order (overflow records applied).

    Attributes: ``x``, ``y`` (uint8, 0 … 33), ``polarity`` (uint8, 1 = ON, 0 = OFF),
    ``time_us`` (int64).
    """

    x: np.ndarray
    y: np.ndarray
    polarity: np.ndarray
    time_us: np.ndarray

    def __len__(self) -> int:
        return int(self.x.size)

    @property
    def pixel(self) -> np.ndarray:
        """Input pixel of every event: polarity·34·34 + y·34 + x (int64)."""
        return pixel_index(self.x, self.y, self.polarity)


def pixel_index(x, y, polarity) -> np.ndarray:
    """NEST's input pixel index polarity·34·34 + y·34 + x (int64, 0 … 2311)."""
    x, y, p = (np.asarray(a, dtype=np.int64) for a in (x, y, polarity))
    return p * SENSOR_SIZE * SENSOR_SIZE + y * SENSOR_SIZE + x


def read_events(path) -> Events:
    """The events of the N-MNIST file ``path``, read by libeprop's reader.

    Raises :class:`eprop.InvalidArgumentError` (a ``ValueError``) naming the file when it is
    missing or unreadable, truncated (length not a multiple of 5 bytes) or holds a record
    outside the 34 × 34 sensor. An empty file gives zero events.
    """
    x, y, p, t = _capi.nmnist_read(path)
    return Events(x, y, p, t)


def sample_spikes(path, pixel_to_neuron, n_steps: int = NEST_N_STEPS,
                  duration_us: float = NEST_DURATION_US) -> tuple:
    """The (input neuron, step) pairs of one sample, as NEST's N-MNIST example builds them.

    Event pixel ``p`` goes to neuron ``pixel_to_neuron[p]`` (−1: dropped, see
    :func:`pixel_map`), time ``t`` to step ``round(t · n_steps / duration_us)``. Returns
    ``(neurons, steps)`` (int64), sorted by step, then neuron; several events of one pixel in
    one step give repeated pairs (NEST: one parrot event with multiplicity).

    Steps run 0 … n_steps *inclusive*, as NEST's mapping: the last ≈ 560 µs map to step 300
    with the defaults. NEST places a sample's spikes at ``offset + step + 1``, so step 300
    lands on the first step of the next sample; eprop keeps NEST's numbers and leaves that
    choice to the caller (e.g. ``np.minimum(steps, n_steps - 1)`` to keep them inside).
    An event later than ``duration_us`` raises :class:`eprop.InvalidArgumentError`.
    """
    return _capi.nmnist_spikes(path, pixel_to_neuron, n_steps, duration_us)


def write_events(path, x, y, polarity, time_us, overflow: bool | None = None) -> None:
    """Write events as an N-MNIST file (5-byte records) that :func:`read_events` reads back
    exactly.

    ``overflow``:

    * ``None`` (default): as the real N-MNIST files, no overflow records unless some time
      does not fit in the 23-bit field (≥ 2^23 µs ≈ 8.4 s); then as ``True``.
    * ``True``: one overflow record (``y == 240``) each time the time passes a multiple of
      2^13 µs, the field holding the time modulo 2^13 (needs times in non-decreasing order).
    * ``False``: never (every time must be < 2^23 µs).

    Raises ``ValueError`` for coordinates outside 0 … 33, polarities other than 0/1,
    negative times or arrays of different lengths.
    """
    x, y, polarity, time_us = (np.asarray(a) for a in (x, y, polarity, time_us))
    n = x.size
    if not (x.ndim == y.ndim == polarity.ndim == time_us.ndim == 1 and y.size == polarity.size == time_us.size == n):
        raise ValueError(
            "x, y, polarity and time_us: must be 1-D of equal length, got shapes "
            f"{x.shape}, {y.shape}, {polarity.shape}, {time_us.shape}"
        )
    for name, a in (("x", x), ("y", y), ("polarity", polarity), ("time_us", time_us)):
        if n and a.dtype.kind not in "iub":
            if a.dtype.kind != "f" or not np.all(a == np.round(a)):
                raise ValueError(f"{name}: must hold whole numbers, got dtype {a.dtype}")
    x, y, polarity, time_us = (a.astype(np.int64) for a in (x, y, polarity, time_us))
    if n:
        for name, a, hi in (("x", x, SENSOR_SIZE - 1), ("y", y, SENSOR_SIZE - 1), ("polarity", polarity, 1)):
            bad = np.flatnonzero((a < 0) | (a > hi))
            if bad.size:
                raise ValueError(f"{name}[{bad[0]}]: must be in 0 … {hi}, got {a[bad[0]]}")
        bad = np.flatnonzero(time_us < 0)
        if bad.size:
            raise ValueError(f"time_us[{bad[0]}]: must be ≥ 0, got {time_us[bad[0]]}")
    too_big = bool(n) and int(time_us.max()) > MAX_FIELD_US
    if overflow is None:
        overflow = too_big
    if overflow:
        if n and np.any(np.diff(time_us) < 0):
            raise ValueError("time_us: must be non-decreasing to write overflow records")
        k = time_us // OVERFLOW_US                     # overflow records before each event
        field = time_us - k * OVERFLOW_US
        before = np.diff(k, prepend=0)                 # new overflow records before event i
    else:
        if too_big:
            raise ValueError(f"time_us: {int(time_us.max())} µs does not fit in the 23-bit field; pass overflow=True")
        field = time_us
        before = np.zeros(n, dtype=np.int64)
    # Row of event i: after its own overflow records and everything before it.
    rows = np.arange(n, dtype=np.int64) + np.cumsum(before)
    records = np.zeros((n + int(before.sum()), 5), dtype=np.uint8)
    records[:, 1] = OVERFLOW_Y                         # every row not overwritten is an overflow
    records[rows, 0] = x
    records[rows, 1] = y
    records[rows, 2] = (polarity << 7) | ((field >> 16) & 0x7F)
    records[rows, 3] = (field >> 8) & 0xFF
    records[rows, 4] = field & 0xFF
    with open(path, "wb") as f:
        f.write(records.tobytes())


# ---- Input maps -----------------------------------------------------------------------------


def pixel_map(blocklist=None) -> np.ndarray:
    """``pixel_to_neuron`` (int64, 2312 entries) for :func:`sample_spikes`: blocked pixels
    get −1, the others the input neurons 0, 1, 2, … in pixel order (as NEST's example
    numbers its parrots). ``blocklist``: pixel indices 0 … 2311 (repeats allowed)."""
    mapping = np.zeros(N_PIXELS, dtype=np.int64)
    if blocklist is not None:
        blocked = np.asarray(blocklist)
        if blocked.size:
            if blocked.dtype.kind == "f":
                if not np.all(blocked == np.round(blocked)):
                    raise ValueError("blocklist: pixel indices must be whole numbers")
            elif blocked.dtype.kind not in "iu":
                raise ValueError(f"blocklist: pixel indices must be integers, got dtype {blocked.dtype}")
            blocked = blocked.astype(np.int64).ravel()
            bad = np.flatnonzero((blocked < 0) | (blocked >= N_PIXELS))
            if bad.size:
                raise ValueError(f"blocklist[{bad[0]}]: must be a pixel index in 0 … {N_PIXELS - 1}, got {blocked[bad[0]]}")
            mapping[blocked] = -1
    keep = mapping >= 0
    mapping[keep] = np.arange(int(keep.sum()))
    return mapping


def activity_blocklist(dataset, n_keep: int = NEST_N_INPUTS, n_samples: int = 1000) -> np.ndarray:
    """A blocklist that keeps the ``n_keep`` most active pixels (sorted pixel indices, int64).

    NEST's example blocks 1116 pixels listed in ``NMNIST_pixels_blocklist.txt`` (shipped with
    NEST under the GPL, not copied here), keeping 1196. This derives a list of the same kind
    from the data: it counts the events of every pixel over ``n_samples`` samples spread
    evenly over ``dataset`` (an :class:`NMNISTDataset` or a sequence of paths; all of it if
    shorter) and blocks the ``2312 − n_keep`` least active pixels (ties: the lower pixel index
    is blocked first). Deterministic for a given dataset.
    """
    if not 0 <= n_keep <= N_PIXELS:
        raise ValueError(f"n_keep: must be in 0 … {N_PIXELS}, got {n_keep}")
    paths = [item[0] if isinstance(item, tuple) else item for item in _items(dataset)]
    if not paths:
        raise ValueError("dataset: holds no samples")
    if n_samples < 1:
        raise ValueError(f"n_samples: must be ≥ 1, got {n_samples}")
    chosen = np.unique(np.linspace(0, len(paths) - 1, min(n_samples, len(paths))).round().astype(np.int64))
    counts = np.zeros(N_PIXELS, dtype=np.int64)
    for i in chosen:
        counts += np.bincount(read_events(paths[i]).pixel, minlength=N_PIXELS)
    order = np.lexsort((np.arange(N_PIXELS), counts))  # least active first, then by index
    return np.sort(order[: N_PIXELS - n_keep])


def _items(dataset):
    if isinstance(dataset, NMNISTDataset):
        return [(p, label) for p, label in zip(dataset.paths, dataset.labels)]
    return list(dataset)


# ---- Dataset folders ------------------------------------------------------------------------


def _natural_key(name: str):
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name) if part]


class NMNISTDataset:
    """The samples of one split of an N-MNIST folder: ``root/<split>/<digit>/*.bin``.

    ``len(ds)``; ``ds[i]`` → ``(path, label)``; iteration. Order: by digit, then by file name
    (numbers in names compared as numbers), so the same folder always gives the same order.
    ``paths`` (list of str) and ``labels`` (int64 array) hold everything at once.
    """

    def __init__(self, root, split: str = "Train"):
        self.root = Path(root).expanduser()
        self.split = split
        folder = self.root / split
        if not folder.is_dir():
            raise FileNotFoundError(
                f"N-MNIST split folder {folder} does not exist (expected {self.root}/{split}/<digit>/*.bin)"
            )
        paths, labels = [], []
        for digit in range(10):
            sub = folder / str(digit)
            if not sub.is_dir():
                continue
            names = sorted((e.name for e in os.scandir(sub) if e.is_file() and e.name.endswith(".bin")),
                           key=_natural_key)
            paths += [str(sub / name) for name in names]
            labels += [digit] * len(names)
        self.paths = paths
        self.labels = np.asarray(labels, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple:
        index = int(index)
        n = len(self.paths)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {n} samples")
        return self.paths[index], int(self.labels[index])

    def __iter__(self):
        return iter(zip(self.paths, (int(v) for v in self.labels)))

    def __repr__(self) -> str:
        return f"NMNISTDataset({str(self.root)!r}, {self.split!r}: {len(self)} samples)"
