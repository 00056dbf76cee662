/// Work counters (issue 6, item 3): how much work a simulation did, counted where the work
/// is planned, so that event-driven e-prop can be compared with a time-driven baseline on
/// the work actually done (docs/energy.md).
///
/// Counting granularity. Nothing is counted per synapse inside a kernel: an eprop event
/// adds `rowLength × steps` once when it is planned (sequentially, what every synapse of a
/// source shares), a neuron population adds its size once per step, a part of a parallel
/// phase adds the length of its target range. So counting costs a few additions per event
/// and per step, whatever the fan-out.
///
/// Determinism. Every worker part writes its own slots (a cache-line-padded row per part),
/// and a read sums the rows (or takes their maximum, for peaks). A count never depends on
/// which part did the work, so counts are identical for any number of threads.
///
/// Extending. A new model family adds its counts through the same calls: a new counter is
/// a new case appended at the end of `WorkCounter` (indices are the C ABI: never reorder),
/// with its name, meaning and operation mapping (`WorkCounter.operations`); its kernels
/// call `counters.add(.x, n, part: part)` (part 0 when sequential). Counters whose meaning
/// fits (spikes, synaptic_events, neuron_updates, optimizer_calls, weight_writes, …) are
/// shared by all families.
public enum WorkCounter: Int, CaseIterable, Sendable {
    case neuronUpdates = 0
    case readoutUpdates
    case spikes
    case inputSpikes
    case flushEvents
    case automaticFlushEvents
    case synapticEvents
    case plasticEvents
    case eligibilitySteps
    case adaptiveEligibilitySteps
    case readoutEligibilitySteps
    case presynapticTraceSteps
    case traceDecays
    case optimizerCalls
    case weightWrites
    case gradientDescentSteps
    case adamSteps
    case learningSignalWrites
    case historyEntriesWritten
    case peakHistoryBytes
    case synapseStateBytesTouched

    /// The name used by C and Python.
    public var name: String {
        switch self {
        case .neuronUpdates: return "neuron_updates"
        case .readoutUpdates: return "readout_updates"
        case .spikes: return "spikes"
        case .inputSpikes: return "input_spikes"
        case .flushEvents: return "flush_events"
        case .automaticFlushEvents: return "automatic_flush_events"
        case .synapticEvents: return "synaptic_events"
        case .plasticEvents: return "plastic_events"
        case .eligibilitySteps: return "eligibility_steps"
        case .adaptiveEligibilitySteps: return "adaptive_eligibility_steps"
        case .readoutEligibilitySteps: return "readout_eligibility_steps"
        case .presynapticTraceSteps: return "presynaptic_trace_steps"
        case .traceDecays: return "trace_decays"
        case .optimizerCalls: return "optimizer_calls"
        case .weightWrites: return "weight_writes"
        case .gradientDescentSteps: return "gradient_descent_steps"
        case .adamSteps: return "adam_steps"
        case .learningSignalWrites: return "learning_signal_writes"
        case .historyEntriesWritten: return "history_entries_written"
        case .peakHistoryBytes: return "peak_history_bytes"
        case .synapseStateBytesTouched: return "synapse_state_bytes_touched"
        }
    }

    /// What one count means (one line; docs/energy.md has the details).
    public var doc: String {
        switch self {
        case .neuronUpdates:
            return "Recurrent e-prop neuron updates: one per neuron per step."
        case .readoutUpdates:
            return "eprop_readout neuron updates: one per neuron per step."
        case .spikes:
            return "Spikes emitted by recurrent e-prop neurons (one per spike, whatever the fan-out)."
        case .inputSpikes:
            return "Spikes emitted by input neurons, repeated spikes counted each."
        case .flushEvents:
            return "Flush events emitted by recurrent and input neurons (flush_event_send_interval)."
        case .automaticFlushEvents:
            return "Automatic flush events of silent sources (accumulate mode), one per source per eprop projection."
        case .synapticEvents:
            return "Spike transmissions: one per synapse (static or eprop) per spike, multiplicity counted; flushes are not transmitted."
        case .plasticEvents:
            return "Events processed by eprop synapses: one per synapse per spike or flush (automatic ones included)."
        case .eligibilitySteps:
            return "Synapse-steps of eligibility integration into recurrent targets: iterations of the per-synapse gradient loop."
        case .adaptiveEligibilitySteps:
            return "Of eligibility_steps, those into adaptive targets (they also integrate the adaptation trace ε)."
        case .readoutEligibilitySteps:
            return "Synapse-steps of gradient integration into eprop_readout targets (Δg = err·z̄)."
        case .presynapticTraceSteps:
            return "Steps of the presynaptic trace z̄: once per source per integrated step, plus once per synapse when targets' tau_m differ."
        case .traceDecays:
            return "Closed-form decays of a synapse's traces over the steps past the cutoff, at the first spike after them (recurrent targets)."
        case .optimizerCalls:
            return "Optimizer calls, per synapse: every integrated step (optimize_each_step) or every spike after the first (accumulate)."
        case .weightWrites:
            return "Optimizer calls that computed a new weight (the others only add to the batch sum G)."
        case .gradientDescentSteps:
            return "Gradient-descent weight steps (equals weight_writes with gradient descent)."
        case .adamSteps:
            return "Adam iterations, catch-up iterations for skipped step indices included."
        case .learningSignalWrites:
            return "Learning-signal additions B·err: one per feedback synapse per step."
        case .historyEntriesWritten:
            return "e-prop history entries written: one per recurrent or readout neuron per step."
        case .peakHistoryBytes:
            return "Largest number of bytes the e-prop histories held since creation or the last reset (a maximum, not a sum)."
        case .synapseStateBytesTouched:
            return "Bytes of per-synapse state read plus written by synaptic, plastic and learning-signal events."
        }
    }

    /// Whether the counter is a maximum over time (reset sets it to the current value)
    /// rather than a sum.
    public var isMaximum: Bool { self == .peakHistoryBytes }
}

/// Per-part slots of every counter, padded so that parts never share a cache line.
public final class WorkCounters {
    /// Int64 slots per part: the counters rounded up to a cache line, plus a cache line.
    static let stride = (WorkCounter.allCases.count + 7) / 8 * 8 + 8
    public private(set) var parts: Int
    private(set) var slots: UnsafeMutablePointer<Int64>

    public init(parts: Int = 1) {
        self.parts = max(1, parts)
        slots = WorkCounters.allocate(self.parts)
    }

    deinit { slots.deallocate() }

    private static func allocate(_ parts: Int) -> UnsafeMutablePointer<Int64> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: parts * stride * 8, alignment: 64)
        let p = raw.bindMemory(to: Int64.self, capacity: parts * stride)
        p.initialize(repeating: 0, count: parts * stride)
        return p
    }

    /// Adds n to counter c in part `part`'s slots (part 0 from sequential code).
    @inline(__always)
    public func add(_ c: WorkCounter, _ n: Int, part: Int = 0) {
        slots[part &* WorkCounters.stride &+ c.rawValue] &+= Int64(truncatingIfNeeded: n)
    }

    /// Raises a maximum counter to at least `value`.
    @inline(__always)
    public func raise(_ c: WorkCounter, to value: Int, part: Int = 0) {
        let p = slots + (part &* WorkCounters.stride &+ c.rawValue)
        if Int64(value) > p.pointee { p.pointee = Int64(value) }
    }

    /// The value of counter c: the sum over parts (the maximum for a maximum counter).
    public func value(_ c: WorkCounter) -> Int64 {
        var total: Int64 = 0
        for part in 0..<parts {
            let x = slots[part * WorkCounters.stride + c.rawValue]
            total = c.isMaximum ? max(total, x) : total &+ x
        }
        return total
    }

    /// Every counter, in the order of `WorkCounter.allCases`.
    public var values: [Int64] { WorkCounter.allCases.map { value($0) } }

    /// Sets every counter to 0.
    public func reset() {
        slots.update(repeating: 0, count: parts * WorkCounters.stride)
    }

    /// Changes the number of parts, keeping every counter's value (folded into part 0).
    func resize(parts newParts: Int) {
        let n = max(1, newParts)
        guard n != parts else { return }
        let kept = values
        slots.deallocate()
        slots = WorkCounters.allocate(n)
        parts = n
        for c in WorkCounter.allCases { slots[c.rawValue] = kept[c.rawValue] }
    }
}

/// A population or projection that counts its work; the network gives it its counters
/// when it joins (Network.addPopulation, Network.connect).
protocol WorkCounting: AnyObject {
    var counters: WorkCounters { get set }
}

extension Network {
    /// Every work counter, in the order of `WorkCounter.allCases` (peak_history_bytes
    /// includes the histories held now).
    public func counterValues() -> [Int64] {
        var values = counters.values
        let peak = WorkCounter.peakHistoryBytes.rawValue
        values[peak] = max(values[peak], Int64(historyBytes))
        return values
    }

    /// Sets every counter to 0 (peak_history_bytes to the bytes the histories hold now).
    public func resetCounters() {
        counters.reset()
        counters.raise(.peakHistoryBytes, to: historyBytes)
    }

    /// The energy estimate of the counters under `table` (the network's table by default).
    public func energyEstimate(table: EnergyTable? = nil) -> EnergyEstimate {
        EnergyEstimate(counts: counterValues(), table: table ?? energyTable)
    }
}
