import EpropCore

// Connections and weights.

/// Calls Network.connect.
@_cdecl("eprop_connect")
public func eprop_connect(_ network: OpaquePointer?, _ prePopulation: Int32, _ postPopulation: Int32,
                          _ synapseModel: UnsafePointer<CChar>?, _ pre: UnsafePointer<Int64>?,
                          _ post: UnsafePointer<Int64>?, _ weights: UnsafePointer<Double>?, _ count: Int64,
                          _ delay: Double, _ projection: UnsafeMutablePointer<Int32>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let out = try output(projection, "projection")
        let id = try net.connect(pre: Int(prePopulation), post: Int(postPopulation),
                                 synapseModel: try string(synapseModel, "synapse_model"),
                                 pre: try buffer(pre, count, "pre"), post: try buffer(post, count, "post"),
                                 weights: try buffer(weights, count, "weights"), delay: delay)
        out.pointee = Int32(id)
    }
}

/// Calls Network.connectDense.
@_cdecl("eprop_connect_dense")
public func eprop_connect_dense(_ network: OpaquePointer?, _ prePopulation: Int32, _ postPopulation: Int32,
                                _ synapseModel: UnsafePointer<CChar>?, _ weights: UnsafePointer<Double>?,
                                _ nPost: Int64, _ nPre: Int64, _ allowAutapses: Int32, _ delay: Double,
                                _ projection: UnsafeMutablePointer<Int32>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let out = try output(projection, "projection")
        guard nPost >= 1, nPre >= 1, nPost <= Int64(Int32.max), nPre <= Int64(Int32.max) else {
            throw EpropError(.invalidArgument, "n_post and n_pre: must be ≥ 1, got \(nPost) and \(nPre)")
        }
        guard nPost <= (Int64(1) << 40) / nPre else {
            throw EpropError(.invalidArgument, "n_post × n_pre: implausibly large (\(nPost) × \(nPre))")
        }
        let model = try string(synapseModel, "synapse_model")
        let w = try buffer(weights, nPost * nPre, "weights", countName: "n_post × n_pre")
        let id = try net.connectDense(pre: Int(prePopulation), post: Int(postPopulation), synapseModel: model,
                                      weights: w, nPost: Int(nPost), nPre: Int(nPre),
                                      allowAutapses: allowAutapses != 0, delay: delay)
        out.pointee = Int32(id)
    }
}

/// Calls Network.connect(pre:post:synapseModel:rule:…).
@_cdecl("eprop_connect_rule")
public func eprop_connect_rule(_ network: OpaquePointer?, _ prePopulation: Int32, _ postPopulation: Int32,
                               _ synapseModel: UnsafePointer<CChar>?, _ rule: UnsafePointer<CChar>?, _ ruleValue: Double,
                               _ allowAutapses: Int32, _ allowMultapses: Int32,
                               _ weightDistribution: UnsafePointer<CChar>?, _ weightA: Double, _ weightB: Double,
                               _ seed: UInt64, _ delay: Double, _ projection: UnsafeMutablePointer<Int32>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let out = try output(projection, "projection")
        let model = try string(synapseModel, "synapse_model")
        let ruleName = try string(rule, "rule"), distribution = try string(weightDistribution, "weight_distribution")
        let parsedRule: ConnectionRule
        switch ruleName {
        case "all_to_all": parsedRule = .allToAll
        case "pairwise_bernoulli": parsedRule = .pairwiseBernoulli(p: ruleValue)
        case "fixed_indegree":
            guard ruleValue.isFinite, ruleValue >= 0, ruleValue == ruleValue.rounded(), ruleValue < 1e12 else {
                throw EpropError(.invalidArgument, "rule_value: fixed_indegree takes a whole number k ≥ 0, got \(ruleValue)")
            }
            parsedRule = .fixedIndegree(k: Int(ruleValue), multapses: allowMultapses != 0)
        default:
            throw EpropError(.unknownName, "unknown rule \"\(ruleName)\"; rules are all_to_all, pairwise_bernoulli, fixed_indegree")
        }
        let weights: WeightDistribution
        switch distribution {
        case "constant": weights = .constant(weightA)
        case "normal": weights = .normal(mean: weightA, std: weightB)
        case "uniform": weights = .uniform(low: weightA, high: weightB)
        case "normal_fan_in": weights = .normalFanIn(scale: weightA)
        case "glorot_uniform": weights = .glorotUniform(scale: weightA)
        default:
            throw EpropError(.unknownName, "unknown weight_distribution \"\(distribution)\"; distributions are "
                + "constant, normal, uniform, normal_fan_in, glorot_uniform")
        }
        out.pointee = Int32(try net.connect(pre: Int(prePopulation), post: Int(postPopulation), synapseModel: model,
                                            rule: parsedRule, allowAutapses: allowAutapses != 0, weights: weights,
                                            seed: seed, delay: delay))
    }
}

@_cdecl("eprop_projection_size")
public func eprop_projection_size(_ network: OpaquePointer?, _ projection: Int32, _ count: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let out = try output(count, "count")
        out.pointee = Int64(try net.projection(Int(projection)).count)
    }
}

/// Calls EpropProjection.bytesPerSynapse / pendingGradientBytes (and their counterparts).
@_cdecl("eprop_projection_memory")
public func eprop_projection_memory(_ network: OpaquePointer?, _ projection: Int32,
                                    _ bytesPerSynapse: UnsafeMutablePointer<Int64>?,
                                    _ pendingBytes: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let (perSynapse, pending) = net.projectionMemory(try net.projection(Int(projection)))
        bytesPerSynapse?.pointee = Int64(perSynapse)
        pendingBytes?.pointee = Int64(pending)
    }
}

/// Calls Network.connections.
@_cdecl("eprop_get_connections")
public func eprop_get_connections(_ network: OpaquePointer?, _ projection: Int32, _ pre: UnsafeMutablePointer<Int64>?,
                                  _ post: UnsafeMutablePointer<Int64>?, _ count: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let p = try net.projection(Int(projection))
        try exactCount(count, p.count, "count", "the projection size")
        let preOut = try outputBuffer(pre, count, "pre"), postOut = try outputBuffer(post, count, "post")
        let (s, t) = try net.connections(Int(projection))
        for i in 0..<p.count {
            preOut[i] = Int64(s[i])
            postOut[i] = Int64(t[i])
        }
    }
}

/// Reads Projection.weight in storage order.
@_cdecl("eprop_get_weights")
public func eprop_get_weights(_ network: OpaquePointer?, _ projection: Int32, _ weights: UnsafeMutablePointer<Double>?,
                              _ count: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let p = try net.projection(Int(projection))
        try exactCount(count, p.count, "count", "the projection size")
        let out = try outputBuffer(weights, count, "weights")
        for i in 0..<p.count { out[i] = p.weight(i) }
    }
}

/// Calls Network.setWeights.
@_cdecl("eprop_set_weights")
public func eprop_set_weights(_ network: OpaquePointer?, _ projection: Int32, _ weights: UnsafePointer<Double>?,
                              _ count: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        try net.setWeights(Int(projection), try buffer(weights, count, "weights"))
    }
}

/// Calls Network.weightMatrix.
@_cdecl("eprop_get_weight_matrix")
public func eprop_get_weight_matrix(_ network: OpaquePointer?, _ projection: Int32, _ weights: UnsafeMutablePointer<Double>?,
                                    _ nPost: Int64, _ nPre: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        guard nPost >= 0, nPre >= 0, nPre == 0 || nPost <= (Int64(1) << 40) / nPre else {
            throw EpropError(.invalidArgument, "n_post and n_pre: must be ≥ 0 and of plausible size, got \(nPost) and \(nPre)")
        }
        let out = try outputBuffer(weights, nPost * nPre, "weights", countName: "n_post × n_pre")
        try net.weightMatrix(Int(projection), into: out, nPost: Int(nPost), nPre: Int(nPre))
    }
}
