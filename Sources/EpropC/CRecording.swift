import EpropCore

// Recorders.

@_cdecl("eprop_record_spikes")
public func eprop_record_spikes(_ network: OpaquePointer?, _ population: Int32, _ recorder: UnsafeMutablePointer<Int32>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let out = try output(recorder, "recorder")
        out.pointee = Int32(try net.recordSpikes(Int(population)))
    }
}

/// Calls Network.recordState.
@_cdecl("eprop_record_state")
public func eprop_record_state(_ network: OpaquePointer?, _ population: Int32, _ recordables: UnsafePointer<CChar>?,
                               _ neurons: UnsafePointer<Int64>?, _ nNeurons: Int64,
                               _ recorder: UnsafeMutablePointer<Int32>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let out = try output(recorder, "recorder")
        let csv = try string(recordables, "recordables")
        let list = csv.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces() }
        let ids = try buffer(neurons, nNeurons, "neurons", countName: "n_neurons").map { Int(clamping: $0) }
        out.pointee = Int32(try net.recordState(Int(population), recordables: list, neurons: ids))
    }
}

/// Calls Network.recordWeights.
@_cdecl("eprop_record_weights")
public func eprop_record_weights(_ network: OpaquePointer?, _ projection: Int32, _ pre: UnsafePointer<Int64>?,
                                 _ post: UnsafePointer<Int64>?, _ count: Int64,
                                 _ recorder: UnsafeMutablePointer<Int32>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let out = try output(recorder, "recorder")
        let p = try buffer(pre, count, "pre").map { Int(clamping: $0) }
        let q = try buffer(post, count, "post").map { Int(clamping: $0) }
        out.pointee = Int32(try net.recordWeights(Int(projection), pre: p, post: q))
    }
}

@_cdecl("eprop_recorder_count")
public func eprop_recorder_count(_ network: OpaquePointer?, _ recorder: Int32, _ count: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let out = try output(count, "count")
        out.pointee = Int64(try net.recorderCount(Int(recorder)))
    }
}

@_cdecl("eprop_recorder_width")
public func eprop_recorder_width(_ network: OpaquePointer?, _ recorder: Int32, _ width: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let out = try output(width, "width")
        out.pointee = Int64(try net.recorderWidth(Int(recorder)))
    }
}

/// Calls Network.recordedSpikes.
@_cdecl("eprop_recorder_get_spikes")
public func eprop_recorder_get_spikes(_ network: OpaquePointer?, _ recorder: Int32, _ times: UnsafeMutablePointer<Double>?,
                                      _ senders: UnsafeMutablePointer<Int64>?, _ capacityGiven: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let (steps, ids) = try net.recordedSpikes(Int(recorder))
        try capacity(capacityGiven, atLeast: steps.count, "capacity")
        let t = try outputBuffer(times, Int64(steps.count), "times_ms")
        let s = try outputBuffer(senders, Int64(steps.count), "senders")
        let dt = net.clock.dt
        for i in 0..<steps.count {
            t[i] = Double(steps[i] + 1) * dt
            s[i] = Int64(ids[i])
        }
    }
}

/// Calls Network.recordedSamples.
@_cdecl("eprop_recorder_get_samples")
public func eprop_recorder_get_samples(_ network: OpaquePointer?, _ recorder: Int32, _ times: UnsafeMutablePointer<Double>?,
                                       _ values: UnsafeMutablePointer<Double>?, _ capacityGiven: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let (steps, data) = try net.recordedSamples(Int(recorder))
        try capacity(capacityGiven, atLeast: steps.count, "capacity")
        let t = try outputBuffer(times, Int64(steps.count), "times_ms")
        let v = try outputBuffer(values, Int64(data.count), "values")
        let dt = net.clock.dt
        for i in 0..<steps.count { t[i] = Double(steps[i] + 1) * dt }
        for i in 0..<data.count { v[i] = data[i] }
    }
}

@_cdecl("eprop_recorder_clear")
public func eprop_recorder_clear(_ network: OpaquePointer?, _ recorder: Int32) -> Int32 {
    withStatus { () throws(EpropError) in
        try handle(network).clearRecorder(Int(recorder))
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
