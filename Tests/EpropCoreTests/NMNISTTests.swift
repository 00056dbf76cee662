#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import EpropCore

// N-MNIST reader (spec §11.2) on files the tests write into a fresh temporary directory.

/// A temporary directory, removed with its files when the test ends.
private final class TempDir {
    let path: String
    private var files: [String] = []
    init() {
        var template = Array("/tmp/eprop-nmnist-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
    }
    deinit {
        for f in files { unlink(f) }
        rmdir(path)
    }
    /// Writes `bytes` to a new file in the directory and returns its path.
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let file = path + "/" + name
        let f = fopen(file, "wb")!
        if !bytes.isEmpty { _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, f) } }
        fclose(f)
        files.append(file)
        return file
    }
}

/// One 5-byte record.
private func record(x: UInt8, y: UInt8, polarity: UInt8, time: Int) -> [UInt8] {
    [x, y, polarity << 7 | UInt8((time >> 16) & 0x7F), UInt8((time >> 8) & 0xFF), UInt8(time & 0xFF)]
}

private let overflow: [UInt8] = [0, 240, 0, 0, 0]

private func readError(_ path: String) -> EpropError? {
    do {
        _ = try NMNIST.read(path: path)
        return nil
    } catch {
        return error
    }
}

@Test func nmnistReadsEventsExactly() throws {
    let dir = TempDir()
    var bytes: [UInt8] = []
    bytes += record(x: 0, y: 0, polarity: 0, time: 0)
    bytes += record(x: 33, y: 33, polarity: 1, time: 0x7F_FFFF)   // largest field value
    bytes += record(x: 5, y: 17, polarity: 1, time: 123_456)
    let path = dir.write("plain.bin", bytes)
    let e = try NMNIST.read(path: path)
    #expect(e.x == [0, 33, 5])
    #expect(e.y == [0, 33, 17])
    #expect(e.polarity == [0, 1, 1])
    #expect(e.timeUs == [0, 0x7F_FFFF, 123_456])
    #expect(e.pixel(1) == 34 * 34 + 33 * 34 + 33)
    #expect(e.pixel(2) == 34 * 34 + 17 * 34 + 5)
}

@Test func nmnistOverflowRecordsAddTimeToLaterEventsOnly() throws {
    let dir = TempDir()
    var bytes: [UInt8] = []
    bytes += record(x: 1, y: 2, polarity: 1, time: 8000)
    bytes += overflow
    bytes += record(x: 3, y: 4, polarity: 0, time: 100)               // 8192 + 100
    bytes += [7, 240, 0xFF, 0xFF, 0xFF]                                // overflow; other bytes ignored
    bytes += overflow
    bytes += record(x: 5, y: 6, polarity: 1, time: 5)                 // 3·8192 + 5
    bytes += overflow                                                 // trailing: no event
    let e = try NMNIST.read(path: dir.write("overflow.bin", bytes))
    #expect(e.count == 3)
    #expect(e.x == [1, 3, 5])
    #expect(e.y == [2, 4, 6])
    #expect(e.polarity == [1, 0, 1])
    let expected: [Int64] = [8000, 8292, 24581]   // 8192 + 100, 3·8192 + 5
    #expect(e.timeUs == expected)
    // Only overflow records: a valid file without events.
    #expect(try NMNIST.read(path: dir.write("only-overflow.bin", overflow + overflow)).count == 0)
}

@Test func nmnistEmptyFileHasNoEvents() throws {
    let dir = TempDir()
    let e = try NMNIST.read(path: dir.write("empty.bin", []))
    #expect(e.count == 0 && e.timeUs.isEmpty)
    var map = [Int64](repeating: 0, count: NMNIST.pixelCount)
    map[0] = -1
    let s = try map.withUnsafeBufferPointer {
        try NMNIST.spikes(e, pixelToNeuron: $0, nSteps: 300, durationUs: 336_040, file: "empty.bin")
    }
    #expect(s.neurons.isEmpty && s.steps.isEmpty)
}

@Test func nmnistTruncatedFileNamesFileAndByteCount() {
    let dir = TempDir()
    for n in [1, 4, 6, 12, 5003] {
        let path = dir.write("trunc\(n).bin", [UInt8](repeating: 1, count: n))
        let error = readError(path)
        #expect(error?.status == .invalidArgument)
        #expect(error?.message.contains(path) == true, "\(error?.message ?? "no error")")
        #expect(error?.message.contains("\(n) bytes") == true, "\(error?.message ?? "no error")")
    }
}

@Test func nmnistCoordinatesOutsideSensorNameFileAndRecord() {
    let dir = TempDir()
    let good = record(x: 1, y: 1, polarity: 0, time: 10)
    for (x, y) in [(34, 0), (0, 34), (255, 3), (3, 239), (3, 241), (200, 255)] as [(UInt8, UInt8)] {
        let path = dir.write("bad\(x)_\(y).bin", good + overflow + good + record(x: x, y: y, polarity: 1, time: 20))
        let error = readError(path)
        #expect(error?.status == .invalidArgument)
        let message = error?.message ?? "no error"
        #expect(message.contains(path), "\(message)")
        #expect(message.contains("record 3"), "\(message)")
        #expect(message.contains("x = \(x)") && message.contains("y = \(y)"), "\(message)")
    }
}

@Test func nmnistMissingOrUnreadableFileNamesFile() {
    let dir = TempDir()
    let missing = dir.path + "/does-not-exist.bin"
    let error = readError(missing)
    #expect(error?.status == .invalidArgument)
    #expect(error?.message.contains(missing) == true)
    #expect(error?.message.contains("No such file") == true, "\(error?.message ?? "")")
    // A directory opens but cannot be read.
    let dirError = readError(dir.path)
    #expect(dirError?.status == .invalidArgument)
    #expect(dirError?.message.contains(dir.path) == true)
}

@Test func nmnistRandomBytesNeverTrap() {
    var rng = SeededRandom(seed: 11)
    var decoded = 0, rejected = 0
    for _ in 0..<2000 {
        let n = rng.int(60)
        var bytes: [UInt8] = []
        for _ in 0..<n {
            // Mostly valid coordinates so that some files decode.
            let r = rng.next()
            bytes.append(rng.int(8) == 0 ? UInt8(truncatingIfNeeded: r) : UInt8(truncatingIfNeeded: r % 34))
        }
        do {
            let e = try bytes.withUnsafeBufferPointer { (p) throws(EpropError) in try NMNIST.decode(p, file: "random") }
            #expect(e.count <= n / 5)
            #expect(e.timeUs.allSatisfy { $0 >= 0 })
            decoded += 1
        } catch {
            #expect(error.status == .invalidArgument)
            rejected += 1
        }
    }
    #expect(decoded > 50 && rejected > 500)
}

// ---- Mapping to (neuron, step) -------------------------------------------------------------

private func spikes(_ e: NMNIST.Events, _ map: [Int64], nSteps: Int = 300,
                    durationUs: Double = 336_040) throws(EpropError) -> (neurons: [Int64], steps: [Int64]) {
    try map.withUnsafeBufferPointer { (p) throws(EpropError) in
        try NMNIST.spikes(e, pixelToNeuron: p, nSteps: nSteps, durationUs: durationUs, file: "f.bin")
    }
}

private func events(_ list: [(x: UInt8, y: UInt8, p: UInt8, t: Int64)]) -> NMNIST.Events {
    var e = NMNIST.Events()
    for v in list {
        e.x.append(v.x)
        e.y.append(v.y)
        e.polarity.append(v.p)
        e.timeUs.append(v.t)
    }
    return e
}

@Test func nmnistStepsAreNestRoundingOfTimeTimes300Over336040() {
    // round(t·300/336040), half to even (NumPy): 8401 µs → 7.5 → 8, 25203 µs → 22.5 → 22.
    let cases: [(Int64, Int)] = [(0, 0), (560, 0), (561, 1), (8401, 8), (25203, 22), (42005, 38),
                                 (168_020, 150), (335_470, 299), (335_481, 300), (336_040, 300)]
    for (t, expected) in cases {
        #expect(NMNIST.step(timeUs: t, nSteps: 300, durationUs: 336_040) == expected, "t = \(t)")
    }
    // The same as the double expression evaluated in that order, for every µs of a sample.
    var t: Int64 = 0
    while t <= 336_040 {
        let s = NMNIST.step(timeUs: t, nSteps: 300, durationUs: 336_040)
        let q = Double(t) * 300 / 336_040
        #expect(abs(Double(s) - q) <= 0.5 && s >= 0 && s <= 300)
        t += 997
    }
}

@Test func nmnistSpikesMapPixelsDropBlockedAndSort() throws {
    var map = [Int64](repeating: -1, count: NMNIST.pixelCount)
    let pOn = 34 * 34 + 2 * 34 + 3       // x 3, y 2, ON
    let pOff = 2 * 34 + 3                // x 3, y 2, OFF
    let pOther = 10 * 34 + 20            // x 20, y 10, OFF
    map[pOn] = 7
    map[pOff] = 4
    map[pOther] = 9
    let e = events([
        (3, 2, 1, 200_000),   // neuron 7, step 179 (178.55 → 179)
        (3, 2, 0, 1_000),     // neuron 4, step 1
        (5, 5, 1, 50),        // blocked
        (20, 10, 0, 1_100),   // neuron 9, step 1
        (3, 2, 0, 1_000),     // neuron 4 again, same step: repeated pair kept
        (3, 2, 1, 336_040),   // neuron 7, step 300
        (20, 10, 0, 0),       // neuron 9, step 0
    ])
    let s = try spikes(e, map)
    #expect(s.steps == [0, 1, 1, 1, 179, 300])
    #expect(s.neurons == [9, 4, 4, 9, 7, 7])
    // Other step counts and durations scale the same way.
    let s2 = try spikes(e, map, nSteps: 30, durationUs: 400_000)
    #expect(s2.steps == [0, 0, 0, 0, 15, 25])
}

@Test func nmnistSpikesRejectBadArguments() {
    let e = events([(1, 1, 0, 400_000)])
    var map = [Int64](repeating: 0, count: NMNIST.pixelCount)
    func message(_ body: () throws(EpropError) -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            #expect(error.status == .invalidArgument)
            return error.message
        }
    }
    // Events later than duration_us are errors naming file and event, not clipped.
    var m = message { () throws(EpropError) in _ = try spikes(e, map) }
    #expect(m.contains("f.bin") && m.contains("event 0") && m.contains("400000"), "\(m)")
    #expect((try? spikes(e, map, durationUs: 400_000))?.steps == [300])
    m = message { () throws(EpropError) in _ = try spikes(e, map, nSteps: 0) }
    #expect(m.contains("n_steps"), "\(m)")
    for bad in [0.0, -1.0, .nan, .infinity] {
        m = message { () throws(EpropError) in _ = try spikes(e, map, durationUs: bad) }
        #expect(m.contains("duration_us"), "\(m)")
    }
    m = message { () throws(EpropError) in _ = try spikes(e, Array(map.dropLast())) }
    #expect(m.contains("n_pixels") && m.contains("2312") && m.contains("2311"), "\(m)")
    map[17] = -2
    m = message { () throws(EpropError) in _ = try spikes(e, map, durationUs: 1e6) }
    #expect(m.contains("pixel_to_neuron[17]") && m.contains("-2"), "\(m)")
}
