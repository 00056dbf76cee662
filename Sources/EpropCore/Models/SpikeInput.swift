/// `input`: spike sources driven by spike-time arrays; the role of NEST's spike_generator
/// feeding a parrot_neuron layer (spec §2). A spike_generator time T (ms) makes the
/// neuron fire in step T/dt (the parrot's step), i.e. its spike is stamped T/dt + 1 and
/// recorded at T + dt. Repeated times give repeated events (spec §13, item 17).
public final class InputPopulation: NeuronPopulation {
    static let table = ParameterTable(owner: "input", specs: [], crossRules: [])

    public let size: Int
    public var modelName: String { "input" }
    public private(set) var parameters = InputPopulation.table.defaults()
    public let events: EventList
    /// Pending spikes sorted by (step, neuron).
    var spikeSteps: [Int] = []
    var spikeNeurons: [Int32] = []
    var cursor = 0

    public init(size: Int) {
        self.size = size
        events = EventList(capacity: size)
    }

    public var spikeInput: UnsafeMutablePointer<Double>? { nil }

    public func setParameters(_ changes: [(String, Double)]) throws(EpropError) {
        parameters = try parameters.setting(changes)
    }

    public func setState(_ name: String, _ values: UnsafeBufferPointer<Double>) throws(EpropError) {
        throw .unknown("input has no settable state (\(name))")
    }

    public var recordables: [String] { [] }
    public func recordable(_ index: Int, _ j: Int) -> Double { 0 }
    public func prepare(_ clock: Clock) {}

    /// Replaces the pending spikes with (step, neuron) pairs, sorted here.
    func setSpikes(steps: [Int], neurons: [Int32]) {
        let order = (0..<steps.count).sorted {
            steps[$0] != steps[$1] ? steps[$0] < steps[$1] : neurons[$0] < neurons[$1]
        }
        spikeSteps = order.map { steps[$0] }
        spikeNeurons = order.map { neurons[$0] }
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
    }
}
