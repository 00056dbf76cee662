/// A recorder samples after every step; it never allocates inside the step loop
/// (capacity is reserved by `reserve` before a simulate call).
protocol Recorder: AnyObject {
    /// Values per sample (1 for a spike recorder).
    var width: Int { get }
    /// Samples held (spikes, or steps).
    var count: Int { get }
    /// Bytes held.
    var bytes: Int { get }
    func reserve(steps: Int)
    func sample(step t: Int)
    func clear()
}

/// Records the spikes of one population: the step of each spike and its sender. A spike
/// of step t is reported at time (t + 1)·dt, as NEST's spike_recorder does.
final class SpikeRecorder: Recorder {
    unowned(unsafe) let population: NeuronPopulation   // the network owns both (no check per sample)
    var steps: [Int] = []
    var senders: [Int32] = []
    init(population: NeuronPopulation) { self.population = population }
    var width: Int { 1 }
    var count: Int { steps.count }
    var bytes: Int { steps.capacity * 8 + senders.capacity * 4 }
    func reserve(steps n: Int) {
        // Spikes per step are not known in advance; reserve for a mean rate of 1 per neuron per
        // 20 steps and let the array grow (amortised) beyond that.
        let expected = steps.count + n * max(1, population.size / 20)
        if steps.capacity < expected && expected < 50_000_000 {
            steps.reserveCapacity(expected)
            senders.reserveCapacity(expected)
        }
    }
    func sample(step t: Int) {
        let events = population.events
        for e in 0..<events.count {
            for _ in 0..<events.multiplicity[e] {
                steps.append(t)
                senders.append(events.ids[e])
            }
        }
    }
    func clear() {
        steps.removeAll(keepingCapacity: true)
        senders.removeAll(keepingCapacity: true)
    }
}

/// Samples taken after every step: the steps and `width` values per sample.
struct SampleBuffer {
    var steps: [Int] = []
    var values: [Double] = []

    mutating func reserve(steps n: Int, width: Int) {
        steps.reserveCapacity(steps.count + n)
        values.reserveCapacity(values.count + n * width)
    }

    mutating func clear() {
        steps.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
    }
}

/// Records recordables of chosen neurons after every step; values[sample][recordable][neuron].
final class StateRecorder: Recorder {
    unowned(unsafe) let population: NeuronPopulation   // the network owns both (no check per sample)
    let recordableIndices: [Int]
    let neurons: [Int]
    var buffer = SampleBuffer()
    init(population: NeuronPopulation, recordables: [Int], neurons: [Int]) {
        self.population = population
        recordableIndices = recordables
        self.neurons = neurons
    }
    var width: Int { recordableIndices.count * neurons.count }
    var count: Int { buffer.steps.count }
    var bytes: Int { buffer.steps.capacity * 8 + buffer.values.capacity * 8 }
    func reserve(steps n: Int) { buffer.reserve(steps: n, width: width) }
    func clear() { buffer.clear() }
    func sample(step t: Int) {
        buffer.steps.append(t)
        let recorded = population   // one strong reference per sample, not per value
        for r in recordableIndices { recorded.appendRecordable(r, of: neurons, to: &buffer.values) }
    }
}

/// Records the weights of chosen synapses after every step; values[sample][synapse].
final class WeightRecorder: Recorder {
    unowned(unsafe) let projection: Projection   // the network owns both (no check per sample)
    let synapses: [Int]
    var buffer = SampleBuffer()
    init(projection: Projection, synapses: [Int]) {
        self.projection = projection
        self.synapses = synapses
    }
    var width: Int { synapses.count }
    var count: Int { buffer.steps.count }
    var bytes: Int { buffer.steps.capacity * 8 + buffer.values.capacity * 8 }
    func reserve(steps n: Int) { buffer.reserve(steps: n, width: width) }
    func clear() { buffer.clear() }
    func sample(step t: Int) {
        buffer.steps.append(t)
        for s in synapses { buffer.values.append(projection.weight(s)) }
    }
}
