#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value schedule with NEST step_rate_generator timing (spec §5.4): the value with
/// amplitude time T is in effect for readout update steps ≥ T/dt; 0 before the first.
struct RateSchedule {
    var steps: [Int] = []
    /// values[n * steps.count + k]: value of neuron n from steps[k] on.
    var values: [Double] = []
    var cursor = 0

    /// Copies the values that come into effect at step `t` into `current`.
    @inline(__always)
    mutating func advance(to t: Int, current: UnsafeMutablePointer<Double>, neurons: Int) {
        while cursor < steps.count && steps[cursor] <= t {
            let n = steps.count
            for k in 0..<neurons { current[k] = values[k * n + cursor] }
            cursor += 1
        }
    }
}

/// `eprop_readout`: leaky readout neuron with a mean-squared-error learning signal
/// (spec §5). With v = V_m − E_L:
///
///     v ← P_i·I_in + z_in + α·v;  v ← max(v, V_min − E_L)
///     y = v + E_L;  e = y − y*;  then y, y*, e are multiplied by the window λ
///     the error e of step t reaches the recurrent neurons at the start of step t + 1
///     I_in ← I_e (one step late)
///
/// There is no one-step lag: the error of step t uses the voltage of step t.
public final class ReadoutPopulation: NeuronPopulation, WorkCounting {
    static let table = ParameterTable(
        owner: "eprop_readout",
        specs: [
            ParameterSpec("C_m", unit: "pF", 250.0, .greaterThan(0), doc: "Membrane capacitance."),
            ParameterSpec("E_L", unit: "mV", 0.0, .any, doc: "Leak (resting) potential."),
            ParameterSpec("I_e", unit: "pA", 0.0, .any, doc: "Constant external current (acts one step late)."),
            ParameterSpec("tau_m", unit: "ms", 10.0, .greaterThan(0), doc: "Membrane time constant."),
            ParameterSpec("V_min", unit: "mV", -Double.greatestFiniteMagnitude, .any, infinite: true,
                          doc: "Lower bound of the membrane potential."),
            ParameterSpec("eprop_isi_trace_cutoff", unit: "ms", .infinity, .atLeast(0), infinite: true,
                          doc: "Presynaptic traces of an interval are integrated for at most this long, then only decayed."),
        ],
        crossRules: []
    )

    public let size: Int
    public var modelName: String { "eprop_readout" }
    public private(set) var neuronParameters: NeuronParameters
    public var parameters: ParameterSet { neuronParameters.common }
    public let events: EventList
    public let history: EpropHistory

    let v: UnsafeMutablePointer<Double>
    let iIn: UnsafeMutablePointer<Double>
    let zIn: UnsafeMutablePointer<Double>
    /// Target y* and window λ in effect (from the schedules).
    let target: UnsafeMutablePointer<Double>
    let window: UnsafeMutablePointer<Double>
    /// e·λ of the last step: the learning signal sent at the start of the next step.
    let error: UnsafeMutablePointer<Double>
    let readoutSignal: UnsafeMutablePointer<Double>
    let targetSignal: UnsafeMutablePointer<Double>
    var targetSchedule = RateSchedule()
    /// CurrentEvent amplitudes (step_current_generator schedule) in effect, pA.
    let current: UnsafeMutablePointer<Double>
    var currentSchedule = RateSchedule()
    var windowSchedule = RateSchedule()
    var indegree: [Int32]
    var lastStep = -1
    /// NEST's history bookkeeping for recorded neurons (HistoryBookkeeping.swift).
    var bookkeeping: [Int: HistoryBookkeeping] = [:]
    /// The network's work counters (set when the population joins a network).
    var counters = WorkCounters()

    let store = ColumnStore()
    var alpha, pI, vMin, iE, eL: Column
    var cutoffSteps = Clock.never
    var dt = 1.0

    public init(size: Int) {
        self.size = size
        neuronParameters = NeuronParameters(table: ReadoutPopulation.table, size: size, uniform: [
            "eprop_isi_trace_cutoff": "it paces the interval bookkeeping shared by all synapses of a source"])
        let zero = store.constant(0)
        (alpha, pI, vMin, iE, eL) = (zero, zero, zero, zero, zero)
        events = EventList(capacity: 0)
        history = EpropHistory(neurons: size, channels: 1)
        v = allocateDoubles(size); iIn = allocateDoubles(size); zIn = allocateDoubles(size)
        target = allocateDoubles(size); window = allocateDoubles(size); error = allocateDoubles(size)
        readoutSignal = allocateDoubles(size); targetSignal = allocateDoubles(size); current = allocateDoubles(size)
        indegree = Array(repeating: 0, count: size)
        prepare(Clock(dt: 1))
    }

    deinit {
        for p in [v, iIn, zIn, target, window, error, readoutSignal, targetSignal, current] { p.deallocate() }
    }

    public var spikeInput: UnsafeMutablePointer<Double>? { zIn }

    public func setParameters(_ changes: [(String, Double)]) throws(EpropError) {
        try setParameters(changes, arrays: [])
    }

    /// Scalar and per-neuron changes, validated as a whole; "V_m" sets state.
    public func setParameters(_ changes: [(String, Double)], arrays: [(String, [Double])]) throws(EpropError) {
        let change = try ParameterChange(neuronParameters, model: modelName, stateNames: ["V_m"], changes, arrays)
        neuronParameters = change.updated
        change.keepAbsolute(v)
        for (_, values) in change.state { for j in 0..<size { v[j] = values[j] - change.newEL[j] } }
        prepare(Clock(dt: dt))
    }

    public func setState(_ name: String, _ values: UnsafeBufferPointer<Double>) throws(EpropError) {
        guard name == "V_m" else { throw .unknown("eprop_readout: settable state is V_m, not \(name)") }
        try setParameters([], arrays: [("V_m", Array(values))])
    }

    public var recordables: [String] {
        ["V_m", "readout_signal", "target_signal", "error_signal", "eprop_history_duration"]
    }

    public func recordable(_ index: Int, _ j: Int) -> Double {
        switch index {
        case 0: return v[j] + eL[j]
        case 1: return readoutSignal[j]
        case 2: return targetSignal[j]
        case 3: return error[j]
        default:
            guard let books = bookkeeping[j] else { return .nan }
            return Double(books.count) * dt
        }
    }

    public func prepare(_ clock: Clock) {
        let p = neuronParameters
        let dtValue = clock.dt
        dt = dtValue
        store.reset()
        alpha = store.column(p, "tau_m") { exp(-dtValue / $0) }
        pI = store.column(p, "tau_m", "C_m") { tauM, cM in tauM / cM * (1.0 - exp(-dtValue / tauM)) }
        vMin = store.column(p, "V_min", "E_L") { $0 - $1 }
        iE = store.column(p, "I_e")
        eL = store.column(p, "E_L")
        cutoffSteps = clock.steps(p.common["eprop_isi_trace_cutoff"])
        for books in bookkeeping.values { books.cutoff = HistoryBookkeeping.bounded(cutoffSteps) }
    }

    public func update(step t: Int) {
        history.append(t)
        for (j, books) in bookkeeping where indegree[j] > 0 { books.append(t) }
        targetSchedule.advance(to: t, current: target, neurons: size)
        windowSchedule.advance(to: t, current: window, neurons: size)
        currentSchedule.advance(to: t, current: current, neurons: size)
        let v = self.v, iIn = self.iIn, zIn = self.zIn
        let alpha = self.alpha, pI = self.pI, vMin = self.vMin, eL = self.eL, iE = self.iE
        for k in 0..<size {
            var vk = pI[k] * iIn[k] + zIn[k] + alpha[k] * v[k]
            zIn[k] = 0
            vk = max(vk, vMin[k])
            v[k] = vk
            let y = vk + eL[k]
            let yStar = target[k]
            let lambda = window[k]
            let e = (y - yStar) * lambda
            readoutSignal[k] = y * lambda
            targetSignal[k] = yStar * lambda
            error[k] = e
            history.entry(k, t)[0] = e
            iIn[k] = current[k] + iE[k]
        }
        counters.add(.readoutUpdates, size)
        counters.add(.historyEntriesWritten, size)
        lastStep = t
    }
}
