import Testing
@testable import EpropCore
import EpropCPU
import EpropWide
#if canImport(Glibc)
import Glibc
#endif

/// Whether this machine runs the AVX-512 kernel (tests that need it are skipped elsewhere).
let cpuHasAVX512 = epropcpu_has_avx512() != 0

/// The AVX-512 kernel against the scalar recurrence of spec §8.3, lane by lane and bit for
/// bit: entries with and without a learning signal (L·ē left out), wrapping around the
/// ring, with and without the decay, continuing a kept g or starting from 0.
@Test(.enabled(if: cpuHasAVX512, "needs a CPU with AVX-512"))
func eightLanePairMatchesTheScalarRecurrence() {
    var rng = SeededGenerator(seed: 5)
    let neurons = 40, slots = 16, slotStride = 3 * neurons
    let history = UnsafeMutablePointer<Double>.allocate(capacity: slots * slotStride)
    defer { history.deallocate() }
    // ψ ≥ 0 and some zero; L and reg of either sign; values of very different sizes.
    for i in 0..<(slots * slotStride) {
        let u = rng.uniform()
        history[i] = u < 0.2 ? 0 : (rng.uniform() - (i % slotStride < neurons ? 0 : 0.5)) * (u < 0.5 ? 1e-3 : 7)
    }
    let zBar = (0..<slots).map { _ in rng.uniform() * 3 }
    var state = (0..<48).map { _ in rng.uniform() - 0.4 }
    let kappa = 0.951229424500714, kappaReg = 0.9990004998333750
    for (n, from, to, begin, decay, startA, startB, kept) in [
        (12, 0, 12, 3, 0, 0, 8, true), (12, 4, 9, 14, 5, 3, 20, false), (16, 16, 16, 0, 0, 32, 1, true),
        (9, 0, 0, 10, 40, 7, 30, true), (1, 0, 1, 15, 1, 12, 12, false),
    ] {
        let kd = decay > 0 ? pow(kappa, Double(decay)) : 1, krd = decay > 0 ? pow(kappaReg, Double(decay)) : 1
        var expected = [Double](repeating: 0, count: 48)
        for lane in 0..<16 {
            let target = lane < 8 ? startA + lane : startB + lane - 8
            var eb = state[lane], ebr = state[16 + lane], g = kept ? state[32 + lane] : 0
            for i in 0..<n {
                let entry = history + ((begin + i) & (slots - 1)) * slotStride + target
                let psi = entry[0], l = entry[neurons], reg = entry[2 * neurons]
                let e = psi * zBar[i]
                eb = kappa * eb + e
                ebr = kappaReg * ebr + (1.0 - kappaReg) * e
                g = i >= from && i < to ? g + (l * eb + reg * ebr) : g + reg * ebr
            }
            if decay > 0 { eb = eb * kd; ebr = ebr * krd }
            expected[lane] = eb; expected[16 + lane] = ebr; expected[32 + lane] = g
        }
        var out = [Double](repeating: .nan, count: 48)
        zBar.withUnsafeBufferPointer { z in
            state.withUnsafeBufferPointer { s in
                let interval = WideInterval(begin: begin, n: n, mask: slots - 1, slotStride: slotStride,
                                            channelStride: neurons, signalFrom: from, signalTo: to,
                                            zBar: z.baseAddress!, kappa: kappa, kappaReg: kappaReg,
                                            decays: decay > 0, kappaDecay: kd, kappaRegDecay: krd)
                integrateEightLanePair(interval, historyA: history + startA, historyB: history + startB,
                                       eBar: s.baseAddress!, eBarReg: s.baseAddress! + 16,
                                       gradientIn: kept ? s.baseAddress! + 32 : nil, out: &out)
            }
        }
        #expect(out.map(\.bitPattern) == expected.map(\.bitPattern), "n \(n), signal \(from)..<\(to), decay \(decay)")
        state = out
    }
}

/// Rows of consecutive targets with pairs of groups through the AVX-512 kernel, against the
/// reference synapse: spikes, flushes, cutoffs, batches, both optimizers, and traces near
/// the subnormal range onto quiet targets (redone one by one) or onto unflagged ones
/// (hardware arithmetic). The parallel synapse 0 → 2 breaks row 0's first pair. Rows of 20
/// and 36 end in a pair that takes the last four synapses along.
@Test(.enabled(if: cpuHasAVX512, "needs a CPU with AVX-512"), arguments: [16, 20, 24, 33, 36])
func widePairRowsMatchReference(targets: Int) throws {
    for (batch, cutoff, flushRate) in [(1, Clock.never, 0.0), (1, 30, 0.2), (2, 7, 0.05)] {
        for optimizerType in ["gradient_descent", "adam"] {
            try compareKernel(optimizerType, false, batch: batch, cutoff: cutoff, flushRate: flushRate, readout: false,
                              targets: targets, stepMajor: true, wide: true)
        }
    }
    for flagQuiet in [true, false] {
        try compareKernel("gradient_descent", false, batch: 1, cutoff: 30, flushRate: 0.05, readout: false,
                          subnormal: true, targets: targets, stepMajor: true, flagQuiet: flagQuiet, wide: true)
    }
}

/// Rows with one target left out (recurrent rows without autapses): 15 synapses onto 16
/// consecutive targets but one run through the kernel with a spare lane, the same bits as
/// the reference synapse; quiet targets and entries without L take the usual groups. Rows
/// of 16, 20 and 32: tails of 0–4 (longer ones overlap the last group and keep groups of 8).
@Test(.enabled(if: cpuHasAVX512, "needs a CPU with AVX-512"), arguments: [17, 21, 33])
func gapPairRowsMatchReference(targets: Int) throws {
    for (batch, cutoff, flushRate) in [(1, Clock.never, 0.0), (1, 30, 0.2), (2, 7, 0.05)] {
        for optimizerType in ["gradient_descent", "adam"] {
            try compareKernel(optimizerType, false, batch: batch, cutoff: cutoff, flushRate: flushRate, readout: false,
                              targets: targets, stepMajor: true, wide: true, gaps: true)
        }
    }
    for flagQuiet in [true, false] {
        try compareKernel("gradient_descent", false, batch: 1, cutoff: 30, flushRate: 0.05, readout: false,
                          subnormal: true, targets: targets, stepMajor: true, flagQuiet: flagQuiet, wide: true, gaps: true)
    }
}

/// Frozen near-subnormal traces onto quiet targets (see `frozenQuietTracesMatchReference`)
/// in rows of pairs, with and without the row's last four synapses: the pair keeps those
/// lanes as they are inside the AVX-512 module, the same bits as the reference synapse
/// (not across a cutoff's decay, which changes them: cutoff 7). The run ends inside the
/// quiet stretch, while the kept traces still tell.
@Test(.enabled(if: cpuHasAVX512, "needs a CPU with AVX-512"), arguments: [16, 20, 36])
func frozenLanesInWidePairsMatchReference(targets: Int) throws {
    for quietScale in [1.0, 0.01] {
        for (cutoff, flushRate) in [(Clock.never, 0.0), (30, 0.05), (7, 0.2)] {
            try compareKernel("gradient_descent", false, batch: 1, cutoff: cutoff, flushRate: flushRate,
                              readout: false, subnormal: true, psiScale: 1e-321, quietScale: quietScale,
                              expectFrozen: true, targets: targets, stepMajor: true, wide: true, steps: 200)
        }
    }
}
