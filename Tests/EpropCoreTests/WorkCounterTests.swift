import Testing
@testable import EpropCore

/// Work counters (issue 6 item 3) on a network small enough to count by hand:
/// 2 inputs → 3 recurrent (eprop_synapse, all to all) → 1 readout (eprop_synapse), feedback
/// readout → recurrent, dt = 1 ms, 12 steps.
///
/// Inputs: neuron 0 at 2, 5, 9 ms, neuron 1 at 4 ms; a spike_generator time T makes the
/// input fire in step T, so its events reach the synapses stamped 3, 6, 10 and 5.
/// Recurrent: ignore_and_spike with offset 3 ms and interval 4 ms: every neuron spikes in
/// steps 2, 6, 10 (stamps 3, 7, 11). A source's first event integrates nothing; a later
/// one integrates n = min(cutoff, stamp − previous stamp) steps on every synapse of its row.
private struct Setup {
    var model = "eprop_iaf"
    var eachStep = false
    var adam = false
    var batch = 1
    var cutoff = Double.infinity
    var recurrentFlush = Double.infinity
    var threads = 1
}

private func tiny(_ s: Setup) throws -> Network {
    let net = try Network(resolution: 1)
    try net.setThreads(s.threads)
    try net.setParallelMinimumWork(0)
    let input = try net.addPopulation(model: "input", size: 2)
    let rec = try net.addPopulation(model: s.model, size: 3)
    let out = try net.addPopulation(model: "eprop_readout", size: 1)
    try net.setParameters(rec, [("C_m", 1), ("E_L", 0), ("V_m", 0), ("V_th", 0.5), ("t_ref", 0),
                                ("ignore_and_spike", 1), ("ignore_and_spike_offset", 3), ("ignore_and_spike_interval", 4),
                                ("eprop_isi_trace_cutoff", s.cutoff), ("flush_event_send_interval", s.recurrentFlush)])
    try net.setParameters(out, [("C_m", 1), ("E_L", 0), ("V_m", 0)])
    try net.optimizer.setType(s.adam ? "adam" : "gradient_descent")
    try net.optimizer.set([("eta", 1e-3), ("optimize_each_step", s.eachStep ? 1 : 0), ("batch_size", Double(s.batch))])
    try net.connect(input, rec, "eprop_synapse", pre: [0, 0, 0, 1, 1, 1], post: [0, 1, 2, 0, 1, 2],
                    weights: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    try net.connect(rec, out, "eprop_synapse", pre: [0, 1, 2], post: [0, 0, 0], weights: [0.1, -0.1, 0.2])
    try net.connect(out, rec, "eprop_learning_signal_connection", pre: [0, 0, 0], post: [0, 1, 2], weights: [1, -1, 0.5])
    try net.setSpikes(input, neurons: [0, 0, 0, 1], times: [2, 5, 9, 4])
    try net.schedule(.target, out, times: [1], values: [0.5])
    try net.schedule(.learningWindow, out, times: [1], values: [1])
    return net
}

private func counts(_ net: Network) -> [String: Int64] {
    Dictionary(uniqueKeysWithValues: zip(WorkCounter.allCases.map(\.name), net.counterValues()))
}

/// The counts every set-up of the tiny network shares (history rings: 64 slots of 3
/// values per recurrent neuron, 64 of 1 for the readout).
private let common: [String: Int64] = [
    "neuron_updates": 36, "readout_updates": 12, "history_entries_written": 48,
    "spikes": 9, "input_spikes": 4, "learning_signal_writes": 30,   // steps 2 … 11 read entry t − 2
    "peak_history_bytes": 3 * 64 * 3 * 8 + 64 * 8,
]

private func expectCounts(_ net: Network, _ expected: [String: Int64], sourceLocation: SourceLocation = #_sourceLocation) {
    let got = counts(net)
    for c in WorkCounter.allCases {
        let want = expected[c.name] ?? common[c.name] ?? 0
        #expect(got[c.name] == want, "\(c.name)", sourceLocation: sourceLocation)
    }
}

@Test func countersOfAccumulateGradientDescent() throws {
    let net = try tiny(Setup())
    try net.simulate(12)
    // input → rec: source 0 (stamps 3, 6, 10) integrates 3 + 4 steps on 3 synapses, source 1
    // (stamp 5) only transmits. rec → out: each of 3 sources (3, 7, 11) integrates 4 + 4.
    // One optimizer call per synapse per later spike. Synapse state (28 B: target, w, ē,
    // ē_reg; g stays in a register) read and written: 2·28 − 4 = 52 B per integrated event,
    // 12 B (target, weight) per first spike, 16 B per learning-signal write.
    expectCounts(net, [
        "synaptic_events": 12 + 9, "plastic_events": 12 + 9,
        "eligibility_steps": 3 * (3 + 4), "readout_eligibility_steps": 3 * (4 + 4),
        "presynaptic_trace_steps": (3 + 4) + 3 * (4 + 4),
        "optimizer_calls": 6 + 6, "weight_writes": 12, "gradient_descent_steps": 12,
        "synapse_state_bytes_touched": (6 + 6) * 52 + (6 + 3) * 12 + 30 * 16,
    ])
}

@Test func countersWithCutoffAndAutomaticFlush() throws {
    let net = try tiny(Setup(cutoff: 2))
    try net.simulate(12)
    // input → rec with a 2-step cutoff: source 0 integrates 2 of 3 steps (decay 1) and 2 of
    // 4 (decay 2) — closed-form decays at both spikes. Source 1, silent since stamp 5, gets
    // an automatic flush at stamp 9 (age 9 − 4 > cutoff + 2) integrating its 2 steps; its
    // 3 synapses keep their g (8 B each) for the next spike.
    expectCounts(net, [
        "automatic_flush_events": 1,
        "synaptic_events": 12 + 9, "plastic_events": 12 + 3 + 9,
        "eligibility_steps": 3 * (2 + 2) + 3 * 2, "readout_eligibility_steps": 24,
        "presynaptic_trace_steps": (2 + 2 + 2) + 24, "trace_decays": 3 + 3,
        "optimizer_calls": 12, "weight_writes": 12, "gradient_descent_steps": 12,
        "synapse_state_bytes_touched": (6 + 3 + 6) * 52 + 3 * 8 + 9 * 12 + 30 * 16,
    ])
}

@Test func countersOfRecurrentFlushEvents() throws {
    let net = try tiny(Setup(recurrentFlush: 2))
    try net.simulate(12)
    // Every recurrent neuron flushes 2 steps after its spikes of steps 2 and 6 (steps 4, 8):
    // rec → out sources see 3, 5F, 7, 9F, 11 and integrate 2 steps at each later event; g
    // is written at each flush and read at the spike after it (8 B each, 4 per synapse).
    expectCounts(net, [
        "flush_events": 6,
        "synaptic_events": 12 + 9, "plastic_events": 12 + 15,
        "eligibility_steps": 21, "readout_eligibility_steps": 3 * 8,
        "presynaptic_trace_steps": 7 + 24,
        "optimizer_calls": 12, "weight_writes": 12, "gradient_descent_steps": 12,
        "synapse_state_bytes_touched": (6 + 12) * 52 + 12 * 8 + 9 * 12 + 30 * 16,
    ])
}

@Test func countersOfOptimizeEachStep() throws {
    // Each step: one call per integrated synapse-step; with batch 1 each one updates.
    // No g array: 28 B per synapse, 52 B per integrated event.
    let net = try tiny(Setup(eachStep: true))
    try net.simulate(12)
    expectCounts(net, [
        "synaptic_events": 21, "plastic_events": 21, "eligibility_steps": 21, "readout_eligibility_steps": 24,
        "presynaptic_trace_steps": 31, "optimizer_calls": 45, "weight_writes": 45, "gradient_descent_steps": 45,
        "synapse_state_bytes_touched": 12 * 52 + 9 * 12 + 30 * 16,
    ])
    // batch_size 2: a call updates when (step index)/2 has grown. Source 0 → rec: indices
    // 3, 4, 5 | 6, 7, 8, 9 update at 3, 4 | 6, 8; rec → out: 3, 4, 5, 6 | 7, 8, 9, 10 update
    // at 3, 4, 6 | 8, 10. G is kept per synapse: 36 B, 68 B per event.
    let batched = try tiny(Setup(eachStep: true, batch: 2))
    try batched.simulate(12)
    expectCounts(batched, [
        "synaptic_events": 21, "plastic_events": 21, "eligibility_steps": 21, "readout_eligibility_steps": 24,
        "presynaptic_trace_steps": 31, "optimizer_calls": 45, "weight_writes": 3 * 4 + 3 * 5,
        "gradient_descent_steps": 27, "synapse_state_bytes_touched": 12 * 68 + 9 * 12 + 30 * 16,
    ])
}

@Test func countersOfAdamCatchUp() throws {
    // Accumulate-mode Adam catches up on skipped step indices: source 0 → rec optimizes
    // at index 5 (5 iterations from k = 1) and 9 (4 more); rec → out at 6 (6) and 10 (4).
    // 44 B per synapse (w, ē, ē_reg, m, v, target): 84 B per integrated event.
    let net = try tiny(Setup(adam: true))
    try net.simulate(12)
    expectCounts(net, [
        "synaptic_events": 21, "plastic_events": 21, "eligibility_steps": 21, "readout_eligibility_steps": 24,
        "presynaptic_trace_steps": 31, "optimizer_calls": 12, "weight_writes": 12,
        "adam_steps": 3 * (5 + 4) + 3 * (6 + 4),
        "synapse_state_bytes_touched": 12 * 84 + 9 * 12 + 30 * 16,
    ])
}

@Test func countersOfAdaptiveTargets() throws {
    // ε per synapse into adaptive targets: 36 B, 68 B per integrated event.
    let net = try tiny(Setup(model: "eprop_iaf_adapt"))
    try net.simulate(12)
    expectCounts(net, [
        "synaptic_events": 21, "plastic_events": 21, "eligibility_steps": 21, "adaptive_eligibility_steps": 21,
        "readout_eligibility_steps": 24, "presynaptic_trace_steps": 31,
        "optimizer_calls": 12, "weight_writes": 12, "gradient_descent_steps": 12,
        "synapse_state_bytes_touched": 6 * 68 + 6 * 52 + 9 * 12 + 30 * 16,
    ])
}

@Test func staticSynapsesCountMultiplicity() throws {
    let net = try Network(resolution: 1)
    let input = try net.addPopulation(model: "input", size: 2)
    let rec = try net.addPopulation(model: "eprop_iaf", size: 3)
    try net.connect(input, rec, "static_synapse", pre: [0, 0, 1], post: [0, 2, 1], weights: [1, 1, 1])
    // Neuron 0 spikes twice at 3 ms (one event of multiplicity 2) and at 6 ms; neuron 1 once.
    try net.setSpikes(input, neurons: [0, 0, 0, 1], times: [3, 3, 6, 7])
    try net.simulate(10)
    let got = counts(net)
    #expect(got["input_spikes"] == 4)
    #expect(got["synaptic_events"] == Int64(2 * 2 + 2 + 1))
    #expect(got["synapse_state_bytes_touched"] == Int64(7 * 12))
    #expect(got["plastic_events"] == 0 && got["eligibility_steps"] == 0 && got["optimizer_calls"] == 0)
    #expect(got["neuron_updates"] == 30 && got["spikes"] == 0)
}

@Test func countersAccumulateAcrossCallsAndReset() throws {
    let whole = try tiny(Setup())
    try whole.simulate(6)
    try whole.simulate(6)
    let split = try tiny(Setup())
    try split.simulate(6)
    let first = split.counterValues()
    split.resetCounters()
    let afterReset = split.counterValues()
    for c in WorkCounter.allCases {
        #expect(afterReset[c.rawValue] == (c.isMaximum ? Int64(split.historyBytes) : 0), "\(c.name) after reset")
    }
    try split.simulate(6)
    let second = split.counterValues()
    for c in WorkCounter.allCases where !c.isMaximum {
        #expect(first[c.rawValue] + second[c.rawValue] == whole.counterValues()[c.rawValue], "\(c.name)")
    }
    expectCounts(whole, ["synaptic_events": 21, "eligibility_steps": 21, "readout_eligibility_steps": 24,
                         "plastic_events": 21, "presynaptic_trace_steps": 31, "optimizer_calls": 12,
                         "weight_writes": 12, "gradient_descent_steps": 12,
                         "synapse_state_bytes_touched": 12 * 52 + 9 * 12 + 30 * 16])
}

@Test func peakHistoryBytesFollowsTheRings() throws {
    // optimize_each_step has no automatic flushes: input 0's interval after its only spike
    // (stamp 3) stays pending, so the recurrent ring grows to hold 200 steps (256 slots).
    let net = try tiny(Setup(eachStep: true))
    try net.setSpikes(0, neurons: [0], times: [2])
    try net.simulate(200)
    let peak = net.counterValues()[WorkCounter.peakHistoryBytes.rawValue]
    #expect(peak == Int64(3 * 256 * 3 * 8 + 64 * 8))
    #expect(peak == Int64(net.historyBytes))
    net.resetCounters()
    #expect(net.counterValues()[WorkCounter.peakHistoryBytes.rawValue] == peak)
}

@Test(arguments: [false, true])
func countsAreIdenticalForAnyThreadCount(eachStep: Bool) throws {
    func run(_ threads: Int) throws -> [Int64] {
        let net = try Network(resolution: 1)
        try net.setThreads(threads)
        try net.setParallelMinimumWork(0)
        let input = try net.addPopulation(model: "input", size: 20)
        let rec = try net.addPopulation(model: "eprop_iaf_adapt", size: 37)
        let out = try net.addPopulation(model: "eprop_readout", size: 3)
        try net.setParameters(input, [("flush_event_send_interval", 30)])
        try net.setParameters(rec, [("C_m", 1), ("E_L", 0), ("V_m", 0), ("V_th", 0.2), ("t_ref", 2),
                                    ("eprop_isi_trace_cutoff", 20), ("flush_event_send_interval", 40)])
        let taus = (0..<37).map { 15.0 + Double($0 % 5) }
        try taus.withUnsafeBufferPointer { try net.setParameterArray(rec, "tau_m", $0) }
        try net.optimizer.setType("adam")
        try net.optimizer.set([("optimize_each_step", eachStep ? 1 : 0), ("batch_size", 3)])
        var seed: UInt64 = 10
        for (pre, post, p) in [(input, rec, 0.4), (rec, rec, 0.3), (rec, out, 1.0)] {
            seed += 1
            try net.connect(pre: pre, post: post, synapseModel: "eprop_synapse", rule: .pairwiseBernoulli(p: p),
                            allowAutapses: false, weights: .normal(mean: 0.05, std: 0.1), seed: seed, delay: 1)
        }
        try net.connect(pre: input, post: rec, synapseModel: "static_synapse", rule: .fixedIndegree(k: 2, multapses: true),
                        allowAutapses: true, weights: .constant(0.05), seed: 20, delay: 1)
        try net.connect(pre: out, post: rec, synapseModel: "eprop_learning_signal_connection", rule: .allToAll,
                        allowAutapses: true, weights: .normal(mean: 0, std: 1), seed: 21, delay: 1)
        var rng = SeededGenerator(seed: 5)
        var ids: [Int] = [], times: [Double] = []
        for t in 1..<250 { for i in 0..<20 where rng.uniform() < 0.06 { ids.append(i); times.append(Double(t)) } }
        try net.setSpikes(input, neurons: ids, times: times)
        try net.simulate(120)
        try net.simulate(130)
        return net.counterValues()
    }
    let one = try run(1)
    #expect(one[WorkCounter.spikes.rawValue] > 20, "the network must be active")
    #expect(one[WorkCounter.learningSignalWrites.rawValue] == 248 * 3 * 37)
    for threads in [2, 3] { #expect(try run(threads) == one, "\(threads) threads") }
}

@Test func energyIsCountTimesOperationsTimesTable() throws {
    let net = try tiny(Setup())
    try net.simulate(12)
    // One-hot tables pick out one operation: adds of the accumulate GD run, by hand:
    // 36·11 (neurons) + 12·6 (readouts) + 9 (spike resets) + 21 (transmissions)
    // + 21·4 (eligibility) + 24 (readout Δg) + 31 (z̄) + 12 (G += g) + 12·2 (G/batch clamp)
    // + 12 (w − η·G) + 30 (learning signals) = 715.
    var adds = EnergyTable()
    try adds.set([("fadd64", 1), ("fmul64", 0), ("sram_read_64b", 0), ("sram_write_64b", 0), ("dram_access_64b", 0)])
    #expect(abs(net.energyEstimate(table: adds).total - 715e-12) < 1e-24)
    // DRAM at 8 pJ per 64-bit access: 1 pJ per byte of synapse state.
    var dram = EnergyTable()
    try dram.set([("fadd64", 0), ("fmul64", 0), ("sram_read_64b", 0), ("sram_write_64b", 0), ("dram_access_64b", 8)])
    let bytes = Double(12 * 52 + 9 * 12 + 30 * 16)
    let estimate = net.energyEstimate(table: dram)
    #expect(abs(estimate.total - bytes * 1e-12) < 1e-24)
    #expect(estimate.perCounter[WorkCounter.synapseStateBytesTouched.rawValue] == estimate.total)
    // Default table: the parts add up, per counter and per operation.
    let full = net.energyEstimate()
    #expect(abs(full.perCounter.reduce(0, +) - full.total) <= 1e-12 * full.total)
    #expect(abs(full.perEntry.reduce(0, +) - full.total) <= 1e-12 * full.total)
    #expect(abs(full.perEntry[0] - 715 * 2.0e-12) < 1e-20)
    #expect(abs(full.perEntry[4] - bytes / 8 * 1300e-12) < 1e-18)
}

@Test func energyTableValidation() throws {
    var table = EnergyTable()
    #expect(table.picojoules == [2.0, 12.4, 10, 10, 1300])
    do {
        try table.set([("fadd64", 1), ("fmul64", -1)])
        Issue.record("expected an error")
    } catch {
        #expect(error.status == .badProperty)
        #expect(error.message == "energy table entry fmul64 (pJ): must be finite and ≥ 0, got -1")
    }
    #expect(table.picojoules[0] == 2.0, "a failed set changes nothing")
    do {
        try table.set([("fadd32", 1)])
        Issue.record("expected an error")
    } catch {
        #expect(error.status == .unknownName)
        #expect(error.message == "energy table has no entry fadd32; entries are fadd64, fmul64, sram_read_64b, sram_write_64b, dram_access_64b")
    }
    #expect(throws: EpropError.self) { try table.set([("dram_access_64b", .infinity)]) }
    #expect(throws: EpropError.self) { try table.set([("dram_access_64b", .nan)]) }
}

@Test func counterCatalogueIsStable() {
    // The indices are the C ABI: appending is fine, reordering is not.
    #expect(WorkCounter.allCases.map(\.name) == [
        "neuron_updates", "readout_updates", "spikes", "input_spikes", "flush_events", "automatic_flush_events",
        "synaptic_events", "plastic_events", "eligibility_steps", "adaptive_eligibility_steps",
        "readout_eligibility_steps", "presynaptic_trace_steps", "trace_decays", "optimizer_calls", "weight_writes",
        "gradient_descent_steps", "adam_steps", "learning_signal_writes", "history_entries_written",
        "peak_history_bytes", "synapse_state_bytes_touched",
    ])
    for c in WorkCounter.allCases { #expect(c.operations.count == EnergyTable.entries.count, "\(c.name)") }
}
