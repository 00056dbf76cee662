import Testing
@testable import EpropCore
#if canImport(Glibc)
import Glibc
#endif

/// Adam's catch-up (spec §9.3–9.4): the first call at idx performs idx/B + 1 − k steps;
/// only the first sees the gradient, the rest decay m and v but keep moving the weight.
@Test func adamCatchUpByHand() throws {
    let config = OptimizerConfig()
    try config.setType("adam")
    try config.set([("eta", 0.01), ("beta_1", 0.9), ("beta_2", 0.999), ("epsilon", 1e-7)])
    var source = SourceOptimizerState()
    var plan = OptimizerPlan()
    defer { plan.free() }
    plan.plan(idx: 3, &source, config)
    #expect(plan.iterations[0] == 3)
    #expect(source.k == 4)
    var synapse = SynapseOptimizer(weight: 0.5, sum: 0, m: 0, v: 0)
    var rate = 0
    synapse.apply(2.0, iterations: 3, rates: plan.rates, rate: &rate, .adam, batch: 1, beta1: 0.9, beta2: 0.999,
                  epsilon: 1e-7, wMin: -100, wMax: 100)
    // By hand. eta_current is the first changed eta (0.01), since this synapse never optimized.
    var w = 0.5, m = 0.0, v = 0.0, g = 2.0
    for step in 1...3 {
        let b1 = pow(0.9, Double(step)), b2 = pow(0.999, Double(step))
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w -= 0.01 * (1 - b2).squareRoot() / (1 - b1) * m / (v.squareRoot() + 1e-7)
        g = 0
    }
    #expect(relativeError(synapse.weight, w) < 1e-14)
    #expect(relativeError(synapse.m, m) < 1e-15 && relativeError(synapse.v, v) < 1e-15)
    #expect(synapse.sum == 0)
}

/// Gradient descent with batch_size counting step indices: updates when idx/B grows,
/// with the gradient summed since the last update divided by B (§9.4).
@Test func gradientDescentBatches() throws {
    let config = OptimizerConfig()
    try config.set([("batch_size", 3), ("eta", 0.5)])
    var source = SourceOptimizerState()
    var plan = OptimizerPlan()
    defer { plan.free() }
    var synapse = SynapseOptimizer(weight: 1, sum: 0, m: 0, v: 0)
    var expected = 1.0, pending = 0.0
    var k = 1
    for idx in 1...10 {
        plan.reset()
        plan.plan(idx: idx, &source, config)
        var rate = 0
        synapse.apply(Double(idx), iterations: plan.iterations[0], rates: plan.rates, rate: &rate, .gradientDescent,
                      batch: 3, beta1: 0, beta2: 0, epsilon: 0, wMin: -100, wMax: 100)
        pending += Double(idx)
        if 1 + idx / 3 > k {
            // eta_current: the first changed eta for the first update, then the current one.
            expected -= 0.5 * (pending / 3)
            pending = 0
            k = 1 + idx / 3
        }
        #expect(synapse.weight == expected, "idx \(idx)")
    }
    #expect(source.nOptimize == 3)   // updates at idx 3, 6, 9
}

/// A learning-rate change takes effect one optimization late (§9.4): the update right
/// after the change still uses the old eta; a synapse that never optimized uses the
/// first eta ever set, or the hard-coded 1e-4 if eta never changed.
@Test func learningRateLag() throws {
    let config = OptimizerConfig()
    var neverChanged = SourceOptimizerState()
    var plan = OptimizerPlan()
    defer { plan.free() }
    plan.plan(idx: 1, &neverChanged, config)
    #expect(plan.rates[0] == 1e-4)

    try config.set([("eta", 0.3)])
    try config.set([("eta", 0.7)])
    #expect(config.etaChangeCount == 2 && config.etaFirstChange == 0.3)
    var fresh = SourceOptimizerState()
    plan.reset()
    plan.plan(idx: 1, &fresh, config)
    #expect(plan.rates[0] == 0.3)          // first change, not the current 0.7
    plan.plan(idx: 2, &fresh, config)
    #expect(plan.rates[1] == 0.7)
    try config.set([("eta", 0)])
    plan.plan(idx: 3, &fresh, config)
    #expect(plan.rates[2] == 0.7)          // one optimization late
    plan.plan(idx: 4, &fresh, config)
    #expect(plan.rates[3] == 0)
}

@Test func weightsAreClampedAfterUpdates() {
    var synapse = SynapseOptimizer(weight: 0.9, sum: 0, m: 0, v: 0)
    let rates = UnsafeMutablePointer<Double>.allocate(capacity: 1)
    defer { rates.deallocate() }
    rates[0] = 1
    var rate = 0
    synapse.apply(-5, iterations: 1, rates: rates, rate: &rate, .gradientDescent, batch: 1, beta1: 0, beta2: 0,
                  epsilon: 0, wMin: -1, wMax: 1)
    #expect(synapse.weight == 1)
}

/// The four-lane optimizer call (used for every accumulate-mode call) equals the scalar one
/// bit for bit in every lane: Adam and gradient descent, 0–40 catch-up iterations, batch > 1,
/// weights clamped at either bound, ±0 and NaN.
@Test func fourLaneOptimizerEqualsScalarBitForBit() {
    var rng = SeededRandom(seed: 7)
    func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * Double(rng.next() >> 11) / Double(1 << 53) }
    let rates = UnsafeMutablePointer<Double>.allocate(capacity: 64)
    defer { rates.deallocate() }
    var specials = [0.0, -0.0, .nan, 1.0, -1.0, 0.25]
    var compared = 0
    for trial in 0..<4000 {
        let kind: OptimizerConfig.Kind = trial % 2 == 0 ? .adam : .gradientDescent
        let iterations = Int32(trial % 7 == 0 ? 0 : Int(rng.next() % 41))
        let batch = Double(1 + Int(rng.next() % 3))
        let wMin = uniform(-2, 0), wMax = trial % 11 == 0 ? wMin : uniform(0, 2)
        for r in 0..<64 { rates[r] = uniform(0, 0.5) }
        var lanes = SynapseOptimizerLanes(weight: .zero, sum: .zero, m: .zero, v: .zero)
        var g = SIMD4<Double>(), scalars: [SynapseOptimizer] = []
        for lane in 0..<4 {
            let w = trial % 13 == 0 ? specials[lane] : uniform(-3, 3)
            let s = SynapseOptimizer(weight: w, sum: uniform(-1, 1), m: uniform(-1, 1), v: uniform(0, 1))
            scalars.append(s)
            lanes.weight[lane] = s.weight; lanes.sum[lane] = s.sum; lanes.m[lane] = s.m; lanes.v[lane] = s.v
            g[lane] = trial % 17 == 0 ? specials[(lane + 2) % specials.count] : uniform(-5, 5)
        }
        var laneRate = 0
        lanes.apply(g, iterations: iterations, rates: rates, rate: &laneRate, kind, batch: batch, beta1: 0.9,
                    beta2: 0.999, epsilon: 1e-7, wMin: wMin, wMax: wMax)
        for lane in 0..<4 {
            var s = scalars[lane], rate = 0
            s.apply(g[lane], iterations: iterations, rates: rates, rate: &rate, kind, batch: batch, beta1: 0.9,
                    beta2: 0.999, epsilon: 1e-7, wMin: wMin, wMax: wMax)
            #expect(s.weight.bitPattern == lanes.weight[lane].bitPattern || (s.weight.isNaN && lanes.weight[lane].isNaN))
            #expect(s.sum.bitPattern == lanes.sum[lane].bitPattern || (s.sum.isNaN && lanes.sum[lane].isNaN))
            #expect(s.m.bitPattern == lanes.m[lane].bitPattern || (s.m.isNaN && lanes.m[lane].isNaN))
            #expect(s.v.bitPattern == lanes.v[lane].bitPattern || (s.v.isNaN && lanes.v[lane].isNaN))
            #expect(rate == laneRate)
            compared += 1
        }
        specials.swapAt(trial % specials.count, (trial + 1) % specials.count)
    }
    #expect(compared == 16000)

    // Bounds equal to the weight but of the other sign of zero: max picks the bound (y ≥ x),
    // min keeps the weight (y < x is false).
    rates[0] = 0
    for (w, wMin, wMax) in [(-0.0, 0.0, 1.0), (0.0, -1.0, -0.0), (-0.0, -0.0, 0.0)] {
        var s = SynapseOptimizer(weight: w, sum: 0, m: 0, v: 0), rate = 0, laneRate = 0
        var lanes = SynapseOptimizerLanes(weight: SIMD4(repeating: w), sum: .zero, m: .zero, v: .zero)
        s.apply(0, iterations: 1, rates: rates, rate: &rate, .gradientDescent, batch: 1, beta1: 0.9, beta2: 0.999,
                epsilon: 1e-7, wMin: wMin, wMax: wMax)
        lanes.apply(.zero, iterations: 1, rates: rates, rate: &laneRate, .gradientDescent, batch: 1, beta1: 0.9,
                    beta2: 0.999, epsilon: 1e-7, wMin: wMin, wMax: wMax)
        #expect(lanes.weight[0].bitPattern == s.weight.bitPattern, "w \(w), bounds \(wMin)…\(wMax)")
    }
}
