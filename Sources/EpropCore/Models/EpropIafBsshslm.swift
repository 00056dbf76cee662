/// `eprop_iaf_bsshslm_2020` and `eprop_iaf_adapt_bsshslm_2020`: the time-driven e-prop
/// baseline of Bellec et al. 2020 as NEST keeps it (spec §10.2). With v = V_m − E_L,
/// T = eprop_update_interval in steps and the interval phase p = (t − 2) mod T:
///
///     p == 0:   (reset on) v ← 0, r ← 0, z ← 0 (and a ← 0)
///     if r > 0: r ← r − 1
///     v ← P_i·I_in + P_z·z_in + α·v;  v ← v − v_th·z_prev;  v ← max(v, V_min − E_L)
///     (adapt)   a ← ρ·a + z_prev;  A ← v_th + β·a
///     ψ ← r > 0 ? 0 : ψ(v − A);  spike if v ≥ A and r == 0: n_spk += 1, r ← n_ref
///     p == T−1: reg ← c_reg·(n_spk/T − f_target·dt)/T for the interval;  n_spk ← 0
///
/// P_z = 1 with `regular_spike_arrival`, else 1 − α. The reset acts one step late and is not
/// decayed. Learning signals reach history entry stamp − 3 (the readout's normalisation
/// lag). Flush events and ignore-and-spike work as in the event-driven models.
enum EpropIafBsshslm {
    /// Shift of the interval phase for recurrent neurons: offset_gen + delay_in_rec.
    static let shift = 2

    /// The event-driven models' e-prop parameters without κ, κ_reg and the cutoff (the
    /// baseline filters on the synapse and integrates whole intervals), plus
    /// regular_spike_arrival.
    static let baselineParameters: [ParameterSpec] = {
        var specs = sharedEpropParameters.filter { !["kappa", "kappa_reg", "eprop_isi_trace_cutoff"].contains($0.name) }
        specs.insert(ParameterSpec("regular_spike_arrival", 1, .bool,
                                   doc: "1: a spike adds its weight to V_m; 0: it adds (1 − exp(−dt/τ_m))·weight."), at: 2)
        return specs
    }()

    static let table = ParameterTable(owner: "eprop_iaf_bsshslm_2020",
                                      specs: EpropIaf.neuronParameters + baselineParameters,
                                      crossRules: [EpropIaf.thresholdRule])

    static let adaptTable = ParameterTable(owner: "eprop_iaf_adapt_bsshslm_2020",
                                           specs: EpropIaf.neuronParameters + adaptationParameters + baselineParameters,
                                           crossRules: [EpropIaf.thresholdRule])
}

extension RecurrentPopulation {
    /// The baseline kernel for step t; `adaptive` adds the adaptive threshold.
    func updateBsshslm(step t: Int, neurons: Range<Int>, events list: EventList, adaptive: Bool) {
        let interval = updateInterval
        let phase = (t - EpropIafBsshslm.shift) % interval   // C-style remainder, as NEST
        let resetNow = phase == 0 && resetOnUpdate
        let closeInterval = phase == interval - 1
        let v = self.v, iIn = self.iIn, zIn = self.zIn, r = self.refractory, z = self.z
        let a = self.adaptation, threshold = self.thresholdAdapt, spikeCount = self.intervalSpikes
        let alpha = self.alpha, pI = self.pI, pZ = self.pZ, vTh = self.vTh, vMin = self.vMin, iE = self.iE
        let beta = self.beta, rho = self.rho, nRef = self.refractorySteps
        let cReg = self.cReg, fTarget = self.fTargetPerStep
        let current = self.current, history = self.history
        let intervalSteps = Double(interval)
        for j in neurons {
            if resetNow {
                v[j] = 0
                r[j] = 0
                z[j] = 0
                if adaptive { a[j] = 0 }
            }
            if r[j] > 0 { r[j] -= 1 }
            var vj = pI[j] * iIn[j] + pZ[j] * zIn[j] + alpha[j] * v[j]
            zIn[j] = 0
            vj -= vTh[j] * z[j]
            vj = max(vj, vMin[j])
            var theta = vTh[j]
            if adaptive {
                a[j] = rho[j] * a[j] + z[j]
                theta = vTh[j] + beta[j] * a[j]
                threshold[j] = theta
            }
            let psiValue = r[j] > 0 ? 0.0 : surrogateGradient(j, vj - theta)
            let spiked = spikeDecision(j, dynamic: vj >= theta && r[j] == 0)
            if spiked {
                spikeCount[j] += 1
                r[j] = Int32(nRef[j])
            }
            emitEvent(j, t, spiked: spiked, events: list)
            z[j] = spiked ? 1 : 0
            v[j] = vj
            psi[j] = psiValue
            let entry = history.entry(j, t)
            entry[0] = psiValue
            entry[1] = 0
            // The interval's regularisation is kept in the reg channel of its last entry.
            if closeInterval {
                let fAverage = Double(spikeCount[j]) / intervalSteps
                entry[2] = cReg[j] * (fAverage - fTarget[j]) / intervalSteps
                spikeCount[j] = 0
            } else {
                entry[2] = 0
            }
            iIn[j] = current[j] + iE[j]
        }
    }
}
