import EpropCore

// Data sets: N-MNIST event files (eprop.h "Data").
//
// Both functions follow the size-query protocol of the header: capacity 0 (output arrays
// may then be NULL) only reports the count; a capacity below the count fails with
// EPROP_ERR_BUFFER_TOO_SMALL and still reports it.

/// Calls NMNIST.read(path:).
@_cdecl("eprop_nmnist_read")
public func eprop_nmnist_read(_ path: UnsafePointer<CChar>?, _ x: UnsafeMutablePointer<UInt8>?,
                              _ y: UnsafeMutablePointer<UInt8>?, _ polarity: UnsafeMutablePointer<UInt8>?,
                              _ timeUs: UnsafeMutablePointer<Int64>?, _ capacityGiven: Int64,
                              _ count: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let file = try string(path, "path")
        let out = try output(count, "count")
        let xs = try outputBuffer(x, capacityGiven, "x", countName: "capacity")
        let ys = try outputBuffer(y, capacityGiven, "y", countName: "capacity")
        let ps = try outputBuffer(polarity, capacityGiven, "polarity", countName: "capacity")
        let ts = try outputBuffer(timeUs, capacityGiven, "time_us", countName: "capacity")
        let events = try NMNIST.read(path: file)
        out.pointee = Int64(events.count)
        if capacityGiven == 0 { return }
        try capacity(capacityGiven, atLeast: events.count, "capacity")
        for i in 0..<events.count {
            xs[i] = events.x[i]
            ys[i] = events.y[i]
            ps[i] = events.polarity[i]
            ts[i] = events.timeUs[i]
        }
    }
}

/// Calls NMNIST.read(path:) and NMNIST.spikes(_:pixelToNeuron:nSteps:durationUs:file:).
@_cdecl("eprop_nmnist_spikes")
public func eprop_nmnist_spikes(_ path: UnsafePointer<CChar>?, _ pixelToNeuron: UnsafePointer<Int64>?,
                                _ nPixels: Int64, _ nSteps: Int64, _ durationUs: Double,
                                _ neurons: UnsafeMutablePointer<Int64>?, _ steps: UnsafeMutablePointer<Int64>?,
                                _ capacityGiven: Int64, _ count: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let file = try string(path, "path")
        let out = try output(count, "count")
        let map = try buffer(pixelToNeuron, nPixels, "pixel_to_neuron", countName: "n_pixels")
        try NMNIST.checkPixelMap(map)
        guard nSteps >= 1, nSteps <= Int64(Int32.max) else {
            throw EpropError(.invalidArgument, "n_steps: must be in 1 … \(Int32.max), got \(nSteps)")
        }
        guard durationUs.isFinite, durationUs > 0 else {
            throw EpropError(.invalidArgument, "duration_us: must be finite and > 0, got \(durationUs)")
        }
        let ns = try outputBuffer(neurons, capacityGiven, "neurons", countName: "capacity")
        let ss = try outputBuffer(steps, capacityGiven, "steps", countName: "capacity")
        let events = try NMNIST.read(path: file)
        let spikes = try NMNIST.spikes(events, pixelToNeuron: map, nSteps: Int(nSteps), durationUs: durationUs,
                                       file: file)
        out.pointee = Int64(spikes.neurons.count)
        if capacityGiven == 0 { return }
        try capacity(capacityGiven, atLeast: spikes.neurons.count, "capacity")
        for i in 0..<spikes.neurons.count {
            ns[i] = spikes.neurons[i]
            ss[i] = spikes.steps[i]
        }
    }
}
