import Testing
@testable import EpropCore
#if canImport(Glibc)
import Glibc
#endif

/// A straightforward per-synapse transcription of spec §8.2–8.3 and §9.3, with all state
/// per synapse as NEST keeps it. The engine splits that state between source and
/// synapse and plans optimizer calls once per source; this reference does none of that.
struct ReferenceSynapse {
    var w: Double
    var tPrev = 0, prevFlush = false
    var zBar = 0.0, eBar = 0.0, eBarReg = 0.0, epsilon = 0.0, zBuf = 0.0, g = 0.0, rem = 0, decay = 0
    var sum = 0.0, k = 1, etaCurrent = 1e-4, nOptimize = 0, m = 0.0, v = 0.0, b1p = 1.0, b2p = 1.0

    mutating func optimize(_ idx: Int, _ gradient: Double, _ c: OptimizerConfig) {
        if c.etaChangeCount != 0 && nOptimize == 0 { etaCurrent = c.etaFirstChange }
        sum += gradient
        let target = 1 + idx / c.batchSize
        guard k < target else { return }
        sum = sum / Double(c.batchSize)
        if c.kind == .gradientDescent {
            w = w - etaCurrent * sum
            sum = 0
        } else {
            while k < target {
                b1p *= c.beta1
                b2p *= c.beta2
                let a = etaCurrent * (1.0 - b2p).squareRoot() / (1.0 - b1p)
                m = c.beta1 * m + (1.0 - c.beta1) * sum
                v = c.beta2 * v + (1.0 - c.beta2) * sum * sum
                w = w - a * m / (v.squareRoot() + c.epsilon)
                sum = 0
                k += 1
            }
        }
        w = min(max(w, c.wMin), c.wMax)
        etaCurrent = c.eta
        nOptimize += 1
        k = target
    }

    /// history(t) = (ψ, L, reg); readout targets pass (err, 0, 0) with `readout` true.
    mutating func send(_ ts: Int, flush: Bool, history: (Int) -> (Double, Double, Double), alpha: Double,
                       kappa: Double, kappaReg: Double, beta: Double = 0, rho: Double = 0, adaptive: Bool = false,
                       cutoff: Int, readout: Bool, _ c: OptimizerConfig) {
        if tPrev != 0 {
            let isi = ts - tPrev
            var zCur = 0.0
            if !prevFlush { rem = cutoff; g = 0; zCur = 1 }
            let begin = tPrev - 1
            let n = min(rem, isi)
            for t in begin..<(begin + n) {
                let z = zBuf; zBuf = zCur; zCur = 0
                zBar = alpha * zBar + z
                let (psi, l, reg) = history(t)
                let dg: Double
                if readout {
                    dg = psi * zBar
                } else {
                    let e: Double
                    if adaptive {
                        e = psi * (zBar - beta * epsilon)
                        epsilon = rho * epsilon + e
                    } else {
                        e = psi * zBar
                    }
                    eBar = kappa * eBar + e
                    eBarReg = kappaReg * eBarReg + (1.0 - kappaReg) * e
                    dg = l * eBar + reg * eBarReg
                }
                if c.eachStep { g = dg; optimize(t + 1, g, c) } else { g = g + dg }
            }
            rem -= n
            decay += isi - n
            if !flush && decay > 0 {
                zBar *= pow(alpha, Double(decay))
                eBar *= pow(kappa, Double(decay))
                eBarReg *= pow(kappaReg, Double(decay))
                if adaptive { epsilon *= pow(rho, Double(decay)) }
                decay = 0
            }
            if !flush && !c.eachStep { optimize(ts - 1, g, c) }
        }
        tPrev = ts
        prevFlush = flush
    }
}

/// The engine's kernel against the reference, exactly (same operations in the same
/// order), over optimizers, modes, batch sizes, cutoffs, flush patterns, readout
/// targets, repeated spikes and a learning-rate change.
@Test(arguments: ["gradient_descent", "adam"], [true, false])
func kernelMatchesPerSynapseReference(optimizerType: String, eachStep: Bool) throws {
    for (batch, cutoff, flushRate, readout) in [(1, Clock.never, 0.0, false), (1, 5, 0.05, false), (3, 1, 0.05, false),
                                                (2, 0, 0.1, false), (1, 30, 0.2, false), (1, 7, 0.05, true),
                                                (4, Clock.never, 0.1, true)] {
        for (adaptive, heterogeneous) in [(false, false), (true, false), (false, true), (true, true)]
        where !(readout && adaptive) {
            try compareKernel(optimizerType, eachStep, batch: batch, cutoff: cutoff, flushRate: flushRate,
                              readout: readout, adaptive: adaptive, heterogeneous: heterogeneous)
        }
    }
}

/// Rows of 13–24 synapses, so that groups of eight run and rows that end in 5–7 synapses
/// take the overlapped group of eight (run first, upper lanes kept): against the
/// reference, exactly, with near-subnormal lanes in some.
@Test(arguments: [13, 15, 21, 23])
func longRowsMatchReference(targets: Int) throws {
    for (batch, cutoff, flushRate) in [(1, Clock.never, 0.0), (1, 30, 0.2), (2, 7, 0.05)] {
        for optimizerType in ["gradient_descent", "adam"] {
            try compareKernel(optimizerType, false, batch: batch, cutoff: cutoff, flushRate: flushRate, readout: false,
                              targets: targets)
        }
    }
    try compareKernel("gradient_descent", false, batch: 1, cutoff: 30, flushRate: 0.05, readout: false,
                      subnormal: true, targets: targets)
}

/// The same rows with the target population keeping its step-major history copy: the
/// groups of eight consecutive targets load their entries side by side, the others (the
/// parallel synapse 0 → 2 breaks row 0's first group) gather; against the reference.
@Test(arguments: [13, 16, 21, 24])
func stepMajorRowsMatchReference(targets: Int) throws {
    for (batch, cutoff, flushRate) in [(1, Clock.never, 0.0), (1, 30, 0.2), (2, 7, 0.05)] {
        for optimizerType in ["gradient_descent", "adam"] {
            try compareKernel(optimizerType, false, batch: batch, cutoff: cutoff, flushRate: flushRate, readout: false,
                              targets: targets, stepMajor: true)
        }
    }
    try compareKernel("gradient_descent", false, batch: 1, cutoff: 30, flushRate: 0.05, readout: false,
                      subnormal: true, targets: targets, stepMajor: true)
    // Targets not flagged quiet: no lane is checked, the hardware's subnormal arithmetic
    // (exact, only slow) gives the same bits.
    try compareKernel("gradient_descent", false, batch: 1, cutoff: 30, flushRate: 0.05, readout: false,
                      subnormal: true, targets: targets, stepMajor: true, flagQuiet: false)
    // Adaptive targets (ε): groups of four consecutive targets.
    for optimizerType in ["gradient_descent", "adam"] {
        try compareKernel(optimizerType, false, batch: 1, cutoff: 30, flushRate: 0.2, readout: false, adaptive: true,
                          targets: targets, stepMajor: true)
    }
    try compareKernel("gradient_descent", false, batch: 1, cutoff: 30, flushRate: 0.05, readout: false, adaptive: true,
                      subnormal: true, targets: targets, stepMajor: true)
}

/// Adaptive targets add ε (spec §8.3); heterogeneous targets (per-neuron τ_m, κ, κ_reg,
/// β, τ_a) switch the engine to per-synapse z̄ and per-target filter constants.
///
/// In single precision (`precision` .single) the engine stores every field as a Float and
/// is compared with the double-precision reference to a relative tolerance `tolerance`.
///
/// With `subnormal`, ψ is ≈ 1e-303 and 0 for steps 60–219 while L and reg are ≈ 1e290, so
/// ē and ē_reg decay deep into the subnormal range (and to 0) while their products with L
/// and reg stay visible in the weights; every target counts as quiet, so the kernel takes
/// its integer-product path for those lanes.
func compareKernel(_ optimizerType: String, _ eachStep: Bool, batch: Int, cutoff: Int, flushRate: Double,
                   readout: Bool, adaptive: Bool = false, heterogeneous: Bool = false,
                   precision: SynapsePrecision = .double, tolerance: Double = 0, subnormal: Bool = false,
                   psiScale: Double = 1e-303, quietScale: Double = 1e290, expectFrozen: Bool = false,
                   targets: Int = 4, stepMajor: Bool = false, flagQuiet: Bool = true, wide: Bool = false,
                   gaps: Bool = false, steps: Int = 300) throws {
    let label = "\(optimizerType) each=\(eachStep) batch=\(batch) cutoff=\(cutoff) flush=\(flushRate) readout=\(readout) adaptive=\(adaptive) heterogeneous=\(heterogeneous) precision=\(precision.name) subnormal=\(subnormal)"
    var rng = SeededRandom(seed: UInt64(batch * 1000 + (cutoff == Clock.never ? 999 : cutoff)))
    let sources = 3
    precondition(targets == 4 || !heterogeneous, "heterogeneous parameters are given for 4 targets")
    let clock = Clock(dt: 1)
    let config = OptimizerConfig()
    try config.setType(optimizerType)
    try config.set([("batch_size", Double(batch)), ("eta", 0.05), ("optimize_each_step", eachStep ? 1 : 0),
                    ("Wmin", -0.6), ("Wmax", 0.6)])
    let cutoffMs = cutoff == Clock.never ? Double.infinity : Double(cutoff)
    let history: EpropHistory
    var alpha: [Double], kappa = [Double](repeating: 0, count: targets), kappaReg = [Double](repeating: 0, count: targets)
    var beta = [Double](repeating: 0, count: targets), rho = [Double](repeating: 0, count: targets)
    let target: EpropProjection.Target, input: UnsafeMutablePointer<Double>
    let tauM = heterogeneous ? [7.0, 13, 21, 9] : [13.0, 13, 13, 13]
    if readout {
        let pop = ReadoutPopulation(size: targets)
        if heterogeneous {
            try pop.setParameters([("C_m", 1), ("eprop_isi_trace_cutoff", cutoffMs)], arrays: [("tau_m", tauM)])
        } else {
            try pop.setParameters([("C_m", 1), ("eprop_isi_trace_cutoff", cutoffMs), ("tau_m", tauM[0])])
        }
        pop.prepare(clock)
        history = pop.history
        alpha = (0..<targets).map { pop.alpha[$0] }
        target = .readout(pop); input = pop.zIn
    } else {
        let pop = RecurrentPopulation(model: adaptive ? .iafAdapt : .iaf, size: targets)
        var arrays: [(String, [Double])] = [("tau_m", tauM)]
        if heterogeneous {
            arrays += [("kappa", [0.9, 0.95, 0.8, 0.99]), ("kappa_reg", [0.8, 0.7, 0.9, 0.85])]
            if adaptive { arrays += [("adapt_beta", [0.5, 1.5, 0.1, 2]), ("adapt_tau", [20, 30, 5, 100])] }
        } else {
            arrays += [("kappa", [0.9, 0.9, 0.9, 0.9]), ("kappa_reg", [0.8, 0.8, 0.8, 0.8])]
            if adaptive { arrays += [("adapt_beta", [1.2, 1.2, 1.2, 1.2]), ("adapt_tau", [25, 25, 25, 25])] }
        }
        if heterogeneous {
            try pop.setParameters([("C_m", 1), ("eprop_isi_trace_cutoff", cutoffMs)], arrays: arrays)
        } else {
            // One common value each, so the engine takes its shared-z̄ (and SIMD) paths.
            try pop.setParameters([("C_m", 1), ("eprop_isi_trace_cutoff", cutoffMs)] + arrays.map { ($0.0, $0.1[0]) })
        }
        pop.prepare(clock)
        #expect(pop.alpha.isUniform == !heterogeneous && pop.kappa.isUniform == !heterogeneous, "\(label)")
        history = pop.history
        alpha = (0..<targets).map { pop.alpha[$0] }
        kappa = (0..<targets).map { pop.kappa[$0] }
        kappaReg = (0..<targets).map { pop.kappaReg[$0] }
        beta = (0..<targets).map { pop.beta[$0] }
        rho = (0..<targets).map { pop.rho[$0] }
        target = .recurrent(pop); input = pop.zIn
        if subnormal && flagQuiet {
            for j in 0..<targets { pop.quietSteps[j] = .max }
            pop.refreshQuietNeurons()
            #expect(pop.hasQuietNeurons, "\(label)")
        }
    }
    history.oldestNeeded = { _ in 0 }
    if stepMajor { try history.keepStepMajorCopy(true) }
    for t in 0..<steps {
        history.append(t)
        for j in 0..<targets {
            var e = (0.0, 0.0, 0.0)
            if subnormal {
                let quiet = (60..<220).contains(t)
                e.0 = quiet ? 0 : rng.uniform(0, 0.5) * psiScale
                e.1 = rng.uniform(-1, 1) * (quiet ? quietScale : 1e290)
                e.2 = rng.uniform(-0.1, 0.1) * (quiet ? quietScale : 1e290)
            } else {
                e.0 = rng.uniform(0, 0.5)
                if !readout { e.1 = rng.uniform(-1, 1); e.2 = rng.uniform(-0.1, 0.1) }
            }
            if readout {
                history.entry(j, t)[0] = e.0
            } else {
                history.write(j, t, e.0, e.1, e.2)   // both copies, if the step-major one is kept
            }
        }
    }
    #expect((history.stepMajor != nil) == stepMajor, "\(label)")
    func entry(_ j: Int, _ t: Int) -> (Double, Double, Double) {
        let e = history.entry(j, t)
        return readout ? (e[0], 0, 0) : (e[0], e[1], e[2])
    }
    // Every source connects to every target (with `gaps`, all but one, as a recurrent row
    // without its autapse), plus one parallel synapse 0 → 2.
    var pre: [Int64] = [], post: [Int64] = [], weights: [Double] = []
    for s in 0..<sources {
        for j in 0..<targets where !gaps || j != (7 * s + 3) % targets {
            pre.append(Int64(s)); post.append(Int64(j)); weights.append(rng.uniform(-0.5, 0.5))
        }
    }
    pre.append(0); post.append(2); weights.append(0.25)
    let (connectivity, order) = pre.withUnsafeBufferPointer { p in post.withUnsafeBufferPointer { q in
        Connectivity.build(sources: sources, pre: p, post: q) } }
    let stored = order.map { weights[$0] }
    let projection = EpropProjection(source: 0, targetPopulation: 1, target: target, connectivity: connectivity,
                                     weights: stored, optimizer: config, input: input, precision: precision)
    projection.prepareForSimulation()
    projection.usesWidePairs = wide
    #expect((projection.zBarSynapse != nil) == heterogeneous, "\(label): per-synapse z̄ only for differing τ_m")
    // The reference starts from the weights as stored (rounded to Float in single precision).
    let initial = (0..<connectivity.count).map { projection.weight($0) }
    var references = initial.map { ReferenceSynapse(w: $0) }
    let sourceOf = projection.sources()
    // The spikes' transmissions: each target's input, summed in event and row order.
    var expectedInput = (0..<targets).map { input[$0] }
    for ts in 1..<steps {
        if ts == steps / 2 { try config.set([("eta", 0.02)]) }   // takes effect one optimization late
        for s in 0..<sources {
            let r = rng.uniform()
            let flush = r < flushRate
            let spikes = r > 0.85 ? (r > 0.98 ? 2 : 1) : 0   // some repeated spikes (§13 item 17)
            guard flush || spikes > 0 else { continue }
            for _ in 0..<(flush ? 1 : spikes) {
                projection.process(source: s, stamp: ts, flush: flush)
                for k in 0..<connectivity.count where sourceOf[k] == s {
                    let j = Int(connectivity.target[k])
                    references[k].send(ts, flush: flush, history: { entry(j, $0) }, alpha: alpha[j], kappa: kappa[j],
                                       kappaReg: kappaReg[j], beta: beta[j], rho: rho[j], adaptive: adaptive,
                                       cutoff: cutoff, readout: readout, config)
                    if !flush { expectedInput[j] += references[k].w }
                }
            }
        }
    }
    // Differences relative to the field's largest magnitude (0 in double precision: exact).
    func close(_ a: Double, _ b: Double, _ field: (ReferenceSynapse) -> Double) -> Bool {
        a == b || abs(a - b) <= tolerance * references.map { abs(field($0)) }.max()!
    }
    for k in 0..<connectivity.count {
        #expect(close(projection.weight(k), references[k].w, \.w), "\(label): weight of synapse \(k)")
        #expect(close(projection.traces(k).eBar, references[k].eBar, \.eBar), "\(label): ē of synapse \(k)")
        #expect(close(projection.traces(k).eBarReg, references[k].eBarReg, \.eBarReg), "\(label): ē_reg of synapse \(k)")
        let (m, v) = projection.moments(k)
        if optimizerType == "adam" {
            #expect(close(m, references[k].m, \.m) && close(v, references[k].v, \.v), "\(label): Adam moments of synapse \(k)")
        }
    }
    if precision == .double {
        for j in 0..<targets {
            #expect(input[j].bitPattern == expectedInput[j].bitPattern, "\(label): input of target \(j)")
        }
    }
    // The weights moved, so the comparison is not vacuous.
    let moved = (0..<connectivity.count).filter { projection.weight($0) != initial[$0] }.count
    // (Frozen lanes: ψ is subnormal, so the weights cannot move; the traces carry the test.)
    #expect(cutoff == 0 || expectFrozen || moved > connectivity.count / 2, "\(label): only \(moved) weights changed")
    let pairs = projection.widePairs.load(ordering: .relaxed)
    #expect(wide == (pairs > 0), "\(label): \(pairs) pairs through the AVX-512 kernel")
    if wide && optimizerType == "gradient_descent" && !eachStep && !subnormal && precision == .double {
        let descending = projection.descendingPairs.load(ordering: .relaxed)
        #expect(descending > 0, "\(label): \(descending) pairs with their gradient descent in the AVX-512 module")
        if !gaps && targets % 16 == 4 {
            let tails = projection.pairsWithTails.load(ordering: .relaxed)
            #expect(tails > 0, "\(label): \(tails) pairs with the row's last four synapses")
        }
    }
    if wide && optimizerType == "gradient_descent" && !eachStep && precision == .double && !gaps
        && (targets % 16 == 0 || targets % 16 == 4) {
        let rows = projection.runRows.load(ordering: .relaxed)
        #expect(rows > 0, "\(label): \(rows) rows through the AVX-512 module in one call")
    }
    if wide && flushRate > 0 && !eachStep && !subnormal && precision == .double && !gaps {
        let flushes = projection.keepingPairs.load(ordering: .relaxed)
        #expect(flushes > 0, "\(label): \(flushes) flush pairs finished in the AVX-512 module")
    }
    if wide && expectFrozen && flagQuiet && !gaps {
        let kept = projection.pairsWithFrozenLanes.load(ordering: .relaxed)
        #expect(kept > 0, "\(label): \(kept) pairs that kept frozen lanes in the AVX-512 module")
    }
    if wide && gaps && !(subnormal && flagQuiet) {
        let spare = projection.gapPairs.load(ordering: .relaxed)
        #expect(spare > 0, "\(label): \(spare) pairs with a spare lane")
    }
    if expectFrozen {
        let frozen = projection.frozenLaneIntervals.load(ordering: .relaxed)
        #expect(frozen > 10, "\(label): \(frozen) frozen lane intervals")
    }
}

/// Traces in and near the subnormal range (synapses onto neurons whose ψ stays 0) take the
/// kernel's integer products: the same bits as the reference's hardware arithmetic.
@Test(arguments: ["gradient_descent", "adam"], [true, false])
func subnormalTracesMatchReference(optimizerType: String, eachStep: Bool) throws {
    for (cutoff, flushRate) in [(Clock.never, 0.0), (30, 0.05), (7, 0.2)] {
        for adaptive in [false, true] {
            try compareKernel(optimizerType, eachStep, batch: 1, cutoff: cutoff, flushRate: flushRate, readout: false,
                              adaptive: adaptive, subnormal: true)
        }
    }
}

/// Traces that reach the fixed point of x ↦ κ⊗x a few grid steps above 0 (ψ subnormal,
/// then 0 for 160 steps) where L and reg are moderate during the quiet stretch (1: g, made
/// normal by L ≈ 1e290 before, ignores the products; 0.01: every product rounds to 0): the
/// kernel skips those lanes' steps (`frozenQuietLane`), with the same bits as the
/// reference's step-by-step hardware arithmetic.
@Test(arguments: [1.0, 0.01])
func frozenQuietTracesMatchReference(quietScale: Double) throws {
    for (cutoff, flushRate) in [(Clock.never, 0.0), (30, 0.05), (7, 0.2)] {
        try compareKernel("gradient_descent", false, batch: 1, cutoff: cutoff, flushRate: flushRate, readout: false,
                          subnormal: true, psiScale: 1e-321, quietScale: quietScale, expectFrozen: true)
    }
}

/// `frozenQuietLane` answers true only where stepping through the interval with IEEE
/// hardware arithmetic leaves ē, ē_reg and g with the same bits: random intervals around
/// the fixed points of x ↦ κ⊗x, g from +0 and subnormal to normal and powers of two, L and
/// reg from tiny to huge, a few nonzero ψ and non-finite L.
@Test func frozenQuietLaneLeavesTheSameBits() {
    var rng = SeededRandom(seed: 77)
    let capacity = 64, mask = capacity - 1
    let ring = UnsafeMutablePointer<Double>.allocate(capacity: capacity * 3)
    defer { ring.deallocate() }
    var frozen = 0, frozenWithVisibleG = 0
    for trial in 0..<20_000 {
        let kappa = [0.97, 0.9, 0.8, 0.6][trial % 4], kappaReg = [0.95, 0.97, 0.75][trial % 3]
        // A trace a few grid steps above 0: at its fixed point for small m, decaying above.
        func trace() -> Double {
            let m = trial % 7 == 0 ? UInt64(rng.uniform(0, 200)) : UInt64(rng.uniform(0, 20))
            return Double(bitPattern: m)
        }
        let eBar = trace(), eBarReg = trace()
        let gChoices: [Double] = [0, Double(bitPattern: 3), 0x1p-1020, 1e-300, 1e-40, 0x1p-30, -0x1p-30, 1e-3,
                                  rng.uniform(-1, 1)]
        let g = gChoices[Int(rng.uniform(0, Double(gChoices.count)))]
        let scale = [1e-3, 0.01, 1, 1e3, 1e250, 1e300][Int(rng.uniform(0, 6))]
        let n = 1 + Int(rng.uniform(0, 40)), begin = Int(rng.uniform(0, 200))
        var zBar: [Double] = []
        for i in 0..<n {
            let h = ring + ((begin + i) & mask) * 3
            h[0] = trial % 11 == 0 && i == n / 2 ? 1e-3 : (trial % 13 == 0 ? -0.0 : 0)
            h[1] = rng.uniform(-1, 1) * scale
            h[2] = rng.uniform(-0.1, 0.1) * scale
            if trial % 17 == 0 && i == 0 { h[1] = trial % 34 == 0 ? .infinity : .nan }
            zBar.append(rng.uniform(0, 3))
        }
        guard EpropProjection.frozenQuietLane(ring: ring, begin: begin, n: n, mask: mask, kappa: kappa,
                                              kappaReg: kappaReg, eBar: eBar, eBarReg: eBarReg, g: g) else { continue }
        frozen += 1
        var e1 = eBar, e2 = eBarReg, gl = g
        for i in 0..<n {
            let h = ring + ((begin + i) & mask) * 3
            let e = h[0] * zBar[i]
            e1 = kappa * e1 + e
            e2 = kappaReg * e2 + (1.0 - kappaReg) * e
            gl = gl + (h[1] * e1 + h[2] * e2)
        }
        #expect(e1.bitPattern == eBar.bitPattern && e2.bitPattern == eBarReg.bitPattern && gl.bitPattern == g.bitPattern,
                "trial \(trial): κ \(kappa) κ_reg \(kappaReg) ē \(eBar) ē_reg \(eBarReg) g \(g) scale \(scale) n \(n)")
        if g != 0 && g.magnitude < 1 { frozenWithVisibleG += 1 }
    }
    #expect(frozen > 1000, "the shortcut must apply often (\(frozen))")
    #expect(frozenWithVisibleG > 500)
}

/// Flush events never change learning (spec §7.6, §8.4): same weights with and without.
@Test func flushEventsDoNotChangeResults() throws {
    func run(flushMs: Double) throws -> [Double] {
        let net = try Network(resolution: 1)
        let input = try net.addPopulation(model: "input", size: 5)
        let rec = try net.addPopulation(model: "eprop_iaf", size: 6)
        let out = try net.addPopulation(model: "eprop_readout", size: 1)
        try net.setParameters(input, [("flush_event_send_interval", flushMs)])
        try net.setParameters(rec, [("C_m", 1), ("E_L", 0), ("V_m", 0), ("V_th", 0.05), ("tau_m", 20), ("t_ref", 0),
                                    ("c_reg", 0.5), ("surrogate_gradient_height", 10), ("surrogate_gradient_width", 0.05),
                                    ("eprop_isi_trace_cutoff", 25), ("flush_event_send_interval", flushMs)])
        try net.setParameters(out, [("C_m", 1), ("tau_m", 20), ("eprop_isi_trace_cutoff", 25)])
        try net.optimizer.set([("optimize_each_step", 0), ("eta", 0.01)])
        var rng = SeededRandom(seed: 7)
        let all = { (a: Int, b: Int) in (0..<a).flatMap { i in (0..<b).map { j in (i, j) } } }
        let inRec = all(5, 6), recRec = all(6, 6).filter { $0.0 != $0.1 }, recOut = all(6, 1)
        try net.connect(input, rec, "eprop_synapse", pre: inRec.map(\.0), post: inRec.map(\.1), weights: inRec.map { _ in rng.uniform(0, 0.08) })
        try net.connect(rec, rec, "eprop_synapse", pre: recRec.map(\.0), post: recRec.map(\.1), weights: recRec.map { _ in rng.uniform(-0.03, 0.03) })
        try net.connect(rec, out, "eprop_synapse", pre: recOut.map(\.0), post: recOut.map(\.1), weights: recOut.map { _ in rng.uniform(-0.1, 0.1) })
        try net.connect(out, rec, "eprop_learning_signal_connection", pre: recOut.map(\.1), post: recOut.map(\.0), weights: recOut.map { _ in rng.uniform(-1, 1) })
        var ids: [Int] = [], times: [Double] = []
        for t in 1..<400 where t % 100 < 40 { for i in 0..<5 where rng.uniform() < 0.1 { ids.append(i); times.append(Double(t)) } }
        try net.setSpikes(input, neurons: ids, times: times)
        try net.schedule(.target, out, times: [2, 150, 300], values: [1, -1, 0.5])
        try net.schedule(.learningWindow, out, times: [2], values: [1])
        try net.simulate(400)
        return (0..<3).flatMap { p in (0..<net.projections[p].count).map { net.projections[p].weight($0) } }
    }
    let reference = try run(flushMs: .infinity)
    for flush in [1.0, 3, 10, 60] {
        #expect(try run(flushMs: flush) == reference, "flush interval \(flush) ms")
    }
}
