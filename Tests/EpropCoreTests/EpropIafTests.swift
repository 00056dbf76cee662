import Testing
@testable import EpropCore
#if canImport(Glibc)
import Glibc
#endif

/// Spec §3.2 and test 12.5: one eprop_iaf driven by one input through an eprop_synapse
/// of weight 0.3, inputs at 1, 2, 3, 5, 9, 11 ms; ψ of steps 14–18 for every surrogate.
@Test(arguments: [
    ("piecewise_linear", [0.21030100902759, 0.18933659619924, 0.17036721102500, 0.15320300152221, 0.13767218251307]),
    ("exponential", [0.28011776848615, 0.26861558105999, 0.25861553046549, 0.24988832085299, 0.24224569105944]),
    ("fast_sigmoid_derivative", [0.20044113201621, 0.19020804299944, 0.18160934703950, 0.17432167613232, 0.16809903522604]),
    ("arctan_derivative", [0.37433498786304, 0.36073812744784, 0.34852165076370, 0.33759316659435, 0.32784181049728]),
])
func surrogateGradientReference(function: String, expected: [Double]) throws {
    let net = try Network(resolution: 1)
    let input = try net.addPopulation(model: "input", size: 1)
    let neuron = try net.addPopulation(model: "eprop_iaf", size: 1)
    try net.setParameters(neuron, [("C_m", 1), ("c_reg", 0), ("E_L", 0), ("I_e", 0), ("V_m", 0), ("V_th", 0.6),
                                   ("t_ref", 3), ("surrogate_gradient_height", 0.5),
                                   ("surrogate_gradient_width", 1 / 1.7)])
    try net.setParameter(neuron, "surrogate_gradient_function", choice: function)
    try net.connect(input, neuron, "eprop_synapse", pre: [0], post: [0], weights: [0.3])
    try net.setSpikes(input, neurons: [0, 0, 0, 0, 0, 0], times: [1, 2, 3, 5, 9, 11])
    let psi = try net.recordState(neuron, recordables: ["surrogate_gradient"], neurons: [0])
    let spikes = try net.recordSpikes(neuron)
    try net.simulate(20)
    let values = try net.samples(psi).values
    for (i, step) in (14...18).enumerated() {
        #expect(relativeError(values[step], expected[i]) < 1e-8, "\(function) step \(step)")
    }
    // The neuron spikes in steps 4 and 10 (spec 12.5).
    #expect(try net.recordedSpikes(spikes).steps == [4, 10])
}

/// Subthreshold membrane: v_t = P_i·I_in + z_in + α·v with I_e one step late (§3.2 item 11).
@Test func membraneIntegratesWithLateCurrent() throws {
    let net = try Network(resolution: 1)
    let neuron = try net.addPopulation(model: "eprop_iaf", size: 1)
    try net.setParameters(neuron, [("C_m", 2), ("E_L", -70), ("tau_m", 20), ("I_e", 3), ("V_th", 100)])
    let vm = try net.recordState(neuron, recordables: ["V_m"], neurons: [0])
    try net.simulate(10)
    let alpha = exp(-1.0 / 20), pI = 20.0 / 2 * (1 - alpha)
    var v = 0.0, iIn = 0.0
    for (t, recorded) in try net.samples(vm).values.enumerated() {
        v = pI * iIn + 0 + alpha * v
        iIn = 3
        #expect(relativeError(recorded, v - 70) < 1e-14, "step \(t)")
    }
    #expect(try net.samples(vm).values[0] == -70)   // no effect of I_e at step 0
}

/// Reset by subtraction in the spike step; t_ref = k steps blocks k − 1 steps (§3.2).
@Test func refractorinessAndReset() throws {
    let net = try Network(resolution: 1)
    let neuron = try net.addPopulation(model: "eprop_iaf", size: 1)
    try net.setParameters(neuron, [("C_m", 1), ("E_L", 0), ("tau_m", 10), ("I_e", 100), ("V_th", 1), ("t_ref", 2)])
    let spikes = try net.recordSpikes(neuron)
    try net.simulate(12)
    // Strongly driven: a spike every 2 steps once I_e arrives (step 1).
    #expect(try net.recordedSpikes(spikes).steps == [1, 3, 5, 7, 9, 11])
}

/// eprop_iaf with the piecewise-linear surrogate gradient updates four neurons at a time
/// (both passes): the same bits as the neuron-by-neuron update, with per-neuron widths,
/// heights, thresholds, c_reg, f_target, I_e and flush intervals, a current schedule, V_min
/// clamping, refractoriness, flush events, d exactly at ±width, a size that is no multiple
/// of four, and two threads.
@Test(arguments: [1, 2])
func packedUpdateMatchesNeuronByNeuron(threads: Int) throws {
    func run(packed: Bool) throws -> (samples: [UInt64], spikes: [Int], weights: [UInt64]) {
        let net = try Network(resolution: 1)
        try net.setThreads(threads)
        try net.setParallelMinimumWork(0)
        let n = 23
        let input = try net.addPopulation(model: "input", size: 12)
        let rec = try net.addPopulation(model: "eprop_iaf", size: n)
        let out = try net.addPopulation(model: "eprop_readout", size: 2)
        try net.setParameters(rec, [("C_m", 1), ("E_L", 0), ("t_ref", 3), ("tau_m", 15), ("c_reg", 0.1)])
        // Per neuron: thresholds, widths, heights; V_min close below, so the clamp acts.
        let thresholds: [Double] = (0..<n).map { j -> Double in 0.2 + 0.01 * Double(j % 7) }
        let floors: [Double] = (0..<n).map { j -> Double in j % 3 == 0 ? -0.05 : -1e300 }
        let widths: [Double] = (0..<n).map { j -> Double in
            let step: Double = 0.03 * Double(j % 4)
            return j % 5 == 0 ? 0.25 : 0.1 + step
        }
        let heights: [Double] = (0..<n).map { j -> Double in 0.3 + 0.1 * Double(j % 2) }
        try net.setParameterArray(rec, "V_th", thresholds)
        try net.setParameterArray(rec, "V_min", floors)
        try net.setParameterArray(rec, "surrogate_gradient_width", widths)
        try net.setParameterArray(rec, "surrogate_gradient_height", heights)
        try net.setParameterArray(rec, "c_reg", (0..<n).map { j -> Double in 0.05 * Double(j % 3) })
        try net.setParameterArray(rec, "f_target", (0..<n).map { j -> Double in 5 + Double(j % 4) })
        try net.setParameterArray(rec, "I_e", (0..<n).map { j -> Double in j % 6 == 1 ? 0.004 : 0 })
        // Short flush intervals on some neurons: flush events between their spikes.
        try net.setParameterArray(rec, "flush_event_send_interval", (0..<n).map { j -> Double in
            j % 4 == 2 ? 7 : j % 4 == 3 ? 30 : .infinity })
        (net.populations[rec] as! RecurrentPopulation).packsUpdate = packed
        try net.optimizer.set([("eta", 1e-3)])
        try net.connect(pre: input, post: rec, synapseModel: "eprop_synapse", rule: .allToAll, allowAutapses: true,
                        weights: .normal(mean: 0.05, std: 0.15), seed: 3, delay: 1)
        try net.connect(pre: rec, post: rec, synapseModel: "eprop_synapse", rule: .pairwiseBernoulli(p: 0.3),
                        allowAutapses: false, weights: .normal(mean: 0, std: 0.2), seed: 4, delay: 1)
        try net.connect(pre: rec, post: out, synapseModel: "eprop_synapse", rule: .allToAll, allowAutapses: true,
                        weights: .normal(mean: 0, std: 0.2), seed: 5, delay: 1)
        try net.connect(pre: out, post: rec, synapseModel: "eprop_learning_signal_connection", rule: .allToAll,
                        allowAutapses: true, weights: .normal(mean: 0, std: 1), seed: 6, delay: 1)
        var rng = SeededGenerator(seed: 8)
        var ids: [Int] = [], times: [Double] = []
        for t in 1..<300 { for i in 0..<12 where rng.uniform() < 0.08 { ids.append(i); times.append(Double(t)) } }
        try net.setSpikes(input, neurons: ids, times: times)
        try net.schedule(.target, out, times: [2], values: [1, -1], neurons: 2)
        try net.schedule(.learningWindow, out, times: [2], values: [1, 1], neurons: 2)
        try net.schedule(.current, rec, times: [40, 90], values: (0..<2 * n).map { k -> Double in
            k < n ? 0.01 * Double(k % 3) : 0 }, neurons: n)
        let state = try net.recordState(rec, recordables: ["V_m", "surrogate_gradient", "learning_signal"],
                                        neurons: Array(0..<n))
        let spikes = try net.recordSpikes(rec)
        try net.simulate(300)
        let weights = net.projections.flatMap { p in (0..<p.count).map { p.weight($0).bitPattern } }
        let population = net.populations[rec] as! RecurrentPopulation
        flushes = Int(net.counters.value(.flushEvents))
        let neuronState = (0..<n).flatMap { j in
            [population.fAv[j].bitPattern, UInt64(bitPattern: Int64(population.quietSteps[j])),
             UInt64(bitPattern: Int64(population.refractory[j])), population.iIn[j].bitPattern]
        }
        return (try net.samples(state).values.map(\.bitPattern), try net.recordedSpikes(spikes).steps,
                weights + neuronState)
    }
    var flushes = 0
    let packed = try run(packed: true), single = try run(packed: false)
    #expect(single.spikes.count > 50, "the neurons must fire (\(single.spikes.count) spikes)")
    #expect(flushes > 20, "flush events must occur (\(flushes))")
    // ψ takes 0 (far, refractory) and positive values, and V_min clamps somewhere.
    let values = single.samples.map { Double(bitPattern: $0) }
    let psis: [Double] = values.indices.filter { i in i % 69 / 23 == 1 }.map { i in values[i] }
    #expect(psis.contains(0) && psis.contains { $0 > 0 })
    let vs: [Double] = values.indices.filter { i in i % 69 / 23 == 0 }.map { i in values[i] }
    #expect(vs.contains(-0.05), "V_min must clamp")
    #expect(packed.samples == single.samples)
    #expect(packed.spikes == single.spikes)
    #expect(packed.weights == single.weights)
}

/// A neuron that spiked once and then stays silent: its rate estimate f_av decays into the
/// subnormal range and stops at a fixed point of κ_reg⊗, which the update keeps without
/// the multiplication (`rateFixedPoints`). f_av and the reg entries of the history follow
/// f ← κ_reg·f bit for bit all the way down, in the packed and the neuron-by-neuron update.
@Test(arguments: [true, false])
func silentNeuronRateReachesSubnormalFixedPoint(packed: Bool) throws {
    let net = try Network(resolution: 1)
    let n = 6   // one group of four and two single neurons
    let rec = try net.addPopulation(model: "eprop_iaf", size: n)
    try net.setParameters(rec, [("C_m", 1), ("E_L", 0), ("I_e", 0), ("V_th", 1), ("t_ref", 0), ("kappa_reg", 0.9),
                                ("c_reg", 0.5), ("f_target", 10)])
    let population = net.populations[rec] as! RecurrentPopulation
    population.packsUpdate = packed
    // Neurons 1 and 5 start above threshold: one spike each in step 0, then silence.
    let start: [Double] = [0, 2, 0, 0, 0, 2]
    try start.withUnsafeBufferPointer { values throws(EpropError) in try population.setState("V_m", values) }
    let steps = 8000
    try net.simulate(Double(steps))
    #expect(population.rateFixedPoints == subnormalFixedPointLimit(0.9) && population.rateFixedPoints >= 4)
    var expected = 1 - 0.9   // (1 − κ_reg)/dt after the spike of step 0
    for _ in 1..<steps { expected = 0.9 * expected }
    for j in [1, 5] {
        #expect(population.fAv[j].bitPattern == expected.bitPattern, "neuron \(j)")
        #expect(population.fAv[j].bitPattern >= 1 && population.fAv[j].bitPattern <= population.rateFixedPoints,
                "f_av at a fixed point (\(population.fAv[j].bitPattern))")
        let entry = population.history.entry(j, steps - 1)
        #expect(entry[2].bitPattern == (0.5 * (expected - 10.0 / 1000)).bitPattern)
    }
    #expect(population.fAv[0] == 0 && population.fAv[2] == 0)
}
