import EpropCore

// Network constructor, destructor, clock and simulate.

/// Calls Network(resolution:).
@_cdecl("eprop_network_create")
public func eprop_network_create(_ resolution: Double, _ network: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let out = try output(network, "network")
        let handle = NetworkHandle(try Network(resolution: resolution))
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }
}

@_cdecl("eprop_network_destroy")
public func eprop_network_destroy(_ network: OpaquePointer?) {
    guard let network else { return }
    Unmanaged<NetworkHandle>.fromOpaque(UnsafeRawPointer(network)).release()
}

@_cdecl("eprop_network_resolution")
public func eprop_network_resolution(_ network: OpaquePointer?, _ resolution: UnsafeMutablePointer<Double>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        try output(resolution, "resolution_ms").pointee = net.clock.dt
    }
}

@_cdecl("eprop_network_time")
public func eprop_network_time(_ network: OpaquePointer?, _ time: UnsafeMutablePointer<Double>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        try output(time, "time_ms").pointee = net.time
    }
}

/// Calls Network.setThreads(_:).
@_cdecl("eprop_network_set_threads")
public func eprop_network_set_threads(_ network: OpaquePointer?, _ threads: Int32) -> Int32 {
    withStatus { () throws(EpropError) in
        try handle(network).setThreads(Int(threads))
    }
}

@_cdecl("eprop_network_threads")
public func eprop_network_threads(_ network: OpaquePointer?, _ threads: UnsafeMutablePointer<Int32>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        try output(threads, "threads").pointee = Int32(net.threads)
    }
}

/// Calls Network.setParallelMinimumWork(_:).
@_cdecl("eprop_network_set_parallel_min_work")
public func eprop_network_set_parallel_min_work(_ network: OpaquePointer?, _ work: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        try handle(network).setParallelMinimumWork(Int(work))
    }
}

@_cdecl("eprop_network_parallel_min_work")
public func eprop_network_parallel_min_work(_ network: OpaquePointer?, _ work: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        try output(work, "work").pointee = Int64(net.parallelMinimumWork)
    }
}

/// Calls Network.simulate(_:).
@_cdecl("eprop_simulate")
public func eprop_simulate(_ network: OpaquePointer?, _ duration: Double) -> Int32 {
    withStatus { () throws(EpropError) in
        try handle(network).simulate(duration)
    }
}

public typealias ProgressFunction = @convention(c) (Int64, Int64, UnsafeMutableRawPointer?) -> Int32

/// Calls Network.simulate(_:every:progress:).
@_cdecl("eprop_simulate_progress")
public func eprop_simulate_progress(_ network: OpaquePointer?, _ duration: Double, _ progress: ProgressFunction?,
                                    _ userData: UnsafeMutableRawPointer?, _ everySteps: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        guard let progress else { throw EpropError(.nullArgument, "progress: must not be NULL") }
        guard everySteps >= 1 else { throw EpropError(.invalidArgument, "every_steps: must be ≥ 1, got \(everySteps)") }
        try net.simulate(duration, every: Int(clamping: everySteps)) { done, total in
            progress(Int64(done), Int64(total), userData) == 0
        }
    }
}

/// Reads Network.memoryBytes and Network.historyBytes.
@_cdecl("eprop_network_memory")
public func eprop_network_memory(_ network: OpaquePointer?, _ bytes: UnsafeMutablePointer<Int64>?,
                                 _ historyBytes: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        bytes?.pointee = Int64(net.memoryBytes)
        historyBytes?.pointee = Int64(net.historyBytes)
    }
}

/// Calls MemoryModel.estimate (double precision).
@_cdecl("eprop_estimate_memory")
public func eprop_estimate_memory(_ nRecurrent: Int64, _ nReadout: Int64, _ nInput: Int64, _ nPlastic: Int64,
                                  _ nFixed: Int64, _ nSources: Int64, _ optimizer: UnsafePointer<CChar>?,
                                  _ optimizeEachStep: Int32, _ batchSize: Int64, _ cutoff: Double,
                                  _ flushInterval: Double, _ resolution: Double,
                                  _ bytes: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus { () throws(EpropError) in
        try estimate(nRecurrent, nReadout, nInput, nPlastic, nFixed, nSources, optimizer, optimizeEachStep, batchSize,
                     cutoff, flushInterval, resolution, .double, bytes)
    }
}

/// Calls MemoryModel.estimate with the eprop_synapse storage precision.
@_cdecl("eprop_estimate_memory_v2")
public func eprop_estimate_memory_v2(_ nRecurrent: Int64, _ nReadout: Int64, _ nInput: Int64, _ nPlastic: Int64,
                                     _ nFixed: Int64, _ nSources: Int64, _ optimizer: UnsafePointer<CChar>?,
                                     _ optimizeEachStep: Int32, _ batchSize: Int64, _ cutoff: Double,
                                     _ flushInterval: Double, _ resolution: Double,
                                     _ synapsePrecision: UnsafePointer<CChar>?,
                                     _ bytes: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let name = try string(synapsePrecision, "synapse_precision")
        guard let index = SynapsePrecision.names.firstIndex(of: name) else {
            throw EpropError(.badProperty, "synapse_precision: one of \"double\", \"single\" required, got \"\(name)\"")
        }
        try estimate(nRecurrent, nReadout, nInput, nPlastic, nFixed, nSources, optimizer, optimizeEachStep, batchSize,
                     cutoff, flushInterval, resolution, SynapsePrecision(rawValue: index)!, bytes)
    }
}

private func estimate(_ nRecurrent: Int64, _ nReadout: Int64, _ nInput: Int64, _ nPlastic: Int64,
                      _ nFixed: Int64, _ nSources: Int64, _ optimizer: UnsafePointer<CChar>?,
                      _ optimizeEachStep: Int32, _ batchSize: Int64, _ cutoff: Double,
                      _ flushInterval: Double, _ resolution: Double, _ precision: SynapsePrecision,
                      _ bytes: UnsafeMutablePointer<Int64>?) throws(EpropError) {
    let out = try output(bytes, "bytes")
    for (name, value) in [("n_recurrent", nRecurrent), ("n_readout", nReadout), ("n_input", nInput),
                          ("n_plastic", nPlastic), ("n_fixed", nFixed), ("n_sources", nSources)]
    where value < 0 || value > Int64(1) << 42 {
        throw EpropError(.invalidArgument, "\(name): must be between 0 and 2^42, got \(value)")
    }
    let kind = try string(optimizer, "optimizer")
    guard kind == "gradient_descent" || kind == "adam" else {
        throw EpropError(.badProperty, "optimizer: one of \"gradient_descent\", \"adam\" required, got \"\(kind)\"")
    }
    guard batchSize >= 1 else { throw EpropError(.invalidArgument, "batch_size: must be ≥ 1, got \(batchSize)") }
    guard resolution.isFinite, resolution > 0 else {
        throw EpropError(.invalidArgument, "resolution_ms: must be finite and > 0, got \(resolution)")
    }
    for (name, value) in [("cutoff_ms", cutoff), ("flush_interval_ms", flushInterval)] where value.isNaN || value < 0 {
        throw EpropError(.invalidArgument, "\(name): must be ≥ 0 (+inf for none), got \(value)")
    }
    let clock = Clock(dt: resolution)
    out.pointee = Int64(MemoryModel.estimate(
        recurrent: Int(nRecurrent), readouts: Int(nReadout), inputs: Int(nInput), plasticSynapses: Int(nPlastic),
        fixedSynapses: Int(nFixed), sources: Int(nSources), adam: kind == "adam", eachStep: optimizeEachStep != 0,
        batch: Int(batchSize), cutoffSteps: clock.steps(cutoff), flushSteps: clock.steps(flushInterval),
        precision: precision))
}
