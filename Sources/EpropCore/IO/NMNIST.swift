#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// N-MNIST event files (Orchard et al. 2015) and their mapping to network input, as NEST's
/// N-MNIST e-prop example uses them (spec §11.2).
///
/// A file is a sequence of 5-byte records:
///
///     byte 0   x (0 … 33)
///     byte 1   y (0 … 33), or 240 for a timestamp-overflow record
///     byte 2   bit 7: polarity (1 = ON, 0 = OFF); bits 6…0: time bits 22…16
///     byte 3   time bits 15…8
///     byte 4   time bits 7…0          time (µs) = (b2<<16 | b3<<8 | b4) & 0x7FFFFF
///
/// A record with y == 240 is not an event: it adds 2^13 µs to the time of every event after
/// it (the dataset authors' reading code does this; NEST's example reads files without such
/// records, which the real N-MNIST files are). Everything here checks the bytes and throws
/// `EpropError(.invalidArgument, …)` naming the file; nothing traps on bad input.
public enum NMNIST {
    /// Sensor width and height in pixels.
    public static let sensorSize = 34
    /// Input pixels: 2 polarities × 34 × 34.
    public static let pixelCount = 2 * sensorSize * sensorSize
    /// Bytes per record.
    public static let recordSize = 5
    /// `y` of a timestamp-overflow record.
    public static let overflowY: UInt8 = 240
    /// Time added to all later events by an overflow record (2^13 µs).
    public static let overflowIncrementUs: Int64 = 1 << 13

    /// The events of one file, in file order (overflow records removed, their time applied).
    public struct Events: Equatable, Sendable {
        public var x: [UInt8] = []
        public var y: [UInt8] = []
        /// 1 = ON, 0 = OFF.
        public var polarity: [UInt8] = []
        /// Event time in µs, overflow records applied.
        public var timeUs: [Int64] = []
        public init() {}
        public var count: Int { x.count }
        /// Input pixel of event i: polarity·34·34 + y·34 + x (spec §11.2).
        @inlinable public func pixel(_ i: Int) -> Int {
            Int(polarity[i]) * sensorSize * sensorSize + Int(y[i]) * sensorSize + Int(x[i])
        }
    }

    // ---- Reading ----------------------------------------------------------------------

    /// The whole file as bytes. Throws if it cannot be opened or read.
    public static func readBytes(path: String) throws(EpropError) -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw EpropError(.invalidArgument, "N-MNIST file '\(path)': cannot open: \(errorText(errno))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        if fseek(file, 0, SEEK_END) == 0 {
            let size = ftell(file)
            if size > 0 && size < Int(1) << 36 { bytes.reserveCapacity(size) }
            rewind(file)
        }
        let chunk = 1 << 16
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, chunk, file) }
            if n > 0 { bytes.append(contentsOf: buffer[0..<n]) }
            if n < chunk {
                if ferror(file) != 0 {
                    throw EpropError(.invalidArgument, "N-MNIST file '\(path)': read error: \(errorText(errno))")
                }
                break
            }
        }
        return bytes
    }

    /// Decodes N-MNIST records; `file` names the source in error messages.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, file: String) throws(EpropError) -> Events {
        guard bytes.count % recordSize == 0 else {
            throw EpropError(.invalidArgument, "N-MNIST file '\(file)': \(bytes.count) bytes is not a multiple of the "
                + "\(recordSize)-byte record size (truncated file?)")
        }
        let records = bytes.count / recordSize
        var overflows = 0
        var r = 0
        while r < records {
            if bytes[r * recordSize + 1] == overflowY { overflows += 1 }
            r += 1
        }
        var events = Events()
        let n = records - overflows
        events.x.reserveCapacity(n)
        events.y.reserveCapacity(n)
        events.polarity.reserveCapacity(n)
        events.timeUs.reserveCapacity(n)
        var offset: Int64 = 0
        r = 0
        while r < records {
            let b = r * recordSize
            let x = bytes[b], y = bytes[b + 1], b2 = bytes[b + 2]
            if y == overflowY {
                offset += overflowIncrementUs
                r += 1
                continue
            }
            guard Int(x) < sensorSize, Int(y) < sensorSize else {
                throw EpropError(.invalidArgument, "N-MNIST file '\(file)': record \(r) (byte \(b)) has x = \(x), "
                    + "y = \(y), outside the \(sensorSize) × \(sensorSize) sensor (y = \(overflowY) marks a "
                    + "timestamp overflow)")
            }
            let t = (Int64(b2) << 16 | Int64(bytes[b + 3]) << 8 | Int64(bytes[b + 4])) & 0x7F_FFFF
            events.x.append(x)
            events.y.append(y)
            events.polarity.append(b2 >> 7)
            events.timeUs.append(t + offset)
            r += 1
        }
        return events
    }

    /// Reads and decodes the file at `path`.
    public static func read(path: String) throws(EpropError) -> Events {
        let bytes = try readBytes(path: path)
        return try bytes.withUnsafeBufferPointer { (p) throws(EpropError) -> Events in try decode(p, file: path) }
    }

    // ---- Mapping to network input --------------------------------------------------------

    /// Step of an event at `timeUs`: round(timeUs · nSteps / durationUs), computed in that
    /// order in double precision and rounded half to even, as NEST's example computes
    /// round(t·300/336040) with NumPy. For 0 ≤ timeUs ≤ durationUs the step is in 0 … nSteps.
    @inlinable
    public static func step(timeUs: Int64, nSteps: Int, durationUs: Double) -> Int {
        Int((Double(timeUs) * Double(nSteps) / durationUs).rounded(.toNearestOrEven))
    }

    /// Checks a pixel → input-neuron map: `pixelCount` entries, each −1 (blocked) or ≥ 0.
    public static func checkPixelMap(_ map: UnsafeBufferPointer<Int64>) throws(EpropError) {
        guard map.count == pixelCount else {
            throw EpropError(.invalidArgument, "n_pixels: must equal 2·34·34 = \(pixelCount), got \(map.count)")
        }
        for i in 0..<map.count where map[i] < -1 {
            throw EpropError(.invalidArgument, "pixel_to_neuron[\(i)]: must be -1 (blocked) or a neuron id ≥ 0, "
                + "got \(map[i])")
        }
    }

    /// The (input neuron, step) pairs of `events`: pixel p of an event maps to neuron
    /// pixelToNeuron[p] (events of blocked pixels, −1, are dropped) and its time to
    /// `step(timeUs:nSteps:durationUs:)`. Sorted by step, then neuron; repeated pairs are kept
    /// (several events of one pixel in one step give repeated spikes, as in NEST).
    ///
    /// Every event must lie in 0 … durationUs, so steps are 0 … nSteps. Step nSteps is NEST's
    /// too: its mapping round(t·300/336040) reaches 300 for the last ≈ 560 µs.
    public static func spikes(_ events: Events, pixelToNeuron: UnsafeBufferPointer<Int64>, nSteps: Int,
                              durationUs: Double, file: String) throws(EpropError) -> (neurons: [Int64], steps: [Int64]) {
        try checkPixelMap(pixelToNeuron)
        guard nSteps >= 1 else { throw EpropError(.invalidArgument, "n_steps: must be ≥ 1, got \(nSteps)") }
        guard durationUs.isFinite, durationUs > 0 else {
            throw EpropError(.invalidArgument, "duration_us: must be finite and > 0, got \(fmt(durationUs))")
        }
        var pairs: [(step: Int64, neuron: Int64)] = []
        pairs.reserveCapacity(events.count)
        for i in 0..<events.count {
            let t = events.timeUs[i]
            guard Double(t) <= durationUs else {
                throw EpropError(.invalidArgument, "N-MNIST file '\(file)': event \(i) at \(t) µs is later than "
                    + "duration_us = \(fmt(durationUs)); pass a duration_us ≥ the last event time")
            }
            let neuron = pixelToNeuron[events.pixel(i)]
            if neuron < 0 { continue }
            pairs.append((Int64(step(timeUs: t, nSteps: nSteps, durationUs: durationUs)), neuron))
        }
        pairs.sort { $0.step != $1.step ? $0.step < $1.step : $0.neuron < $1.neuron }
        var neurons: [Int64] = [], steps: [Int64] = []
        neurons.reserveCapacity(pairs.count)
        steps.reserveCapacity(pairs.count)
        for p in pairs {
            neurons.append(p.neuron)
            steps.append(p.step)
        }
        return (neurons, steps)
    }

    private static func errorText(_ code: Int32) -> String {
        if let s = strerror(code) { return String(cString: s) }
        return "errno \(code)"
    }
}
