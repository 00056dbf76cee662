import Testing
@testable import EpropCore

/// A small deterministic generator (SplitMix64) so sweeps are repeatable.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * uniform() }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

func relativeError(_ a: Double, _ b: Double) -> Double {
    a == b ? 0 : abs(a - b) / max(abs(a), abs(b))
}

/// Runs `body` for every combination, naming the failing case in the test output.
func withEvery<A, B>(_ a: [A], _ b: [B], _ body: (A, B) throws -> Void) rethrows {
    for x in a { for y in b { try body(x, y) } }
}

extension Network {
    /// Connects with explicit arrays from Swift arrays.
    @discardableResult
    func connect(_ pre: Int, _ post: Int, _ model: String, pre ids: [Int], post targets: [Int], weights: [Double],
                 delay: Double = 1) throws -> Int {
        let p = ids.map(Int64.init), q = targets.map(Int64.init)
        return try p.withUnsafeBufferPointer { pb in
            try q.withUnsafeBufferPointer { qb in
                try weights.withUnsafeBufferPointer { wb in
                    try connect(pre: pre, post: post, synapseModel: model, pre: pb, post: qb, weights: wb, delay: delay)
                }
            }
        }
    }

    func setSpikes(_ population: Int, neurons: [Int], times: [Double]) throws {
        let n = neurons.map(Int64.init)
        try n.withUnsafeBufferPointer { nb in
            try times.withUnsafeBufferPointer { tb in try setSpikeTimes(population, neurons: nb, times: tb) }
        }
    }

    func schedule(_ signal: ReadoutSignal, _ population: Int, times: [Double], values: [Double], neurons: Int = 1) throws {
        try times.withUnsafeBufferPointer { tb in
            try values.withUnsafeBufferPointer { vb in
                try setSchedule(signal, population, times: tb, values: vb, neurons: neurons)
            }
        }
    }

    func setParameterArray(_ population: Int, _ name: String, _ values: [Double]) throws(EpropError) {
        try values.withUnsafeBufferPointer { (vb) throws(EpropError) in try setParameterArray(population, name, vb) }
    }

    func samples(_ recorder: Int) throws -> (steps: [Int], values: [Double]) { try recordedSamples(recorder) }
}
