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
