/// A set of synapses from one population to another, made by one connect call.
public protocol Projection: AnyObject {
    var sourcePopulation: Int { get }
    var targetPopulation: Int { get }
    var synapseModel: String { get }
    var connectivity: Connectivity { get }
    /// Weight of synapse `i` in storage order.
    func weight(_ i: Int) -> Double
    /// Sets every weight in storage order (validated by the network).
    func setWeights(_ w: UnsafeBufferPointer<Double>)
    /// Processes the events of the source population stamped `stamp` (spec §1.3 phase 2).
    func deliver(_ events: EventList, stamp: Int)
}

extension Projection {
    public var count: Int { connectivity.count }

    /// Source neuron of every synapse, in storage order.
    func sources() -> [Int] {
        var out = [Int](repeating: 0, count: count)
        let c = connectivity
        for s in 0..<c.sources {
            for k in c.rowStart[s]..<c.rowStart[s + 1] { out[k] = s }
        }
        return out
    }
}

/// Weights of a projection without plasticity, in storage order.
final class FixedWeights {
    let values: UnsafeMutablePointer<Double>
    let count: Int

    /// Takes the caller's weights into the connectivity's storage order.
    init(_ weights: UnsafeBufferPointer<Double>, _ connectivity: Connectivity) {
        count = connectivity.count
        values = .allocate(capacity: max(count, 1))
        for k in 0..<count { values[k] = weights[connectivity.origin[k]] }
    }

    deinit { values.deallocate() }

    func set(_ w: UnsafeBufferPointer<Double>) { for k in 0..<count { values[k] = w[k] } }
}

/// `static_synapse`: a fixed weight; a spike of multiplicity n adds the weight n times,
/// as n separate events do in NEST. Flush events are dropped.
final class StaticProjection: Projection {
    let sourcePopulation: Int
    let targetPopulation: Int
    var synapseModel: String { "static_synapse" }
    let connectivity: Connectivity
    let weights: FixedWeights
    let input: UnsafeMutablePointer<Double>

    init(source: Int, target: Int, connectivity: Connectivity, weights: UnsafeBufferPointer<Double>,
         input: UnsafeMutablePointer<Double>) {
        sourcePopulation = source
        targetPopulation = target
        self.connectivity = connectivity
        self.input = input
        self.weights = FixedWeights(weights, connectivity)
    }

    deinit { connectivity.free() }

    func weight(_ i: Int) -> Double { weights.values[i] }
    func setWeights(_ w: UnsafeBufferPointer<Double>) { weights.set(w) }

    func deliver(_ events: EventList, stamp: Int) {
        let target = connectivity.target, w = weights.values, input = self.input
        connectivity.rowStart.withUnsafeBufferPointer { row in
            for e in 0..<events.count {
                let mult = events.multiplicity[e]
                guard mult > 0 else { continue }
                let s = Int(events.ids[e])
                for _ in 0..<mult {
                    for k in row[s]..<row[s + 1] { input[Int(target[k])] += w[k] }
                }
            }
        }
    }
}

/// `eprop_learning_signal_connection` (spec §6): feedback weight B_jk from readout k to
/// recurrent neuron j. At the start of step t it adds B_jk·e_k of the readout's step t − 1
/// to the learning signal of history entry t − 2; its delay is ignored, as in NEST.
final class LearningSignalProjection: Projection {
    let sourcePopulation: Int
    let targetPopulation: Int
    var synapseModel: String { "eprop_learning_signal_connection" }
    let connectivity: Connectivity
    let weights: FixedWeights
    unowned let readouts: ReadoutPopulation
    unowned let recurrent: RecurrentPopulation

    init(source: Int, target: Int, connectivity: Connectivity, weights: UnsafeBufferPointer<Double>,
         readouts: ReadoutPopulation, recurrent: RecurrentPopulation) {
        sourcePopulation = source
        targetPopulation = target
        self.connectivity = connectivity
        self.readouts = readouts
        self.recurrent = recurrent
        self.weights = FixedWeights(weights, connectivity)
    }

    deinit { connectivity.free() }

    func weight(_ i: Int) -> Double { weights.values[i] }
    func setWeights(_ w: UnsafeBufferPointer<Double>) { weights.set(w) }
    func deliver(_ events: EventList, stamp: Int) {}

    /// Spec §1.3 phase 1 at the start of step t.
    func deliverLearningSignal(step t: Int) {
        let entry = t - 2
        let history = recurrent.history
        guard history.contains(entry) else { return }
        let error = readouts.error, target = connectivity.target, b = weights.values
        connectivity.rowStart.withUnsafeBufferPointer { row in
            for k in 0..<readouts.size {
                let e = error[k]
                for syn in row[k]..<row[k + 1] {
                    history.entry(Int(target[syn]), entry)[1] += b[syn] * e
                }
            }
        }
    }
}
