import Testing
@testable import EpropCore

private func network() throws -> (Network, Int, Int) {
    let net = try Network(resolution: 1)
    let a = try net.addPopulation(model: "input", size: 400)
    let b = try net.addPopulation(model: "eprop_iaf", size: 300)
    return (net, a, b)
}

@Test func pairwiseBernoulliCountsAndDeterminism() throws {
    func build(_ seed: UInt64) throws -> (pre: [Int], post: [Int]) {
        let (net, a, b) = try network()
        let p = try net.connect(pre: a, post: b, synapseModel: "eprop_synapse", rule: .pairwiseBernoulli(p: 0.1),
                                allowAutapses: true, weights: .constant(0.5), seed: seed, delay: 1)
        return try net.connections(p)
    }
    let first = try build(7), again = try build(7), other = try build(8)
    #expect(first.pre == again.pre && first.post == again.post)       // same seed, same network
    #expect(first.post != other.post)
    // 120,000 pairs at p = 0.1: mean 12,000, sd ≈ 104; 6 sd is a safe bound.
    #expect(abs(first.pre.count - 12_000) < 624, "got \(first.pre.count)")
}

@Test func fixedIndegreeWithoutAutapsesOrMultapses() throws {
    let net = try Network(resolution: 1)
    let b = try net.addPopulation(model: "eprop_iaf", size: 50)
    let p = try net.connect(pre: b, post: b, synapseModel: "eprop_synapse", rule: .fixedIndegree(k: 49, multapses: false),
                            allowAutapses: false, weights: .uniform(low: -1, high: 1), seed: 3, delay: 1)
    let (pre, post) = try net.connections(p)
    var pairs = Set<Int>()
    for (i, j) in zip(pre, post) {
        #expect(i != j)
        pairs.insert(i * 50 + j)
    }
    #expect(pairs.count == 50 * 49)      // every other neuron exactly once
    #expect(throws: EpropError.self) {
        try net.connect(pre: b, post: b, synapseModel: "eprop_synapse", rule: .fixedIndegree(k: 50, multapses: false),
                        allowAutapses: false, weights: .constant(1), seed: 3, delay: 1)
    }
}

@Test func weightDistributions() throws {
    let (net, a, b) = try network()
    let p = try net.connect(pre: a, post: b, synapseModel: "static_synapse", rule: .allToAll, allowAutapses: true,
                            weights: .glorotUniform(scale: 2), seed: 1, delay: 1)
    let limit = 2 * (3.0 / 350.0).squareRoot()
    let w = (0..<net.projections[p].count).map { net.projections[p].weight($0) }
    #expect(w.count == 120_000)
    #expect(w.allSatisfy { abs($0) <= limit })
    #expect(w.max()! > 0.99 * limit && w.min()! < -0.99 * limit)
    let q = try net.connect(pre: a, post: b, synapseModel: "static_synapse", rule: .allToAll, allowAutapses: true,
                            weights: .normalFanIn(scale: 3), seed: 2, delay: 1)
    let v = (0..<net.projections[q].count).map { net.projections[q].weight($0) }
    let mean = v.reduce(0, +) / Double(v.count)
    let sd = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)).squareRoot()
    #expect(abs(mean) < 0.01 && abs(sd - 3 / 20.0) < 0.003, "mean \(mean), sd \(sd)")   // 3/√400
    #expect(throws: EpropError.self) {
        try net.connect(pre: a, post: b, synapseModel: "static_synapse", rule: .pairwiseBernoulli(p: 1.5),
                        allowAutapses: true, weights: .constant(1), seed: 1, delay: 1)
    }
}
