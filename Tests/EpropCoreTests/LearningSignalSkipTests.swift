import Testing
@testable import EpropCore

/// A network whose learning window is open only part of the time, so that many synapse
/// intervals see no learning signal (L = +0): with `marksEntriesWithoutLearningSignal`
/// the kernel leaves L·ē out there. Dense enough input rows (≈ 30 synapses) for the
/// eight-lane groups, which take that path, plus four-lane remainders, which do not.
private func run(marking: Bool, adam: Bool, threads: Int = 1, height: Double = 0.5, width: Double = 0.4,
                 surrogate: String = "piecewise_linear", windowEverOpen: Bool = true)
    throws -> (weights: [UInt64], traces: [UInt64], samples: [UInt64], skipped: Int, partly: Int, spikes: Int) {
    let net = try Network(resolution: 1)
    net.marksEntriesWithoutLearningSignal = marking
    try net.setThreads(threads)
    try net.setParallelMinimumWork(0)
    let input = try net.addPopulation(model: "input", size: 40)
    let rec = try net.addPopulation(model: "eprop_iaf", size: 60)
    let out = try net.addPopulation(model: "eprop_readout", size: 3)
    try net.setParameters(rec, [("C_m", 1), ("E_L", 0), ("V_m", 0), ("V_th", 0.3), ("t_ref", 2), ("c_reg", 0.2),
                                ("tau_m", 20), ("surrogate_gradient_height", height),
                                ("surrogate_gradient_width", width), ("eprop_isi_trace_cutoff", 30),
                                ("flush_event_send_interval", 50)])
    try net.setParameter(rec, "surrogate_gradient_function", choice: surrogate)
    try net.optimizer.setType(adam ? "adam" : "gradient_descent")
    try net.optimizer.set([("eta", 1e-3), ("optimize_each_step", 0)])
    var seed: UInt64 = 11
    func next() -> UInt64 { seed += 1; return seed }
    for (pre, post, p) in [(input, rec, 0.75), (rec, rec, 0.2), (rec, out, 1.0)] {
        try net.connect(pre: pre, post: post, synapseModel: "eprop_synapse", rule: .pairwiseBernoulli(p: p),
                        allowAutapses: false, weights: .normal(mean: 0.05, std: 0.1), seed: next(), delay: 1)
    }
    try net.connect(pre: out, post: rec, synapseModel: "eprop_learning_signal_connection", rule: .allToAll,
                    allowAutapses: true, weights: .normal(mean: 0, std: 1), seed: next(), delay: 1)
    var rng = SeededGenerator(seed: 5)
    var ids: [Int] = [], times: [Double] = []
    for t in 1..<400 { for i in 0..<40 where rng.uniform() < 0.04 { ids.append(i); times.append(Double(t)) } }
    try net.setSpikes(input, neurons: ids, times: times)
    try net.schedule(.target, out, times: [2, 150], values: [1, 0, -1, 0, 1, 0.5], neurons: 3)   // neuron-major
    // Open for steps 2–59 and 200–229 only; closed in between and after.
    let open: Double = windowEverOpen ? 1 : 0
    try net.schedule(.learningWindow, out, times: [2, 60, 200, 230],
                     values: [open, 0, open, 0, open, 0, open, 0, open, 0, open, 0], neurons: 3)   // neuron-major
    let state = try net.recordState(rec, recordables: ["V_m", "learning_signal"], neurons: [0, 7, 59])
    let readout = try net.recordState(out, recordables: ["readout_signal"], neurons: [0, 1, 2])
    let spikes = try net.recordSpikes(rec)
    try net.simulate(170)
    try net.simulate(230)
    let weights = net.projections.flatMap { p in (0..<p.count).map { p.weight($0).bitPattern } }
    let samples = (try net.samples(state).values + net.samples(readout).values).map(\.bitPattern)
    let plastic = net.projections.compactMap { $0 as? EpropProjection }
    let traces = plastic.flatMap { p in (0..<p.count).flatMap { [p.traces($0).eBar.bitPattern, p.traces($0).eBarReg.bitPattern] } }
    let skipped = plastic.map(\.entriesWithoutLearningSignal).reduce(0, +)
    let partly = plastic.map(\.eventsPartlyWithoutLearningSignal).reduce(0, +)
    return (weights, traces, samples, skipped, partly, try net.recordedSpikes(spikes).steps.count)
}

/// Leaving out L·ē where no readout error reached the history gives the same bits as
/// computing it: the same weights, traces and recordings, with gradient descent and Adam,
/// on one thread and on two.
@Test(arguments: [false, true])
func intervalsWithoutLearningSignalGiveIdenticalResults(adam: Bool) throws {
    let full = try run(marking: false, adam: adam)
    let skipping = try run(marking: true, adam: adam)
    #expect(full.spikes > 100, "the network must be active")
    #expect(full.skipped == 0)
    #expect(skipping.skipped > 5000, "many entries lie where the window is closed (got \(skipping.skipped))")
    #expect(skipping.partly > 50, "many intervals reach into a window (got \(skipping.partly))")
    #expect(full.partly == 0)
    #expect(skipping.weights == full.weights)
    #expect(skipping.traces == full.traces)
    #expect(skipping.samples == full.samples)
    let threads = try run(marking: true, adam: adam, threads: 2)
    #expect(threads.weights == full.weights && threads.traces == full.traces && threads.samples == full.samples)
}

/// A huge surrogate gradient (exponential: never 0) makes ē overflow to ∞, where NEST's
/// L·ē = +0·∞ is NaN: the lanes concerned are redone with L, so even the NaN weights agree
/// bit for bit. The window stays closed, so that no open window made them NaN before.
@Test func overflowingTracesWithoutLearningSignalGiveIdenticalResults() throws {
    let full = try run(marking: false, adam: false, height: 1e308, width: 100, surrogate: "exponential",
                       windowEverOpen: false)
    let skipping = try run(marking: true, adam: false, height: 1e308, width: 100, surrogate: "exponential",
                       windowEverOpen: false)
    #expect(skipping.skipped > 0)
    #expect(full.traces.contains { !Double(bitPattern: $0).isFinite }, "ē must have overflowed somewhere")
    #expect(skipping.weights == full.weights)
    #expect(skipping.traces == full.traces)
    #expect(skipping.samples == full.samples)
}

/// The span of an interval that may carry a learning signal: entries before and after it
/// lie in signal-free runs; an interval wholly in one run has none; unmarked entries count
/// as carrying a signal.
@Test func learningSignalSpanOfAnInterval() {
    let history = EpropHistory(neurons: 1, channels: 3, initialCapacity: 64)
    for t in 0..<40 { history.append(t) }
    for t in 0..<10 { history.markWithoutLearningSignal(t) }    // run [0, 10)
    for t in 20..<30 { history.markWithoutLearningSignal(t) }   // run [20, 30); 10–19 and 30– carry L
    #expect(history.learningSignalSpan(2, count: 5) == (5, 5))      // inside [0, 10)
    #expect(history.learningSignalSpan(5, count: 10) == (5, 10))    // 5–9 free, 10–14 not
    #expect(history.learningSignalSpan(5, count: 20) == (5, 15))    // free, 10–19, free 20–24
    #expect(history.learningSignalSpan(12, count: 5) == (0, 5))     // inside 10–19
    #expect(history.learningSignalSpan(15, count: 10) == (0, 5))    // 15–19, then free
    #expect(history.learningSignalSpan(25, count: 10) == (5, 10))   // free 25–29, 30–34 unmarked
    #expect(history.learningSignalSpan(0, count: 40) == (10, 40))
    #expect(history.learningSignalSpan(20, count: 10) == (10, 10))  // exactly the run
    #expect(history.learningSignalSpan(3, count: 0) == (0, 0))
}
