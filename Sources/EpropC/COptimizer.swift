import EpropCore

// The optimizer shared by all eprop synapses (NEST: the eprop_synapse "optimizer" defaults).

/// Calls OptimizerConfig.set.
@_cdecl("eprop_set_optimizer_parameters")
public func eprop_set_optimizer_parameters(_ network: OpaquePointer?, _ namesPointer: UnsafePointer<UnsafePointer<CChar>?>?,
                                           _ values: UnsafePointer<Double>?, _ count: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let keys = try names(namesPointer, count, "names")
        if keys.contains("type") {
            throw EpropError(.invalidArgument, "type: set the optimizer type by name with eprop_set_optimizer_string")
        }
        try net.optimizer.set(Array(zip(keys, try buffer(values, count, "values"))))
    }
}

/// Calls OptimizerConfig.setType.
@_cdecl("eprop_set_optimizer_string")
public func eprop_set_optimizer_string(_ network: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                       _ value: UnsafePointer<CChar>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let key = try string(name, "name")
        guard key == "type" else {
            throw EpropError(.unknownName, "optimizer has no name-valued parameter \(key); the only one is type")
        }
        try net.optimizer.setType(try string(value, "value"))
    }
}

@_cdecl("eprop_get_optimizer_parameter")
public func eprop_get_optimizer_parameter(_ network: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                          _ value: UnsafeMutablePointer<Double>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let key = try string(name, "name")
        let out = try output(value, "value")
        guard net.optimizer.parameters.has(key) else {
            throw EpropError(.unknownName, "optimizer has no parameter \(key); parameters are "
                + net.optimizer.parameters.table.specs.map(\.name).joined(separator: ", "))
        }
        out.pointee = net.optimizer.parameters[key]
    }
}

@_cdecl("eprop_get_optimizer_string")
public func eprop_get_optimizer_string(_ network: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                       _ value: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let key = try string(name, "name")
        let out = try output(value, "value")
        guard key == "type" else {
            throw EpropError(.unknownName, "optimizer has no name-valued parameter \(key); the only one is type")
        }
        out.pointee = interned(net.optimizer.typeName)
    }
}
