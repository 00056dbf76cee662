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
