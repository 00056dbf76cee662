/// The parameters of a population: one common value per parameter and, for parameters set
/// per neuron (as NEST 3.10 allows), an array of values. Changes are validated as a
/// whole — every row and cross rule, for every neuron — and applied only if all pass.
public struct NeuronParameters: Sendable {
    public private(set) var common: ParameterSet
    /// Per-neuron values by parameter index.
    public private(set) var perNeuron: [Int: [Double]] = [:]
    public let size: Int
    /// Parameters that must be the same for every neuron, with the reason.
    let uniform: [String: String]

    init(table: ParameterTable, size: Int, uniform: [String: String] = [:]) {
        common = table.defaults()
        self.size = size
        self.uniform = uniform
    }

    public var table: ParameterTable { common.table }

    /// The common value; nil if the parameter is set per neuron.
    public func commonValue(_ name: String) -> Double? {
        guard let i = table.index(of: name), perNeuron[i] == nil else { return nil }
        return common.values[i]
    }

    public func isPerNeuron(_ name: String) -> Bool {
        guard let i = table.index(of: name) else { return false }
        return perNeuron[i] != nil
    }

    /// Value of parameter `index` for neuron `j`.
    @inline(__always)
    public func value(_ index: Int, _ j: Int) -> Double {
        if let values = perNeuron[index] { return values[j] }
        return common.values[index]
    }

    /// All neurons' values of `name`.
    public func values(_ name: String) -> [Double] {
        let i = table.index(of: name)!
        return perNeuron[i] ?? Array(repeating: common.values[i], count: size)
    }

    /// Fills `out[j]` with f(value of `name` for neuron j).
    func fill(_ out: UnsafeMutablePointer<Double>, _ name: String, _ f: (Double) -> Double = { $0 }) {
        let i = table.index(of: name)!
        if let values = perNeuron[i] {
            for j in 0..<size { out[j] = f(values[j]) }
        } else {
            let x = f(common.values[i])
            for j in 0..<size { out[j] = x }
        }
    }

    /// Returns a copy with scalar `changes` and per-neuron `arrays` applied, or throws naming
    /// the parameter, the allowed range and (for arrays) the neuron. A scalar replaces a
    /// per-neuron array of the same parameter.
    public func setting(_ changes: [(String, Double)], arrays: [(String, [Double])] = []) throws(EpropError) -> NeuronParameters {
        var copy = self
        copy.common = try common.setting(changes)
        for (name, _) in changes {
            if let i = table.index(of: name) { copy.perNeuron[i] = nil }
        }
        for (name, values) in arrays {
            guard let i = table.index(of: name) else {
                throw .unknown("\(table.owner) has no parameter \(name); parameters are "
                    + table.specs.map(\.name).joined(separator: ", "))
            }
            if let reason = uniform[name] {
                throw .invalid("\(table.owner) parameter \(name): one value for the whole population (\(reason))")
            }
            guard values.count == size else {
                throw .invalid("\(name): per-neuron values must number the population size \(size), got \(values.count)")
            }
            for (j, x) in values.enumerated() {
                do throws(EpropError) { try table.specs[i].check(x, owner: table.owner) } catch {
                    throw EpropError(error.status, error.message + " at neuron \(j)")
                }
            }
            copy.perNeuron[i] = values
        }
        if !copy.perNeuron.isEmpty && !table.crossRules.isEmpty {
            // Cross rules per neuron, on the neuron's full parameter vector.
            var vector = copy.common
            for j in 0..<size {
                var overrides: [(String, Double)] = []
                for (i, values) in copy.perNeuron { overrides.append((table.specs[i].name, values[j])) }
                do throws(EpropError) { vector = try copy.common.setting(overrides) } catch {
                    throw EpropError(error.status, error.message + " at neuron \(j)")
                }
                _ = vector
            }
        }
        return copy
    }
}
