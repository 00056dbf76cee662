/// `eprop_iaf_psc_delta_adapt`: eprop_iaf_psc_delta with an adaptive threshold
/// (spec §3.5). In non-refractory steps only, after the V_min clamp:
///
///     a ← ρ·a + z_prev;  A ← v_th + β·a
///
/// ψ and the spike test use A; the reset goes to V_reset.
///
/// NEST quirk kept for exactness: z is cleared every step, so with t_ref ≥ 1 step the
/// step after a spike is refractory and the spike's adaptation increment is lost
/// (adaptation never grows). With t_ref = 0, as NEST's tests use, it works normally.
enum EpropIafPscDeltaAdapt {
    static let table = ParameterTable(
        owner: "eprop_iaf_psc_delta_adapt",
        specs: EpropIafPscDelta.neuronParameters + adaptationParameters + sharedEpropParameters,
        crossRules: EpropIafPscDelta.crossRules)
}
