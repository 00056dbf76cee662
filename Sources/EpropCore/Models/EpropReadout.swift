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

/// `eprop_readout`: leaky readout neuron for event-driven e-prop (spec §5). With
/// v = V_m − E_L:
///
///     v ← P_i·I_in + z_in + α·v;  v ← max(v, V_min − E_L)
///     V = v + E_L
///     loss = "mean_squared_error" (NEST, the default):
///         y = V;  e = (y − y*)·λ
///     loss = "cross_entropy" (our extension, see below):
///         y_k = π_k = exp(V_k) / Σ_j exp(V_j)   over all readouts j of the population, same step
///         e_k = (π_k − y*_k)·λ_k
///     readout_signal = y·λ,  target_signal = y*·λ,  error_signal = e
///     the error e of step t reaches the recurrent neurons at the start of step t + 1
///     I_in ← I_e (one step late)
///
/// There is no one-step lag: the error of step t uses the voltage of step t.
///
/// Cross-entropy (an eprop extension; NEST's event-driven readout has only MSE). NEST's
/// time-driven `eprop_readout_bsshslm_2020` (spec §10.4) takes the softmax of the previous
/// step's voltages, exchanged between readouts over rate connections, and resets at
/// interval boundaries. Here, in the spirit of the event-driven models (no intervals, no
/// lag), the population computes the softmax of the current step's voltages itself: no
/// extra connections, no delay. It is evaluated as exp(V_k − m)/Σ_j exp(V_j − m) with
/// m = max_j V_j, which is mathematically identical and never overflows.
///
/// * The softmax always runs over every readout of the population, whatever its λ; λ only
///   masks each readout's own signals (e_k = (π_k − y*_k)·λ_k).
/// * With λ uniform over the readouts in a step and targets y* that sum to 1 (one-hot),
///   e_k = ∂L/∂V_k for L = −Σ_t λ_t Σ_k y*_k,t·log π_k,t. The readout-weight gradient the
///   eprop_synapse kernel accumulates, Σ_t e_k,t·z̄_j,t (spec §8.3, z̄ with the readout's
///   α), is then exactly ∂L/∂w_kj, because V_k,t is linear in w_kj with
///   ∂V_k,t/∂w_kj = z̄_j,t — as long as the weights do not change within the sum, V_min
///   does not clamp and eprop_isi_trace_cutoff is +inf (tested against finite differences
///   of L in python/tests/test_cross_entropy.py). Online updates are e-prop's usual
///   approximation of this, as with MSE.
/// * With λ differing between readouts of one step, e is the per-readout masked softmax
///   error; it is not the gradient of any loss (its Jacobian in V is not symmetric).
/// * `loss` takes one value for the whole population (the softmax couples its neurons);
///   it may change between simulate calls.
/// * Recordable `readout_signal_unnorm` is the readout before normalisation and window, as
///   in NEST's bsshslm readout: exp(V) with cross-entropy (+inf once V > ~709.78 mV, the
///   softmax itself stays finite), V with MSE.
public final class ReadoutPopulation: NeuronPopulation, WorkCounting {
    /// The membrane parameters both readout models share.
    static let membraneParameters: [ParameterSpec] = [
        ParameterSpec("C_m", unit: "pF", 250.0, .greaterThan(0), doc: "Membrane capacitance."),
        ParameterSpec("E_L", unit: "mV", 0.0, .any, doc: "Leak (resting) potential."),
        ParameterSpec("I_e", unit: "pA", 0.0, .any, doc: "Constant external current (acts one step late)."),
        ParameterSpec("tau_m", unit: "ms", 10.0, .greaterThan(0), doc: "Membrane time constant."),
        ParameterSpec("V_min", unit: "mV", -Double.greatestFiniteMagnitude, .any, infinite: true,
                      doc: "Lower bound of the membrane potential."),
    ]

    static let table = ParameterTable(
        owner: "eprop_readout",
        specs: ReadoutPopulation.membraneParameters + [
            ParameterSpec("eprop_isi_trace_cutoff", unit: "ms", .infinity, .atLeast(0), infinite: true,
                          doc: "Presynaptic traces of an interval are integrated for at most this long, then only decayed."),
            ParameterSpec("loss", 0, .choice(ReadoutLoss.names),
                          doc: "Error signal: NEST's (V − y*)·λ, or (softmax over the population's readouts − y*)·λ (eprop extension, no lag)."),
        ],
        crossRules: []
    )

    public let size: Int
    /// False: eprop_readout; true: the baseline eprop_readout_bsshslm_2020 (spec §10.4).
    public let isBaseline: Bool
    public var modelName: String { isBaseline ? "eprop_readout_bsshslm_2020" : "eprop_readout" }
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
    var loss = ReadoutLoss.meanSquaredError
    var dt = 1.0
    // Baseline (spec §10.4): spike input factor, loss (0 MSE, 1 cross-entropy), u of this
    // and the previous step, and the kernel's interval settings (set before simulating).
    var pZ: Column
    let unnormalized: UnsafeMutablePointer<Double>
    let previousUnnormalized: UnsafeMutablePointer<Double>
    var updateInterval = 1000, learningWindow = 1000
    var resetOnUpdate = true

    public init(size: Int, baseline: Bool = false) {
        self.size = size
        isBaseline = baseline
        neuronParameters = baseline
            ? NeuronParameters(table: EpropReadoutBsshslm.table, size: size, uniform: [
                "loss": "the softmax of cross_entropy couples all readouts of the population"])
            : NeuronParameters(table: ReadoutPopulation.table, size: size, uniform: [
                "eprop_isi_trace_cutoff": "it paces the interval bookkeeping shared by all synapses of a source",
                "loss": "the softmax of cross_entropy couples all readouts of the population"])
        let zero = store.constant(0)
        (alpha, pI, vMin, iE, eL, pZ) = (zero, zero, zero, zero, zero, zero)
        unnormalized = allocateDoubles(size)
        previousUnnormalized = allocateDoubles(size)
        events = EventList(capacity: 0)
        history = EpropHistory(neurons: size, channels: 1)
        v = allocateDoubles(size); iIn = allocateDoubles(size); zIn = allocateDoubles(size)
        target = allocateDoubles(size); window = allocateDoubles(size); error = allocateDoubles(size)
        readoutSignal = allocateDoubles(size); targetSignal = allocateDoubles(size); current = allocateDoubles(size)
        indegree = Array(repeating: 0, count: size)
        prepare(Clock(dt: 1))
    }

    deinit {
        for p in [v, iIn, zIn, target, window, error, readoutSignal, targetSignal, current, unnormalized, previousUnnormalized] {
            p.deallocate()
        }
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
        guard name == "V_m" else { throw .unknown("\(modelName): settable state is V_m, not \(name)") }
        try setParameters([], arrays: [("V_m", Array(values))])
    }

    public var recordables: [String] {
        // New recordables go at the end: the indices of the others are part of the API.
        ["V_m", "readout_signal", "target_signal", "error_signal", "eprop_history_duration", "readout_signal_unnorm"]
    }

    public func appendRecordable(_ index: Int, of neurons: [Int], to values: inout [Double]) {
        let column: UnsafeMutablePointer<Double>
        switch index {
        case 0:
            let eL = self.eL
            for j in neurons { values.append(v[j] + eL[j]) }
            return
        case 1: column = readoutSignal
        case 2: column = targetSignal
        case 3: column = error
        default:
            for j in neurons { values.append(recordable(index, j)) }
            return
        }
        for j in neurons { values.append(column[j]) }
    }

    public func recordable(_ index: Int, _ j: Int) -> Double {
        switch index {
        case 0: return v[j] + eL[j]
        case 1: return readoutSignal[j]
        case 2: return targetSignal[j]
        case 3: return error[j]
        case 4:
            guard let books = bookkeeping[j] else { return .nan }
            return Double(books.count) * dt
        default:
            if isBaseline { return unnormalized[j] }   // u of the last step, as the baseline keeps it
            let y = v[j] + eL[j]
            return loss == .crossEntropy ? exp(y) : y
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
        if isBaseline {
            pZ = store.column(p, "regular_spike_arrival", "tau_m") { regular, tauM in regular != 0 ? 1.0 : 1.0 - exp(-dtValue / tauM) }
            loss = ReadoutLoss(rawValue: Int(p.common["loss"]))!
            cutoffSteps = Clock.never
            return
        }
        pZ = store.constant(1)
        cutoffSteps = clock.steps(p.common["eprop_isi_trace_cutoff"])
        loss = ReadoutLoss(rawValue: Int(p.common["loss"]))!
        for books in bookkeeping.values { books.cutoff = HistoryBookkeeping.bounded(cutoffSteps) }
    }

    public func update(step t: Int) {
        if isBaseline {
            if (t - EpropReadoutBsshslm.shift) % updateInterval == 0 {
                for books in bookkeeping.values { books.eraseUnmarkedIntervals(interval: updateInterval) }
            }
            for (j, books) in bookkeeping where indegree[j] > 0 { books.append(t - 1) }
            targetSchedule.advance(to: t, current: target, neurons: size)
            currentSchedule.advance(to: t, current: current, neurons: size)
            updateBsshslm(step: t)
            counters.add(.readoutUpdates, size)
            if t >= 1 { counters.add(.historyEntriesWritten, size) }
            lastStep = t
            return
        }
        history.append(t)
        for (j, books) in bookkeeping where indegree[j] > 0 { books.append(t) }
        targetSchedule.advance(to: t, current: target, neurons: size)
        windowSchedule.advance(to: t, current: window, neurons: size)
        currentSchedule.advance(to: t, current: current, neurons: size)
        switch loss {
        case .meanSquaredError: updateMeanSquaredError(step: t)
        case .crossEntropy: updateCrossEntropy(step: t)
        }
        counters.add(.readoutUpdates, size)
        counters.add(.historyEntriesWritten, size)
        lastStep = t
    }

    /// NEST's eprop_readout (spec §5.2): y = V, e = (y − y*)·λ.
    private func updateMeanSquaredError(step t: Int) {
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
    }

    /// The cross-entropy extension: y_k = softmax over the population of this step's V,
    /// e_k = (y_k − y*_k)·λ_k (see the type's documentation).
    private func updateCrossEntropy(step t: Int) {
        let v = self.v, iIn = self.iIn, zIn = self.zIn, y = self.readoutSignal
        let alpha = self.alpha, pI = self.pI, vMin = self.vMin, eL = self.eL, iE = self.iE
        // Pass 1: membranes, V into y (scratch), and the largest V.
        var vMax = -Double.infinity
        for k in 0..<size {
            var vk = pI[k] * iIn[k] + zIn[k] + alpha[k] * v[k]
            zIn[k] = 0
            vk = max(vk, vMin[k])
            v[k] = vk
            let vAbs = vk + eL[k]
            y[k] = vAbs
            vMax = max(vMax, vAbs)
            iIn[k] = current[k] + iE[k]
        }
        // Pass 2: exp(V_k − max) and their sum (≥ 1: the largest term is exp(0)).
        var sum = 0.0
        for k in 0..<size {
            let u = exp(y[k] - vMax)
            y[k] = u
            sum += u
        }
        // Pass 3: softmax, error and window.
        for k in 0..<size {
            let pi = y[k] / sum
            let yStar = target[k]
            let lambda = window[k]
            let e = (pi - yStar) * lambda
            y[k] = pi * lambda
            targetSignal[k] = yStar * lambda
            error[k] = e
            history.entry(k, t)[0] = e
        }
    }
}

/// The error signal of eprop_readout; the raw value is the index stored in parameter `loss`.
public enum ReadoutLoss: Int, CaseIterable, Sendable {
    case meanSquaredError = 0
    case crossEntropy = 1

    /// Names in the order of the cases (the index is the stored parameter value).
    public static let names = ["mean_squared_error", "cross_entropy"]
}
