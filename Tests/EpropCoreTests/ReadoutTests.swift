#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import EpropCore

/// Spec §5.2–5.4: amplitude time T applies from readout step T; e = (y − y*)·λ; the
/// window multiplies readout, target and error but not V_m.
@Test func targetAndWindowTiming() throws {
    let net = try Network(resolution: 1)
    let out = try net.addPopulation(model: "eprop_readout", size: 2)
    try net.setParameters(out, [("C_m", 1), ("tau_m", 10), ("I_e", 1), ("E_L", 0.5)])
    try net.schedule(.target, out, times: [3, 5], values: [2, 4, -1, -3], neurons: 2)
    try net.schedule(.learningWindow, out, times: [4], values: [1, 0.5], neurons: 2)
    let rec = try net.recordState(out, recordables: ["V_m", "readout_signal", "target_signal", "error_signal"],
                                  neurons: [0, 1])
    try net.simulate(8)
    let (steps, values) = try net.samples(rec)
    #expect(steps == Array(0..<8))
    let target0: [Double] = [0, 0, 0, 2, 2, 4, 4, 4], window0: [Double] = [0, 0, 0, 0, 1, 1, 1, 1]
    let target1: [Double] = [0, 0, 0, -1, -1, -3, -3, -3], window1: [Double] = [0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5]
    for t in 0..<8 {
        let row = Array(values[(t * 8)..<(t * 8 + 8)])   // [recordable][neuron]
        for (k, (target, window)) in [(target0, window0), (target1, window1)].enumerated() {
            let vm = row[k], y = row[2 + k], ys = row[4 + k], e = row[6 + k]
            #expect(y == vm * window[t], "readout_signal step \(t)")
            #expect(ys == target[t] * window[t], "target_signal step \(t)")
            #expect(e == (vm - target[t]) * window[t], "error_signal step \(t)")
        }
    }
}

/// Readout errors reach recurrent history entry t − 2 at the start of step t (§6, §7.2).
@Test func learningSignalLandsTwoStepsBack() throws {
    let net = try Network(resolution: 1)
    let input = try net.addPopulation(model: "input", size: 1)
    let rec = try net.addPopulation(model: "eprop_iaf", size: 2)
    let out = try net.addPopulation(model: "eprop_readout", size: 1)
    try net.setParameters(out, [("I_e", 1), ("C_m", 1)])
    try net.connect(input, rec, "eprop_synapse", pre: [0, 0], post: [0, 1], weights: [0, 0])
    try net.connect(out, rec, "eprop_learning_signal_connection", pre: [0, 0], post: [0, 1], weights: [2, -3])
    try net.schedule(.learningWindow, out, times: [0], values: [1])
    let err = try net.recordState(out, recordables: ["error_signal"], neurons: [0])
    let ls = try net.recordState(rec, recordables: ["learning_signal"], neurons: [0, 1])
    try net.simulate(10)
    let e = try net.samples(err).values, l = try net.samples(ls).values
    // The learning_signal recorded after step t is entry t − 2, which holds B·err of step t − 1.
    for t in 2..<10 {
        #expect(l[t * 2] == 2 * e[t - 1], "step \(t)")
        #expect(l[t * 2 + 1] == -3 * e[t - 1], "step \(t)")
    }
}

/// Replacing the pending input spikes keeps those at the current time: NEST's generator
/// sent them in the previous step, so they still reach the parrot.
@Test func replacingSpikesKeepsThoseInTransit() throws {
    let net = try Network(resolution: 1)
    let input = try net.addPopulation(model: "input", size: 2)
    let spikes = try net.recordSpikes(input)
    try net.setSpikes(input, neurons: [0, 1, 1], times: [5, 10, 12])
    try net.simulate(10)                               // now at 10 ms; neuron 1's spike at 10 is in transit
    try net.setSpikes(input, neurons: [0], times: [11])
    try net.simulate(10)
    #expect(try net.recordedSpikes(spikes).steps == [5, 10, 11])      // 12 was replaced
    #expect(try net.recordedSpikes(spikes).senders == [0, 1, 0])
}

/// Cross-entropy extension: π = softmax over the population of this step's V (no lag),
/// e_k = (π_k − y*_k)·λ_k; the softmax ignores λ, which masks each readout's signals.
@Test func crossEntropySoftmaxAndWindow() throws {
    let net = try Network(resolution: 1)
    let out = try net.addPopulation(model: "eprop_readout", size: 3)
    try net.setParameter(out, "loss", choice: "cross_entropy")
    #expect(try net.choiceParameter(out, "loss") == "cross_entropy")
    try net.setParameters(out, [("C_m", 1), ("tau_m", 10), ("E_L", -0.5)])
    try net.setParameterArray(out, "I_e", [1, -2, 0.5])
    try net.schedule(.target, out, times: [2], values: [1, 0, 0], neurons: 3)
    try net.schedule(.learningWindow, out, times: [3], values: [1, 0.5, 0], neurons: 3)
    let rec = try net.recordState(out, recordables: ["V_m", "readout_signal", "target_signal", "error_signal",
                                                     "readout_signal_unnorm"], neurons: [0, 1, 2])
    try net.simulate(6)
    let values = try net.samples(rec).values
    let target: [Double] = [1, 0, 0], window: [Double] = [1, 0.5, 0]
    for t in 0..<6 {
        let row = Array(values[(t * 15)..<(t * 15 + 15)])   // [recordable][neuron]
        let vm = Array(row[0..<3])
        let denominator = vm.map { exp($0) }.reduce(0, +)
        for k in 0..<3 {
            let pi = exp(vm[k]) / denominator
            let ys = t >= 2 ? target[k] : 0, lambda = t >= 3 ? window[k] : 0
            #expect(abs(row[3 + k] - pi * lambda) <= 1e-15, "readout_signal step \(t) neuron \(k)")
            #expect(row[6 + k] == ys * lambda, "target_signal step \(t)")
            #expect(abs(row[9 + k] - (pi - ys) * lambda) <= 1e-15, "error_signal step \(t) neuron \(k)")
            #expect(relativeError(row[12 + k], exp(vm[k])) <= 1e-15, "readout_signal_unnorm step \(t)")
        }
        if t >= 3 { #expect(row[5] == 0 && row[11] == 0) }   // λ = 0 masks neuron 2, not the softmax
    }
    // From step 1 on the voltages differ (I_e acts one step late), so π is not uniform.
    #expect(values[15 + 0] != values[15 + 1])
}

/// exp(V − max V): voltages far beyond exp's range give a finite softmax; the unnormalised
/// recordable is exp(V) itself and overflows to +inf.
@Test func crossEntropyIsStableForLargeVoltages() throws {
    let net = try Network(resolution: 1)
    let out = try net.addPopulation(model: "eprop_readout", size: 2)
    try net.setParameters(out, [("loss", 1)])
    try net.setParameterArray(out, "E_L", [1000, 1000 + log(3.0)])
    try net.setParameterArray(out, "V_m", [1000, 1000 + log(3.0)])   // v = V_m − E_L = 0 stays 0
    try net.schedule(.learningWindow, out, times: [0], values: [1, 1], neurons: 2)
    let rec = try net.recordState(out, recordables: ["readout_signal", "readout_signal_unnorm"], neurons: [0, 1])
    try net.simulate(2)
    let v = try net.samples(rec).values
    // 1000 + log 3 is rounded to the grid of 1000 (ulp 1.1e-13), hence 1e-12.
    #expect(abs(v[0] - 0.25) <= 1e-12 && abs(v[1] - 0.75) <= 1e-12 && v[0] + v[1] == 1)
    #expect(v[2] == .infinity && v[3] == .infinity)
}

/// `loss` is a choice taking one value per population; bad values name the parameter and
/// the allowed names; mean squared error stays the default.
@Test func lossParameterValidation() throws {
    let net = try Network(resolution: 1)
    let out = try net.addPopulation(model: "eprop_readout", size: 2)
    #expect(try net.choiceParameter(out, "loss") == "mean_squared_error")
    let rule = "loss one of \"mean_squared_error\", \"cross_entropy\""
    func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return (error as? EpropError)?.message ?? "\(error)" }
        return "no error"
    }
    #expect(message { try net.setParameter(out, "loss", choice: "softmax") }
        == "eprop_readout parameter loss: \(rule) required, got \"softmax\"")
    #expect(message { try net.setParameters(out, [("loss", 2)]) }
        == "eprop_readout parameter loss: \(rule) required, got 2")
    #expect(message { try net.setParameters(out, [("loss", 0.5)]) }
        == "eprop_readout parameter loss: \(rule) required, got 0.5")
    #expect(message { try net.setParameterArray(out, "loss", [0, 1]) }
        == "eprop_readout parameter loss: one value for the whole population (the softmax of cross_entropy couples all readouts of the population)")
    #expect(try net.choiceParameter(out, "loss") == "mean_squared_error")
    // Changing it between simulate calls is allowed.
    try net.simulate(2)
    try net.setParameter(out, "loss", choice: "cross_entropy")
    try net.simulate(2)
    #expect(try net.choiceParameter(out, "loss") == "cross_entropy")
}
