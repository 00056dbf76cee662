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

@Test func silentSourceHoldsHistoryUntilFlushed() throws {
    func capacity(flushMs: Double) throws -> Int {
        let net = try Network(resolution: 1)
        let input = try net.addPopulation(model: "input", size: 2)
        let rec = try net.addPopulation(model: "eprop_iaf", size: 1)
        try net.setParameters(input, [("flush_event_send_interval", flushMs)])
        try net.setParameters(rec, [("eprop_isi_trace_cutoff", 10), ("V_th", 1000)])
        try net.connect(input, rec, "eprop_synapse", pre: [0, 1], post: [0, 0], weights: [0.1, 0.1])
        // Input 1 spikes once at 5 ms, then stays silent; input 0 fires every 10 ms.
        var ids = [1], times = [5.0]
        for t in stride(from: 10, to: 3000, by: 10) { ids.append(0); times.append(Double(t)) }
        try net.setSpikes(input, neurons: ids, times: times)
        try net.simulate(3000)
        return (net.populations[rec] as! RecurrentPopulation).history.capacity
    }
    #expect(try capacity(flushMs: .infinity) >= 2048)   // holds everything since 5 ms
    #expect(try capacity(flushMs: 50) <= 128)           // flushed: bounded
}
