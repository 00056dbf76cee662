import Testing
@testable import EpropCore

/// Per-synapse storage of eprop_synapse (issue 5, memory): the bytes each configuration
/// holds, the pending gradients that replace a per-synapse g, and single precision.

/// input (flushing every `flush` ms) → eprop_iaf(_adapt) → eprop_readout, every projection
/// plastic; inputs spike periodically (period 100 ms), so the activity repeats.
private func network(adam: Bool = false, eachStep: Bool = false, batch: Int = 1, adaptive: Bool = false,
                     precision: SynapsePrecision = .double, flush: Double = 20) throws -> Network {
    let net = try Network(resolution: 1)
    net.synapsePrecision = precision
    let input = try net.addPopulation(model: "input", size: 20)
    let rec = try net.addPopulation(model: adaptive ? "eprop_iaf_adapt" : "eprop_iaf", size: 30)
    let out = try net.addPopulation(model: "eprop_readout", size: 2)
    try net.setParameters(input, [("flush_event_send_interval", flush)])
    try net.setParameters(rec, [("C_m", 1), ("E_L", 0), ("V_m", 0), ("V_th", 0.1), ("t_ref", 0), ("c_reg", 0.2),
                                ("surrogate_gradient_height", 1), ("surrogate_gradient_width", 0.5),
                                ("eprop_isi_trace_cutoff", 30), ("flush_event_send_interval", flush)])
    try net.setParameters(out, [("C_m", 1), ("E_L", 0), ("V_m", 0), ("eprop_isi_trace_cutoff", 30)])
    try net.optimizer.setType(adam ? "adam" : "gradient_descent")
    try net.optimizer.set([("eta", 1e-3), ("optimize_each_step", eachStep ? 1 : 0), ("batch_size", Double(batch))])
    for (pre, post, p, seed) in [(input, rec, 0.5, 1), (rec, rec, 0.3, 2), (rec, out, 1.0, 3)] {
        try net.connect(pre: pre, post: post, synapseModel: "eprop_synapse", rule: .pairwiseBernoulli(p: p),
                        allowAutapses: false, weights: .normal(mean: 0.05, std: 0.05), seed: UInt64(seed), delay: 1)
    }
    try net.connect(pre: out, post: rec, synapseModel: "eprop_learning_signal_connection", rule: .allToAll,
                    allowAutapses: true, weights: .normal(mean: 0, std: 1), seed: 4, delay: 1)
    var rng = SeededRandom(seed: 5)
    var pattern: [(Int, Double)] = []
    for t in 1..<100 { for i in 0..<20 where rng.uniform() < 0.03 { pattern.append((i, Double(t))) } }
    var ids: [Int] = [], times: [Double] = []
    for period in 0..<20 { for (i, t) in pattern { ids.append(i); times.append(t + 100 * Double(period)) } }
    try net.setSpikes(input, neurons: ids, times: times)
    try net.schedule(.target, out, times: [1], values: [0.5, -0.5], neurons: 2)
    try net.schedule(.learningWindow, out, times: [1], values: [1, 1], neurons: 2)
    return net
}

private func eprop(_ net: Network) -> [EpropProjection] { net.projections.compactMap { $0 as? EpropProjection } }

/// Bytes per plastic synapse, target included, for each optimizer set-up and precision:
/// the ≤ 48 B target for Adam in double precision and ≤ 24 B in single precision.
@Test func bytesPerSynapseByConfiguration() throws {
    // (adam, each step, batch, adaptive target, precision) → bytes of the input → rec synapses
    let cases: [(Bool, Bool, Int, Bool, SynapsePrecision, Int)] = [
        (false, false, 1, false, .double, 28), (false, true, 1, false, .double, 28),
        (true, false, 1, false, .double, 44), (true, true, 1, false, .double, 44),
        (true, false, 3, false, .double, 52), (false, false, 1, true, .double, 36),
        (true, false, 1, true, .double, 52),
        (false, false, 1, false, .single, 16), (true, false, 1, false, .single, 24),
        (true, true, 1, false, .single, 24), (true, false, 3, false, .single, 28),
        (true, false, 1, true, .single, 28),
    ]
    for (adam, each, batch, adaptive, precision, bytes) in cases {
        let net = try network(adam: adam, eachStep: each, batch: batch, adaptive: adaptive, precision: precision)
        try net.simulate(50)
        let p = eprop(net)[0]
        let label = "adam \(adam) each \(each) batch \(batch) adaptive \(adaptive) \(precision.name)"
        #expect(p.precision == precision, "\(label)")
        #expect(p.bytesPerSynapse == bytes, "\(label): \(p.bytesPerSynapse) B")
        #expect(MemoryModel.plasticSynapseBytes(adam: adam, batch: batch, adaptiveTarget: adaptive,
                                                heterogeneousTauM: false, precision: precision) == bytes, "\(label)")
    }
}

/// A source holds a pending-gradient block exactly while its last event was a flush
/// (accumulate mode); the pool stops growing once the activity repeats.
@Test func pendingGradientsLiveBetweenAFlushAndTheNextSpike() throws {
    let net = try network(flush: 5)
    let inputs = eprop(net)[0]
    var capacities: [Int] = []
    for _ in 0..<6 {
        for _ in 0..<100 {
            try net.simulate(1)
            var pending = 0
            for s in 0..<inputs.connectivity.sources {
                let row = inputs.connectivity.rowStart[s + 1] - inputs.connectivity.rowStart[s]
                let holds = inputs.pending.slot[s] >= 0
                #expect(holds == (inputs.prevWasFlush[s] && row > 0 && inputs.tPrev[s] > 0), "source \(s)")
                if holds { pending += 1 }
            }
            #expect(pending == inputs.pending.pendingSources)
        }
        capacities.append(inputs.pending.capacity)
    }
    #expect(capacities[0] > 0, "flushes left gradients pending")
    #expect(Set(capacities.dropFirst(2)).count == 1, "the pool grows only until the activity repeats: \(capacities)")
    // Each-step mode never keeps a g (no later accumulate-mode spike could need it).
    let each = try network(eachStep: true, flush: 5)
    try each.simulate(300)
    #expect(eprop(each).allSatisfy { $0.pending.capacity == 0 })
}

@Test func pendingBlockSizeClasses() {
    var previous = 0
    for n in 1...5000 {
        let (c, size) = PendingGradients.sizeClass(n)
        #expect(size >= n && (n <= 16 ? size == n : Double(size) < Double(n) * 1.125 + 1), "n \(n): size \(size)")
        #expect(c >= previous, "classes grow with n")
        if c == previous { #expect(PendingGradients.sizeClass(n - 1).size == size, "one size per class") }
        previous = c
    }
}

/// Single precision stores Floats but computes in Double: against the double-precision
/// per-synapse reference, weights, traces and moments agree to a few Float roundings per event.
@Test(arguments: ["gradient_descent", "adam"], [true, false])
func singlePrecisionKernelIsCloseToTheReference(optimizerType: String, eachStep: Bool) throws {
    for (batch, cutoff, flushRate, readout) in [(1, Clock.never, 0.0, false), (1, 5, 0.05, false), (3, 1, 0.05, false),
                                                (1, 30, 0.2, false), (1, 7, 0.05, true), (4, Clock.never, 0.1, true)] {
        for (adaptive, heterogeneous) in [(false, false), (true, false), (false, true)] where !(readout && adaptive) {
            try compareKernel(optimizerType, eachStep, batch: batch, cutoff: cutoff, flushRate: flushRate,
                              readout: readout, adaptive: adaptive, heterogeneous: heterogeneous,
                              precision: .single, tolerance: 1e-5)
        }
    }
}

/// Single and double precision learn the same: a short run stays close.
@Test func singlePrecisionNetworkStaysCloseToDouble() throws {
    var weights: [[Double]] = []
    for precision in SynapsePrecision.allCases {
        let net = try network(adam: true, precision: precision)
        try net.simulate(400)
        weights.append(eprop(net).flatMap { p in (0..<p.count).map { p.weight($0) } })
    }
    let scale = weights[0].map(abs).max()!
    let worst = zip(weights[0], weights[1]).map { abs($0 - $1) }.max()!
    #expect(worst > 0, "single precision rounds")
    #expect(worst < 1e-4 * scale, "largest weight difference \(worst) (scale \(scale))")
}

@Test func precisionNamesAreValidated() throws {
    #expect(try SynapsePrecision(name: "single") == .single)
    #expect(try SynapsePrecision(name: "double") == .double)
    do {
        _ = try SynapsePrecision(name: "half")
        Issue.record("expected an error")
    } catch {
        #expect(error.status == .badProperty)
        #expect(error.message.contains("precision") && error.message.contains("\"double\", \"single\"")
                && error.message.contains("half"), "\(error.message)")
    }
}

/// The memory the engine reports, and the estimate, in single precision.
@Test func singlePrecisionMemoryMatchesTheEstimate() throws {
    for precision in SynapsePrecision.allCases {
        let net = try Network(resolution: 1)
        net.synapsePrecision = precision
        let rec = try net.addPopulation(model: "eprop_iaf", size: 400)
        try net.setParameters(rec, [("eprop_isi_trace_cutoff", 50), ("flush_event_send_interval", 50)])
        try net.optimizer.setType("adam")
        try net.optimizer.set([("optimize_each_step", 0)])
        let p = try net.connect(pre: rec, post: rec, synapseModel: "eprop_synapse", rule: .fixedIndegree(k: 100, multapses: true),
                                allowAutapses: false, weights: .normal(mean: 0, std: 0.01), seed: 1, delay: 1)
        try net.simulate(10)
        let n = net.projections[p].count
        #expect((net.projections[p] as! EpropProjection).bytesPerSynapse == (precision == .double ? 44 : 24))
        let estimate = MemoryModel.estimate(recurrent: 400, readouts: 0, inputs: 0, plasticSynapses: n, fixedSynapses: 0,
                                            sources: 400, adam: true, eachStep: false, batch: 1, cutoffSteps: 50,
                                            flushSteps: 50, precision: precision)
        // The estimate sizes the history rings for the cutoff and counts the pending-gradient
        // pool at its bound; after 10 quiet steps the rings are at their initial size and
        // nothing is pending, so compare without both.
        let rings = 400 * MemoryModel.historySlots(MemoryModel.historySteps(cutoffSteps: 50, flushSteps: 50, eachStep: false)) * 24
        let bound = n * MemoryModel.pendingGradientBytes
        let held = net.memoryBytes - net.historyBytes
        #expect(abs(Double(held - (estimate - rings - bound))) < 0.01 * Double(held),
                "\(precision.name): engine \(held) B vs estimate \(estimate - rings - bound) B without histories and pool")
    }
}
