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
///              I_in ← I_e   (so I_e acts one step late; no effect at step 0)
///
/// Refractoriness: t_ref = k steps blocks the k − 1 steps after a spike (t_ref of one step
/// acts as zero); v keeps integrating while refractory.
enum EpropIaf {
    static let table = ParameterTable(
        owner: "eprop_iaf",
        specs: [
            ParameterSpec("C_m", unit: "pF", 250.0, .greaterThan(0), doc: "Membrane capacitance."),
            ParameterSpec("E_L", unit: "mV", -70.0, .any, doc: "Leak (resting) potential."),
            ParameterSpec("I_e", unit: "pA", 0.0, .any, doc: "Constant external current (acts one step late)."),
            ParameterSpec("t_ref", unit: "ms", 2.0, .atLeast(0), doc: "Refractory period."),
            ParameterSpec("tau_m", unit: "ms", 10.0, .greaterThan(0), doc: "Membrane time constant."),
            ParameterSpec("V_min", unit: "mV", -Double.greatestFiniteMagnitude, .any, infinite: true,
                          doc: "Lower bound of the membrane potential."),
            ParameterSpec("V_th", unit: "mV", -55.0, .any, doc: "Spike threshold."),
        ] + sharedEpropParameters,
        crossRules: [CrossRule("V_th ≥ V_min") { $0["V_th"] < $0["V_min"] }]
    )
}

extension RecurrentPopulation {
    func prepareIaf(_ clock: Clock) {
        let p = parameters
        let tauM = p["tau_m"], cM = p["C_m"], eL = p["E_L"]
        alpha = exp(-clock.dt / tauM)
        pI = tauM / cM * (1.0 - alpha)
        vTh = p["V_th"] - eL
        vMin = p["V_min"] - eL
        iE = p["I_e"]
        refractorySteps = clock.steps(p["t_ref"])
    }

    func updateIaf(step t: Int) {
        let v = self.v, iIn = self.iIn, zIn = self.zIn, r = self.refractory
        let alpha = self.alpha, pI = self.pI, vTh = self.vTh, vMin = self.vMin
        let nRef = Int32(clamping: refractorySteps), iE = self.iE
        let sg = surrogate, h = sgHeight, w = sgWidth
        for j in 0..<size {
            if r[j] > 0 { r[j] -= 1 }
            var vj = pI * iIn[j] + zIn[j] + alpha * v[j]
            zIn[j] = 0
            vj = max(vj, vMin)
            let psiValue = r[j] > 0 ? 0.0 : sg.value(vj - vTh, height: h, width: w)
            let spiked = vj >= vTh && r[j] == 0
            if spiked {
                vj -= vTh
                r[j] = nRef
            }
            v[j] = vj
            finishStep(j, t, spiked: spiked, psi: psiValue)
            iIn[j] = iE
        }
    }
}
