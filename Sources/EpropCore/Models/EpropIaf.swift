#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `eprop_iaf`: leaky integrate-and-fire neuron with delta synapses and reset by
/// subtraction, for event-driven e-prop (spec §3.2). Equations as NEST implements them,
/// with v = V_m − E_L:
///
///     α = exp(−dt/τ_m),  P_i = τ_m/C_m · (1 − α),  n_ref = steps(t_ref)
///     step t:  if r > 0: r ← r − 1
///              v ← P_i·I_in + z_in + α·v;  v ← max(v, V_min − E_L)
///              ψ ← r > 0 ? 0 : ψ(v − v_th)                 (before the reset)
///              spike if v ≥ v_th and r == 0:  v ← v − v_th (in this step), r ← n_ref
///              I_in ← CurrentEvents of step t + I_e   (so I_e acts one step late)
///
/// Refractoriness: t_ref = k steps blocks the k − 1 steps after a spike (t_ref of one step
/// acts as zero); v keeps integrating while refractory.
enum EpropIaf {
    static let neuronParameters: [ParameterSpec] = [
        ParameterSpec("C_m", unit: "pF", 250.0, .greaterThan(0), doc: "Membrane capacitance."),
        ParameterSpec("E_L", unit: "mV", -70.0, .any, doc: "Leak (resting) potential."),
        ParameterSpec("I_e", unit: "pA", 0.0, .any, doc: "Constant external current."),
        ParameterSpec("t_ref", unit: "ms", 2.0, .atLeast(0), doc: "Refractory period."),
        ParameterSpec("tau_m", unit: "ms", 10.0, .greaterThan(0), doc: "Membrane time constant."),
        ParameterSpec("V_min", unit: "mV", -Double.greatestFiniteMagnitude, .any, infinite: true,
                      doc: "Lower bound of the membrane potential."),
        ParameterSpec("V_th", unit: "mV", -55.0, .any, doc: "Spike threshold."),
    ]

    static let thresholdRule = CrossRule("V_th ≥ V_min") { $0["V_th"] < $0["V_min"] }

    static let table = ParameterTable(owner: "eprop_iaf", specs: neuronParameters + sharedEpropParameters,
                                      crossRules: [thresholdRule])
}

extension RecurrentPopulation {
    /// The eprop_iaf kernel; `adaptive` adds eprop_iaf_adapt's threshold (spec §3.3). Two
    /// passes: the membrane (and threshold) with ψ as if not refractory, then refractoriness,
    /// the spike and its reset, neuron by neuron.
    func updateIaf(step t: Int, neurons: Range<Int>, events list: EventList, adaptive: Bool) {
        let kind = uniformSurrogate
        var rest = neurons.lowerBound
        if !adaptive && kind == .piecewiseLinear && packsUpdate { rest = membraneFourAtATime(neurons) }
        membrane(rest..<neurons.upperBound, adaptive: adaptive, kind: kind)
        var from = neurons.lowerBound
        if !adaptive && packsUpdate && ignoreAndSpike.isUniform && ignoreAndSpike[0] == 0 {
            from = finishFourAtATime(step: t, neurons: neurons, events: list)
        }
        finishIaf(step: t, neurons: from..<neurons.upperBound, events: list, adaptive: adaptive)
    }

    /// First pass, neuron by neuron: v before the reset into `v`, the adaptive threshold, and
    /// ψ as if not refractory into `psi` (the second pass decides; NEST computes ψ only for
    /// non-refractory neurons, which uses the same value).
    private func membrane(_ neurons: Range<Int>, adaptive: Bool, kind: SurrogateGradient?) {
        let v = self.v, iIn = self.iIn, zIn = self.zIn, z = self.z, psi = self.psi
        let a = self.adaptation, threshold = self.thresholdAdapt
        let alpha = self.alpha, pI = self.pI, vTh = self.vTh, vMin = self.vMin
        let beta = self.beta, rho = self.rho
        for j in neurons {
            let vj = max(pI[j] * iIn[j] + zIn[j] + alpha[j] * v[j], vMin[j])
            var theta = vTh[j]
            if adaptive {
                // z[j] still holds the previous step's spike.
                a[j] = rho[j] * a[j] + z[j]
                theta = vTh[j] + beta[j] * a[j]
                threshold[j] = theta
            }
            v[j] = vj
            psi[j] = surrogateGradient(j, vj - theta, kind)
        }
    }

    /// The first pass of eprop_iaf with the piecewise-linear surrogate gradient for the whole
    /// groups of four neurons; returns where the rest begins. Each lane does exactly the
    /// scalar operations (a division each: one packed division for four neurons), and
    /// Swift's max(x, y), y ≥ x ? y : x, is spelled out lane by lane.
    private func membraneFourAtATime(_ neurons: Range<Int>) -> Int {
        let v = self.v, iIn = self.iIn, zIn = self.zIn, psi = self.psi
        let alpha = self.alpha, pI = self.pI, vTh = self.vTh, vMin = self.vMin
        let height = sgHeight, width = sgWidth
        @inline(__always)
        func four(_ c: Column, _ j: Int) -> SIMD4<Double> { c.four(j) }
        @inline(__always)
        func four(_ p: UnsafeMutablePointer<Double>, _ j: Int) -> SIMD4<Double> {
            UnsafeRawPointer(p + j).loadUnaligned(as: SIMD4<Double>.self)
        }
        let magnitude = SIMD4<UInt64>(repeating: ~(1 << 63))
        var j = neurons.lowerBound
        while j &+ 4 <= neurons.upperBound {
            var vj = four(pI, j) * four(iIn, j) + four(zIn, j) + four(alpha, j) * four(v, j)
            let low = four(vMin, j)
            vj.replace(with: low, where: low .>= vj)                       // max(vj, V_min)
            let d = vj - four(vTh, j)
            let size = unsafeBitCast(unsafeBitCast(d, to: SIMD4<UInt64>.self) & magnitude, to: SIMD4<Double>.self)
            var x = 1.0 - size / four(width, j)
            x.replace(with: 0, where: .!(x .>= 0))                          // max(0, x)
            UnsafeMutableRawPointer(v + j).storeBytes(of: vj, as: SIMD4<Double>.self)
            UnsafeMutableRawPointer(psi + j).storeBytes(of: four(height, j) * x, as: SIMD4<Double>.self)
            j &+= 4
        }
        return j
    }

    /// The second pass of eprop_iaf (no ignore-and-spike) for the whole groups of four
    /// neurons; returns where the rest begins. Each lane does exactly finishIaf's operations;
    /// the events (rare: spikes, flushes) and the neuron-major history entries go lane by
    /// lane, in neuron order.
    private func finishFourAtATime(step t: Int, neurons: Range<Int>, events list: EventList) -> Int {
        typealias D = SIMD4<Double>
        let v = self.v, iIn = self.iIn, zIn = self.zIn, r = self.refractory, psi = self.psi, fAv = self.fAv
        let quietSteps = self.quietSteps
        let vTh = self.vTh, iE = self.iE, nRef = self.refractorySteps
        let kappaReg = self.kappaReg, rateIncrement = self.rateIncrement, cReg = self.cReg
        let fixedRates = rateFixedPoints
        let fTarget = self.fTargetPerStep
        let current = self.current, withCurrent = receivesCurrent
        let history = self.history, size = self.size
        @inline(__always)
        func four(_ c: Column, _ j: Int) -> D { c.four(j) }
        @inline(__always)
        func four(_ p: UnsafeMutablePointer<Double>, _ j: Int) -> D { UnsafeRawPointer(p + j).loadUnaligned(as: D.self) }
        @inline(__always)
        func store(_ p: UnsafeMutablePointer<Double>, _ j: Int, _ x: D) { UnsafeMutableRawPointer(p + j).storeBytes(of: x, as: D.self) }
        let step = history.stepMajorBase(t)
        var j = neurons.lowerBound
        while j &+ 4 <= neurons.upperBound {
            var r4 = SIMD4<Int64>(truncatingIfNeeded: UnsafeRawPointer(r + j).loadUnaligned(as: SIMD4<Int32>.self))
            r4 &-= SIMD4<Int64>(repeating: 1).replacing(with: 0, where: .!(r4 .> 0))
            store(zIn, j, D())
            var vj = four(v, j)
            let refractoryNow = r4 .> 0
            let psiValue = four(psi, j).replacing(with: 0, where: refractoryNow)
            let threshold = four(vTh, j)
            let spiked = (vj .>= threshold) .& (r4 .== 0)
            vj.replace(with: vj - threshold, where: spiked)   // the reset subtracts v_th
            store(v, j, vj)
            let anySpike = any(spiked)
            var anyEvent = anySpike
            if !anySpike { for lane in 0..<4 where flushDue(j &+ lane, t) { anyEvent = true } }
            if anySpike {
                let refractorySteps = SIMD4<Int64>(Int64(Int32(nRef[j])), Int64(Int32(nRef[j &+ 1])),
                                                   Int64(Int32(nRef[j &+ 2])), Int64(Int32(nRef[j &+ 3])))
                r4.replace(with: refractorySteps, where: spiked)
            }
            UnsafeMutableRawPointer(r + j).storeBytes(of: SIMD4<Int32>(truncatingIfNeeded: r4), as: SIMD4<Int32>.self)
            if anyEvent {
                for lane in 0..<4 { emitEvent(j &+ lane, t, spiked: spiked[lane], events: list) }
            }
            // f_av at its subnormal fixed point (`rateFixedPoints`) stays, and leaves the
            // multiplication as 0: no microcode assist for the whole vector.
            let rateBefore = four(fAv, j)
            let settled = .!spiked .& (unsafeBitCast(rateBefore, to: SIMD4<UInt64>.self) &- 1
                                        .< SIMD4(repeating: fixedRates))
            let rate = (four(kappaReg, j) * rateBefore.replacing(with: 0, where: settled)
                        + four(rateIncrement, j).replacing(with: 0, where: .!spiked))
                .replacing(with: rateBefore, where: settled)
            store(fAv, j, rate)
            let reg = four(cReg, j) * (rate - four(fTarget, j))
            for lane in 0..<4 {
                let k = j &+ lane
                if k &+ 16 < size { prefetchForWrite(history.entry(k &+ 16, t)) }
                let p = history.entry(k, t)
                p[0] = psiValue[lane]; p[1] = 0; p[2] = reg[lane]
            }
            if let step {
                let n = history.neurons
                store(step, j, psiValue); store(step, n &+ j, D()); store(step, n &+ n &+ j, reg)
            }
            // Consecutive steps with ψ = 0, saturating at Int32.max.
            var quiet = SIMD4<Int64>(truncatingIfNeeded: UnsafeRawPointer(quietSteps + j).loadUnaligned(as: SIMD4<Int32>.self))
            quiet = (quiet &+ SIMD4<Int64>(repeating: 1).replacing(with: 0, where: quiet .== Int64(Int32.max)))
                .replacing(with: 0, where: psiValue .!= 0)
            UnsafeMutableRawPointer(quietSteps + j).storeBytes(of: SIMD4<Int32>(truncatingIfNeeded: quiet), as: SIMD4<Int32>.self)
            store(iIn, j, (withCurrent ? four(current, j) : D()) + four(iE, j))
            j &+= 4
        }
        return j
    }

    /// Second pass: refractoriness, the spike and its reset, and the rest of the step.
    private func finishIaf(step t: Int, neurons: Range<Int>, events list: EventList, adaptive: Bool) {
        let v = self.v, iIn = self.iIn, zIn = self.zIn, r = self.refractory, psi = self.psi
        let vTh = self.vTh, threshold = self.thresholdAdapt, iE = self.iE, nRef = self.refractorySteps
        let current = self.current, withCurrent = receivesCurrent
        for j in neurons {
            if r[j] > 0 { r[j] -= 1 }
            zIn[j] = 0
            var vj = v[j]
            let theta = adaptive ? threshold[j] : vTh[j]
            let psiValue = r[j] > 0 ? 0.0 : psi[j]
            let spiked = spikeDecision(j, dynamic: vj >= theta && r[j] == 0)
            if spiked {
                vj -= vTh[j]   // the reset subtracts v_th, not A
                r[j] = Int32(nRef[j])
            }
            v[j] = vj
            finishStep(j, t, spiked: spiked, psi: psiValue, events: list, adaptive: adaptive)
            iIn[j] = (withCurrent ? current[j] : 0) + iE[j]
        }
    }
}
