import EpropCore

// Kernel parameters of the baseline family and the common properties of synapse models
// by name (eprop_synapse: its optimizer; eprop_synapse_bsshslm_2020: optimizer,
// average_gradient, tau_m_readout).

@_cdecl("eprop_set_kernel_parameters")
public func eprop_set_kernel_parameters(_ network: OpaquePointer?, _ namesPointer: UnsafePointer<UnsafePointer<CChar>?>?,
                                        _ values: UnsafePointer<Double>?, _ count: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let keys = try names(namesPointer, count, "names")
        try net.setKernelParameters(Array(zip(keys, try buffer(values, count, "values"))))
    }
}

@_cdecl("eprop_get_kernel_parameter")
public func eprop_get_kernel_parameter(_ network: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                       _ value: UnsafeMutablePointer<Double>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let key = try string(name, "name")
        let out = try output(value, "value")
        out.pointee = try net.kernelParameter(key)
    }
}

/// The optimizer (and for the baseline, the synapse's own parameters) of a synapse model.
private func synapseDefaults(_ net: Network, _ model: String) throws(EpropError) -> (OptimizerConfig, BaselineSynapseConfig?) {
    switch model {
    case "eprop_synapse": return (net.optimizer, nil)
    case "eprop_synapse_bsshslm_2020": return (net.baselineSynapse.optimizer, net.baselineSynapse)
    default:
        throw EpropError(.unknownName, "synapse_model: \"\(model)\" has no settable parameters; "
            + "plastic synapse models are eprop_synapse, eprop_synapse_bsshslm_2020")
    }
}

@_cdecl("eprop_set_synapse_parameters")
public func eprop_set_synapse_parameters(_ network: OpaquePointer?, _ synapseModel: UnsafePointer<CChar>?,
                                         _ namesPointer: UnsafePointer<UnsafePointer<CChar>?>?,
                                         _ values: UnsafePointer<Double>?, _ count: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let (optimizer, baseline) = try synapseDefaults(net, try string(synapseModel, "synapse_model"))
        let keys = try names(namesPointer, count, "names")
        if keys.contains("type") {
            throw EpropError(.invalidArgument, "type: set the optimizer type by name with eprop_set_synapse_string")
        }
        if baseline == nil && keys.contains("precision") {
            throw EpropError(.invalidArgument, "precision: set the storage precision by name (\"double\" or \"single\") with eprop_set_synapse_string")
        }
        let changes = Array(zip(keys, try buffer(values, count, "values")))
        if let baseline { try baseline.set(changes) } else { try optimizer.set(changes) }
    }
}

@_cdecl("eprop_set_synapse_string")
public func eprop_set_synapse_string(_ network: OpaquePointer?, _ synapseModel: UnsafePointer<CChar>?,
                                     _ name: UnsafePointer<CChar>?, _ value: UnsafePointer<CChar>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let model = try string(synapseModel, "synapse_model")
        let (optimizer, baseline) = try synapseDefaults(net, model)
        let key = try string(name, "name")
        if baseline == nil && key == "precision" {
            net.synapsePrecision = try SynapsePrecision(name: try string(value, "value"))
            return
        }
        guard key == "type" else { throw unknownString(model, key, eprop: baseline == nil) }
        try optimizer.setType(try string(value, "value"))
    }
}

@_cdecl("eprop_get_synapse_parameter")
public func eprop_get_synapse_parameter(_ network: OpaquePointer?, _ synapseModel: UnsafePointer<CChar>?,
                                        _ name: UnsafePointer<CChar>?, _ value: UnsafeMutablePointer<Double>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let model = try string(synapseModel, "synapse_model")
        let (optimizer, baseline) = try synapseDefaults(net, model)
        let key = try string(name, "name")
        let out = try output(value, "value")
        if let baseline {
            out.pointee = try baseline.value(key)
            return
        }
        guard optimizer.parameters.has(key) else {
            throw EpropError(.unknownName, "\(model) has no parameter \(key); parameters are "
                + optimizer.parameters.table.specs.map(\.name).joined(separator: ", "))
        }
        out.pointee = optimizer.parameters[key]
    }
}

@_cdecl("eprop_get_synapse_string")
public func eprop_get_synapse_string(_ network: OpaquePointer?, _ synapseModel: UnsafePointer<CChar>?,
                                     _ name: UnsafePointer<CChar>?,
                                     _ value: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let model = try string(synapseModel, "synapse_model")
        let (optimizer, baseline) = try synapseDefaults(net, model)
        let key = try string(name, "name")
        let out = try output(value, "value")
        if baseline == nil && key == "precision" {
            out.pointee = interned(net.synapsePrecision.name)
            return
        }
        guard key == "type" else { throw unknownString(model, key, eprop: baseline == nil) }
        out.pointee = interned(optimizer.typeName)
    }
}

/// The error for a name-valued parameter a synapse model does not have.
private func unknownString(_ model: String, _ key: String, eprop: Bool) -> EpropError {
    EpropError(.unknownName, "\(model) has no name-valued parameter \(key); "
        + (eprop ? "they are type, precision" : "the only one is type"))
}
