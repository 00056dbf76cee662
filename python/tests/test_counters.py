"""Work counters and the energy estimate (issue 6 item 3; docs/energy.md).

The tiny network: 2 inputs → 3 eprop_iaf (eprop_synapse, all to all) → 1 eprop_readout,
feedback readout → recurrent, dt = 1 ms, 12 steps. Input 0 fires at 2, 5, 9 ms (its events
are stamped 3, 6, 10), input 1 at 4 ms (stamp 5). The recurrent neurons spike on a fixed
schedule (ignore_and_spike, offset 3 ms, interval 4 ms: steps 2, 6, 10, stamps 3, 7, 11).
A source's first event integrates nothing; a later one integrates
n = min(cutoff, stamp − previous stamp) steps on every synapse of its row.
"""
import re
from pathlib import Path

import numpy as np
import pytest

import eprop
from eprop import _capi
from eprop.errors import BadPropertyError, BufferTooSmallError, InvalidArgumentError, UnknownNameError

REPO = Path(__file__).resolve().parents[2]


def tiny(optimizer="gradient_descent", each_step=False, batch_size=1, cutoff=float("inf"), threads=1,
         model="eprop_iaf"):
    net = eprop.Network(resolution=1.0, threads=threads)
    inp = net.add_population("input", 2)
    rec = net.add_population(model, 3, C_m=1.0, E_L=0.0, V_m=0.0, V_th=0.5, t_ref=0.0, ignore_and_spike=True,
                             ignore_and_spike_offset=3.0, ignore_and_spike_interval=4.0,
                             eprop_isi_trace_cutoff=cutoff)
    out = net.add_population("eprop_readout", 1, C_m=1.0, E_L=0.0, V_m=0.0)
    net.set_optimizer(type=optimizer, eta=1e-3, optimize_each_step=each_step, batch_size=batch_size)
    net.connect(inp, rec, "eprop_synapse", weights=np.full((3, 2), 0.1))
    net.connect(rec, out, "eprop_synapse", weights=np.array([[0.1, -0.1, 0.2]]))
    net.connect(out, rec, "eprop_learning_signal_connection", weights=np.array([[1.0], [-1.0], [0.5]]))
    inp.set_spike_times([0, 0, 0, 1], [2.0, 5.0, 9.0, 4.0])
    out.set_target([1.0], [0.5])
    out.set_learning_window([1.0], [1.0])
    return net


#: What every set-up shares: 3 × 12 neuron and 12 readout updates, one history entry each,
#: 9 forced spikes, 4 input spikes, learning signals in steps 2 … 11 on 3 feedback synapses,
#: and history rings of 64 slots (3 values per recurrent neuron, 1 per readout).
COMMON = {"neuron_updates": 36, "readout_updates": 12, "history_entries_written": 48, "spikes": 9,
          "input_spikes": 4, "learning_signal_writes": 30, "peak_history_bytes": 3 * 64 * 3 * 8 + 64 * 8}

#: Accumulate-mode gradient descent: input 0 integrates 3 + 4 steps on 3 synapses, each
#: recurrent source 4 + 4 on its readout synapse; one call per synapse per later spike.
#: Synapse state: 28 B (target, w, ē, ē_reg; g stays in a register) read and written per
#: integrated event (2·28 − 4 = 52 B), 12 B per first spike (target and weight), 16 B per
#: feedback write.
ACCUMULATE_GD = dict(COMMON, synaptic_events=21, plastic_events=21, eligibility_steps=21,
                     readout_eligibility_steps=24, presynaptic_trace_steps=31, optimizer_calls=12, weight_writes=12,
                     gradient_descent_steps=12, synapse_state_bytes_touched=12 * 52 + 9 * 12 + 30 * 16)


def expected(**overrides):
    out = {name: 0 for name in eprop.counter_names()}
    out.update(overrides)
    return out


def test_counter_catalogue():
    infos = eprop.work_counters()
    assert [c.index for c in infos] == list(range(len(infos)))
    assert infos[0].name == "neuron_updates" and infos[-1].name == "synapse_state_bytes_touched"
    assert len(infos) == 21
    assert all(c.doc.endswith(".") for c in infos)
    doc = eprop.Network.counters.__doc__
    for c in infos:
        assert f"``{c.name}``" in doc, f"Network.counters docstring misses {c.name}"


def test_counts_by_hand_accumulate_gradient_descent():
    net = tiny()
    net.simulate(12.0)
    assert net.counters() == expected(**ACCUMULATE_GD)


def test_counts_with_cutoff_and_automatic_flush():
    # A 2-step cutoff: input 0 integrates 2 of 3 and 2 of 4 steps and decays the rest in
    # closed form at both spikes; input 1, silent since stamp 5, is flushed automatically at
    # stamp 9 (older than cutoff + 2) and integrates its 2 steps, keeping g (8 B) on its 3
    # synapses for the next spike.
    net = tiny(cutoff=2.0)
    net.simulate(12.0)
    assert net.counters() == expected(**dict(
        ACCUMULATE_GD, automatic_flush_events=1, plastic_events=24, eligibility_steps=18,
        presynaptic_trace_steps=30, trace_decays=6, synapse_state_bytes_touched=15 * 52 + 3 * 8 + 9 * 12 + 30 * 16))


def test_counts_each_step_and_batch():
    net = tiny(each_step=True)
    net.simulate(12.0)
    # One call per integrated synapse-step, every one updating; no g array: 28 B per synapse.
    assert net.counters() == expected(**dict(
        ACCUMULATE_GD, optimizer_calls=45, weight_writes=45, gradient_descent_steps=45,
        synapse_state_bytes_touched=12 * 52 + 9 * 12 + 30 * 16))
    # batch_size 2: a call updates when (step index) // 2 grew: input 0 → rec updates at
    # indices 3, 4 | 6, 8 of 3…5 | 6…9; rec → out at 3, 4, 6 | 8, 10 of 3…6 | 7…10.
    batched = tiny(each_step=True, batch_size=2)
    batched.simulate(12.0)
    assert batched.counters() == expected(**dict(
        ACCUMULATE_GD, optimizer_calls=45, weight_writes=27, gradient_descent_steps=27,
        synapse_state_bytes_touched=12 * 68 + 9 * 12 + 30 * 16))


def test_counts_adam_catch_up():
    # Accumulate-mode Adam catches up skipped indices: input 0 → rec updates at index 5
    # (5 iterations from k = 1) and 9 (4 more), rec → out at 6 (6) and 10 (4). 44 B per synapse.
    net = tiny(optimizer="adam")
    net.simulate(12.0)
    assert net.counters() == expected(**dict(
        ACCUMULATE_GD, gradient_descent_steps=0, adam_steps=3 * 9 + 3 * 10,
        synapse_state_bytes_touched=12 * 84 + 9 * 12 + 30 * 16))


def test_counts_identical_for_1_and_2_threads_and_across_calls():
    nets = [tiny(threads=1, model="eprop_iaf_adapt"), tiny(threads=2, model="eprop_iaf_adapt")]
    for net in nets:
        net.simulate(5.0)
        net.simulate(7.0)
    one, two = (net.counters() for net in nets)
    assert one == two
    assert one["adaptive_eligibility_steps"] == one["eligibility_steps"] == 21
    # Changing the thread count between calls keeps what was counted.
    switched = tiny(model="eprop_iaf_adapt")
    switched.simulate(5.0)
    switched.threads = 2
    switched.simulate(4.0)
    switched.threads = 1
    switched.simulate(3.0)
    assert switched.counters() == one


def test_reset_and_accumulation():
    whole = tiny()
    whole.simulate(12.0)
    split = tiny()
    split.simulate(6.0)
    first = split.counters()
    split.reset_counters()
    after = split.counters()
    assert after == expected(peak_history_bytes=split.memory["history"])
    split.simulate(6.0)
    second = split.counters()
    for name, total in whole.counters().items():
        if name != "peak_history_bytes":
            assert first[name] + second[name] == total, name


def test_peak_history_bytes_grows_with_the_ring():
    # Each-step mode has no automatic flushes: input 0's interval after its only spike stays
    # pending, so the recurrent ring must hold all 200 steps (256 slots).
    net = tiny(each_step=True)
    net.populations[0].set_spike_times([0], [2.0])
    net.simulate(200.0)
    peak = net.counters()["peak_history_bytes"]
    assert peak == 3 * 256 * 3 * 8 + 64 * 8 == net.memory["history"]


def test_energy_is_count_times_operations_times_table():
    net = tiny()
    net.simulate(12.0)
    ops = eprop.energy_operations()
    assert ops["eligibility_steps"] == {"fadd64": 4.0, "fmul64": 6.0, "sram_read_64b": 4.0, "sram_write_64b": 0.0,
                                        "dram_access_64b": 0.0}
    assert ops["synapse_state_bytes_touched"]["dram_access_64b"] == 0.125
    # Adds, by hand: 36·11 (neurons) + 12·6 (readouts) + 9 (spike resets) + 21 (transmissions)
    # + 21·4 (eligibility) + 24 (readout Δg) + 31 (z̄) + 12 (G += g) + 12·2 (G/batch, clamp)
    # + 12 (w − η·G) + 30 (learning signals) = 715 operations.
    zero = {name: 0.0 for name in eprop.DEFAULT_ENERGY_TABLE}
    adds = net.energy(table=dict(zero, fadd64=1.0))
    assert adds["total"] == pytest.approx(715e-12, rel=1e-12)
    assert adds["by_operation"]["fadd64"] == adds["total"]
    # DRAM at 8 pJ per 64-bit access: 1 pJ per byte of synapse state.
    dram = net.energy(table=dict(zero, dram_access_64b=8.0))
    assert dram["total"] == pytest.approx((12 * 52 + 9 * 12 + 30 * 16) * 1e-12, rel=1e-12)
    assert dram["by_counter"]["synapse_state_bytes_touched"] == dram["total"]
    # The override was for that call only.
    assert net.energy_table() == eprop.DEFAULT_ENERGY_TABLE
    # Default table: E = Σ count × operations × pJ, recomputed here from the catalogue.
    full = net.energy()
    counts = net.counters()
    table = eprop.default_energy_table()
    by_hand = sum(counts[c] * sum(n * table[e] for e, n in row.items()) for c, row in ops.items()) * 1e-12
    assert full["total"] == pytest.approx(by_hand, rel=1e-12)
    assert sum(full["by_counter"].values()) == pytest.approx(full["total"], rel=1e-12)
    assert sum(full["by_operation"].values()) == pytest.approx(full["total"], rel=1e-12)
    # A replaced table is used until reset.
    net.set_energy_table(dram_access_64b=2600.0)
    assert net.energy()["by_operation"]["dram_access_64b"] == pytest.approx(2 * full["by_operation"]["dram_access_64b"])
    net.reset_energy_table()
    assert net.energy()["total"] == full["total"]


def test_default_table_is_horowitz_2014():
    table = eprop.DEFAULT_ENERGY_TABLE
    assert table == {"fadd64": 2.0, "fmul64": 12.4, "sram_read_64b": 10.0, "sram_write_64b": 10.0,
                     "dram_access_64b": 1300.0}
    table["fadd64"] = 99.0
    assert eprop.DEFAULT_ENERGY_TABLE["fadd64"] == 2.0   # a fresh copy every time
    docs = {e.name: e.doc for e in eprop.energy_entries()}
    assert "Horowitz" in docs["fadd64"] and "0.9/0.4" in docs["fadd64"]
    assert "1.3–2.6 nJ" in docs["dram_access_64b"]


def test_energy_table_validation_messages():
    net = eprop.Network()
    with pytest.raises(BadPropertyError) as err:
        net.set_energy_table(fadd64=1.0, fmul64=-1.0)
    assert str(err.value) == "energy table entry fmul64 (pJ): must be finite and ≥ 0, got -1"
    assert net.energy_table()["fadd64"] == 2.0, "a failed change changes nothing"
    with pytest.raises(BadPropertyError) as err:
        net.set_energy_table(dram_access_64b=float("inf"))
    assert str(err.value) == "energy table entry dram_access_64b (pJ): must be finite and ≥ 0, got inf"
    with pytest.raises(UnknownNameError) as err:
        net.set_energy_table(fadd32=0.9)
    assert str(err.value) == ("energy table has no entry fadd32; entries are fadd64, fmul64, sram_read_64b, "
                              "sram_write_64b, dram_access_64b")
    with pytest.raises(UnknownNameError):
        net.energy(table={"sram": 1.0})
    with pytest.raises(InvalidArgumentError, match="fadd64: expected a number"):
        net.set_energy_table(fadd64="cheap")
    with pytest.raises(UnknownNameError, match="^energy table has no entry sram; entries are fadd64, "):
        _capi.energy_table_get(net._h, "sram")


def test_c_level_argument_checks():
    net = eprop.Network()
    h = net._h
    out = np.empty(3, np.int64)
    with pytest.raises(BufferTooSmallError) as err:
        _capi.check(_capi.lib.eprop_get_counters(h, out, out.size))
    assert str(err.value) == "capacity: 21 needed, got 3"
    with pytest.raises(InvalidArgumentError) as err:
        _capi.counter_info(21)
    assert str(err.value) == "index: must be in 0..<21 (work counters), got 21"
    with pytest.raises(InvalidArgumentError) as err:
        _capi.energy_operations(-1)
    assert str(err.value) == "counter: must be in 0..<21 (work counters), got -1"
    with pytest.raises(InvalidArgumentError) as err:
        _capi.energy_entry_info(5)
    assert str(err.value) == "index: must be in 0..<5 (energy table entries), got 5"
    total = _capi.c_double()
    small = np.empty(2)
    with pytest.raises(BufferTooSmallError) as err:
        _capi.check(_capi.lib.eprop_energy_estimate(h, _capi.byref(total), small, small.size, None, 0))
    assert str(err.value) == "counter_capacity: 21 needed, got 2"
    _capi.check(_capi.lib.eprop_energy_estimate(h, _capi.byref(total), None, 0, None, 0))
    assert total.value == 0.0


def test_docs_energy_md_mapping_table_matches_library():
    """docs/energy.md's operation table is the library's mapping, row by row."""
    text = (REPO / "docs" / "energy.md").read_text(encoding="utf-8")
    block = text.split("<!-- operations:begin -->")[1].split("<!-- operations:end -->")[0]
    rows = {}
    for line in block.splitlines():
        m = re.match(r"^\|\s*`(\w+)`\s*\|(.*)\|\s*$", line)
        if m:
            cells = [c.strip() for c in m.group(2).split("|")]
            rows[m.group(1)] = [float(c) if c not in ("", "–") else 0.0 for c in cells[:5]]
    entries = [e.name for e in eprop.energy_entries()]
    ops = eprop.energy_operations()
    assert set(rows) == set(ops), "docs/energy.md must list every counter"
    for name, row in ops.items():
        assert rows[name] == [row[e] for e in entries], name
    for c in eprop.work_counters():
        assert f"`{c.name}`" in text
    assert "Horowitz" in text and "ISSCC 2014" in text


# -- The time-driven baseline family (*_bsshslm_2020) -------------------------------------------
#
# 2 inputs → 2 eprop_iaf_bsshslm_2020 (0.6 on the diagonal, 0 off it: 4 synapses) → 1
# eprop_readout_bsshslm_2020 (2 synapses), feedback readout → recurrent (2), dt = 1 ms,
# update interval T = 10 steps, 31 steps. Input 0 fires at 2, 5, 13 ms (stamps 3, 6, 14),
# input 1 at 4 ms (stamp 5); with regular_spike_arrival and V_th 0.5 each arriving 0.6 makes
# its neuron spike (asserted): recurrent 0 at stamps 4, 7, 15, recurrent 1 at stamp 6.
# Spec 10.3: a synapse collects ISIs clipped to its interval end E = t_next + shift (shift 2
# onto recurrent neurons, 3 onto readouts; t_next starts at T) and integrates them (from the
# interval's first event) at the first event after E, then calls the optimizer if it is a spike.
#
#   in 0 → rec (row 2): stamps 3, 6 collect ISI 3; stamp 14 > E = 12 adds min(14, 12) − 6 = 6
#       and integrates 3 + 6 = 9 steps on 2 synapses (18), then one call per synapse (idx 1).
#   in 1 → rec: stamp 5 only: transmitted, nothing integrated.
#   rec 0 → out (row 1): stamps 4, 7 (ISI 3); 15 > E = 13 adds 13 − 7 = 6: 9 readout steps, 1 call.
#   rec 1 → out: stamp 6 only.
# Synapse state (GD: target, w, g, G = 28 B): a transmitted-only event reads target and weight
# (12 B per synapse), one that integrates or calls reads and writes it (2·28 − 4 = 52 B);
# a feedback write 16 B. Learning signals are written to entries step − 3 for steps 3 … 30.
BASELINE = dict(
    neuron_updates=2 * 31, readout_updates=31, spikes=4, input_spikes=4, synaptic_events=8 + 4, plastic_events=8 + 4,
    eligibility_steps=18, readout_eligibility_steps=9, presynaptic_trace_steps=27, optimizer_calls=3, weight_writes=3,
    gradient_descent_steps=3, learning_signal_writes=2 * 28, history_entries_written=2 * 31 + 30,   # readout: t − 1 ≥ 0
    peak_history_bytes=2 * 64 * 3 * 8 + 64 * 8,
    synapse_state_bytes_touched=(3 * 2 * 12 + 3 * 12) + (2 + 1) * 52 + 56 * 16)


def tiny_baseline(optimizer="gradient_descent", model="eprop_iaf_bsshslm_2020", batch_size=1, flush=None,
                  extra_spike=None, threads=1):
    net = eprop.Network(resolution=1.0, threads=threads)
    net.set_kernel(eprop_update_interval=10.0, eprop_learning_window=10.0, eprop_reset_neurons_on_update=True)
    inp = net.add_population("input", 2)
    params = dict(C_m=1.0, E_L=0.0, V_m=0.0, V_th=0.5, t_ref=0.0, regular_spike_arrival=True, tau_m=10.0)
    if flush is not None:
        params["flush_event_send_interval"] = flush
    rec = net.add_population(model, 2, **params)
    out = net.add_population("eprop_readout_bsshslm_2020", 1, C_m=1.0, E_L=0.0, V_m=0.0, tau_m=10.0)
    net.set_synapse_defaults("eprop_synapse_bsshslm_2020", type=optimizer, eta=1e-3, batch_size=batch_size)
    net.connect(inp, rec, "eprop_synapse_bsshslm_2020", np.array([[0.6, 0.0], [0.0, 0.6]]))
    net.connect(rec, out, "eprop_synapse_bsshslm_2020", np.array([[0.1, -0.1]]))
    net.connect(out, rec, "eprop_learning_signal_connection_bsshslm_2020", np.array([[1.0], [-1.0]]))
    ids, times = [0, 0, 0, 1], [2.0, 5.0, 13.0, 4.0]
    if extra_spike is not None:
        ids.append(extra_spike[0])
        times.append(extra_spike[1])
    inp.set_spike_times(ids, times)
    out.set_target([1.0], [0.5])
    spikes = net.record_spikes(rec)
    return net, spikes


def test_baseline_counts_by_hand_gradient_descent():
    net, spikes = tiny_baseline()
    net.simulate(31.0)
    assert spikes.get()[0].tolist() == [4.0, 6.0, 7.0, 15.0] and spikes.get()[1].tolist() == [0, 1, 0, 0]
    assert net.counters() == expected(**BASELINE)


def test_baseline_counts_flush_events():
    # flush_event_send_interval 10 ms: recurrent 1 (last spike in step 5) flushes in steps 15
    # and 25 (stamps 16, 26), recurrent 0 (step 14) in step 24 (stamp 25). On rec → out:
    # stamp 16 > E = 13 integrates min(16, 13) − 6 = 7 steps, no call (a flush); stamp 26
    # follows a flush and is ignored (not counted); stamp 25 > E = 23 integrates 23 − 15 = 8.
    net, _ = tiny_baseline(flush=10.0)
    net.simulate(31.0)
    assert net.counters() == expected(**dict(
        BASELINE, flush_events=3, plastic_events=12 + 2, readout_eligibility_steps=9 + 7 + 8,
        presynaptic_trace_steps=27 + 15, synapse_state_bytes_touched=BASELINE["synapse_state_bytes_touched"] + 2 * 52))


def test_baseline_counts_drop_spikes_at_an_interval_start():
    # Input 1 at 11 ms has stamp 12: (12 − 2) mod 10 = 0, the first step of an interval onto
    # recurrent neurons; NEST's synapse discards it (no transmission, no plasticity).
    net, spikes = tiny_baseline(extra_spike=(1, 11.0))
    net.simulate(31.0)
    assert spikes.get()[0].tolist() == [4.0, 6.0, 7.0, 15.0]
    assert net.counters() == expected(**dict(BASELINE, input_spikes=5))


def test_baseline_counts_adaptive_targets():
    # Adaptation keeps recurrent 0 from firing at stamp 7: rec 0 → out collects one ISI of
    # min(15, 13) − 4 = 9 steps instead of 3 + 6; one transmission fewer.
    net, spikes = tiny_baseline(model="eprop_iaf_adapt_bsshslm_2020")
    net.simulate(31.0)
    assert spikes.get()[0].tolist() == [4.0, 6.0, 15.0]
    assert net.counters() == expected(**dict(
        BASELINE, spikes=3, synaptic_events=11, plastic_events=11, adaptive_eligibility_steps=18,
        synapse_state_bytes_touched=BASELINE["synapse_state_bytes_touched"] - 12))


def test_baseline_counts_batch_and_adam_catch_up():
    # batch_size 2 counts intervals: the calls at interval index 1 do not update (1 // 2 = 0).
    net, _ = tiny_baseline(batch_size=2)
    net.simulate(31.0)
    assert net.counters() == expected(**dict(BASELINE, weight_writes=0, gradient_descent_steps=0))
    # Adam (w, g, G, m, v: 44 B, 2·44 − 4 = 84 B per integrating event), 41 steps, input 0 also
    # at 33 ms (stamp 34 → recurrent 0 fires at stamp 35): in 0 → rec integrates
    # min(34, 22) − 14 = 8 steps on 2 synapses and catches up intervals 2 and 3 (2 Adam steps
    # each); rec 0 → out integrates min(35, 23) − 15 = 8 steps, also 2 Adam steps.
    net, spikes = tiny_baseline(optimizer="adam", extra_spike=(0, 33.0))
    net.simulate(41.0)
    assert spikes.get()[0].tolist() == [4.0, 6.0, 7.0, 15.0, 35.0]
    assert net.counters() == expected(**dict(
        BASELINE, neuron_updates=82, readout_updates=41, spikes=5, input_spikes=5, synaptic_events=15,
        plastic_events=15, eligibility_steps=18 + 16, readout_eligibility_steps=9 + 8, presynaptic_trace_steps=51,
        optimizer_calls=6, weight_writes=6, gradient_descent_steps=0, adam_steps=3 + 2 * 2 + 2,
        learning_signal_writes=2 * 38, history_entries_written=2 * 41 + 40,
        synapse_state_bytes_touched=(3 * 2 * 12 + 3 * 12) + (2 * 2 + 2 * 1) * 84 + 76 * 16))


def test_baseline_counts_identical_for_1_and_2_threads():
    one, _ = tiny_baseline(model="eprop_iaf_adapt_bsshslm_2020", flush=10.0)
    two, _ = tiny_baseline(model="eprop_iaf_adapt_bsshslm_2020", flush=10.0, threads=2)
    one.simulate(31.0)
    two.simulate(13.0)
    two.simulate(18.0)
    assert one.counters() == two.counters()
