import Testing
@testable import EpropCore

/// A network using every parallel path: inputs with flush events, two recurrent models
/// (one adaptive, per-neuron τ_m so z̄ is per synapse), static and plastic projections,
/// readouts with feedback, each-step Adam or accumulate GD, recorders with NEST's bookkeeping.
private func run(threads: Int, adam: Bool, precision: SynapsePrecision = .double) throws
    -> (weights: [Double], samples: [Double], spikes: [Int]) {
    let net = try Network(resolution: 1)
    try net.setThreads(threads)
    try net.setParallelMinimumWork(0)   // every step on the threads (this network is small)
    net.synapsePrecision = precision
    let input = try net.addPopulation(model: "input", size: 30)
    let rec = try net.addPopulation(model: "eprop_iaf", size: 57)
    let adapt = try net.addPopulation(model: "eprop_iaf_psc_delta_adapt", size: 23)
    let out = try net.addPopulation(model: "eprop_readout", size: 3)
    try net.setParameters(input, [("flush_event_send_interval", 40)])
    for pop in [rec, adapt] {
        try net.setParameters(pop, [("C_m", 1), ("E_L", 0), ("V_m", 0), ("V_th", 0.3), ("t_ref", 2), ("c_reg", 0.2),
                                    ("surrogate_gradient_height", 0.5), ("surrogate_gradient_width", 0.4),
                                    ("eprop_isi_trace_cutoff", 30), ("flush_event_send_interval", 50)])
    }
    try net.setParameters(adapt, [("V_reset", -0.1), ("t_ref", 0), ("adapt_beta", 0.2), ("adapt_tau", 40)])
    let taus = (0..<57).map { 15.0 + Double($0 % 7) }
    try taus.withUnsafeBufferPointer { try net.setParameterArray(rec, "tau_m", $0) }
    try net.optimizer.setType(adam ? "adam" : "gradient_descent")
    try net.optimizer.set([("eta", 1e-3), ("optimize_each_step", adam ? 1 : 0)])
    var seed: UInt64 = 1
    func next() -> UInt64 { seed += 1; return seed }
    for (pre, post, p) in [(input, rec, 0.3), (input, adapt, 0.3), (rec, rec, 0.2), (adapt, rec, 0.2),
                           (rec, adapt, 0.2), (rec, out, 1.0), (adapt, out, 1.0)] {
        try net.connect(pre: pre, post: post, synapseModel: "eprop_synapse", rule: .pairwiseBernoulli(p: p),
                        allowAutapses: false, weights: .normal(mean: 0.05, std: 0.1), seed: next(), delay: 1)
    }
    try net.connect(pre: input, post: rec, synapseModel: "static_synapse", rule: .fixedIndegree(k: 2, multapses: true),
                    allowAutapses: true, weights: .constant(0.1), seed: next(), delay: 1)
    for target in [rec, adapt] {
        try net.connect(pre: out, post: target, synapseModel: "eprop_learning_signal_connection", rule: .allToAll,
                        allowAutapses: true, weights: .normal(mean: 0, std: 1), seed: next(), delay: 1)
    }
    var rng = SeededGenerator(seed: 9)
    var ids: [Int] = [], times: [Double] = []
    for t in 1..<300 { for i in 0..<30 where rng.uniform() < 0.05 { ids.append(i); times.append(Double(t)) } }
    ids += [3, 3]; times += [17, 17]    // a repeated spike
    try net.setSpikes(input, neurons: ids, times: times)
    try net.schedule(.target, out, times: [2, 100, 200], values: [1, 0, -1, 0, 1, 0.5, -1, 1, 0], neurons: 3)
    try net.schedule(.learningWindow, out, times: [2], values: [1, 1, 1], neurons: 3)
    let state = try net.recordState(rec, recordables: ["V_m", "learning_signal", "eprop_history_duration"], neurons: [0, 5, 56])
    let readout = try net.recordState(out, recordables: ["readout_signal"], neurons: [0, 1, 2])
    let spikes = try net.recordSpikes(adapt)
    try net.simulate(150)
    try net.simulate(150)
    let weights = net.projections.flatMap { p in (0..<p.count).map { p.weight($0) } }
    let samples = try net.samples(state).values + net.samples(readout).values
    return (weights, samples, try net.recordedSpikes(spikes).steps)
}

/// Results are bit-identical for any number of threads (issue 5), in both storage precisions.
@Test(arguments: [false, true], [SynapsePrecision.double, .single])
func threadsGiveIdenticalResults(adam: Bool, precision: SynapsePrecision) throws {
    let one = try run(threads: 1, adam: adam, precision: precision)
    #expect(one.spikes.count > 20, "the network must be active")
    for threads in [2, 3] {
        let many = try run(threads: threads, adam: adam, precision: precision)
        #expect(many.weights == one.weights, "\(threads) threads: weights")
        #expect(many.samples == one.samples, "\(threads) threads: recordings")
        #expect(many.spikes == one.spikes, "\(threads) threads: spikes")
    }
}
