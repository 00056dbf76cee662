#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `eprop_iaf_psc_delta`: LIF with reset to V_reset and clamped refractoriness
/// (spec §3.4). With v = V_m − E_L:
///
///     step t, not refractory (r == 0):
///         v ← P_i·(I_in + I_e) + α·v + z_in   (I_e acts at once, I_in one step late)
///         refractory_input: v ← v + b, b ← 0;  then v ← max(v, V_min − E_L)
///     refractory: refractory_input: b ← b + z_in·exp(−r·dt/τ_m) (else z_in is lost);
///                 r ← r − 1; v stays clamped
///     ψ ← r > 0 ? 0 : ψ(v − v_th);  spike if v ≥ v_th:  v ← V_reset − E_L, r ← n_ref
///
/// t_ref = k steps blocks k whole steps (ISI ≥ k + 1); on the last refractory step r is
/// already 0, so ψ is computed at V_reset and can be non-zero.
enum EpropIafPscDelta {
    static let neuronParameters: [ParameterSpec] = EpropIaf.neuronParameters + [
        ParameterSpec("V_reset", unit: "mV", -70.0, .any, doc: "Reset potential after a spike."),
        ParameterSpec("refractory_input", 0, .bool, doc: "Buffer inputs arriving during refractoriness (decayed) instead of dropping them."),
    ]

    static let crossRules = [
        EpropIaf.thresholdRule,
        CrossRule("V_reset < V_th") { $0["V_reset"] >= $0["V_th"] },
        CrossRule("V_reset ≥ V_min") { $0["V_reset"] < $0["V_min"] },
    ]

    static let table = ParameterTable(owner: "eprop_iaf_psc_delta", specs: neuronParameters + sharedEpropParameters,
                                      crossRules: crossRules)
}

extension RecurrentPopulation {
    /// The eprop_iaf_psc_delta kernel; `adaptive` adds eprop_iaf_psc_delta_adapt's
    /// threshold, updated in non-refractory steps only (spec §3.5).
    func updatePscDelta(step t: Int, neurons: Range<Int>, events list: EventList, adaptive: Bool) {
        let v = self.v, iIn = self.iIn, zIn = self.zIn, r = self.refractory, z = self.z
        let a = self.adaptation, threshold = self.thresholdAdapt, buffer = self.refractoryBuffer
        let alpha = self.alpha, pI = self.pI, vTh = self.vTh, vMin = self.vMin, vReset = self.vReset
        let iE = self.iE, beta = self.beta, rho = self.rho, nRef = self.refractorySteps
        let bufferInput = self.refractoryInput, tauM = self.tauM, dt = self.dt
        let current = self.current, withCurrent = receivesCurrent
        let kind = uniformSurrogate
        for j in neurons {
            let input = zIn[j]
            zIn[j] = 0
            var vj = v[j]
            if r[j] == 0 {
                vj = pI[j] * (iIn[j] + iE[j]) + alpha[j] * vj + input
                if bufferInput[j] != 0 && buffer[j] != 0 {
                    vj += buffer[j]
                    buffer[j] = 0
                }
                vj = max(vj, vMin[j])
                if adaptive {
                    a[j] = rho[j] * a[j] + z[j]
                    threshold[j] = vTh[j] + beta[j] * a[j]
                }
            } else {
                if bufferInput[j] != 0 {
                    buffer[j] += input * exp(-Double(r[j]) * dt / tauM[j])
                }
                r[j] -= 1
            }
            let theta = adaptive ? threshold[j] : vTh[j]
            let psiValue = r[j] > 0 ? 0.0 : surrogateGradient(j, vj - theta, kind)
            let spiked = spikeDecision(j, dynamic: vj >= theta)
            if spiked {
                r[j] = Int32(nRef[j])
                vj = vReset[j]
            }
            v[j] = vj
            finishStep(j, t, spiked: spiked, psi: psiValue, events: list, adaptive: adaptive)
            iIn[j] = withCurrent ? current[j] : 0
        }
    }
}
