"""eprop.nmnist: N-MNIST files through the C reader, writing, input maps, dataset folders."""

from __future__ import annotations

import ast
import ctypes
from pathlib import Path

import numpy as np
import pytest

import eprop
from eprop import _capi, nmnist


def random_events(rng, n, t_max=336_040):
    t = np.sort(rng.integers(0, t_max + 1, n))
    return (rng.integers(0, 34, n).astype(np.uint8), rng.integers(0, 34, n).astype(np.uint8),
            rng.integers(0, 2, n).astype(np.uint8), t.astype(np.int64))


def record(x, y, p, t):
    return bytes([x, y, (p << 7) | ((t >> 16) & 0x7F), (t >> 8) & 0xFF, t & 0xFF])


# ---- Reading and writing ----------------------------------------------------------------------


@pytest.mark.parametrize("overflow", [None, False, True])
def test_round_trip(tmp_path, overflow):
    rng = np.random.default_rng(3)
    x, y, p, t = random_events(rng, 5000)
    path = tmp_path / "sample.bin"
    nmnist.write_events(path, x, y, p, t, overflow=overflow)
    size = path.stat().st_size
    if overflow:
        assert size == 5 * (5000 + 336_040 // 8192)  # one record per 2^13 µs passed
    else:
        assert size == 5 * 5000
    ev = nmnist.read_events(path)
    assert len(ev) == 5000
    for got, want in zip((ev.x, ev.y, ev.polarity, ev.time_us), (x, y, p, t)):
        np.testing.assert_array_equal(got, want)
    assert ev.x.dtype == np.uint8 and ev.time_us.dtype == np.int64
    np.testing.assert_array_equal(ev.pixel, p.astype(np.int64) * 1156 + y.astype(np.int64) * 34 + x)


def test_overflow_records_are_exact_beyond_23_bits(tmp_path):
    # Times beyond the 23-bit field need overflow records: written automatically, read exactly.
    t = np.array([0, 8191, 8192, 8193, 3 * 8192 + 7, (1 << 23) - 1, 1 << 23, 50_000_000], dtype=np.int64)
    n = t.size
    path = tmp_path / "long.bin"
    nmnist.write_events(path, np.arange(n), np.arange(n), np.arange(n) % 2, t)
    raw = path.read_bytes()
    assert len(raw) == 5 * (n + 50_000_000 // 8192)
    assert raw[5 + 1] != 240 and raw[2 * 5 + 1] == 240  # the 8192-µs event follows one overflow record
    np.testing.assert_array_equal(nmnist.read_events(path).time_us, t)
    with pytest.raises(ValueError, match="overflow=True"):
        nmnist.write_events(path, [0], [0], [0], [1 << 23], overflow=False)
    with pytest.raises(ValueError, match="non-decreasing"):
        nmnist.write_events(path, [0, 0], [0, 0], [0, 0], [9000, 10], overflow=True)


def test_reader_applies_overflow_records_written_by_hand(tmp_path):
    raw = record(1, 2, 1, 8000) + bytes([0, 240, 0, 0, 0]) + record(3, 4, 0, 100) + bytes([9, 240, 255, 255, 255]) \
        + record(5, 6, 1, 5)
    path = tmp_path / "hand.bin"
    path.write_bytes(raw)
    ev = nmnist.read_events(path)
    np.testing.assert_array_equal(ev.time_us, [8000, 8192 + 100, 2 * 8192 + 5])
    np.testing.assert_array_equal(ev.x, [1, 3, 5])
    np.testing.assert_array_equal(ev.polarity, [1, 0, 1])


def test_empty_file_has_no_events(tmp_path):
    path = tmp_path / "empty.bin"
    nmnist.write_events(path, [], [], [], [])
    assert path.stat().st_size == 0
    ev = nmnist.read_events(path)
    assert len(ev) == 0 and ev.time_us.dtype == np.int64
    neurons, steps = nmnist.sample_spikes(path, nmnist.pixel_map())
    assert neurons.size == 0 and steps.size == 0


def test_truncated_file_error_names_file_and_size(tmp_path):
    path = tmp_path / "truncated.bin"
    path.write_bytes(record(1, 1, 0, 5) + b"\x01\x02\x03")
    with pytest.raises(eprop.InvalidArgumentError) as info:
        nmnist.read_events(path)
    assert str(path) in str(info.value) and "8 bytes" in str(info.value)
    assert isinstance(info.value, ValueError) and info.value.status == 2
    with pytest.raises(eprop.InvalidArgumentError, match="8 bytes"):
        nmnist.sample_spikes(path, nmnist.pixel_map())


@pytest.mark.parametrize("x, y", [(34, 0), (0, 34), (255, 5), (5, 239)])
def test_bad_coordinates_error_names_file_and_record(tmp_path, x, y):
    path = tmp_path / "bad.bin"
    path.write_bytes(record(1, 1, 0, 5) + record(2, 2, 1, 6) + record(x, y, 1, 7))
    with pytest.raises(eprop.InvalidArgumentError) as info:
        nmnist.read_events(path)
    message = str(info.value)
    assert str(path) in message and "record 2" in message and f"x = {x}" in message and f"y = {y}" in message


def test_missing_file_error_names_file(tmp_path):
    path = tmp_path / "nowhere" / "missing.bin"
    with pytest.raises(eprop.EpropError) as info:
        nmnist.read_events(path)
    assert str(path) in str(info.value) and "cannot open" in str(info.value)
    with pytest.raises(eprop.EpropError, match="missing.bin"):
        nmnist.sample_spikes(path, nmnist.pixel_map())
    with pytest.raises(eprop.InvalidArgumentError, match="NUL"):
        nmnist.read_events("a\0b")


def test_write_events_rejects_bad_values(tmp_path):
    path = tmp_path / "w.bin"
    with pytest.raises(ValueError, match=r"x\[1\]"):
        nmnist.write_events(path, [0, 34], [0, 0], [0, 0], [0, 1])
    with pytest.raises(ValueError, match=r"polarity\[0\]"):
        nmnist.write_events(path, [0], [0], [2], [0])
    with pytest.raises(ValueError, match=r"time_us\[0\]"):
        nmnist.write_events(path, [0], [0], [0], [-1])
    with pytest.raises(ValueError, match="equal length"):
        nmnist.write_events(path, [0, 1], [0], [0], [0])
    with pytest.raises(ValueError, match="whole numbers"):
        nmnist.write_events(path, [0.5], [0], [0], [0])


def test_size_query_protocol_at_the_c_level(tmp_path):
    path = tmp_path / "s.bin"
    nmnist.write_events(path, [1, 2, 3], [4, 5, 6], [0, 1, 0], [10, 20, 30])
    lib = _capi.library()
    n = ctypes.c_int64(-1)
    assert lib.eprop_nmnist_read(str(path).encode(), None, None, None, None, 0, ctypes.byref(n)) == 0
    assert n.value == 3
    small = [np.empty(2, np.uint8) for _ in range(3)] + [np.empty(2, np.int64)]
    status = lib.eprop_nmnist_read(str(path).encode(), *small, 2, ctypes.byref(n))
    assert status == eprop.errors.ERR_BUFFER_TOO_SMALL and n.value == 3
    assert "capacity" in _capi.last_error()
    status = lib.eprop_nmnist_read(str(path).encode(), None, None, None, None, 3, ctypes.byref(n))
    assert status == eprop.errors.ERR_NULL_ARGUMENT and "x" in _capi.last_error()
    assert lib.eprop_nmnist_read(None, None, None, None, None, 0, ctypes.byref(n)) == eprop.errors.ERR_NULL_ARGUMENT
    assert "path" in _capi.last_error()
    assert lib.eprop_nmnist_read(str(path).encode(), None, None, None, None, -1, ctypes.byref(n)) \
        == eprop.errors.ERR_INVALID_ARGUMENT
    assert "capacity" in _capi.last_error()


# ---- Mapping to network input ----------------------------------------------------------------


def test_sample_spikes_match_nests_mapping(tmp_path):
    rng = np.random.default_rng(7)
    x, y, p, t = random_events(rng, 4000)
    t[-1] = 336_040  # step 300
    path = tmp_path / "s.bin"
    nmnist.write_events(path, x, y, p, t)
    blocklist = rng.choice(2312, 1116, replace=False)
    mapping = nmnist.pixel_map(blocklist)
    neurons, steps = nmnist.sample_spikes(path, mapping)
    # The same in NumPy, as NEST's example maps pixels and times (np.round: half to even).
    pixel = p.astype(np.int64) * 1156 + y.astype(np.int64) * 34 + x
    keep = mapping[pixel] >= 0
    want_steps = np.round(t[keep] * 300 / 336040).astype(np.int64)
    want_neurons = mapping[pixel][keep]
    order = np.lexsort((want_neurons, want_steps))
    np.testing.assert_array_equal(steps, want_steps[order])
    np.testing.assert_array_equal(neurons, want_neurons[order])
    assert steps.min() >= 0 and steps.max() == 300
    assert neurons.max() < 1196 and neurons.min() >= 0


def test_sample_spikes_rounding_ties_and_repeats(tmp_path):
    path = tmp_path / "ties.bin"
    # 8401 µs → 7.5 → 8 and 25203 µs → 22.5 → 22 (half to even); a repeated pixel and time
    # gives a repeated pair.
    nmnist.write_events(path, [0, 1, 1, 2], [0, 0, 0, 0], [0, 0, 0, 1], [8401, 25203, 25203, 100])
    neurons, steps = nmnist.sample_spikes(path, nmnist.pixel_map())
    np.testing.assert_array_equal(steps, [0, 8, 22, 22])
    np.testing.assert_array_equal(neurons, [1158, 0, 1, 1])
    neurons, steps = nmnist.sample_spikes(path, nmnist.pixel_map(), n_steps=30, duration_us=30_000)
    np.testing.assert_array_equal(steps, [0, 8, 25, 25])


def test_sample_spikes_argument_errors(tmp_path):
    path = tmp_path / "a.bin"
    nmnist.write_events(path, [0], [0], [0], [400_000])
    with pytest.raises(eprop.InvalidArgumentError, match="later than duration_us"):
        nmnist.sample_spikes(path, nmnist.pixel_map())
    assert nmnist.sample_spikes(path, nmnist.pixel_map(), duration_us=400_000)[1].tolist() == [300]
    with pytest.raises(eprop.InvalidArgumentError, match="n_pixels"):
        nmnist.sample_spikes(path, np.zeros(100, dtype=np.int64))
    bad = nmnist.pixel_map()
    bad[5] = -7
    with pytest.raises(eprop.InvalidArgumentError, match=r"pixel_to_neuron\[5\]"):
        nmnist.sample_spikes(path, bad, duration_us=1e6)
    with pytest.raises(eprop.InvalidArgumentError, match="n_steps"):
        nmnist.sample_spikes(path, nmnist.pixel_map(), n_steps=0)
    with pytest.raises(eprop.InvalidArgumentError, match="duration_us"):
        nmnist.sample_spikes(path, nmnist.pixel_map(), duration_us=float("nan"))


def test_pixel_map():
    m = nmnist.pixel_map()
    np.testing.assert_array_equal(m, np.arange(2312))
    m = nmnist.pixel_map([5, 0, 5, 2311])
    assert m[0] == -1 and m[5] == -1 and m[2311] == -1
    assert m[1] == 0 and m[6] == 4 and m[2310] == 2312 - 3 - 1
    assert (m >= 0).sum() == 2309
    with pytest.raises(ValueError, match="blocklist"):
        nmnist.pixel_map([2312])
    with pytest.raises(ValueError, match="blocklist"):
        nmnist.pixel_map([-1])


# ---- Dataset folders ------------------------------------------------------------------------


def make_folder(root: Path, per_digit=3, split="Train"):
    rng = np.random.default_rng(1)
    for digit in range(10):
        folder = root / split / str(digit)
        folder.mkdir(parents=True)
        for k in range(per_digit):
            # Digit d lights pixel row d (OFF events) so activity differs per pixel.
            n = 20 + k
            nmnist.write_events(folder / f"{k * 5 + digit:05d}.bin", rng.integers(0, 34, n), np.full(n, digit),
                                np.zeros(n, dtype=int), np.sort(rng.integers(0, 300_000, n)))
    (root / split / "README.txt").write_text("not a sample")
    (root / split / "3" / "notes.txt").write_text("not a sample")


def test_dataset_indexing_and_order(tmp_path):
    make_folder(tmp_path)
    ds = nmnist.NMNISTDataset(tmp_path, "Train")
    assert len(ds) == 30
    path, label = ds[0]
    assert label == 0 and path.endswith("Train/0/00000.bin")
    assert ds[-1][1] == 9 and ds[-1][0].endswith("Train/9/00019.bin")
    assert [label for _, label in ds] == sorted(label for _, label in ds)
    assert ds.labels.dtype == np.int64 and len(ds.paths) == 30
    names = [Path(p).name for p, label in ds if label == 4]
    assert names == ["00004.bin", "00009.bin", "00014.bin"]
    assert list(ds) == [ds[i] for i in range(len(ds))]
    assert nmnist.NMNISTDataset(tmp_path, "Train").paths == ds.paths  # deterministic
    with pytest.raises(IndexError):
        ds[30]
    with pytest.raises(FileNotFoundError, match="Test"):
        nmnist.NMNISTDataset(tmp_path, "Test")


def test_dataset_sorts_numbers_numerically(tmp_path):
    folder = tmp_path / "Test" / "1"
    folder.mkdir(parents=True)
    for name in ("10.bin", "9.bin", "100.bin"):
        nmnist.write_events(folder / name, [0], [0], [0], [0])
    ds = nmnist.NMNISTDataset(tmp_path, "Test")
    assert [Path(p).name for p in ds.paths] == ["9.bin", "10.bin", "100.bin"]


def test_activity_blocklist(tmp_path):
    make_folder(tmp_path)
    ds = nmnist.NMNISTDataset(tmp_path, "Train")
    blocked = nmnist.activity_blocklist(ds, n_keep=200, n_samples=30)
    assert blocked.size == 2312 - 200 and np.all(np.diff(blocked) > 0)
    # Only OFF pixels of rows 0 … 9 ever fire: every kept pixel is one of them, or a silent
    # pixel of the lowest indices (ties block the lower index first).
    counts = np.zeros(2312, dtype=np.int64)
    for path, _ in ds:
        counts += np.bincount(nmnist.read_events(path).pixel, minlength=2312)
    kept = np.setdiff1d(np.arange(2312), blocked)
    assert counts[kept].min() >= counts[blocked].max()
    assert np.array_equal(blocked, nmnist.activity_blocklist(ds.paths, n_keep=200, n_samples=30))
    mapping = nmnist.pixel_map(blocked)
    assert (mapping >= 0).sum() == 200
    # A subset of samples spread over all digits.
    few = nmnist.activity_blocklist(ds, n_keep=1196, n_samples=10)
    assert few.size == 1116
    with pytest.raises(ValueError, match="n_keep"):
        nmnist.activity_blocklist(ds, n_keep=5000)


def test_nmnist_module_does_not_touch_ctypes():
    package = Path(eprop.__file__).resolve().parent
    for module in ("nmnist.py", "saccade_mnist.py"):
        tree = ast.parse((package / module).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert all(a.name != "ctypes" for a in node.names), module
            if isinstance(node, ast.ImportFrom):
                assert node.module != "ctypes", module
