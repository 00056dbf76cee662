/// `eprop_iaf_adapt`: eprop_iaf with an adaptive threshold (spec §3.3). Every step,
/// between the V_min clamp and ψ:
///
///     a ← ρ·a + z_prev,  ρ = exp(−dt/τ_a);  A ← v_th + β·a
///
/// ψ and the spike test use A; the reset still subtracts v_th. In the synapse kernel the
/// eligibility gains the adaptation component ε (spec §8.3):
/// e = ψ·(z̄ − β·ε), ε ← ρ·ε + e. The kernel is eprop_iaf's with adaptation on.
enum EpropIafAdapt {
    static let table = ParameterTable(
        owner: "eprop_iaf_adapt",
        specs: EpropIaf.neuronParameters + adaptationParameters + sharedEpropParameters,
        crossRules: [EpropIaf.thresholdRule])
}
