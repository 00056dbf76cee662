/// `input`: spike sources driven by spike-time arrays; the role of NEST's spike_generator
/// feeding a parrot_neuron layer (spec §2). A spike_generator time T (ms) makes the
/// neuron fire in step T/dt (the parrot's step), i.e. its spike is stamped T/dt + 1 and
/// recorded at T + dt. Repeated times give repeated events (spec §13, item 17).
public final class InputPopulation: NeuronPopulation, WorkCounting {
    static let table = ParameterTable(
        owner: "input",
        specs: [
            ParameterSpec("flush_event_send_interval", unit: "ms", .infinity, .greaterThan(0), infinite: true,
                          doc: "A silent input sends a flush event this long after its last event (as NEST's parrot_neuron), so synapses consume pending history."),
        ],
        crossRules: []
    )

    public let size: Int
    public var modelName: String { "input" }
    public private(set) var neuronParameters: NeuronParameters
    public var parameters: ParameterSet { neuronParameters.common }
    public let events: EventList
    /// Pending spikes sorted by (step, neuron).
    var spikeSteps: [Int] = []
    var spikeNeurons: [Int32] = []
    var cursor = 0
    /// Step of each neuron's last event (0: none yet, as NEST's last_event_time).
    var lastEvent: [Int]
    let store = ColumnStore()
    /// Flush interval in steps per neuron (−1: never).
    var flushColumn: Column
    /// Preallocated copy of the step's spikes while flush events are merged in.
    private let scratch: EventList
    /// The network's work counters (set when the population joins a network).
    var counters = WorkCounters()

    public init(size: Int) {
        self.size = size
        events = EventList(capacity: size)
        scratch = EventList(capacity: size)
        neuronParameters = NeuronParameters(table: InputPopulation.table, size: size)
        flushColumn = store.constant(-1)
        lastEvent = Array(repeating: 0, count: size)
    }

    public var spikeInput: UnsafeMutablePointer<Double>? { nil }

    public func setParameters(_ changes: [(String, Double)]) throws(EpropError) {
        try setParameters(changes, arrays: [])
    }

    public func setParameters(_ changes: [(String, Double)], arrays: [(String, [Double])]) throws(EpropError) {
        neuronParameters = try neuronParameters.setting(changes, arrays: arrays)
    }

    public func setState(_ name: String, _ values: UnsafeBufferPointer<Double>) throws(EpropError) {
        throw .unknown("input has no settable state (\(name))")
    }

    public var recordables: [String] { [] }
    public func recordable(_ index: Int, _ j: Int) -> Double { 0 }
    public func prepare(_ clock: Clock) {
        store.reset()
        flushColumn = store.column(neuronParameters, "flush_event_send_interval") { $0.isInfinite ? -1 : Double(clock.steps($0)) }
    }

    /// Replaces the pending spikes with (step, neuron) pairs, sorted here.
    /// Spikes due in step `currentStep` are kept: their spike_generator times equal the
    /// current time, so in NEST the generator has already sent them (in the previous step)
    /// and they are on their way to the parrot; new times all lie later.
    func setSpikes(steps: [Int], neurons: [Int32], currentStep: Int) {
        var keptSteps: [Int] = [], keptNeurons: [Int32] = []
        var k = cursor
        while k < spikeSteps.count && spikeSteps[k] <= currentStep {
            keptSteps.append(spikeSteps[k])
            keptNeurons.append(spikeNeurons[k])
            k += 1
        }
        // Schedules usually arrive in (step, neuron) order already (N-MNIST samples do):
        // checking is linear, sorting is not.
        var ordered = true
        for k in steps.indices.dropFirst()
        where steps[k] < steps[k - 1] || (steps[k] == steps[k - 1] && neurons[k] < neurons[k - 1]) {
            ordered = false
            break
        }
        if ordered {
            spikeSteps = keptSteps + steps
            spikeNeurons = keptNeurons + neurons
        } else {
            let order = (0..<steps.count).sorted {
                steps[$0] != steps[$1] ? steps[$0] < steps[$1] : neurons[$0] < neurons[$1]
            }
            spikeSteps = keptSteps + order.map { steps[$0] }
            spikeNeurons = keptNeurons + order.map { neurons[$0] }
        }
        cursor = 0
    }

    public func update(step t: Int) {
        events.count = 0
        spikeSteps.withUnsafeBufferPointer { steps in
            spikeNeurons.withUnsafeBufferPointer { ids in
                while cursor < steps.count && steps[cursor] <= t {
                    let id = ids[cursor]
                    if events.count > 0 && events.ids[events.count - 1] == id {
                        events.multiplicity[events.count - 1] += 1
                    } else {
                        events.append(Int(id), 1)
                    }
                    cursor += 1
                }
            }
        }
        for e in 0..<events.count { lastEvent[Int(events.ids[e])] = t }
        if !(flushColumn.isUniform && flushColumn[0] < 0) { appendFlushEvents(t) }
        var spikes = 0, flushes = 0
        for e in 0..<events.count {
            let m = Int(events.multiplicity[e])
            spikes += m
            if m == 0 { flushes += 1 }
        }
        counters.add(.inputSpikes, spikes)
        counters.add(.flushEvents, flushes)
    }

    /// Flush events (spec §7.6) of silent neurons, merged into the id-ordered event list.
    private func appendFlushEvents(_ t: Int) {
        let spikes = events.count
        let spikeIds = scratch.ids, spikeMult = scratch.multiplicity
        for e in 0..<spikes { spikeIds[e] = events.ids[e]; spikeMult[e] = events.multiplicity[e] }
        events.count = 0
        var next = 0
        for j in 0..<size {
            if next < spikes && Int(spikeIds[next]) == j {
                events.append(j, spikeMult[next])
                next += 1
            } else if lastEvent[j] > 0 && flushColumn[j] >= 0 && Double(t - lastEvent[j]) >= flushColumn[j] {
                events.append(j, 0)
                lastEvent[j] = t
            }
        }
    }
}
