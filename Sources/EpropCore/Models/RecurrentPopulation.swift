#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The e-prop parameters every recurrent model shares (spec §3.1), in NEST's names and units.
let sharedEpropParameters: [ParameterSpec] = [
    ParameterSpec("c_reg", 0.0, .atLeast(0), doc: "Firing-rate regularisation coefficient."),
    ParameterSpec("f_target", unit: "Hz", 10.0, .atLeast(0),
                  doc: "Target firing rate of the regularisation (read back in Hz; NEST reads back spikes/ms)."),
    ParameterSpec("kappa", 0.97, .closed(0, 1), doc: "Low-pass filter of the eligibility trace ē."),
    ParameterSpec("kappa_reg", 0.97, .closed(0, 1),
                  doc: "Low-pass filter of the firing-rate estimate and of the regularisation trace."),
    ParameterSpec("surrogate_gradient_function", 0, .choice(SurrogateGradient.names),
                  doc: "Pseudo-derivative ψ of the spike non-linearity (spec §4)."),
    ParameterSpec("surrogate_gradient_height", 0.3, .greaterThan(0), doc: "Height h of ψ."),
    ParameterSpec("surrogate_gradient_width", 1.0, .greaterThan(0), doc: "Width w of ψ (mV)."),
    ParameterSpec("eprop_isi_trace_cutoff", unit: "ms", .infinity, .atLeast(0), infinite: true,
                  doc: "Eligibility traces of an inter-spike interval are integrated for at most this long, then only decayed."),
    ParameterSpec("flush_event_send_interval", unit: "ms", .infinity, .greaterThan(0), infinite: true,
                  doc: "A silent neuron sends a flush event this long after its last event, so synapses consume pending history."),
    ParameterSpec("ignore_and_spike", 0, .bool,
                  doc: "Ignore the spike condition and spike on a fixed schedule instead (for controlled benchmarks, spec §3.7)."),
    ParameterSpec("ignore_and_spike_offset", unit: "ms", 1.0, .greaterThan(0),
                  doc: "First forced spike this long after creation or after the offset is set."),
    ParameterSpec("ignore_and_spike_interval", unit: "ms", 100.0, .greaterThan(0), doc: "Interval between forced spikes."),
]

/// Parameters of the adaptive threshold (spec §3.3, §3.5).
let adaptationParameters: [ParameterSpec] = [
    ParameterSpec("adapt_beta", 1.0, .atLeast(0), doc: "Adaptation strength β: threshold A = V_th + β·a."),
    ParameterSpec("adapt_tau", unit: "ms", 10.0, .greaterThan(0), doc: "Time constant of the adaptation a."),
]

/// Parameters that must take one value for the whole population, with the reason.
let uniformRecurrentParameters = [
    "eprop_isi_trace_cutoff": "it paces the interval bookkeeping shared by all synapses of a source",
]

/// The recurrent neuron models. Each is defined in its own file by a parameter table and
/// an update kernel; the adaptive variants reuse their base kernel with adaptation on.
public enum RecurrentModel: CaseIterable, Sendable {
    case iaf, iafAdapt, pscDelta, pscDeltaAdapt
    /// The time-driven baseline family (spec §10).
    case iafBsshslm, iafAdaptBsshslm

    public var name: String {
        switch self {
        case .iaf: return "eprop_iaf"
        case .iafAdapt: return "eprop_iaf_adapt"
        case .pscDelta: return "eprop_iaf_psc_delta"
        case .pscDeltaAdapt: return "eprop_iaf_psc_delta_adapt"
        case .iafBsshslm: return "eprop_iaf_bsshslm_2020"
        case .iafAdaptBsshslm: return "eprop_iaf_adapt_bsshslm_2020"
        }
    }

    public var table: ParameterTable {
        switch self {
        case .iaf: return EpropIaf.table
        case .iafAdapt: return EpropIafAdapt.table
        case .pscDelta: return EpropIafPscDelta.table
        case .pscDeltaAdapt: return EpropIafPscDeltaAdapt.table
        case .iafBsshslm: return EpropIafBsshslm.table
        case .iafAdaptBsshslm: return EpropIafBsshslm.adaptTable
        }
    }

    public var isAdaptive: Bool { self == .iafAdapt || self == .pscDeltaAdapt || self == .iafAdaptBsshslm }

    /// A model of the time-driven baseline family (`*_bsshslm_2020`, spec §10).
    public var isBaseline: Bool { self == .iafBsshslm || self == .iafAdaptBsshslm }

    /// The event-driven models (targets of eprop_synapse).
    public static let eventDriven: [RecurrentModel] = [.iaf, .iafAdapt, .pscDelta, .pscDeltaAdapt]
    /// The baseline models (targets of eprop_synapse_bsshslm_2020).
    public static let baseline: [RecurrentModel] = [.iafBsshslm, .iafAdaptBsshslm]

    /// History entry that a learning signal with stamp t reaches: t − lag (spec §6, §10.5).
    public var learningSignalLag: Int { isBaseline ? 3 : 2 }
}

/// A population of recurrent e-prop neurons (spec §3): SoA state, the per-step history
/// (ψ, L, reg), the online rate regularisation (§7.3) and flush events (§7.6).
/// Voltages are stored relative to E_L (§1.4).
public final class RecurrentPopulation: NeuronPopulation, WorkCounting {
    public let model: RecurrentModel
    public let size: Int
    public var modelName: String { model.name }
    public private(set) var neuronParameters: NeuronParameters
    public var parameters: ParameterSet { neuronParameters.common }
    public let events: EventList
    public let history: EpropHistory

    // State (SoA). v, and a's threshold A, are relative to E_L.
    let v: UnsafeMutablePointer<Double>
    let iIn: UnsafeMutablePointer<Double>
    let zIn: UnsafeMutablePointer<Double>
    let fAv: UnsafeMutablePointer<Double>
    /// ψ: the baseline models' last one (their recordable); for the event-driven models the
    /// update's scratch between its two passes (their ψ lives in the history entry).
    let psi: UnsafeMutablePointer<Double>
    let z: UnsafeMutablePointer<Double>
    let adaptation: UnsafeMutablePointer<Double>
    let thresholdAdapt: UnsafeMutablePointer<Double>
    let refractoryBuffer: UnsafeMutablePointer<Double>
    let refractory: UnsafeMutablePointer<Int32>
    let lastEvent: UnsafeMutablePointer<Int>
    /// Consecutive steps with ψ = 0 up to the last update (saturating).
    let quietSteps: UnsafeMutablePointer<Int32>
    /// Whether some neuron has had ψ = 0 for so long that the ē of synapses onto it may near
    /// the subnormal range (`refreshQuietNeurons`, every 256 steps). Only a hint for the
    /// kernel, which then checks those traces (`EpropProjection.accumulate`).
    private(set) var hasQuietNeurons = false
    /// Per neuron, 1 where that holds for the neuron itself (8 spare zero bytes at the end, so
    /// that eight neurons' flags load as one word): groups of consecutive targets check their
    /// traces only when one of them is quiet (set with `hasQuietNeurons`).
    let quietFlags: UnsafeMutablePointer<UInt8>
    /// Ignore-and-spike: steps until the next forced spike (spec §3.7).
    let stepsUntilForcedSpike: UnsafeMutablePointer<Int>
    /// CurrentEvent amplitudes (step_current_generator schedule) in effect, pA.
    let current: UnsafeMutablePointer<Double>
    var currentSchedule = RateSchedule()
    /// Whether a current schedule was ever set (by the network, with the schedule): until
    /// then `current` is +0 throughout and the update adds +0 instead of reading it (the
    /// same bits, one stream less). Not an observer of `currentSchedule`, which every step
    /// advances.
    var receivesCurrent = false
    /// Number of incoming eprop synapses per neuron (NEST's eprop_indegree).
    var indegree: [Int32]
    /// The last step updated (−1 before the first).
    var lastStep = -1
    /// NEST's history bookkeeping for recorded neurons (HistoryBookkeeping.swift).
    var bookkeeping: [Int: HistoryBookkeeping] = [:]
    /// The network's work counters (set when the population joins a network).
    var counters = WorkCounters()

    // Derived constants (prepare), per neuron or shared.
    let store = ColumnStore()
    var alpha, tauM, pI, vTh, vMin, vReset, iE, sgHeight, sgWidth, cReg, fTargetPerStep, kappaReg, kappa, beta, rho: Column
    /// (1 − κ_reg)/dt: what a spike adds to the rate estimate f_av (the same bits as
    /// (1 − κ_reg)·z/dt with z = 1; +0 without a spike, as (1 − κ_reg)·0/dt).
    var rateIncrement: Column
    /// f_av of a neuron silent for long decays into the subnormal range and stops at a fixed
    /// point of κ_reg⊗ (with κ_reg > 1/2): at or below this bit pattern (uniform κ_reg only,
    /// else 0) it is kept without the multiplication, whose microcode assist made the rate
    /// update of the sine-wave network's silent neurons ≈ 6 % of its time. The same bits.
    var rateFixedPoints: UInt64 = 0
    /// Likewise for κ (uniform only, else 0): ē at or below this bit pattern is a fixed
    /// point of κ⊗ (`EpropProjection.frozenQuietLane`).
    var traceFixedPoints: UInt64 = 0
    var refractorySteps, flushSteps, refractoryInput, ignoreAndSpike, forcedSpikeInterval: Column
    /// ψ of each neuron (index into SurrogateGradient), per neuron or shared.
    var surrogate: Column
    var cutoffSteps = Clock.never
    var dt = 1.0
    // Baseline family (spec §10.2): spike input factor P_z, the kernel's interval settings
    // (set by the network before simulating) and the spikes counted in the current interval.
    var pZ: Column
    var updateInterval = 1000
    var resetOnUpdate = true
    let intervalSpikes: UnsafeMutablePointer<Int>

    public init(model: RecurrentModel, size: Int, clock: Clock = Clock(dt: 1)) {
        self.model = model
        self.size = size
        neuronParameters = NeuronParameters(table: model.table, size: size, uniform: uniformRecurrentParameters)
        events = EventList(capacity: size)
        history = EpropHistory(neurons: size, channels: 3)
        v = allocateDoubles(size); iIn = allocateDoubles(size); zIn = allocateDoubles(size)
        fAv = allocateDoubles(size); psi = allocateDoubles(size); z = allocateDoubles(size)
        adaptation = allocateDoubles(size); thresholdAdapt = allocateDoubles(size)
        refractoryBuffer = allocateDoubles(size)
        refractory = .allocate(capacity: size)
        refractory.initialize(repeating: 0, count: size)
        lastEvent = .allocate(capacity: size)
        lastEvent.initialize(repeating: 0, count: size)
        quietSteps = .allocate(capacity: size)
        quietSteps.initialize(repeating: 0, count: size)
        quietFlags = .allocate(capacity: size + 8)
        quietFlags.initialize(repeating: 0, count: size + 8)
        stepsUntilForcedSpike = .allocate(capacity: size)
        stepsUntilForcedSpike.initialize(repeating: 0, count: size)
        current = allocateDoubles(size)
        intervalSpikes = .allocate(capacity: size)
        intervalSpikes.initialize(repeating: 0, count: size)
        indegree = Array(repeating: 0, count: size)
        dt = clock.dt
        let zero = store.constant(0)
        (alpha, tauM, pI, vTh, vMin, vReset, iE, sgHeight, sgWidth) = (zero, zero, zero, zero, zero, zero, zero, zero, zero)
        (cReg, fTargetPerStep, kappaReg, kappa, beta, rho) = (zero, zero, zero, zero, zero, zero)
        rateIncrement = zero
        (refractorySteps, flushSteps, refractoryInput, ignoreAndSpike, forcedSpikeInterval) = (zero, zero, zero, zero, zero)
        surrogate = zero
        pZ = zero
        prepare(clock)
        restartForcedSpikes()
        // The adaptive threshold starts at V_th (reads V_th_adapt = V_th before the first step).
        for j in 0..<size { thresholdAdapt[j] = vTh[j] }
    }

    deinit {
        for p in [v, iIn, zIn, fAv, psi, z, adaptation, thresholdAdapt, refractoryBuffer, current] { p.deallocate() }
        refractory.deallocate()
        lastEvent.deallocate()
        quietSteps.deallocate()
        quietFlags.deallocate()
        stepsUntilForcedSpike.deallocate()
        intervalSpikes.deallocate()
    }

    public var spikeInput: UnsafeMutablePointer<Double>? { zIn }

    public func setParameters(_ changes: [(String, Double)]) throws(EpropError) {
        try setParameters(changes, arrays: [])
    }

    /// Scalar and per-neuron changes, validated as a whole. "V_m" and "adaptation" set state.
    public func setParameters(_ changes: [(String, Double)], arrays: [(String, [Double])]) throws(EpropError) {
        let change = try ParameterChange(neuronParameters, model: modelName,
                                         stateNames: model.isAdaptive ? ["V_m", "adaptation"] : ["V_m"], changes, arrays)
        let oldOffsets = neuronParameters.values("ignore_and_spike_offset")
        neuronParameters = change.updated
        change.keepAbsolute(v)
        for (name, values) in change.state {
            if name == "V_m" {
                for j in 0..<size { v[j] = values[j] - change.newEL[j] }
            } else {
                for j in 0..<size { adaptation[j] = values[j] }
            }
        }
        prepare(Clock(dt: dt))
        // §3.7: setting the offset restarts the forced-spike schedule of the neurons it is
        // set on: all of them for a single value, those whose value changes for an array
        // (as NEST's SetStatus on a subset of nodes).
        if changes.contains(where: { $0.0 == "ignore_and_spike_offset" }) {
            restartForcedSpikes()
        } else if arrays.contains(where: { $0.0 == "ignore_and_spike_offset" }) {
            let newOffsets = neuronParameters.values("ignore_and_spike_offset")
            restartForcedSpikes(only: (0..<size).filter { oldOffsets[$0] != newOffsets[$0] })
        }
        if model.isAdaptive {
            for j in 0..<size { thresholdAdapt[j] = vTh[j] + beta[j] * adaptation[j] }
        }
    }

    private func restartForcedSpikes(only neurons: [Int]? = nil) {
        let offsets = neuronParameters.values("ignore_and_spike_offset")
        let clock = Clock(dt: dt)
        for j in neurons ?? Array(0..<size) { stepsUntilForcedSpike[j] = clock.steps(offsets[j]) }
    }

    public func setState(_ name: String, _ values: UnsafeBufferPointer<Double>) throws(EpropError) {
        guard name == "V_m" || (model.isAdaptive && name == "adaptation") else {
            throw .unknown("\(modelName): settable state is " + (model.isAdaptive ? "V_m, adaptation" : "V_m") + ", not \(name)")
        }
        try setParameters([], arrays: [(name, Array(values))])
    }

    public var recordables: [String] {
        model.isAdaptive
            ? ["V_m", "surrogate_gradient", "learning_signal", "eprop_history_duration", "adaptation", "V_th_adapt"]
            : ["V_m", "surrogate_gradient", "learning_signal", "eprop_history_duration"]
    }

    public func appendRecordable(_ index: Int, of neurons: [Int], to values: inout [Double]) {
        switch index {
        case 0:
            let e = eLIndex, parameters = neuronParameters
            for j in neurons { values.append(v[j] + parameters.value(e, j)) }
        case 1:
            for j in neurons { values.append(surrogateGradientRecorded(j)) }
        default:
            for j in neurons { values.append(recordable(index, j)) }
        }
    }

    public func recordable(_ index: Int, _ j: Int) -> Double {
        switch index {
        case 0: return v[j] + neuronParameters.value(eLIndex, j)
        case 1: return surrogateGradientRecorded(j)
        case 2:
            // §7.2: the learning signal of entry lower_bound(t − 2) (baseline: t − 3) of
            // NEST's history: that entry unless NEST pruned it (known for recorded neurons).
            var t = lastStep - model.learningSignalLag
            if let books = bookkeeping[j] {
                guard let held = books.lowerBound(t) else { return 0 }
                // A newer entry gets its learning signal only in a later step (which may
                // already have delivered it, fused with this step's update: Step.swift).
                if held > t { return 0 }
                t = held
            }
            return history.contains(t) ? history.entry(j, t)[1] : 0
        case 3: return historyDuration(j)
        case 4: return adaptation[j]
        default: return thresholdAdapt[j] + neuronParameters.value(eLIndex, j)
        }
    }

    private var eLIndex: Int { neuronParameters.table.index(of: "E_L")! }

    /// ψ of neuron j's last update: the baseline models keep it in `psi`, the event-driven
    /// ones in their newest history entry only (one stream less per neuron and step).
    @inline(__always)
    private func surrogateGradientRecorded(_ j: Int) -> Double {
        if model.isBaseline { return psi[j] }
        return lastStep >= 0 && history.contains(lastStep) ? history.entry(j, lastStep)[0] : 0
    }

    public func prepare(_ clock: Clock) {
        let p = neuronParameters
        dt = clock.dt
        store.reset()
        let dtValue = clock.dt
        alpha = store.column(p, "tau_m") { exp(-dtValue / $0) }
        tauM = store.column(p, "tau_m")
        pI = store.column(p, "tau_m", "C_m") { tauM, cM in tauM / cM * (1.0 - exp(-dtValue / tauM)) }
        vTh = store.column(p, "V_th", "E_L") { $0 - $1 }
        vMin = store.column(p, "V_min", "E_L") { $0 - $1 }
        vReset = p.table.index(of: "V_reset") != nil ? store.column(p, "V_reset", "E_L") { $0 - $1 } : store.constant(0)
        iE = store.column(p, "I_e")
        refractorySteps = store.column(p, "t_ref") { Double(clock.steps($0)) }
        sgHeight = store.column(p, "surrogate_gradient_height")
        sgWidth = store.column(p, "surrogate_gradient_width")
        cReg = store.column(p, "c_reg")
        fTargetPerStep = store.column(p, "f_target") { $0 / 1000.0 * dtValue }
        if model.isBaseline {
            kappa = store.constant(0)
            kappaReg = store.constant(0)
            rateIncrement = store.constant((1.0 - 0.0) / dtValue)
            pZ = store.column(p, "regular_spike_arrival", "tau_m") { regular, tauM in regular != 0 ? 1.0 : 1.0 - exp(-dtValue / tauM) }
        } else {
            kappa = store.column(p, "kappa")
            kappaReg = store.column(p, "kappa_reg")
            rateIncrement = store.column(p, "kappa_reg") { (1.0 - $0) / dtValue }
            pZ = store.constant(1)
        }
        rateFixedPoints = kappaReg.isUniform ? subnormalFixedPointLimit(kappaReg[0]) : 0
        traceFixedPoints = kappa.isUniform ? subnormalFixedPointLimit(kappa[0]) : 0
        flushSteps = store.column(p, "flush_event_send_interval") { $0.isInfinite ? -1 : Double(clock.steps($0)) }
        if model.isAdaptive {
            beta = store.column(p, "adapt_beta")
            rho = store.column(p, "adapt_tau") { exp(-dtValue / $0) }
        } else {
            beta = store.constant(0)
            rho = store.constant(0)
        }
        refractoryInput = p.table.index(of: "refractory_input") != nil ? store.column(p, "refractory_input") : store.constant(0)
        ignoreAndSpike = store.column(p, "ignore_and_spike")
        forcedSpikeInterval = store.column(p, "ignore_and_spike_interval") { Double(clock.steps($0)) }
        surrogate = store.column(p, "surrogate_gradient_function")
        cutoffSteps = model.isBaseline ? Clock.never : clock.steps(p.common["eprop_isi_trace_cutoff"])
        for books in bookkeeping.values { books.cutoff = HistoryBookkeeping.bounded(cutoffSteps) }
    }

    /// eprop_history_duration: dt × NEST's number of history entries (recorded neurons), ms.
    func historyDuration(_ j: Int) -> Double {
        guard let books = bookkeeping[j] else { return .nan }
        return Double(books.count) * dt
    }

    public func update(step t: Int) {
        beginStep(t)
        update(step: t, neurons: 0..<size, events: events)
        countStep()
        lastStep = t
    }

    /// The sequential end of step t after `update(step:neurons:events:)` wrote `events`
    /// directly (one thread).
    func endSequentialStep(_ t: Int) {
        countStep()
        lastStep = t
    }

    /// Work counters of a whole step (sequential): neuron updates, history entries, and the
    /// step's spikes and flush events.
    private func countStep() {
        var flushes = 0
        for e in 0..<events.count where events.multiplicity[e] == 0 { flushes += 1 }
        counters.add(.neuronUpdates, size)
        counters.add(.historyEntriesWritten, size)
        counters.add(.spikes, events.count - flushes)
        counters.add(.flushEvents, flushes)
    }

    /// The sequential part of step t before the neurons update: the history window, NEST's
    /// bookkeeping and the current schedule.
    func beginStep(_ t: Int) {
        events.count = 0
        history.append(t)
        if model.isBaseline && (t - EpropIafBsshslm.shift) % updateInterval == 0 {
            for books in bookkeeping.values { books.eraseUnmarkedIntervals(interval: updateInterval) }
        }
        for (j, books) in bookkeeping where indegree[j] > 0 { books.append(t) }
        currentSchedule.advance(to: t, current: current, neurons: size)
        if t & 255 == 0 { refreshQuietNeurons() }
    }

    /// Sets `hasQuietNeurons`: some neuron's ψ has been 0 for as many steps as κ or κ_reg (the
    /// slower) needs to shrink a trace by 2^−900. Per-neuron κ (not uniform) never sets it:
    /// those targets take the one-by-one loop, which has no packed lanes to protect.
    func refreshQuietNeurons() {
        let slowest = max(kappa.isUniform ? kappa[0] : 1, kappaReg.isUniform ? kappaReg[0] : 1)
        guard slowest < 1 else { hasQuietNeurons = false; return }
        let threshold = slowest <= 0 ? 1 : Int32(clamping: Int((-900 * log(2.0) / log(slowest)).rounded(.up)))
        var quiet = false
        for j in 0..<size {
            let flag = quietSteps[j] >= threshold
            quietFlags[j] = flag ? 1 : 0
            quiet = quiet || flag
        }
        hasQuietNeurons = quiet
    }

    /// Updates `neurons` for step t, appending their events to `list` (a part's own list
    /// when parts update in parallel).
    func update(step t: Int, neurons: Range<Int>, events list: EventList) {
        switch model {
        case .iaf: updateIaf(step: t, neurons: neurons, events: list, adaptive: false)
        case .iafAdapt: updateIaf(step: t, neurons: neurons, events: list, adaptive: true)
        case .pscDelta: updatePscDelta(step: t, neurons: neurons, events: list, adaptive: false)
        case .pscDeltaAdapt: updatePscDelta(step: t, neurons: neurons, events: list, adaptive: true)
        case .iafBsshslm: updateBsshslm(step: t, neurons: neurons, events: list, adaptive: false)
        case .iafAdaptBsshslm: updateBsshslm(step: t, neurons: neurons, events: list, adaptive: true)
        }
    }

    /// Whether eprop_iaf with the piecewise-linear surrogate gradient computes v and ψ four
    /// neurons at a time (EpropIaf.swift); off only in tests that compare both ways.
    var packsUpdate = true

    /// Per-chunk event lists for parallel updates (empty without worker threads).
    var partEvents: [EventList] = []

    func configureParts(_ parts: Int) {
        partEvents = parts > 1 ? (0..<parts).map { EventList(capacity: slice(size, part: $0, of: parts).count) } : []
    }

    /// After a parallel update: the chunks' events, in increasing neuron id, become the step's events.
    func endStep(_ t: Int) {
        for list in partEvents {
            for e in 0..<list.count { events.append(Int(list.ids[e]), list.multiplicity[e]) }
            list.count = 0
        }
        countStep()
        lastStep = t
    }

    /// ψ of neuron j at distance d from its threshold; `kind`: the population's function
    /// when all its neurons share one (`uniformSurrogate`, read once per update call rather
    /// than converted from its column for every neuron).
    @inline(__always)
    func surrogateGradient(_ j: Int, _ d: Double, _ kind: SurrogateGradient? = nil) -> Double {
        (kind ?? SurrogateGradient(rawValue: Int(surrogate[j]))!).value(d, height: sgHeight[j], width: sgWidth[j])
    }

    /// The surrogate gradient function of every neuron, if they share one.
    var uniformSurrogate: SurrogateGradient? {
        surrogate.isUniform ? SurrogateGradient(rawValue: Int(surrogate[0])) : nil
    }

    /// The spike decision of neuron j: the dynamic condition, or under ignore-and-spike the
    /// forced schedule alone (spec §3.7).
    @inline(__always)
    func spikeDecision(_ j: Int, dynamic: Bool) -> Bool {
        guard ignoreAndSpike[j] != 0 else { return dynamic }
        stepsUntilForcedSpike[j] -= 1
        guard stepsUntilForcedSpike[j] == 0 else { return false }
        stepsUntilForcedSpike[j] = Int(forcedSpikeInterval[j])
        return true
    }

    /// Neuron j's event of step t, either family: its spike, or a flush event when it has been
    /// silent for flush_event_send_interval since its last event (§7.6).
    @inline(__always)
    func emitEvent(_ j: Int, _ t: Int, spiked: Bool, events: EventList) {
        if spiked {
            events.append(j, 1)
            lastEvent[j] = t
        } else if flushDue(j, t) {
            events.append(j, 0)
            lastEvent[j] = t
        }
    }

    /// Whether neuron j, without a spike in step t, sends a flush event: it has been silent
    /// for flush_event_send_interval since its last event (§7.6).
    @inline(__always)
    func flushDue(_ j: Int, _ t: Int) -> Bool {
        let flush = flushSteps[j]
        return lastEvent[j] > 0 && flush >= 0 && Double(t - lastEvent[j]) >= flush
    }

    /// After the model kernel decided neuron j's spike of step t: flush event (§7.6), rate
    /// regularisation (§7.3) and history entry t (ψ, L = 0, reg).
    @inline(__always)
    func finishStep(_ j: Int, _ t: Int, spiked: Bool, psi psiValue: Double, events: EventList, adaptive: Bool) {
        emitEvent(j, t, spiked: spiked, events: events)
        if adaptive { z[j] = spiked ? 1 : 0 }   // only the adaptation reads the last spike
        // f_av = κ_reg·f_av + (1 − κ_reg)·z/dt, with the increment precomputed: no division
        // per neuron and step.
        let rate = fAv[j]
        if spiked || rate.bitPattern &- 1 >= rateFixedPoints {   // else 0 < f_av ≤ fixed point
            fAv[j] = kappaReg[j] * rate + (spiked ? rateIncrement[j] : 0)
        }
        // Entries of consecutive neurons lie a ring apart, too far for the hardware prefetcher.
        if j &+ 16 < size { prefetchForWrite(history.entry(j &+ 16, t)) }
        // ψ stays in the entry: the recordable reads it there.
        history.write(j, t, psiValue, 0, cReg[j] * (fAv[j] - fTargetPerStep[j]))
        let quiet = quietSteps[j]
        quietSteps[j] = psiValue != 0 ? 0 : quiet == .max ? quiet : quiet &+ 1
    }
}
