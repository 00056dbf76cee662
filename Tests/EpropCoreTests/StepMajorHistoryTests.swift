import Testing
@testable import EpropCore

/// A network with dense projections onto its recurrent population (all-to-all inputs,
/// recurrent rows without autapses), whose eight-lane groups of consecutive targets read the
/// step-major history copy when `keepsStepMajorCopies` allows it. Long intervals (rare
/// input spikes, no cutoff) make the history ring grow during the run.
private func runDense(stepMajor: Bool, adam: Bool, threads: Int = 1, prefetchRingBytes: Int = 1 << 21,
                      precision: SynapsePrecision = .double, model: String = "eprop_iaf", wide: Bool = false,
                      readouts: Int = 2)
    throws -> (weights: [UInt64], traces: [UInt64], samples: [UInt64], kept: Bool, grew: Bool, spikes: Int,
               historyBytes: Int) {
    let net = try Network(resolution: 1)
    net.keepsStepMajorCopies = stepMajor
    net.usesWideKernel = wide
    net.synapsePrecision = precision
    try net.setThreads(threads)
    try net.setParallelMinimumWork(0)
    let input = try net.addPopulation(model: "input", size: 30)
    let size = 45   // rows of 45 and 44: groups of 8, tails of 5 and 4
    let rec = try net.addPopulation(model: model, size: size)
    let out = try net.addPopulation(model: "eprop_readout", size: readouts)
    try net.setParameters(rec, [("C_m", 1), ("E_L", 0), ("V_m", 0), ("V_th", 0.3), ("t_ref", 2), ("c_reg", 0.3),
                                ("tau_m", 20), ("surrogate_gradient_height", 0.5), ("surrogate_gradient_width", 0.4)])
    try net.optimizer.setType(adam ? "adam" : "gradient_descent")
    try net.optimizer.set([("eta", 1e-3), ("optimize_each_step", 0)])
    var seed: UInt64 = 21
    func next() -> UInt64 { seed += 1; return seed }
    for (pre, post) in [(input, rec), (rec, rec), (rec, out)] {
        try net.connect(pre: pre, post: post, synapseModel: "eprop_synapse", rule: .allToAll, allowAutapses: false,
                        weights: .normal(mean: 0.04, std: 0.1), seed: next(), delay: 1)
    }
    try net.connect(pre: out, post: rec, synapseModel: "eprop_learning_signal_connection", rule: .allToAll,
                    allowAutapses: true, weights: .normal(mean: 0, std: 1), seed: next(), delay: 1)
    var rng = SeededGenerator(seed: 9)
    var ids: [Int] = [], times: [Double] = []
    for t in 1..<500 { for i in 0..<30 where rng.uniform() < (i < 5 ? 0.002 : 0.05) { ids.append(i); times.append(Double(t)) } }
    try net.setSpikes(input, neurons: ids, times: times)
    // values[readout][time] (neuron-major), of the first `readouts` readouts.
    try net.schedule(.target, out, times: [2, 250], values: Array([1, -0.5, -1, 0.5].prefix(2 * readouts)),
                     neurons: readouts)
    // Open from step 2 to 399: learning signals reach the copy (then none, which skips L·ē).
    try net.schedule(.learningWindow, out, times: [2, 400], values: Array([1, 0, 1, 0].prefix(2 * readouts)),
                     neurons: readouts)
    let state = try net.recordState(rec, recordables: ["V_m", "learning_signal", "surrogate_gradient"],
                                    neurons: [0, 8, size - 1])
    let readout = try net.recordState(out, recordables: ["readout_signal"], neurons: Array(0..<readouts))
    let spikes = try net.recordSpikes(rec)
    for case let p as EpropProjection in net.projections { p.prefetchRingBytes = prefetchRingBytes }
    defer {
        let pairs = net.projections.compactMap { $0 as? EpropProjection }.map { $0.widePairs.load(ordering: .relaxed) }
        #expect(wide == (pairs.reduce(0, +) > 0), "pairs through the AVX-512 kernel: \(pairs)")
    }
    let history = (net.populations[rec] as! RecurrentPopulation).history
    try net.simulate(10)
    let capacity = history.capacity
    try net.simulate(490)
    let weights = net.projections.flatMap { p in (0..<p.count).map { p.weight($0).bitPattern } }
    // values[sample][recordable][neuron]: learning_signal is the second of three recordables.
    let learningSignals = try net.samples(state).values.enumerated().filter { $0.offset % 9 / 3 == 1 }.map(\.element)
    #expect(learningSignals.contains { $0 != 0 }, "learning signals must reach the history")
    let samples = (try net.samples(state).values + net.samples(readout).values).map(\.bitPattern)
    let plastic = net.projections.compactMap { $0 as? EpropProjection }
    let traces = plastic.flatMap { p in (0..<p.count).flatMap { [p.traces($0).eBar.bitPattern, p.traces($0).eBarReg.bitPattern] } }
    return (weights, traces, samples, history.stepMajor != nil, history.capacity > capacity,
            try net.recordedSpikes(spikes).steps.count, history.bytes)
}

/// Reading the step-major copy for groups of consecutive targets gives the same bits as
/// gathering from the per-neuron rings: weights, traces and recordings, with gradient
/// descent and Adam, on one thread and on two, across a growth of the ring.
@Test(arguments: [false, true])
func stepMajorCopyGivesIdenticalResults(adam: Bool) throws {
    let gathered = try runDense(stepMajor: false, adam: adam)
    let sideBySide = try runDense(stepMajor: true, adam: adam)
    #expect(!gathered.kept && sideBySide.kept, "dense rows keep the copy, and only when allowed")
    #expect(sideBySide.grew, "the ring must grow during the run (so growth is covered)")
    #expect(gathered.spikes > 100, "the network must be active (\(gathered.spikes) spikes)")
    #expect(sideBySide.weights == gathered.weights)
    #expect(sideBySide.traces == gathered.traces)
    #expect(sideBySide.samples == gathered.samples)
    let threads = try runDense(stepMajor: true, adam: adam, threads: 2)
    #expect(threads.weights == gathered.weights && threads.traces == gathered.traces && threads.samples == gathered.samples)
    // Single-precision synapses: the same Float bits either way.
    let single = try runDense(stepMajor: false, adam: adam, precision: .single)
    let singleSideBySide = try runDense(stepMajor: true, adam: adam, precision: .single)
    #expect(singleSideBySide.kept && single.weights != gathered.weights)
    #expect(singleSideBySide.weights == single.weights && singleSideBySide.traces == single.traces
            && singleSideBySide.samples == single.samples)
}

/// With one readout (one feedback synapse per neuron) the learning signals are delivered
/// four neurons at a time through the step-major copy: the same bits as neuron by neuron.
@Test func learningSignalsOfOneReadoutThroughTheCopy() throws {
    let gathered = try runDense(stepMajor: false, adam: false, readouts: 1)
    let sideBySide = try runDense(stepMajor: true, adam: false, readouts: 1)
    #expect(!gathered.kept && sideBySide.kept && gathered.spikes > 100)
    #expect(sideBySide.samples == gathered.samples)
    #expect(sideBySide.weights == gathered.weights && sideBySide.traces == gathered.traces)
}

/// Pairs of groups of eight consecutive targets through the AVX-512 kernel (where the CPU
/// has it): the same bits as gathering, with gradient descent and Adam, on one thread and
/// on two.
@Test(.enabled(if: cpuHasAVX512, "needs a CPU with AVX-512"), arguments: [false, true])
func widePairsGiveIdenticalResults(adam: Bool) throws {
    WideKernel.isAvailable = true
    let gathered = try runDense(stepMajor: false, adam: adam)
    let wide = try runDense(stepMajor: true, adam: adam, wide: true)
    #expect(wide.kept && gathered.spikes > 100)
    #expect(wide.weights == gathered.weights)
    #expect(wide.traces == gathered.traces)
    #expect(wide.samples == gathered.samples)
    let threads = try runDense(stepMajor: true, adam: adam, threads: 2, wide: true)
    #expect(threads.weights == gathered.weights && threads.traces == gathered.traces && threads.samples == gathered.samples)
}

/// Adaptive targets (ε) read the copy in groups of four consecutive targets: the same bits.
@Test(arguments: [false, true])
func stepMajorCopyOfAdaptiveTargetsGivesIdenticalResults(adam: Bool) throws {
    let gathered = try runDense(stepMajor: false, adam: adam, model: "eprop_iaf_adapt")
    let sideBySide = try runDense(stepMajor: true, adam: adam, model: "eprop_iaf_adapt")
    #expect(!gathered.kept && sideBySide.kept)
    #expect(gathered.spikes > 100, "the network must be active (\(gathered.spikes) spikes)")
    #expect(sideBySide.weights == gathered.weights)
    #expect(sideBySide.traces == gathered.traces)
    #expect(sideBySide.samples == gathered.samples)
    let threads = try runDense(stepMajor: true, adam: adam, threads: 2, model: "eprop_iaf_adapt")
    #expect(threads.weights == gathered.weights && threads.traces == gathered.traces && threads.samples == gathered.samples)
}

/// A population whose history is larger than the kernel's prefetching threshold (2 MiB,
/// lowered here to 1 KiB) also reads the copy for its groups of consecutive targets (and
/// gathers the others without prefetching), where the gathering kernel prefetches: the
/// same bits.
@Test func stepMajorCopyOfALargeHistoryGivesIdenticalResults() throws {
    let gathered = try runDense(stepMajor: false, adam: false, prefetchRingBytes: 1024)
    let sideBySide = try runDense(stepMajor: true, adam: false, prefetchRingBytes: 1024)
    #expect(sideBySide.kept && sideBySide.historyBytes > 1024, "history \(sideBySide.historyBytes) B")
    #expect(gathered.spikes > 100, "the network must be active (\(gathered.spikes) spikes)")
    #expect(sideBySide.weights == gathered.weights)
    #expect(sideBySide.traces == gathered.traces)
    #expect(sideBySide.samples == gathered.samples)
}

/// The copy holds the ring's entries [slot][channel][neuron]: when it starts (the window is
/// copied), through `write` and `setLearningSignal`, and across growth of the ring.
@Test func stepMajorCopyFollowsTheRing() throws {
    let neurons = 5
    let history = EpropHistory(neurons: neurons, channels: 3, initialCapacity: 8)
    history.oldestNeeded = { _ in 0 }   // keep everything: the ring must grow
    func value(_ j: Int, _ t: Int, _ c: Int) -> Double { Double(1000 * t + 10 * j + c) + 0.5 }
    func check(_ label: String) {
        let slot = history.stepMajorSlotStride
        for t in history.firstStep..<history.endStep {
            for j in 0..<neurons {
                for c in 0..<3 {
                    let ring = history.entry(j, t)[c]
                    let copy = history.stepMajor![(t & (history.capacity - 1)) * slot + c * neurons + j]
                    #expect(ring == value(j, t, c) && copy == ring, "\(label): neuron \(j), step \(t), channel \(c)")
                }
            }
        }
    }
    for t in 0..<6 {
        history.append(t)
        for j in 0..<neurons { history.write(j, t, value(j, t, 0), value(j, t, 1), value(j, t, 2)) }
    }
    try history.keepStepMajorCopy(true)
    check("after starting the copy")
    let bytes = history.bytes
    for t in 6..<40 {
        history.append(t)
        for j in 0..<neurons {
            history.write(j, t, value(j, t, 0), 0, value(j, t, 2))
            history.setLearningSignal(j, t, value(j, t, 1))
        }
    }
    #expect(history.capacity >= 40 && history.bytes > bytes)
    check("after growing")
    #expect(history.bytes == 2 * neurons * history.capacity * 3 * 8, "both copies are counted")
    try history.keepStepMajorCopy(false)
    #expect(history.stepMajor == nil && history.bytes == neurons * history.capacity * 3 * 8)
}

/// Dense rows (all-to-all, or without autapses) are mostly runs of eight consecutive
/// targets; random sparse rows are not.
@Test func rowsOfConsecutiveTargets() throws {
    func rows(_ rule: ConnectionRule, sources: Int, targets: Int, autapses: Bool) throws -> Connectivity {
        let net = try Network(resolution: 1)
        let a = try net.addPopulation(model: "eprop_iaf", size: sources)
        let b = sources == targets ? a : try net.addPopulation(model: "eprop_iaf", size: targets)
        try net.connect(pre: a, post: b, synapseModel: "eprop_synapse", rule: rule, allowAutapses: autapses,
                        weights: .constant(0.1), seed: 3, delay: 1)
        return net.projections[0].connectivity
    }
    #expect(EpropHistory.rowsMostlyConsecutive([try rows(.allToAll, sources: 20, targets: 100, autapses: true)]))
    #expect(EpropHistory.rowsMostlyConsecutive([try rows(.allToAll, sources: 100, targets: 100, autapses: false)]))
    #expect(!EpropHistory.rowsMostlyConsecutive([try rows(.pairwiseBernoulli(p: 0.25), sources: 100, targets: 150,
                                                          autapses: true)]))
    // Rows of fewer than eight synapses have no groups of eight.
    #expect(!EpropHistory.rowsMostlyConsecutive([try rows(.allToAll, sources: 50, targets: 7, autapses: true)]))
    #expect(!EpropHistory.rowsMostlyConsecutive([]))
}
