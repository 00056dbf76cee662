"""The N-MNIST tutorial pipeline (eprop.classification, spec 11.2) on tiny synthetic data.

Covers: NEST's random draws and their order, the network built from them, the timing of
inputs, targets and learning windows, NEST's prediction/loss arithmetic, save/load, that a
small 2-class problem is learned, and that eta = 0 freezes every synapse after the one lagged
update of spec 9.4.
"""

from __future__ import annotations

import numpy as np
import pytest

from eprop.classification import (
    CONFIGS,
    PoissonSource,
    SubsetSource,
    TrainingConfig,
    TutorialConfig,
    TutorialNetwork,
    confusion_matrix,
    draw_weights,
    evaluate_window,
    optimizer_parameters,
    recurrent_parameters,
    run_test,
    train,
)

TINY = TutorialConfig(n_in=40, n_rec=30, n_out=2, steps=100, seed=2, eta_factor=5e-2)


def _nest_draws(n_in, n_rec, n_out, seed, s, sparsity=(0.75, 0.99, 0.0)):
    """NEST's draws written out with the global legacy RNG, as the example does (spec 11.2)."""
    np.random.seed(seed)
    w_in = np.random.randn(n_in, n_rec).T / np.sqrt(n_in)
    w_rec = np.random.randn(n_rec, n_rec).T / np.sqrt(n_rec)
    np.fill_diagonal(w_rec, 0.0)
    lim = np.sqrt(3.0 / max(1.0, (n_rec + n_out) / 2.0))
    w_out = np.random.uniform(-lim, lim, size=(n_rec, n_out)).T * s
    b = np.random.randn(n_rec, n_out) / s
    masks = []
    for w, p in zip((w_in, w_rec, w_out), sparsity):
        masks.append(np.random.choice([0, 1], w.shape, p=[p, 1 - p]))
    next_draw = np.random.permutation(10)  # NEST draws the loader permutations next
    return w_in * masks[0], w_rec * masks[1], w_out * masks[2], b, masks, next_draw


def test_tutorial_draws_match_nest_order():
    cfg = CONFIGS["tutorial"]
    w = draw_weights(cfg)
    # NEST computes the scale factor as 1.0 - kappa (not the literal 0.01)
    w_in, w_rec, w_out, b, masks, next_draw = _nest_draws(1196, 150, 10, 1, 1.0 - 0.99)
    assert w.w_in.shape == (150, 1196) and w.w_rec.shape == (150, 150)
    assert w.w_out.shape == (10, 150) and w.feedback.shape == (150, 10)
    for ours, nest in ((w.w_in, w_in), (w.w_rec, w_rec), (w.w_out, w_out), (w.feedback, b),
                       (w.mask_in, masks[0]), (w.mask_rec, masks[1]), (w.mask_out, masks[2])):
        np.testing.assert_array_equal(ours, nest)
    # The RNG continues where NEST's does (next: the data permutations).
    np.testing.assert_array_equal(w.rng.permutation(10), next_draw)
    # A few values straight from the stream: W_in[0, 0] is the first randn / √1196.
    np.random.seed(1)
    first = np.random.randn(3)
    assert w.w_in[0, 0] in (0.0, first[0] / np.sqrt(1196))
    assert w.mask_in[0, 0] == 0 or w.w_in[0, 0] == first[0] / np.sqrt(1196)
    assert np.all(np.diag(w.w_rec) == 0)
    # Sparsities about as in spec 11.2 (≈44,850 / ≈224 / 1500 synapses).
    assert abs(np.count_nonzero(w.w_in) - 44_850) < 600
    assert 150 < np.count_nonzero(w.w_rec) < 300
    assert np.count_nonzero(w.w_out) == 1500
    assert cfg.eta_train == pytest.approx(5e-7, rel=1e-12)
    p = recurrent_parameters(cfg)
    assert p["c_reg"] == pytest.approx(2 / 300 / 0.01**2) and p["flush_event_send_interval"] == 300.0
    assert optimizer_parameters(cfg) == {"type": "gradient_descent", "batch_size": 1, "eta": cfg.eta_train,
                                         "optimize_each_step": False, "Wmin": -100.0, "Wmax": 100.0}


def test_network_holds_the_masked_weights():
    cfg = TutorialConfig(n_in=50, n_rec=20, n_out=10, seed=3, steps=50)
    w_in, w_rec, w_out, b, _, _ = _nest_draws(50, 20, 10, 3, cfg.scale)
    with TutorialNetwork(cfg) as tnet:
        pr = tnet.projections
        np.testing.assert_array_equal(pr["in"].weight_matrix(), w_in)
        np.testing.assert_array_equal(pr["rec"].weight_matrix(), w_rec)
        np.testing.assert_array_equal(pr["out"].weight_matrix(), w_out)
        np.testing.assert_array_equal(pr["feedback"].weight_matrix(), b)
        assert len(pr["in"]) == np.count_nonzero(w_in) and len(pr["rec"]) == np.count_nonzero(w_rec)
        pre, post = pr["rec"].connections
        assert not np.any(pre == post)
        assert tnet.recurrent.get("V_th") == 0.6 and tnet.readout.get("tau_m") == 100.0


def test_inputs_targets_and_windows_timing():
    cfg = TutorialConfig(n_in=4, n_rec=3, n_out=3, steps=20, learning_window=5, seed=1)
    with TutorialNetwork(cfg) as tnet:
        rec_in = tnet.network.record_spikes(tnet.inputs)
        state = tnet.network.record_state(tnet.readout, ["readout_signal", "target_signal"])
        # Sample 0: neuron 0 at step 0, neuron 1 at step 5; sample 1: neuron 2 twice at step 3
        # and neuron 3 at its last step 19, i.e. at the next group's start (in flight there).
        group = [(np.array([0, 1]), np.array([0, 5])), (np.array([2, 2, 3]), np.array([3, 3, 19]))]
        assert tnet.run_group(group, [2, 0], eta=0.0) is None
        res = tnet.run_group(group, [1, 1], eta=0.0)  # second group starts at 40 ms
        last = tnet.flush()
        times, senders = rec_in.get()
        # spike_generator time T0 + 20 g + k + 1; the input neuron fires in that step and is
        # recorded one step later.
        np.testing.assert_array_equal(times, [2, 7, 25, 25, 41, 42, 47, 65, 65, 81])
        np.testing.assert_array_equal(senders, [0, 1, 2, 2, 3, 0, 1, 2, 2, 3])
        assert tnet.dropped_spikes == 0  # the spike at 40 ms survived the next group's schedule
        t, data = state.get()
        y_star = data[:, 1, :]
        y = data[:, 0, :]
        expected = np.zeros_like(y_star)
        for g, label in enumerate([2, 0, 1, 1]):
            # window 1 from T0 + 20 g + 15 + 2: readout steps 17 … 21 of the sample, sample
            # times (step + 1) 18 … 22.
            rows = (t >= 20 * g + 18) & (t <= 20 * g + 22)
            assert np.count_nonzero(rows) == 5
            expected[rows, label] = 1.0
        np.testing.assert_array_equal(y_star, expected)
        outside = ~np.any(expected, axis=1)
        assert np.all(y[outside] == 0.0)  # readout_signal is y·λ
        assert res.labels.tolist() == [2, 0] and last.labels.tolist() == [1, 1]
        assert res.t_start == 0.0 and last.t_start == 40.0


def test_evaluate_window_arithmetic():
    steps, window, n_out = 4, 2, 3
    y = np.zeros((2 * steps, n_out))
    y_star = np.zeros_like(y)
    # sample 0, window rows 2, 3; sample 1, window rows 6, 7 (earlier rows must be ignored)
    y[0] = [9, 9, 9]
    y[2:4] = [[0.2, 0.5, 0.1], [0.4, 0.3, 0.1]]  # window means 0.3, 0.4, 0.1 -> class 1
    y_star[2:4, 0] = 1.0                           # true class 0
    y[6:8] = [[0.0, 0.0, 1.0], [0.0, 0.2, 0.6]]    # -> class 2
    y_star[6:8, 2] = 1.0
    loss, pred, true, wmean = evaluate_window(y, y_star, 2, steps, window)
    np.testing.assert_array_equal(pred, [1, 2])
    np.testing.assert_array_equal(true, [0, 2])
    np.testing.assert_allclose(wmean, [[0.3, 0.4, 0.1], [0.0, 0.1, 0.8]])
    sq0 = ((0.2 - 1) ** 2 + (0.4 - 1) ** 2) + (0.5**2 + 0.3**2) + (0.1**2 + 0.1**2)
    sq1 = 0.2**2 + ((1 - 1) ** 2 + (0.6 - 1) ** 2)
    np.testing.assert_allclose(loss, [0.5 * sq0 / 3, 0.5 * sq1 / 3], rtol=1e-14)
    cm = confusion_matrix([0, 2, 2], [1, 2, 2], 3)
    assert cm.tolist() == [[0, 1, 0], [0, 0, 0], [0, 0, 2]]


def test_evaluate_window_cross_entropy():
    """loss="cross_entropy": −Σ_k y*·log π averaged over the window steps of each sample."""
    steps, window = 3, 2
    y = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.5, 0.5], [0.2, 0.8], [0.1, 0.9]])
    y_star = np.array([[0, 0], [1, 0], [1, 0], [0, 0], [0, 1], [0, 1]], dtype=float)
    loss, pred, true, _ = evaluate_window(y, y_star, 2, steps, window, loss="cross_entropy")
    np.testing.assert_allclose(loss, [-(np.log(0.6) + np.log(0.3)) / 2, -(np.log(0.8) + np.log(0.9)) / 2], rtol=1e-14)
    np.testing.assert_array_equal(pred, [1, 1])
    np.testing.assert_array_equal(true, [0, 1])
    with pytest.raises(ValueError, match="loss"):
        evaluate_window(y, y_star, 2, steps, window, loss="hinge")


def _tiny_source():
    return PoissonSource(400, n_in=TINY.n_in, n_classes=2, n_steps=TINY.steps, rate_hz=5.0, rate_hz_active=80.0,
                         active_fraction=0.3, seed=4)


def test_two_classes_are_learned_above_chance():
    src = _tiny_source()
    train_src, test_src = SubsetSource(src, np.arange(300)), SubsetSource(src, np.arange(300, 400))
    with TutorialNetwork(TINY, eta=0.0) as untrained:
        before = run_test(untrained, test_src, group_size=50, progress=False).accuracy
    with TutorialNetwork(TINY) as tnet:
        hist = train(tnet, train_src, None, TrainingConfig(group_size=20, max_iterations=10, prefetch=False),
                     progress=False)
        assert hist.train_samples == 200 and hist.stop_reason == "10 iterations"
        result = run_test(tnet, test_src, group_size=50, progress=False)
    assert result.n == 100 and result.confusion.sum() == 100
    assert result.accuracy >= 0.85, (before, result.accuracy)
    assert result.accuracy > before + 0.2


def test_two_classes_are_learned_with_cross_entropy_readouts():
    """TutorialConfig(loss="cross_entropy") (eprop's extension): the readouts use the softmax
    error and the reported loss is the cross-entropy (ln 2 = 0.69 at chance). Measured on this
    run: accuracy 0.58 → 1.0, test loss 0.69 → 0.11 (MSE readouts: 0.58 → 0.99)."""
    src = _tiny_source()
    train_src, test_src = SubsetSource(src, np.arange(300)), SubsetSource(src, np.arange(300, 400))
    cfg = TINY.replace(loss="cross_entropy")
    with TutorialNetwork(cfg, eta=0.0) as untrained:
        before = run_test(untrained, test_src, group_size=50, progress=False)
    with TutorialNetwork(cfg) as tnet:
        assert tnet.readout.get("loss") == "cross_entropy"
        train(tnet, train_src, None, TrainingConfig(group_size=20, max_iterations=10, prefetch=False), progress=False)
        result = run_test(tnet, test_src, group_size=50, progress=False)
    assert before.loss == pytest.approx(np.log(2), abs=0.05)
    assert result.accuracy >= 0.9 and result.loss < 0.3, (before.accuracy, result.accuracy, result.loss)


def test_validation_and_early_stopping():
    src = _tiny_source()
    train_src, val_src = SubsetSource(src, np.arange(300)), SubsetSource(src, np.arange(300, 400))
    seen = []
    with TutorialNetwork(TINY) as tnet:
        cfg = TrainingConfig(group_size=20, max_iterations=40, validate_every=3, validation_groups=1,
                             early_stop_window=2, stop_criterion=0.2, prefetch=False)
        hist = train(tnet, train_src, val_src, cfg, progress=False, callback=seen.append)
    assert hist.stop_reason.startswith("early stop")
    val = hist.phase("validation")
    assert len(val) == len(hist.validation_errors) >= 2
    assert np.mean(hist.validation_errors[-2:]) < 0.2
    assert all(r.eta == 0.0 for r in val) and all(r.eta == TINY.eta_train for r in hist.phase("train"))
    # validations before iterations 0, 3, 6, …; the decision lags by one training group
    assert hist.train_samples // 20 <= 3 * (len(val) - 1) + 1
    assert [r.index for r in seen] == sorted(r.index for r in seen)


def test_save_load_round_trip(tmp_path):
    src = _tiny_source()
    with TutorialNetwork(TINY) as tnet:
        train(tnet, SubsetSource(src, np.arange(40)), None, TrainingConfig(group_size=20, max_iterations=2,
                                                                           prefetch=False), progress=False)
        path = tnet.save(tmp_path / "tiny", pixel_map=np.arange(5))
        saved = tnet.connections()
    assert path.suffix == ".npz"
    config, connections, extra = TutorialNetwork.read_file(path)
    assert config == TINY
    np.testing.assert_array_equal(extra["pixel_map"], np.arange(5))
    assert int(extra["samples_seen"]) == 40
    with TutorialNetwork.load(path, eta=0.0) as loaded, TutorialNetwork(TINY, saved, eta=0.0) as direct:
        for name, (pre, post, w) in saved.items():
            lpre, lpost, lw = loaded.connections()[name]
            np.testing.assert_array_equal(lpre, pre)
            np.testing.assert_array_equal(lpost, post)
            np.testing.assert_array_equal(lw, w)  # bit-exact
            assert lw.dtype == np.float64
        # The trained weights differ from the fresh draw, and a loaded network computes
        # exactly what a network given the same weights computes.
        fresh = TutorialNetwork(TINY)
        assert not np.array_equal(fresh.connections()["out"][2], saved["out"][2])
        fresh.close()
        group = [src.spikes(i) for i in range(300, 305)]
        labels = [src.label(i) for i in range(300, 305)]
        a = (loaded.run_group(group, labels, eta=0.0), loaded.flush())[1]
        b = (direct.run_group(group, labels, eta=0.0), direct.flush())[1]
        np.testing.assert_array_equal(a.window_mean, b.window_mean)
        for name in saved:
            np.testing.assert_array_equal(loaded.connections()[name][2], saved[name][2])  # eta 0 from the start


def test_eta_zero_freezes_weights_after_the_lagged_update():
    """Spec 9.4: after eta is set to 0, each synapse's next optimization still applies the
    gradient accumulated in training with the training rate; every later one changes nothing."""
    src = _tiny_source()
    def group(lo):
        return [src.spikes(i) for i in range(lo, lo + 10)], [src.label(i) for i in range(lo, lo + 10)]

    with TutorialNetwork(TINY) as tnet:
        tnet.run_group(*group(0), eta=TINY.eta_train)
        w0 = {k: v[2] for k, v in tnet.connections().items()}
        tnet.run_group(*group(10), eta=0.0)              # test phase, first group: the lagged updates
        spikes_t1 = tnet.spike_recorder.get()             # (recorded from 2 ms into group 1)
        w1 = {k: v[2] for k, v in tnet.connections().items()}
        tnet.run_group(*group(20), eta=0.0)
        tnet.flush()
        w2 = {k: v[2] for k, v in tnet.connections().items()}
        fired_rec = np.unique(spikes_t1[1])
        pre_in = tnet.projections["in"].connections[0]
        assert not np.array_equal(w1["in"], w0["in"])     # the lag: training gradient applied at eta_train
        np.testing.assert_array_equal(w2["in"], w1["in"])  # every input fired in group 1 (5 Hz × 1 s)
        assert set(np.unique(pre_in)) <= set(np.unique(np.concatenate([s[0] for s in group(10)[0]])))
        for name in ("rec", "out"):
            pre = tnet.projections[name].connections[0]
            done = np.isin(pre, fired_rec)
            assert done.any()
            np.testing.assert_array_equal(w2[name][done], w1[name][done])
        np.testing.assert_array_equal(w2["feedback"], w0["feedback"])  # B is static
    # Control: with eta kept at the training rate the same synapses keep changing.
    with TutorialNetwork(TINY) as tnet:
        for lo in (0, 10):
            tnet.run_group(*group(lo), eta=TINY.eta_train)
        w1 = tnet.connections()["in"][2]
        tnet.run_group(*group(20), eta=TINY.eta_train)
        assert not np.array_equal(tnet.connections()["in"][2], w1)
