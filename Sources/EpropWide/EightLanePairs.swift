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
    let (eb, ebr, g, _, _, _) = eligibility(interval, historyA: historyA, historyB: historyB, historyC: historyA,
                                            tail: false, eBar: eBar, eBarReg: eBarReg, gradientIn: gradientIn)
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

    /// SynapseOptimizerLanes.apply's gradient descent for the lanes from `offset` (16 of
    /// them); returns the weights after it.
    @inline(__always)
    func update(_ g: SIMD16<Double>, at offset: Int) -> SIMD16<Double> {
        typealias X = SIMD16<Double>
        var weight = UnsafeRawPointer(weights + offset).loadUnaligned(as: X.self)
        var sum = (batchSum.map { UnsafeRawPointer($0 + offset).loadUnaligned(as: X.self) } ?? X()) + g
        if updates {
            if batch != 1 { sum = sum / batch }
            weight = weight - rate * sum
            sum = X()
            // max(w, wMin) then min(·, wMax) the way Swift's max and min choose (a NaN
            // weight stays NaN).
            weight.replace(with: wMin, where: wMin .>= weight)
            weight.replace(with: wMax, where: wMax .< weight)
            UnsafeMutableRawPointer(weights + offset).storeBytes(of: weight, as: X.self)
        }
        if let batchSum { UnsafeMutableRawPointer(batchSum + offset).storeBytes(of: sum, as: X.self) }
        return weight
    }

    /// The same for four lanes. (Spelled out twice: written generically over the SIMD type,
    /// even `@_transparent`, the clipping went lane by lane through the stack.)
    @inline(__always)
    func update(_ g: SIMD4<Double>, at offset: Int) -> SIMD4<Double> {
        typealias X = SIMD4<Double>
        var weight = UnsafeRawPointer(weights + offset).loadUnaligned(as: X.self)
        var sum = (batchSum.map { UnsafeRawPointer($0 + offset).loadUnaligned(as: X.self) } ?? X()) + g
        if updates {
            if batch != 1 { sum = sum / batch }
            weight = weight - rate * sum
            sum = X()
            weight.replace(with: wMin, where: wMin .>= weight)
            weight.replace(with: wMax, where: wMax .< weight)
            UnsafeMutableRawPointer(weights + offset).storeBytes(of: weight, as: X.self)
        }
        if let batchSum { UnsafeMutableRawPointer(batchSum + offset).storeBytes(of: sum, as: X.self) }
        return weight
    }
}

/// `integrateEightLanePair` followed by the event's gradient-descent call and, with
/// `inputA`/`inputB`, the spike's transmission (w added to the input of each lane's target:
/// inputA[0 ..< 8] for lanes 0 ..< 8, inputB[0 ..< 8] for lanes 8 ..< 16), with ē and ē_reg
/// written back to `eBar`, `eBarReg`: everything the caller would do after the kernel, in
/// registers, the same operations in the same order (SynapseOptimizerLanes.apply). Returns
/// false with nothing written where entries without a learning signal left L·ē out and some
/// ē is not finite (the caller redoes those lanes with L).
///
/// With `historyC`, four more synapses (indices 16 ..< 20 of the same columns, the last of a
/// row) onto the four consecutive neurons whose entries start there run in the same loop
/// (a 256-bit chain next to the four 512-bit ones: cheaper than their own latency-bound
/// loop), transmitting to inputC[0 ..< 4].
///
/// Lanes set in `keep` (bit i: lane i, of 20) keep their ē, ē_reg and g as they are: the
/// caller found that the interval cannot change them (frozen near-subnormal traces onto a
/// quiet neuron). They are computed from 0 (arithmetic on subnormal numbers takes a
/// microcode assist per instruction) and replaced by the stored values before the descent.
public func integrateEightLanePairDescending(_ interval: WideInterval, historyA: UnsafePointer<Double>,
                                             historyB: UnsafePointer<Double>, historyC: UnsafePointer<Double>? = nil,
                                             eBar: UnsafeMutablePointer<Double>,
                                             eBarReg: UnsafeMutablePointer<Double>,
                                             gradientIn: UnsafePointer<Double>?, descent: WideDescent,
                                             inputA: UnsafeMutablePointer<Double>?,
                                             inputB: UnsafeMutablePointer<Double>?,
                                             inputC: UnsafeMutablePointer<Double>? = nil, keep: UInt32 = 0) -> Bool {
    if let historyC {
        return descending(interval, historyA, historyB, historyC, tail: true, eBar, eBarReg, gradientIn, descent,
                          inputA, inputB, inputC, keep)
    }
    return descending(interval, historyA, historyB, historyA, tail: false, eBar, eBarReg, gradientIn, descent,
                      inputA, inputB, nil, keep)
}

/// `integrateEightLanePair` for a flush event, finished in this module like
/// `integrateEightLanePairDescending` (lanes in `keep` kept, false with nothing written where
/// a non-finite ē needs L): ē and ē_reg written back, g stored to `gradientOut` (nil: not
/// kept), no descent and no transmission.
public func integrateEightLanePairKeeping(_ interval: WideInterval, historyA: UnsafePointer<Double>,
                                          historyB: UnsafePointer<Double>, eBar: UnsafeMutablePointer<Double>,
                                          eBarReg: UnsafeMutablePointer<Double>, gradientIn: UnsafePointer<Double>?,
                                          gradientOut: UnsafeMutablePointer<Double>?, keep: UInt32 = 0) -> Bool {
    let unused = WideDescent(weights: eBar, batchSum: nil, updates: false, batch: 1, rate: 0, wMin: 0, wMax: 0)
    return descending(interval, historyA, historyB, historyA, tail: false, eBar, eBarReg, gradientIn, unused,
                      nil, nil, nil, keep, descends: false, gradientOut: gradientOut)
}

/// `integrateEightLanePairDescending` for `pairs` pairs in a row: pair p is synapses
/// 16p ..< 16p + 16 of the columns (eBar, eBarReg, gradientIn, the descent's weights and
/// batch sums) onto the 16 consecutive neurons whose entries start at history + 16p, and
/// transmits to input + 16p; with `tail`, the last pair also takes the row's last four
/// synapses (onto the next four neurons). `keep[p]`: pair p's kept lanes (nil: none). One
/// call per row instead of per pair: the caller's per-pair work (interval and descent set
/// up, checks) was ≈ 1/5 of the time of the sine-wave network's dense rows. Returns the
/// pairs done: where a pair returns false (nothing written), the caller goes on from it.
public func integrateRunDescending(_ interval: WideInterval, history: UnsafePointer<Double>, pairs: Int, tail: Bool,
                                   eBar: UnsafeMutablePointer<Double>, eBarReg: UnsafeMutablePointer<Double>,
                                   gradientIn: UnsafePointer<Double>?, descent: WideDescent,
                                   input: UnsafeMutablePointer<Double>?, keep: UnsafePointer<UInt32>?) -> Int {
    var pairDescent = descent
    for p in 0..<pairs {
        let offset = 16 &* p
        pairDescent.weights = descent.weights + offset
        pairDescent.batchSum = descent.batchSum.map { $0 + offset }
        let a = history + offset, kept = keep?[p] ?? 0
        let inputA = input.map { $0 + offset }, inputB = input.map { $0 + (offset &+ 8) }
        let done: Bool
        if tail && p == pairs &- 1 {
            done = descending(interval, a, a + 8, a + 16, tail: true, eBar + offset, eBarReg + offset,
                              gradientIn.map { $0 + offset }, pairDescent, inputA, inputB,
                              input.map { $0 + (offset &+ 16) }, kept)
        } else {
            done = descending(interval, a, a + 8, a, tail: false, eBar + offset, eBarReg + offset,
                              gradientIn.map { $0 + offset }, pairDescent, inputA, inputB, nil, kept)
        }
        if !done { return p }
    }
    return pairs
}

/// All ones in lanes 0 ..< 16 whose bit is set in `bits`, zeros elsewhere (integer
/// arithmetic: `replace(with:where:)` on these vectors went lane by lane through memory).
@inline(__always)
func laneMask(_ bits: UInt32) -> SIMD16<UInt64> {
    let shift = SIMD16<UInt64>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    return SIMD16<UInt64>() &- ((SIMD16<UInt64>(repeating: UInt64(bits)) &>> shift) & 1)
}

/// The same for lanes 16 ..< 20.
@inline(__always)
func tailMask(_ bits: UInt32) -> SIMD4<UInt64> {
    SIMD4<UInt64>() &- ((SIMD4<UInt64>(repeating: UInt64(bits)) &>> SIMD4<UInt64>(16, 17, 18, 19)) & 1)
}

/// `b` where `mask` is all ones, `a` elsewhere.
@inline(__always)
func blend(_ a: SIMD16<Double>, _ b: SIMD16<Double>, _ mask: SIMD16<UInt64>) -> SIMD16<Double> {
    typealias U = SIMD16<UInt64>
    return unsafeBitCast((unsafeBitCast(a, to: U.self) & ~mask) | (unsafeBitCast(b, to: U.self) & mask),
                         to: SIMD16<Double>.self)
}

@inline(__always)
func blend(_ a: SIMD4<Double>, _ b: SIMD4<Double>, _ mask: SIMD4<UInt64>) -> SIMD4<Double> {
    typealias U = SIMD4<UInt64>
    return unsafeBitCast((unsafeBitCast(a, to: U.self) & ~mask) | (unsafeBitCast(b, to: U.self) & mask),
                         to: SIMD4<Double>.self)
}

@_transparent
func descending(_ interval: WideInterval, _ historyA: UnsafePointer<Double>,
                _ historyB: UnsafePointer<Double>, _ historyC: UnsafePointer<Double>, tail: Bool,
                _ eBar: UnsafeMutablePointer<Double>,
                _ eBarReg: UnsafeMutablePointer<Double>, _ gradientIn: UnsafePointer<Double>?,
                _ descent: WideDescent, _ inputA: UnsafeMutablePointer<Double>?,
                _ inputB: UnsafeMutablePointer<Double>?, _ inputC: UnsafeMutablePointer<Double>?,
                _ keep: UInt32, descends: Bool = true, gradientOut: UnsafeMutablePointer<Double>? = nil) -> Bool {
    typealias V = SIMD16<Double>
    typealias H = SIMD8<Double>
    typealias T = SIMD4<Double>
    var (eb, ebr, g, tailEb, tailEbr, tailG) = eligibility(interval, historyA: historyA, historyB: historyB,
                                                           historyC: historyC, tail: tail, eBar: eBar,
                                                           eBarReg: eBarReg, gradientIn: gradientIn, keep: keep)
    if keep != 0 {
        // The stored values, still in place (nothing is written before this point).
        let lanes = laneMask(keep)
        eb = blend(eb, UnsafeRawPointer(eBar).loadUnaligned(as: V.self), lanes)
        ebr = blend(ebr, UnsafeRawPointer(eBarReg).loadUnaligned(as: V.self), lanes)
        g = blend(g, gradientIn.map { UnsafeRawPointer($0).loadUnaligned(as: V.self) } ?? V(), lanes)
        if tail {
            let tailLanes = tailMask(keep)
            tailEb = blend(tailEb, UnsafeRawPointer(eBar + 16).loadUnaligned(as: T.self), tailLanes)
            tailEbr = blend(tailEbr, UnsafeRawPointer(eBarReg + 16).loadUnaligned(as: T.self), tailLanes)
            tailG = blend(tailG, gradientIn.map { UnsafeRawPointer($0 + 16).loadUnaligned(as: T.self) } ?? T(),
                          tailLanes)
        }
    }
    if interval.signalFrom > 0 || interval.signalTo < interval.n {
        // ±∞ or NaN (ē − ē is 0 exactly for every finite ē).
        if any((eb - eb) .!= 0) || (tail && any((tailEb - tailEb) .!= 0)) { return false }
    }
    UnsafeMutableRawPointer(eBar).storeBytes(of: eb, as: V.self)
    UnsafeMutableRawPointer(eBarReg).storeBytes(of: ebr, as: V.self)
    if tail {
        UnsafeMutableRawPointer(eBar + 16).storeBytes(of: tailEb, as: T.self)
        UnsafeMutableRawPointer(eBarReg + 16).storeBytes(of: tailEbr, as: T.self)
    }
    guard descends else {
        // A flush: g is kept for the next event (gradientOut), nothing is transmitted.
        if let gradientOut {
            UnsafeMutableRawPointer(gradientOut).storeBytes(of: g, as: V.self)
            if tail { UnsafeMutableRawPointer(gradientOut + 16).storeBytes(of: tailG, as: T.self) }
        }
        return true
    }
    let weight = descent.update(g, at: 0)
    let tailWeight = tail ? descent.update(tailG, at: 16) : T()
    if let inputA, let inputB {
        let a = UnsafeMutableRawPointer(inputA), b = UnsafeMutableRawPointer(inputB)
        a.storeBytes(of: a.loadUnaligned(as: H.self) + weight.lowHalf, as: H.self)
        b.storeBytes(of: b.loadUnaligned(as: H.self) + weight.highHalf, as: H.self)
    }
    if tail, let inputC {
        let c = UnsafeMutableRawPointer(inputC)
        c.storeBytes(of: c.loadUnaligned(as: T.self) + tailWeight, as: T.self)
    }
    return true
}

/// ē, ē_reg and g of the 16 lanes after the interval (see `integrateEightLanePair`), and with
/// `tail` those of the four lanes 16 ..< 20 onto the neurons at `historyC` (else zeros).
@_transparent
func eligibility(_ interval: WideInterval, historyA: UnsafePointer<Double>, historyB: UnsafePointer<Double>,
                 historyC: UnsafePointer<Double>, tail: Bool, eBar: UnsafePointer<Double>,
                 eBarReg: UnsafePointer<Double>, gradientIn: UnsafePointer<Double>?, keep: UInt32 = 0)
    -> (SIMD16<Double>, SIMD16<Double>, SIMD16<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>) {
    typealias V = SIMD16<Double>
    typealias H = SIMD8<Double>
    typealias T = SIMD4<Double>
    @inline(__always) func half(_ p: UnsafePointer<Double>) -> H { UnsafeRawPointer(p).loadUnaligned(as: H.self) }
    @inline(__always) func quarter(_ p: UnsafePointer<Double>) -> T { UnsafeRawPointer(p).loadUnaligned(as: T.self) }
    @inline(__always) func load(_ p: UnsafePointer<Double>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    var eb = load(eBar), ebr = load(eBarReg)
    var g = V()
    if let gradientIn { g = load(gradientIn) }
    var tailEb = T(), tailEbr = T(), tailG = T()
    if tail {
        tailEb = quarter(eBar + 16)
        tailEbr = quarter(eBarReg + 16)
        if let gradientIn { tailG = quarter(gradientIn + 16) }
    }
    if keep != 0 {
        // Kept lanes run from 0 (their results are replaced).
        let lanes = laneMask(keep)
        eb = blend(eb, V(), lanes)
        ebr = blend(ebr, V(), lanes)
        if tail {
            let tailLanes = tailMask(keep)
            tailEb = blend(tailEb, T(), tailLanes)
            tailEbr = blend(tailEbr, T(), tailLanes)
        }
    }
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
            let z = zBar[i]
            let e = psi * z
            eb = kappa * eb + e
            ebr = kappaReg * ebr + oneMinusKappaReg * e
            if learningSignal {
                let l = V(lowHalf: half(a + channelStride), highHalf: half(b + channelStride))
                g = g + (l * eb + reg * ebr)
            } else {
                g = g + reg * ebr
            }
            if tail {
                let c = historyC + slot
                let tailReg = quarter(c + 2 &* channelStride)
                let tailE = quarter(c) * z
                tailEb = kappa * tailEb + tailE
                tailEbr = kappaReg * tailEbr + oneMinusKappaReg * tailE
                if learningSignal {
                    tailG = tailG + (quarter(c + channelStride) * tailEb + tailReg * tailEbr)
                } else {
                    tailG = tailG + tailReg * tailEbr
                }
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
        if tail {
            tailEb = tailEb * interval.kappaDecay
            tailEbr = tailEbr * interval.kappaRegDecay
        }
    }
    return (eb, ebr, g, tailEb, tailEbr, tailG)
}
