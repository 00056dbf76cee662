import EpropCore

// Populations, parameters, state and inputs.

/// Calls Network.addPopulation(model:size:).
@_cdecl("eprop_add_population")
public func eprop_add_population(_ network: OpaquePointer?, _ model: UnsafePointer<CChar>?, _ size: Int64,
                                 _ population: UnsafeMutablePointer<Int32>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let out = try output(population, "population")
        let name = try string(model, "model")
        guard size >= 1, size <= Int64(Int32.max) else {
            throw EpropError(.invalidArgument, "size: must be between 1 and \(Int32.max), got \(size)")
        }
        out.pointee = Int32(try net.addPopulation(model: name, size: Int(size)))
    }
}

@_cdecl("eprop_population_size")
public func eprop_population_size(_ network: OpaquePointer?, _ population: Int32, _ size: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let out = try output(size, "size")
        out.pointee = Int64(try net.population(Int(population)).size)
    }
}

@_cdecl("eprop_population_model")
public func eprop_population_model(_ network: OpaquePointer?, _ population: Int32,
                                   _ model: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let out = try output(model, "model")
        out.pointee = interned(try net.population(Int(population)).modelName)
    }
}

/// Calls Network.setParameters(_:_:).
@_cdecl("eprop_set_parameters")
public func eprop_set_parameters(_ network: OpaquePointer?, _ population: Int32,
                                 _ namesPointer: UnsafePointer<UnsafePointer<CChar>?>?,
                                 _ values: UnsafePointer<Double>?, _ count: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let keys = try names(namesPointer, count, "names")
        let vals = try buffer(values, count, "values")
        try net.setParameters(Int(population), Array(zip(keys, vals)))
    }
}

/// Calls Network.setParameter(_:_:choice:).
@_cdecl("eprop_set_parameter_string")
public func eprop_set_parameter_string(_ network: OpaquePointer?, _ population: Int32,
                                       _ name: UnsafePointer<CChar>?, _ value: UnsafePointer<CChar>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        try net.setParameter(Int(population), try string(name, "name"), choice: try string(value, "value"))
    }
}

/// Calls Network.parameter(_:_:).
@_cdecl("eprop_get_parameter")
public func eprop_get_parameter(_ network: OpaquePointer?, _ population: Int32, _ name: UnsafePointer<CChar>?,
                                _ value: UnsafeMutablePointer<Double>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let out = try output(value, "value")
        out.pointee = try net.parameter(Int(population), try string(name, "name"))
    }
}

/// Calls Network.choiceParameter(_:_:).
@_cdecl("eprop_get_parameter_string")
public func eprop_get_parameter_string(_ network: OpaquePointer?, _ population: Int32, _ name: UnsafePointer<CChar>?,
                                       _ value: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let out = try output(value, "value")
        out.pointee = interned(try net.choiceParameter(Int(population), try string(name, "name")))
    }
}

/// Calls Network.setParameterArray.
@_cdecl("eprop_set_parameter_array")
public func eprop_set_parameter_array(_ network: OpaquePointer?, _ population: Int32, _ name: UnsafePointer<CChar>?,
                                      _ values: UnsafePointer<Double>?, _ count: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let pop = try net.population(Int(population))
        let key = try string(name, "name")
        try exactCount(count, pop.size, "count", "the population size")
        try net.setParameterArray(Int(population), key, try buffer(values, count, "values"))
    }
}

/// Calls Network.parameterArray.
@_cdecl("eprop_get_parameter_array")
public func eprop_get_parameter_array(_ network: OpaquePointer?, _ population: Int32, _ name: UnsafePointer<CChar>?,
                                      _ values: UnsafeMutablePointer<Double>?, _ count: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let pop = try net.population(Int(population))
        let key = try string(name, "name")
        try exactCount(count, pop.size, "count", "the population size")
        try net.parameterArray(Int(population), key, into: try outputBuffer(values, count, "values"))
    }
}

/// Reads recordable `name` of every neuron (NeuronPopulation.state).
@_cdecl("eprop_get_state")
public func eprop_get_state(_ network: OpaquePointer?, _ population: Int32, _ name: UnsafePointer<CChar>?,
                            _ values: UnsafeMutablePointer<Double>?, _ count: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let pop = try net.population(Int(population))
        let key = try string(name, "name")
        try exactCount(count, pop.size, "count", "the population size")
        let out = try outputBuffer(values, count, "values")
        try net.state(Int(population), key, into: out)
    }
}

/// Calls NeuronPopulation.setState.
@_cdecl("eprop_set_state")
public func eprop_set_state(_ network: OpaquePointer?, _ population: Int32, _ name: UnsafePointer<CChar>?,
                            _ values: UnsafePointer<Double>?, _ count: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let pop = try net.population(Int(population))
        let key = try string(name, "name")
        try exactCount(count, pop.size, "count", "the population size")
        try pop.setState(key, try buffer(values, count, "values"))
    }
}

/// Calls Network.setSpikeTimes.
@_cdecl("eprop_set_spike_times")
public func eprop_set_spike_times(_ network: OpaquePointer?, _ population: Int32, _ neurons: UnsafePointer<Int64>?,
                                  _ times: UnsafePointer<Double>?, _ count: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        try net.setSpikeTimes(Int(population), neurons: try buffer(neurons, count, "neurons"),
                              times: try buffer(times, count, "times_ms"))
    }
}

func setSchedule(_ signal: Network.ReadoutSignal, _ network: OpaquePointer?, _ population: Int32,
                 _ times: UnsafePointer<Double>?, _ values: UnsafePointer<Double>?, _ nTimes: Int64,
                 _ nNeurons: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        guard nNeurons >= 1, nNeurons <= Int64(Int32.max) else {
            throw EpropError(.invalidArgument, "n_neurons: must be ≥ 1, got \(nNeurons)")
        }
        let t = try buffer(times, nTimes, "times_ms", countName: "n_times")
        guard nTimes <= Int64(1) << 40 / nNeurons else {
            throw EpropError(.invalidArgument, "n_times × n_neurons: implausibly large")
        }
        let v = try buffer(values, nTimes * nNeurons, "values", countName: "n_times × n_neurons")
        try net.setSchedule(signal, Int(population), times: t, values: v, neurons: Int(nNeurons))
    }
}

/// Calls Network.setSchedule(.target, …).
@_cdecl("eprop_set_target")
public func eprop_set_target(_ network: OpaquePointer?, _ population: Int32, _ times: UnsafePointer<Double>?,
                             _ values: UnsafePointer<Double>?, _ nTimes: Int64, _ nNeurons: Int64) -> Int32 {
    setSchedule(.target, network, population, times, values, nTimes, nNeurons)
}

/// Calls Network.setSchedule(.learningWindow, …).
@_cdecl("eprop_set_learning_window")
public func eprop_set_learning_window(_ network: OpaquePointer?, _ population: Int32, _ times: UnsafePointer<Double>?,
                                      _ values: UnsafePointer<Double>?, _ nTimes: Int64, _ nNeurons: Int64) -> Int32 {
    setSchedule(.learningWindow, network, population, times, values, nTimes, nNeurons)
}

/// Calls Network.setSchedule(.current, …).
@_cdecl("eprop_set_current")
public func eprop_set_current(_ network: OpaquePointer?, _ population: Int32, _ times: UnsafePointer<Double>?,
                              _ values: UnsafePointer<Double>?, _ nTimes: Int64, _ nNeurons: Int64) -> Int32 {
    setSchedule(.current, network, population, times, values, nTimes, nNeurons)
}
