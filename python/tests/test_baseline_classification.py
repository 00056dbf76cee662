"""The baseline twin of the N-MNIST tutorial network (eprop.baseline_classification): how it is
built, where its readout window lies, and the work its training does (counters derived by
hand from the recorded spikes and the baseline synapse's update rule, spec 10.3)."""

import math

import numpy as np
import pytest

from eprop import classification as cl
from eprop.baseline_classification import (BaselineTutorialNetwork, baseline_connections)

T = 300  # steps per sample = the update interval
# A small version of the tutorial network, so that training a few samples takes a second.
SMALL = cl.TutorialConfig(n_in=120, n_rec=30, sparsity_in=0.5, sparsity_rec=0.9)


def samples(n, config=SMALL, seed=5):
    src = cl.PoissonSource(n, n_in=config.n_in, n_steps=config.steps, rate_hz=20.0, seed=seed)
    return src, [src.spikes(i) for i in range(n)], [src.label(i) for i in range(n)]


def test_builds_the_tutorial_network_with_baseline_models_and_mapped_parameters():
    cfg = cl.TutorialConfig()           # NEST's tutorial sizes
    base, event = BaselineTutorialNetwork(cfg), cl.TutorialNetwork(cfg)
    net = base.network
    assert (base.recurrent.model, base.readout.model) == ("eprop_iaf_bsshslm_2020", "eprop_readout_bsshslm_2020")
    assert [p.synapse_model for p in net.projections] == ["eprop_synapse_bsshslm_2020"] * 3 + [
        "eprop_learning_signal_connection_bsshslm_2020"]
    assert net.kernel_params == {"eprop_update_interval": 300.0, "eprop_learning_window": 10.0,
                                 "eprop_reset_neurons_on_update": True}
    syn = net.get_synapse_defaults("eprop_synapse_bsshslm_2020")
    assert syn["type"] == "gradient_descent" and syn["batch_size"] == 1 and syn["average_gradient"] is False
    assert syn["eta"] == pytest.approx(5e-3, rel=1e-12)            # eta_event / s² = 5e-7 / 1e-4
    assert math.exp(-1.0 / syn["tau_m_readout"]) == pytest.approx(0.99, rel=1e-14)   # κ of the tutorial
    assert base.recurrent.get("c_reg") == pytest.approx(2.0, rel=1e-12)          # 2/300/s² · s² · 300
    assert base.recurrent.get("regular_spike_arrival") is True
    assert base.readout.get("regular_spike_arrival") is False
    assert base.readout.get("loss") == "mean_squared_error"
    assert base.total_offset == 4 and event.total_offset == 2
    # Same masks and draws; W_out and B in the baseline's parameterization.
    alpha_out = math.exp(-1.0 / 100.0)
    b, e = base.connections(), event.connections()
    for name in ("in", "rec", "out", "feedback"):
        np.testing.assert_array_equal(b[name][0], e[name][0])
        np.testing.assert_array_equal(b[name][1], e[name][1])
    assert [len(b[k][0]) for k in ("in", "rec", "out", "feedback")] == [44_768, 222, 1500, 1500]
    np.testing.assert_array_equal(b["in"][2], e["in"][2])
    np.testing.assert_array_equal(b["rec"][2], e["rec"][2])
    np.testing.assert_allclose(b["out"][2] * (1 - alpha_out), e["out"][2], rtol=1e-14)
    np.testing.assert_allclose(b["feedback"][2] / cfg.scale, e["feedback"][2], rtol=1e-14)
    with pytest.raises(ValueError, match="baseline family"):
        BaselineTutorialNetwork(cfg.replace(model="eprop_iaf_psc_delta"))
    base.close()
    event.close()


def test_readout_window_is_the_last_10_steps_of_each_sample_four_steps_late():
    """The recorded target is non-zero exactly on the samples' window steps (the baseline masks
    outside its kernel window), and the evaluation averages the readout over just those."""
    _, spikes, labels = samples(3)
    for cls, offset in ((BaselineTutorialNetwork, 4), (cl.TutorialNetwork, 2)):
        tnet = cls(SMALL, record_spikes=False)
        rec = tnet.network.record_state(tnet.readout, ["readout_signal", "target_signal"])
        assert tnet.run_group(spikes, labels, eta=SMALL.eta_train) is None
        result = tnet.flush()
        times, data = rec.get()
        on = times[np.any(data[:, 1, :] != 0, axis=1)]
        window = np.concatenate([np.arange(T * g + T - 10, T * g + T) + offset + 1 for g in range(3)])
        np.testing.assert_array_equal(on, window)
        mean = np.stack([data[np.isin(times, window[10 * g:10 * (g + 1)]), 0, :].mean(axis=0) for g in range(3)])
        np.testing.assert_allclose(result.window_mean, mean, rtol=1e-13)
        assert result.labels.tolist() == labels
        assert np.all(np.isfinite(result.losses)) and np.all(result.losses > 0)
        tnet.close()


def _calls(events, shift, drop):
    """Optimizer calls of one baseline synapse (spec 10.3) for its source's (stamp, is_flush)
    events in time order: a flush after a flush is ignored; events at recurrent interval
    starts are dropped; an event stamped after the end E of the synapse's interval updates
    (idx = the event's interval; the optimizer runs only for a spike) and moves E to the end
    of that interval; a spike after a flush within the interval runs the optimizer too."""
    end, prev_flush, n = T + shift, False, 0
    for s, flush in events:
        if (prev_flush and flush) or (drop and (s - shift) % T == 0):
            continue
        if s > end:
            n += not flush
            end = (s - shift) // T * T + T + shift
        elif prev_flush and not flush:
            n += 1
        prev_flush = flush
    return n


def _with_flushes(spike_stamps, n_steps, interval=450):
    """A neuron's events: its spikes and the flushes it sends after ``interval`` steps without
    an event (not armed by a spike in step 0; spec S-4 step 8); the baseline network's
    recurrent and input neurons flush after 1.5 samples."""
    events, steps = [], [int(s) - 1 for s in spike_stamps]
    for i, t in enumerate(steps):
        events.append((t + 1, False))
        stop = steps[i + 1] if i + 1 < len(steps) else n_steps
        f = t + interval
        while t > 0 and f < stop:
            events.append((f + 1, True))
            f += interval
    return events


def test_training_counts_one_update_per_synapse_and_interval():
    src, spikes, labels = samples(6)
    tnet = BaselineTutorialNetwork(SMALL, record_spikes=False)
    spike_recorder = tnet.network.record_spikes(tnet.recurrent)   # (run_group clears its own)
    before = {k: v[2].copy() for k, v in tnet.connections().items()}
    for g in range(2):
        tnet.run_group(spikes[3 * g:3 * g + 3], labels[3 * g:3 * g + 3], eta=SMALL.eta_train)
    result = tnet.flush()
    assert result.n == 3
    c = tnet.network.counters()
    steps = int(round(tnet.network.time))
    assert steps == 6 * T + 4
    # The baseline has no cutoff, no automatic flush, recomputes z̄ for every synapse.
    assert c["trace_decays"] == c["automatic_flush_events"] == c["adam_steps"] == 0
    assert c["presynaptic_trace_steps"] == c["eligibility_steps"] + c["readout_eligibility_steps"] > 0
    assert c["neuron_updates"] == SMALL.n_rec * steps and c["readout_updates"] == SMALL.n_out * steps
    assert c["learning_signal_writes"] == SMALL.n_rec * SMALL.n_out * (steps - 3)
    # Gradient descent, batch 1: every call writes the weight.
    assert c["weight_writes"] == c["optimizer_calls"] == c["gradient_descent_steps"]
    # One call per synapse per later interval in which its source sent a kept spike (plus
    # the spikes that follow a flush), from the recorded spikes.
    inputs = {}
    for g in range(6):
        neurons, steps_in = spikes[g]
        for n, k in zip(neurons, steps_in):
            inputs.setdefault(int(n), set()).add(T * g + int(k) + 2)   # spike time + 1; repeats are one event
    inputs = {n: _with_flushes(sorted(v), steps) for n, v in inputs.items()}
    rec_times, rec_senders = spike_recorder.get()
    rec = {int(n): _with_flushes(rec_times[rec_senders == n], steps) for n in np.unique(rec_senders)}
    assert c["flush_events"] == sum(f for ev in (*rec.values(), *inputs.values()) for _, f in ev)
    assert sum(f for ev in rec.values() for _, f in ev) > 0
    expected = 0
    for name, events, shift, drop in (("in", inputs, 2, True), ("rec", rec, 2, True), ("out", rec, 3, False)):
        rows = np.bincount(tnet.projections[name].connections[0], minlength=SMALL.n_in)
        expected += sum(int(rows[n]) * _calls(ev, shift, drop) for n, ev in events.items())
    assert c["optimizer_calls"] == expected
    n_plastic = sum(len(tnet.projections[k]) for k in ("in", "rec", "out"))
    assert 0 < c["optimizer_calls"] <= n_plastic * 5     # at most once per synapse in intervals 1 … 5
    after = tnet.connections()
    for name in ("in", "rec", "out"):
        assert not np.array_equal(before[name], after[name][2]), name
    np.testing.assert_array_equal(before["feedback"], after["feedback"][2])
    # The event-driven twin on the same samples calls the optimizer at every spike.
    event = cl.TutorialNetwork(SMALL, record_spikes=False)
    for g in range(2):
        event.run_group(spikes[3 * g:3 * g + 3], labels[3 * g:3 * g + 3], eta=SMALL.eta_train)
    event.flush()
    assert event.network.counters()["optimizer_calls"] > 3 * c["optimizer_calls"]
    tnet.close()
    event.close()


def test_eta_maps_to_the_baseline_scale_and_zero_freezes_the_weights():
    _, spikes, labels = samples(4)
    tnet = BaselineTutorialNetwork(SMALL, eta=0.0, record_spikes=False)
    assert tnet.network.get_synapse_defaults("eprop_synapse_bsshslm_2020")["eta"] == 0.0
    w0 = {k: v[2].copy() for k, v in tnet.connections().items()}
    tnet.run_group(spikes[:2], labels[:2], eta=0.0)
    tnet.run_group(spikes[2:], labels[2:], eta=0.0)
    tnet.flush()
    for name, (_, _, w) in tnet.connections().items():
        np.testing.assert_array_equal(w, w0[name])
    assert tnet.network.counters()["weight_writes"] > 0        # the updates ran, with eta 0
    tnet.set_eta(SMALL.eta_train)
    assert tnet.eta == SMALL.eta_train
    assert tnet.network.get_synapse_defaults("eprop_synapse_bsshslm_2020")["eta"] == pytest.approx(
        SMALL.eta_factor, rel=1e-12)
    # Adam is scale-invariant: its eta is passed through.
    adam = SMALL.replace(optimizer={"type": "adam"})
    assert BaselineTutorialNetwork.synapse_eta(adam, 1e-3) == 1e-3
    conns = baseline_connections(SMALL)
    assert set(conns) == {"in", "rec", "out", "feedback"}
    tnet.close()


def test_flush_events_keep_the_history_small_and_change_no_result(monkeypatch):
    """Sparse input (2 Hz): inputs and recurrent neurons fall silent and flush; the weights are
    bit for bit those of a run without any flush, the history ring a fraction of its size."""
    import eprop.baseline_classification as bc

    src = cl.PoissonSource(12, n_in=SMALL.n_in, rate_hz=2.0, rate_hz_active=20.0, seed=2)
    spikes, labels = [src.spikes(i) for i in range(12)], [src.label(i) for i in range(12)]
    runs = {}
    for flush in (bc.FLUSH_INTERVALS, 1e6):
        monkeypatch.setattr(bc, "FLUSH_INTERVALS", flush)
        tnet = BaselineTutorialNetwork(SMALL, record_spikes=False)
        for g in range(3):
            tnet.run_group(spikes[4 * g:4 * g + 4], labels[4 * g:4 * g + 4], eta=SMALL.eta_train)
        tnet.flush()
        runs[flush] = (tnet.connections(), tnet.network.counters()["flush_events"], tnet.network.memory["history"])
        tnet.close()
    (with_flush, n_flush, mem_flush), (without, n_none, mem_none) = runs.values()
    assert n_flush > SMALL.n_in // 2 and n_none == 0
    for name in with_flush:
        np.testing.assert_array_equal(with_flush[name][2], without[name][2])
    assert not np.array_equal(with_flush["in"][2], baseline_connections(SMALL)["in"][2])   # it learned
    assert mem_flush * 4 <= mem_none
