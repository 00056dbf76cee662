#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A deterministic generator (xoshiro256++ seeded by SplitMix64): the same seed gives the
/// same network on every machine.
public struct SeededGenerator: RandomNumberGenerator {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.0 &+ s.3) << 23 | (s.0 &+ s.3) >> 41) &+ s.0
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal (Box–Muller; one value per call, deterministic).
    public mutating func normal() -> Double {
        let u1 = 1.0 - uniform(), u2 = uniform()
        return (-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2)
    }

    /// Uniform integer in 0..<n.
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// Which pairs a rule connects (NEST's conn_spec rules).
public enum ConnectionRule: Sendable {
    case allToAll
    /// Each pair independently with probability p.
    case pairwiseBernoulli(p: Double)
    /// Every target gets exactly k sources, drawn with or without replacement.
    case fixedIndegree(k: Int, multapses: Bool)
}

/// How weights are drawn.
public enum WeightDistribution: Sendable {
    case constant(Double)
    case normal(mean: Double, std: Double)
    case uniform(low: Double, high: Double)
    /// randn · scale / √n_pre, as NEST's e-prop examples draw W_in and W_rec.
    case normalFanIn(scale: Double)
    /// U(−l, l)·scale with l = √(3 / max(1, (n_pre + n_post)/2)), as NEST's N-MNIST example draws W_out.
    case glorotUniform(scale: Double)
}

extension Network {
    /// Connects by `rule` with weights from `weights`, drawn with `seed`; returns the
    /// projection id. Pairs are generated source by source, so memory stays O(synapses).
    @discardableResult
    public func connect(pre prePopulation: Int, post postPopulation: Int, synapseModel: String,
                        rule: ConnectionRule, allowAutapses: Bool, weights: WeightDistribution,
                        seed: UInt64, delay: Double) throws(EpropError) -> Int {
        let nPre = try population(prePopulation).size, nPost = try population(postPopulation).size
        let skipSelf = prePopulation == postPopulation && !allowAutapses
        switch rule {
        case .allToAll: break
        case .pairwiseBernoulli(let p):
            guard p.isFinite, p >= 0, p <= 1 else { throw .invalid("p: 0 ≤ p ≤ 1 required, got \(fmt(p))") }
        case .fixedIndegree(let k, let multapses):
            let available = skipSelf ? nPre - 1 : nPre
            guard k >= 0 else { throw .invalid("indegree: must be ≥ 0, got \(k)") }
            guard multapses || k <= available else {
                throw .invalid("indegree: without multapses at most \(available) sources are available, got \(k)")
            }
            guard k == 0 || available > 0 else { throw .invalid("indegree: no source available for \(k) synapses") }
        }
        try weights.validate()
        let expected: Double
        switch rule {
        case .allToAll: expected = Double(nPre) * Double(nPost)
        case .pairwiseBernoulli(let p): expected = Double(nPre) * Double(nPost) * p
        case .fixedIndegree(let k, _): expected = Double(k) * Double(nPost)
        }
        // The rule's (pre, post, weight) lists (24 B) exist while connect builds the synapses.
        try MemoryModel.require(Int(min(expected * 1.02 * 24, 9e18)), for: "connect by rule (≈\(Int(expected)) synapses)")
        var generator = SeededGenerator(seed: seed)
        var pre: [Int64] = [], post: [Int64] = []
        switch rule {
        case .allToAll:
            let n = nPre * nPost - (skipSelf ? min(nPre, nPost) : 0)
            try Network.checkSynapseCount(n)
            pre.reserveCapacity(n); post.reserveCapacity(n)
            for i in 0..<nPre { for j in 0..<nPost where !(skipSelf && i == j) { pre.append(Int64(i)); post.append(Int64(j)) } }
        case .pairwiseBernoulli(let p):
            let expected = Double(nPre) * Double(nPost) * p
            try Network.checkSynapseCount(Int(min(expected * 1.1 + 1000, 9e15)))
            pre.reserveCapacity(Int(expected * 1.05) + 16); post.reserveCapacity(Int(expected * 1.05) + 16)
            if p > 0 {
                // Geometric skips: O(synapses), not O(pairs).
                let logQ = p < 1 ? log(1.0 - p) : -Double.infinity
                for i in 0..<nPre {
                    var j = -1
                    while true {
                        let skip = p < 1 ? Int(min(floor(log(1.0 - generator.uniform()) / logQ), 1e15)) : 0
                        j += 1 + skip
                        if j >= nPost { break }
                        if skipSelf && i == j { continue }
                        pre.append(Int64(i)); post.append(Int64(j))
                    }
                }
            }
        case .fixedIndegree(let k, let multapses):
            try Network.checkSynapseCount(k * nPost)
            pre.reserveCapacity(k * nPost); post.reserveCapacity(k * nPost)
            var chosen = Set<Int>()
            for j in 0..<nPost {
                chosen.removeAll(keepingCapacity: true)
                var drawn = 0
                while drawn < k {
                    let i = generator.below(nPre)
                    if skipSelf && i == j { continue }
                    if !multapses {
                        if chosen.contains(i) { continue }
                        chosen.insert(i)
                    }
                    pre.append(Int64(i)); post.append(Int64(j))
                    drawn += 1
                }
            }
        }
        var w = [Double](repeating: 0, count: pre.count)
        for k in 0..<w.count { w[k] = weights.draw(&generator, nPre: nPre, nPost: nPost) }
        return try pre.withUnsafeBufferPointer { (p) throws(EpropError) -> Int in
            try post.withUnsafeBufferPointer { (q) throws(EpropError) -> Int in
                try w.withUnsafeBufferPointer { (ws) throws(EpropError) -> Int in
                    try connect(pre: prePopulation, post: postPopulation, synapseModel: synapseModel,
                                pre: p, post: q, weights: ws, delay: delay)
                }
            }
        }
    }

    static func checkSynapseCount(_ n: Int) throws(EpropError) {
        guard n <= Int(Int32.max) * 16 else {
            throw EpropError(.outOfMemory, "connect: \(n) synapses in one projection is more than eprop supports (\(Int(Int32.max) * 16))")
        }
    }
}

extension WeightDistribution {
    func validate() throws(EpropError) {
        func finite(_ x: Double, _ name: String) throws(EpropError) {
            guard x.isFinite else { throw .invalid("\(name): must be finite, got \(fmt(x))") }
        }
        switch self {
        case .constant(let x): try finite(x, "weight")
        case .normal(let mean, let std):
            try finite(mean, "mean"); try finite(std, "std")
            guard std >= 0 else { throw .invalid("std: must be ≥ 0, got \(fmt(std))") }
        case .uniform(let low, let high):
            try finite(low, "low"); try finite(high, "high")
            guard low <= high else { throw .invalid("low, high: low ≤ high required, got \(fmt(low)), \(fmt(high))") }
        case .normalFanIn(let scale), .glorotUniform(let scale): try finite(scale, "scale")
        }
    }

    @inline(__always)
    func draw(_ g: inout SeededGenerator, nPre: Int, nPost: Int) -> Double {
        switch self {
        case .constant(let x): return x
        case .normal(let mean, let std): return mean + std * g.normal()
        case .uniform(let low, let high): return low + (high - low) * g.uniform()
        case .normalFanIn(let scale): return g.normal() * scale / Double(nPre).squareRoot()
        case .glorotUniform(let scale):
            let limit = (3.0 / max(1.0, Double(nPre + nPost) / 2.0)).squareRoot()
            return (-limit + 2.0 * limit * g.uniform()) * scale
        }
    }
}
