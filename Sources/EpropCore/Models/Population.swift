/// The events a population emitted in its last update: neuron ids in increasing order and
/// a multiplicity per event (≥ 1 for a spike, 0 for a flush event, spec §7.6).
public final class EventList {
    public let capacity: Int
    public let ids: UnsafeMutablePointer<Int32>
    public let multiplicity: UnsafeMutablePointer<Int32>
    public var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        ids = .allocate(capacity: max(capacity, 1))
        multiplicity = .allocate(capacity: max(capacity, 1))
    }

    deinit {
        ids.deallocate()
        multiplicity.deallocate()
    }

    @inline(__always) func append(_ id: Int, _ mult: Int32) {
        ids[count] = Int32(truncatingIfNeeded: id)
        multiplicity[count] = mult
        count += 1
    }
}

/// What the network needs of every population, whatever its model.
public protocol NeuronPopulation: AnyObject {
    var size: Int { get }
    var modelName: String { get }
    var parameters: ParameterSet { get }
    /// Common and per-neuron parameter values.
    var neuronParameters: NeuronParameters { get }
    /// Validates `changes` as a whole (names, rows, cross rules) and applies them.
    func setParameters(_ changes: [(String, Double)]) throws(EpropError)
    /// As `setParameters`, with per-neuron arrays (one value per neuron) as well.
    func setParameters(_ changes: [(String, Double)], arrays: [(String, [Double])]) throws(EpropError)
    /// Recordable names, in the order `recordable(_:_:)` indexes them.
    var recordables: [String] { get }
    /// Value of recordable `index` of neuron `j` after the last update (absolute units).
    func recordable(_ index: Int, _ j: Int) -> Double
    /// Appends recordable `index` of `neurons`, in order, to `values` (one recorder sample):
    /// the same values as `recordable`, without a call per value.
    func appendRecordable(_ index: Int, of neurons: [Int], to values: inout [Double])
    /// Computes the derived constants (propagators, step counts) for the clock.
    func prepare(_ clock: Clock)
    /// Updates every neuron for step `t` (spec §1.3, phase 3) and fills `events`.
    func update(step t: Int)
    /// Events emitted by the last update.
    var events: EventList { get }
    /// Summed input z_in of every neuron for the current step; nil if it takes no spikes.
    var spikeInput: UnsafeMutablePointer<Double>? { get }
    /// Sets per-neuron state (e.g. "V_m"); absolute units.
    func setState(_ name: String, _ values: UnsafeBufferPointer<Double>) throws(EpropError)
}

extension NeuronPopulation {
    public func appendRecordable(_ index: Int, of neurons: [Int], to values: inout [Double]) {
        for j in neurons { values.append(recordable(index, j)) }
    }

    func recordableIndex(_ name: String) throws(EpropError) -> Int {
        guard let i = recordables.firstIndex(of: name) else {
            throw .unknown("\(modelName) has no recordable \(name); recordables are "
                + recordables.joined(separator: ", "))
        }
        return i
    }

    /// Writes recordable `name` of every neuron into `out`.
    func state(_ name: String, into out: UnsafeMutableBufferPointer<Double>) throws(EpropError) {
        let index = try recordableIndex(name)
        for j in 0..<size { out[j] = recordable(index, j) }
    }
}

/// Allocates `n` doubles set to `value`; owned by the caller.
func allocateDoubles(_ n: Int, _ value: Double = 0) -> UnsafeMutablePointer<Double> {
    let p = UnsafeMutablePointer<Double>.allocate(capacity: max(n, 1))
    p.initialize(repeating: value, count: max(n, 1))
    return p
}

/// A parameter change of a population, split into per-neuron state (e.g. V_m) and
/// parameters, and validated as a whole before anything is applied (spec §1.4: voltages
/// stored relative to E_L keep their absolute values when E_L changes).
struct ParameterChange {
    let updated: NeuronParameters
    /// State assignments, one value per neuron, already checked to be finite.
    let state: [(name: String, values: [Double])]
    let oldEL: [Double], newEL: [Double]

    init(_ current: NeuronParameters, model: String, stateNames: Set<String>,
         _ changes: [(String, Double)], _ arrays: [(String, [Double])]) throws(EpropError) {
        let size = current.size
        var state: [(name: String, values: [Double])] = []
        var scalars: [(String, Double)] = [], perNeuron: [(String, [Double])] = []
        for (name, value) in changes {
            if stateNames.contains(name) { state.append((name, Array(repeating: value, count: size))) } else { scalars.append((name, value)) }
        }
        for (name, values) in arrays {
            if stateNames.contains(name) { state.append((name, values)) } else { perNeuron.append((name, values)) }
        }
        for (name, values) in state {
            guard values.count == size else {
                throw .invalid("\(name): per-neuron values must number the population size \(size), got \(values.count)")
            }
            for (j, x) in values.enumerated() where !x.isFinite {
                throw .badProperty("\(model) state \(name): must be finite, got \(fmt(x)) at neuron \(j)")
            }
        }
        updated = try current.setting(scalars, arrays: perNeuron)
        self.state = state
        oldEL = current.values("E_L")
        newEL = updated.values("E_L")
    }

    /// Shifts a voltage stored relative to E_L so that its absolute value is unchanged.
    func keepAbsolute(_ v: UnsafeMutablePointer<Double>) {
        for j in 0..<oldEL.count where oldEL[j] != newEL[j] { v[j] = (v[j] + oldEL[j]) - newEL[j] }
    }
}
