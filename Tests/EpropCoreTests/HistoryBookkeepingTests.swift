import Testing
@testable import EpropCore

/// Spec 12.6 (test_eprop_history_cleaning): three inputs feed one neuron; the recorded
/// eprop_history_duration is the concatenation of the ranges 1…11, 2…21, 12…31, 12…21,
/// 12…41, 32…49 ms, for eprop_iaf with cutoff 5 or 100000 and for eprop_readout.
@Test(arguments: [("eprop_iaf", 5.0), ("eprop_iaf", 100000.0), ("eprop_readout", 100000.0)])
func historyDurationReference(model: String, cutoff: Double) throws {
    let net = try Network(resolution: 1)
    let input = try net.addPopulation(model: "input", size: 3)
    let neuron = try net.addPopulation(model: model, size: 1)
    var params: [(String, Double)] = [("eprop_isi_trace_cutoff", cutoff)]
    if model == "eprop_iaf" { params.append(("flush_event_send_interval", cutoff)) }
    try net.setParameters(neuron, params)
    try net.connect(input, neuron, "eprop_synapse", pre: [0, 1, 2], post: [0, 0, 0], weights: [1, 1, 1])
    let spikes: [(Int, [Double])] = [(0, [10, 20, 50, 60]), (1, [10, 30, 50, 90]), (2, [40, 60])]
    try net.setSpikes(input, neurons: spikes.flatMap { s in s.1.map { _ in s.0 } }, times: spikes.flatMap(\.1))
    let recorder = try net.recordState(neuron, recordables: ["eprop_history_duration"], neurons: [0])
    try net.simulate(110)
    let expected = [(1, 11), (2, 21), (12, 31), (12, 21), (12, 41), (32, 49)].flatMap { (a, b) in (a...b).map(Double.init) }
    #expect(expected.count == 109)
    let recorded = Array(try net.samples(recorder).values.prefix(109))
    #expect(recorded == expected, "\(model) cutoff \(cutoff)")
}

/// Reading eprop_history_duration needs the bookkeeping from the start.
@Test func historyDurationNeedsEarlyRecorder() throws {
    let net = try Network(resolution: 1)
    let input = try net.addPopulation(model: "input", size: 1)
    let neuron = try net.addPopulation(model: "eprop_iaf", size: 2)
    try net.connect(input, neuron, "eprop_synapse", pre: [0], post: [0], weights: [1])
    try net.simulate(5)
    #expect(throws: EpropError.self) { try net.recordState(neuron, recordables: ["eprop_history_duration"], neurons: [0]) }
    var out = [Double](repeating: 0, count: 2)
    #expect(throws: EpropError.self) {
        try out.withUnsafeMutableBufferPointer { try net.state(neuron, "eprop_history_duration", into: $0) }
    }
}
