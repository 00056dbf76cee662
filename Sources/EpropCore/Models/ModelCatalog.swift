/// Every neuron model by its NEST name: its parameter table, recordables and factory.
public enum ModelCatalog {
    public static let names = ["input"] + RecurrentModel.eventDriven.map(\.name) + ["eprop_readout"]
        + RecurrentModel.baseline.map(\.name) + ["eprop_readout_bsshslm_2020"]

    public static func table(_ model: String) throws(EpropError) -> ParameterTable {
        switch model {
        case "input": return InputPopulation.table
        case "eprop_readout": return ReadoutPopulation.table
        case "eprop_synapse": return OptimizerConfig.table   // its common "optimizer" properties
        case "eprop_synapse_bsshslm_2020": return BaselineSynapseConfig.table
        case "eprop_readout_bsshslm_2020": return EpropReadoutBsshslm.table
        case "kernel": return KernelParameters.table
        default:
            guard let recurrent = RecurrentModel.allCases.first(where: { $0.name == model }) else { throw unknownModel(model) }
            return recurrent.table
        }
    }

    public static func recordables(_ model: String) throws(EpropError) -> [String] {
        if model == "eprop_synapse" || model == "eprop_synapse_bsshslm_2020" || model == "kernel" { return [] }
        return try make(model, size: 1).recordables
    }

    static func make(_ model: String, size: Int, clock: Clock = Clock(dt: 1)) throws(EpropError) -> NeuronPopulation {
        switch model {
        case "input": return InputPopulation(size: size)
        case "eprop_readout": return ReadoutPopulation(size: size)
        case "eprop_readout_bsshslm_2020": return ReadoutPopulation(size: size, baseline: true)
        default:
            guard let recurrent = RecurrentModel.allCases.first(where: { $0.name == model }) else { throw unknownModel(model) }
            return RecurrentPopulation(model: recurrent, size: size, clock: clock)
        }
    }

    static func unknownModel(_ model: String) -> EpropError {
        .unknown("unknown neuron model \"\(model)\"; models are " + names.joined(separator: ", "))
    }

    /// Synapse models accepted by `Network.connect`.
    public static let synapseModels = ["eprop_synapse", "static_synapse", "eprop_learning_signal_connection",
                                       "eprop_synapse_bsshslm_2020", "eprop_learning_signal_connection_bsshslm_2020"]
}
