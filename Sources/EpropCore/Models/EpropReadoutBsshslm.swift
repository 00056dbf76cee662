#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `eprop_readout_bsshslm_2020`: the baseline readout (spec §10.4). With v = V_m − E_L, T the
/// update interval, p = (t − 3) mod T and q = (t − 4) mod T:
///
///     p == 0: (reset on) v ← 0
///     v ← P_i·I_in + P_z·z_in + α·v;  v ← max(v, V_min − E_L)
///     mean_squared_error: y ← u_prev;                 u ← v + E_L
///     cross_entropy:      y ← u_prev / (N + u_prev);  u ← exp(v + E_L)
///     e ← y − y*;  outside the learning window (q < T − window) y, y*, e ← 0
///
/// N is the sum of the other readouts' u_prev: NEST sends it over rate_connection_delayed
/// (all-to-all, weight 1, one step late); eprop normalises over the readout population
/// implicitly, so y is the softmax of the previous step's voltages. The error of step t is
/// history entry t − 1 and reaches the recurrent neurons' entry t − 2 at the start of step
/// t + 1 (stamp − 3).
enum EpropReadoutBsshslm {
    /// Interval phase shift of readouts: offset_gen + delay_in_rec + delay_rec_out.
    static let shift = 3
    static let losses = ["mean_squared_error", "cross_entropy"]

    static let table = ParameterTable(
        owner: "eprop_readout_bsshslm_2020",
        specs: ReadoutPopulation.membraneParameters + [
            ParameterSpec("loss", 0, .choice(losses),
                          doc: "mean_squared_error: y = V_m; cross_entropy: y = softmax over the population's readouts (one step late)."),
            ParameterSpec("regular_spike_arrival", 1, .bool,
                          doc: "1: a spike adds its weight to V_m; 0: it adds (1 − exp(−dt/τ_m))·weight."),
        ],
        crossRules: []
    )
}

extension ReadoutPopulation {
    /// The baseline readout's step t (spec §10.4).
    func updateBsshslm(step t: Int) {
        let interval = updateInterval
        let phase = (t - EpropReadoutBsshslm.shift) % interval
        let signalPhase = (t - EpropReadoutBsshslm.shift - 1) % interval
        let outsideWindow = signalPhase < interval - learningWindow
        let crossEntropy = loss == .crossEntropy
        if phase == 0 && resetOnUpdate {
            for k in 0..<size { v[k] = 0 }
        }
        if t >= 1 { history.append(t - 1) }
        let v = self.v, iIn = self.iIn, zIn = self.zIn, unnormalized = self.unnormalized, previous = self.previousUnnormalized
        let alpha = self.alpha, pI = self.pI, pZ = self.pZ, vMin = self.vMin, eL = self.eL, iE = self.iE
        for k in 0..<size { previous[k] = unnormalized[k] }
        for k in 0..<size {
            var vk = pI[k] * iIn[k] + pZ[k] * zIn[k] + alpha[k] * v[k]
            zIn[k] = 0
            vk = max(vk, vMin[k])
            v[k] = vk
            var y: Double
            if crossEntropy {
                // The other readouts' rates arrive one by one in readout order.
                var others = 0.0
                for j in 0..<size where j != k { others += previous[j] }
                y = previous[k] / (others + previous[k])
                unnormalized[k] = exp(vk + eL[k])
            } else {
                y = previous[k]
                unnormalized[k] = vk + eL[k]
            }
            var yStar = target[k]
            var e = y - yStar
            if outsideWindow {
                yStar = 0
                y = 0
                e = 0
            }
            readoutSignal[k] = y
            targetSignal[k] = yStar
            error[k] = e
            if t >= 1 { history.entry(k, t - 1)[0] = e }
            iIn[k] = current[k] + iE[k]
        }
    }
}
