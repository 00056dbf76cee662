/// The eligibility kernel for two groups of eight consecutive targets at once, compiled
/// for AVX-512 (x86-64-v4, Package.swift) and called only when the running CPU has it.
///
/// Why a module of its own: Swift cannot select instructions per function, and the engine
/// is built for AVX2. With AVX2 a group of eight is two 256-bit chains per trace and the
/// loop is bound by the two vector ports (20 operations per step). With 512-bit registers
/// the eight lanes are one register per trace, and two groups side by side (four chains,
/// 20 operations for 16 lanes) keep both ports busy while each chain waits for its
/// multiply and add (bench/exact_arithmetic_floor.c: 0.43 → 0.27 ns per eligibility step).
///
/// Every lane does exactly the scalar operations of spec §8.3 (non-adaptive targets, the
/// accumulate mode), in the same order, each rounded on its own:
///
///     e = ψ·z̄;  ē = κ·ē + e;  ē_reg = κ_reg·ē_reg + (1 − κ_reg)·e;  g = g + (L·ē + reg·ē_reg)
///
/// and, outside signalFrom ..< signalTo (no learning signal), g = g + reg·ē_reg, which is
/// the same bits while ē is finite (the caller checks; see `EpropProjection.accumulate`).
/// No fused multiply-add: Swift never contracts on its own.
///
/// Pure function of its arguments: it reads the stored state and writes the new state to
/// `out` only, so a caller that finds a non-finite ē can redo the groups another way.

/// The history entries of one interval: `n` entries from step `begin` of a ring of
/// `mask` + 1 slots in step-major order (ψ, L and reg of consecutive neurons side by side,
/// `channelStride` apart; slots `slotStride` apart), and the presynaptic trace z̄ of each.
public struct WideInterval {
    public var begin: Int, n: Int, mask: Int, slotStride: Int, channelStride: Int
    /// Entries signalFrom ..< signalTo carry a learning signal (0 ≤ from ≤ to ≤ n).
    public var signalFrom: Int, signalTo: Int
    public var zBar: UnsafePointer<Double>
    public var kappa: Double, kappaReg: Double
    /// Applied after the loop when `decays`: ē ·= κ^decay, ē_reg ·= κ_reg^decay.
    public var decays: Bool, kappaDecay: Double, kappaRegDecay: Double

    public init(begin: Int, n: Int, mask: Int, slotStride: Int, channelStride: Int, signalFrom: Int, signalTo: Int,
                zBar: UnsafePointer<Double>, kappa: Double, kappaReg: Double, decays: Bool, kappaDecay: Double,
                kappaRegDecay: Double) {
        self.begin = begin; self.n = n; self.mask = mask; self.slotStride = slotStride
        self.channelStride = channelStride; self.signalFrom = signalFrom; self.signalTo = signalTo
        self.zBar = zBar; self.kappa = kappa; self.kappaReg = kappaReg; self.decays = decays
        self.kappaDecay = kappaDecay; self.kappaRegDecay = kappaRegDecay
    }
}

/// Integrates 16 synapses, stored at `eBar`, `eBarReg` (and `gradientIn`, or g = 0) indices
/// 0 ..< 16, whose lanes 0 ..< 8 target the eight consecutive neurons whose step-major
/// entries start at `historyA` and lanes 8 ..< 16 those at `historyB`. Writes ē to
/// out[0 ..< 16], ē_reg to out[16 ..< 32] and g to out[32 ..< 48].
public func integrateEightLanePair(_ interval: WideInterval, historyA: UnsafePointer<Double>,
                                   historyB: UnsafePointer<Double>, eBar: UnsafePointer<Double>,
                                   eBarReg: UnsafePointer<Double>, gradientIn: UnsafePointer<Double>?,
                                   out: UnsafeMutablePointer<Double>) {
    let (eb, ebr, g) = eligibility(interval, historyA: historyA, historyB: historyB, eBar: eBar, eBarReg: eBarReg,
                                   gradientIn: gradientIn)
    let o = UnsafeMutableRawPointer(out)
    o.storeBytes(of: eb, toByteOffset: 0, as: SIMD16<Double>.self)
    o.storeBytes(of: ebr, toByteOffset: 128, as: SIMD16<Double>.self)
    o.storeBytes(of: g, toByteOffset: 256, as: SIMD16<Double>.self)
}

/// The gradient-descent call that ends an accumulated interval (spec §9.3, one planned
/// call), for 16 synapses whose weights (and batch sums G, if the batch is larger than 1)
/// are stored side by side.
public struct WideDescent {
    /// w of the 16 synapses.
    public var weights: UnsafeMutablePointer<Double>
    /// G of the 16 synapses (nil: G = 0 before and after, batch 1).
    public var batchSum: UnsafeMutablePointer<Double>?
    /// Whether the planned call updates the weights (else G only accumulates).
    public var updates: Bool
    public var batch: Double, rate: Double, wMin: Double, wMax: Double

    public init(weights: UnsafeMutablePointer<Double>, batchSum: UnsafeMutablePointer<Double>?, updates: Bool,
                batch: Double, rate: Double, wMin: Double, wMax: Double) {
        self.weights = weights; self.batchSum = batchSum; self.updates = updates
        self.batch = batch; self.rate = rate; self.wMin = wMin; self.wMax = wMax
    }
}

/// `integrateEightLanePair` followed by the event's gradient-descent call and, with
/// `inputA`/`inputB`, the spike's transmission (w added to the input of each lane's target:
/// inputA[0 ..< 8] for lanes 0 ..< 8, inputB[0 ..< 8] for lanes 8 ..< 16), with ē and ē_reg
/// written back to `eBar`, `eBarReg`: everything the caller would do after the kernel, in
/// registers, the same operations in the same order (SynapseOptimizerLanes.apply). Returns
/// false with nothing written where entries without a learning signal left L·ē out and some
/// ē is not finite (the caller redoes those lanes with L).
public func integrateEightLanePairDescending(_ interval: WideInterval, historyA: UnsafePointer<Double>,
                                             historyB: UnsafePointer<Double>, eBar: UnsafeMutablePointer<Double>,
                                             eBarReg: UnsafeMutablePointer<Double>,
                                             gradientIn: UnsafePointer<Double>?, descent: WideDescent,
                                             inputA: UnsafeMutablePointer<Double>?,
                                             inputB: UnsafeMutablePointer<Double>?) -> Bool {
    typealias V = SIMD16<Double>
    typealias H = SIMD8<Double>
    let (eb, ebr, g) = eligibility(interval, historyA: historyA, historyB: historyB, eBar: eBar, eBarReg: eBarReg,
                                   gradientIn: gradientIn)
    if interval.signalFrom > 0 || interval.signalTo < interval.n {
        // ±∞ or NaN (ē − ē is 0 exactly for every finite ē).
        if any((eb - eb) .!= 0) { return false }
    }
    @inline(__always) func load(_ p: UnsafeMutablePointer<Double>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Double>, _ x: V) { UnsafeMutableRawPointer(p).storeBytes(of: x, as: V.self) }
    store(eBar, eb)
    store(eBarReg, ebr)
    var weight = load(descent.weights)
    var sum = (descent.batchSum.map { load($0) } ?? V()) + g
    if descent.updates {
        if descent.batch != 1 { sum = sum / descent.batch }
        weight = weight - descent.rate * sum
        sum = V()
        // As SynapseOptimizerLanes.apply: max(w, wMin) then min(·, wMax) the way Swift's
        // max and min choose (a NaN weight stays NaN).
        weight.replace(with: descent.wMin, where: descent.wMin .>= weight)
        weight.replace(with: descent.wMax, where: descent.wMax .< weight)
        store(descent.weights, weight)
    }
    if let batchSum = descent.batchSum { store(batchSum, sum) }
    if let inputA, let inputB {
        let a = UnsafeMutableRawPointer(inputA), b = UnsafeMutableRawPointer(inputB)
        a.storeBytes(of: a.loadUnaligned(as: H.self) + weight.lowHalf, as: H.self)
        b.storeBytes(of: b.loadUnaligned(as: H.self) + weight.highHalf, as: H.self)
    }
    return true
}

/// ē, ē_reg and g of the 16 lanes after the interval (see `integrateEightLanePair`).
@inline(__always)
func eligibility(_ interval: WideInterval, historyA: UnsafePointer<Double>, historyB: UnsafePointer<Double>,
                 eBar: UnsafePointer<Double>, eBarReg: UnsafePointer<Double>,
                 gradientIn: UnsafePointer<Double>?) -> (SIMD16<Double>, SIMD16<Double>, SIMD16<Double>) {
    typealias V = SIMD16<Double>
    typealias H = SIMD8<Double>
    @inline(__always) func half(_ p: UnsafePointer<Double>) -> H { UnsafeRawPointer(p).loadUnaligned(as: H.self) }
    @inline(__always) func load(_ p: UnsafePointer<Double>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    var eb = load(eBar), ebr = load(eBarReg)
    var g = V()
    if let gradientIn { g = load(gradientIn) }
    let kappa = interval.kappa, kappaReg = interval.kappaReg, oneMinusKappaReg = 1.0 - interval.kappaReg
    let begin = interval.begin, mask = interval.mask, slotStride = interval.slotStride
    let channelStride = interval.channelStride, zBar = interval.zBar
    @inline(__always)
    func entries(_ from: Int, _ to: Int, learningSignal: Bool) {
        var i = from
        while i < to {
            let slot = ((begin &+ i) & mask) &* slotStride
            let a = historyA + slot, b = historyB + slot
            let psi = V(lowHalf: half(a), highHalf: half(b))
            let reg = V(lowHalf: half(a + 2 &* channelStride), highHalf: half(b + 2 &* channelStride))
            let e = psi * zBar[i]
            eb = kappa * eb + e
            ebr = kappaReg * ebr + oneMinusKappaReg * e
            if learningSignal {
                let l = V(lowHalf: half(a + channelStride), highHalf: half(b + channelStride))
                g = g + (l * eb + reg * ebr)
            } else {
                g = g + reg * ebr
            }
            i &+= 1
        }
    }
    entries(0, interval.signalFrom, learningSignal: false)
    entries(interval.signalFrom, interval.signalTo, learningSignal: true)
    entries(interval.signalTo, interval.n, learningSignal: false)
    if interval.decays {
        eb = eb * interval.kappaDecay
        ebr = ebr * interval.kappaRegDecay
    }
    return (eb, ebr, g)
}
