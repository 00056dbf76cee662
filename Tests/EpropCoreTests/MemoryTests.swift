import Testing
@testable import EpropCore

/// The memory model: what the engine reports matches its allocations, and the estimate
/// of a configuration matches what building and running it holds.
@Test func memoryEstimateMatchesBuiltNetwork() throws {
    let net = try Network(resolution: 1)
    let input = try net.addPopulation(model: "input", size: 50)
    let rec = try net.addPopulation(model: "eprop_iaf", size: 400)
    try net.setParameters(rec, [("C_m", 1), ("E_L", 0), ("V_m", 0), ("V_th", 0.2), ("eprop_isi_trace_cutoff", 50),
                                ("flush_event_send_interval", 50)])
    try net.optimizer.set([("optimize_each_step", 0)])
    let p = try net.connect(pre: rec, post: rec, synapseModel: "eprop_synapse", rule: .fixedIndegree(k: 40, multapses: true),
                            allowAutapses: false, weights: .normal(mean: 0.01, std: 0.02), seed: 1, delay: 1)
    let q = try net.connect(pre: input, post: rec, synapseModel: "eprop_synapse", rule: .fixedIndegree(k: 5, multapses: true),
                            allowAutapses: true, weights: .constant(0.15), seed: 2, delay: 1)
    var rng = SeededGenerator(seed: 4)
    var ids: [Int] = [], times: [Double] = []
    for t in 1..<600 { for i in 0..<50 where rng.uniform() < 0.03 { ids.append(i); times.append(Double(t)) } }
    try net.setSpikes(input, neurons: ids, times: times)
    try net.simulate(600)
    let plastic = net.projections[p].count + net.projections[q].count
    #expect((net.projections[p] as! EpropProjection).bytesPerSynapse == 28)   // GD, batch 1: target, w, ē, ē_reg
    let estimate = MemoryModel.estimate(recurrent: 400, readouts: 0, inputs: 50, plasticSynapses: plastic, fixedSynapses: 0,
                                        sources: 450, adam: false, eachStep: false, batch: 1, cutoffSteps: 50, flushSteps: 50)
    let held = net.memoryBytes - (net.populations[input] as! InputPopulation).spikeSteps.count * MemoryModel.inputSpikeBytes
    #expect(abs(Double(held - estimate)) < 0.1 * Double(held), "engine \(held) B vs estimate \(estimate) B")
}

@Test func impossibleConfigurationsFailFast() throws {
    let net = try Network(resolution: 1)
    let a = try net.addPopulation(model: "eprop_iaf", size: 100_000)
    do {
        // 1e11 synapses: far beyond any machine this runs on.
        try net.connect(pre: a, post: a, synapseModel: "eprop_synapse", rule: .fixedIndegree(k: 1_000_000, multapses: true),
                        allowAutapses: true, weights: .constant(0), seed: 1, delay: 1)
        Issue.record("expected an out-of-memory error")
    } catch {
        #expect(error.status == .outOfMemory)
        #expect(error.message.contains("GB"), "\(error.message)")
    }
}
