import Testing
@testable import EpropCore

/// The history ring keeps exactly what pending intervals need (spec §7.5's purpose):
/// with regularly firing sources it stays small; a silent source holds its entries
/// until a flush event lets its synapses consume them.
@Test func historyStaysBoundedWithActiveSources() throws {
    let net = try Network(resolution: 1)
    let input = try net.addPopulation(model: "input", size: 4)
    let rec = try net.addPopulation(model: "eprop_iaf", size: 3)
    try net.setParameters(rec, [("eprop_isi_trace_cutoff", 20), ("V_th", 1000)])
    try net.connect(input, rec, "eprop_synapse", pre: [0, 1, 2, 3], post: [0, 1, 2, 0], weights: [0.1, 0.1, 0.1, 0.1])
    var ids: [Int] = [], times: [Double] = []
    for t in stride(from: 1, to: 5000, by: 7) { for i in 0..<4 { ids.append(i); times.append(Double(t + i)) } }
    try net.setSpikes(input, neurons: ids, times: times)
    try net.simulate(5000)
    let history = (net.populations[rec] as! RecurrentPopulation).history
    #expect(history.capacity <= 64, "capacity \(history.capacity)")
    #expect(history.endStep == 5000)
    #expect(history.firstStep > 4900)
}

/// A source that falls silent would pin its targets' history (NEST keeps it until a flush
/// event). In accumulate mode eprop's automatic flush bounds it without changing learning.
@Test func silentSourceDoesNotPinHistory() throws {
    func run(flushMs: Double, cutoff: Double) throws -> (capacity: Int, weights: [Double]) {
        let net = try Network(resolution: 1)
        let input = try net.addPopulation(model: "input", size: 2)
        let rec = try net.addPopulation(model: "eprop_iaf", size: 1)
        let out = try net.addPopulation(model: "eprop_readout", size: 1)
        try net.setParameters(input, [("flush_event_send_interval", flushMs)])
        // A wide surrogate keeps ψ > 0 far below threshold, so every synapse learns.
        try net.setParameters(rec, [("eprop_isi_trace_cutoff", cutoff), ("V_th", 1000), ("c_reg", 0.1),
                                    ("surrogate_gradient_width", 5000)])
        try net.connect(input, rec, "eprop_synapse", pre: [0, 1], post: [0, 0], weights: [0.1, 0.1])
        try net.connect(out, rec, "eprop_learning_signal_connection", pre: [0], post: [0], weights: [1])
        try net.setParameters(out, [("I_e", 1), ("C_m", 1)])
        try net.schedule(.learningWindow, out, times: [1], values: [1])
        // Input 1 spikes at 5 ms and at 2900 ms; input 0 fires every 10 ms.
        var ids = [1, 1], times = [5.0, 2900]
        for t in stride(from: 10, to: 3000, by: 10) { ids.append(0); times.append(Double(t)) }
        try net.setSpikes(input, neurons: ids, times: times)
        try net.optimizer.set([("optimize_each_step", 0), ("eta", 0.01)])
        try net.simulate(3000)
        return ((net.populations[rec] as! RecurrentPopulation).history.capacity,
                (0..<2).map { net.projections[0].weight($0) })
    }
    for cutoff in [10.0, .infinity] {
        let automatic = try run(flushMs: .infinity, cutoff: cutoff)
        let flushed = try run(flushMs: 50, cutoff: cutoff)
        #expect(automatic.capacity <= 512, "cutoff \(cutoff): capacity \(automatic.capacity)")
        #expect(automatic.weights == flushed.weights, "cutoff \(cutoff): flushes never change learning")
        #expect(automatic.weights[1] != 0.1, "the silent input's synapse learned")
    }
}

/// A schedule in (step, neuron) order is taken as given, any other order is sorted: both
/// give the same events, repeated spikes as multiplicity.
@Test func inputScheduleOrderDoesNotMatter() {
    let steps = [3, 1, 3, 2, 1, 3], neurons: [Int32] = [2, 0, 1, 4, 0, 1]
    let order = (0..<steps.count).sorted { (steps[$0], neurons[$0]) < (steps[$1], neurons[$1]) }
    var events: [[[Int32]]] = []
    for (s, n) in [(steps, neurons), (order.map { steps[$0] }, order.map { neurons[$0] })] {
        let input = InputPopulation(size: 5)
        input.setSpikes(steps: s, neurons: n, currentStep: 0)
        var perStep: [[Int32]] = []
        for t in 1...3 {
            input.update(step: t)
            perStep.append((0..<input.events.count).flatMap { e in
                [input.events.ids[e], Int32(input.events.multiplicity[e])] })
        }
        events.append(perStep)
    }
    #expect(events[0] == events[1])
    #expect(events[0] == [[0, 2], [4, 1], [1, 2, 2, 1]])
}
