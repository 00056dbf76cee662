#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The common properties of `eprop_synapse_bsshslm_2020` (NEST: its model defaults): the
/// optimizer, `average_gradient`, and `tau_m_readout`, which each connect call takes from
/// the defaults in effect at that time (NEST sets it per synapse; eprop per projection).
public final class BaselineSynapseConfig {
    public let optimizer = OptimizerConfig()

    static let extraTable = ParameterTable(
        owner: "eprop_synapse_bsshslm_2020",
        specs: [
            ParameterSpec("average_gradient", 0, .bool,
                          doc: "1: divide each interval's gradient by the learning window length (steps)."),
            ParameterSpec("tau_m_readout", unit: "ms", 10.0, .greaterThan(0),
                          doc: "Time constant of the eligibility filter κ = exp(−dt/tau_m_readout); taken at connect time."),
        ],
        crossRules: [])

    /// The model catalogue's table: the optimizer's parameters, then the synapse's own.
    static let table = ParameterTable(owner: "eprop_synapse_bsshslm_2020",
                                      specs: OptimizerConfig.table.specs + extraTable.specs,
                                      crossRules: OptimizerConfig.table.crossRules)

    public private(set) var extra = BaselineSynapseConfig.extraTable.defaults()
    public var averageGradient: Bool { extra["average_gradient"] != 0 }
    public var tauMReadout: Double { extra["tau_m_readout"] }

    public init() {}

    /// Sets optimizer and synapse parameters by name, validated as a whole.
    public func set(_ changes: [(String, Double)]) throws(EpropError) {
        let own = changes.filter { BaselineSynapseConfig.extraTable.index(of: $0.0) != nil }
        let optimizerChanges = changes.filter { BaselineSynapseConfig.extraTable.index(of: $0.0) == nil }
        for (name, _) in optimizerChanges where OptimizerConfig.table.index(of: name) == nil {
            throw .unknown("eprop_synapse_bsshslm_2020 has no parameter \(name); parameters are "
                + BaselineSynapseConfig.table.specs.map(\.name).joined(separator: ", "))
        }
        let updated = try extra.setting(own)
        try optimizer.set(optimizerChanges)
        extra = updated
    }

    public func value(_ name: String) throws(EpropError) -> Double {
        if extra.has(name) { return extra[name] }
        guard optimizer.parameters.has(name) else {
            throw .unknown("eprop_synapse_bsshslm_2020 has no parameter \(name); parameters are "
                + BaselineSynapseConfig.table.specs.map(\.name).joined(separator: ", "))
        }
        return optimizer.parameters[name]
    }
}

/// `eprop_synapse_bsshslm_2020` (spec §10.3): time-driven e-prop. A synapse collects the
/// inter-spike intervals of its source within the current update interval; at the first
/// event after the interval ends it integrates the whole interval — traces z̄, ε, ē start
/// from zero at the interval's first spike — and applies the optimizer with the interval
/// index. Spikes arriving at a recurrent target exactly at an interval start are dropped.
///
/// All synapses of a source see the same events, so the event bookkeeping (previous spike,
/// trigger, ISIs, interval marks, optimizer step) is kept once per source; per synapse only
/// the weight, the interval gradient g, the optimizer's sum G and Adam's m, v remain.
final class BsshslmProjection: Projection, WorkCounting {
    enum Target {
        case recurrent(RecurrentPopulation)
        case readout(ReadoutPopulation)
    }

    let sourcePopulation: Int
    let targetPopulation: Int
    let targetCount: Int
    var synapseModel: String { "eprop_synapse_bsshslm_2020" }
    let connectivity: Connectivity
    let target: Target
    let config: BaselineSynapseConfig
    /// κ = exp(−dt/tau_m_readout), fixed at connect time.
    let tauMReadout: Double
    let input: UnsafeMutablePointer<Double>
    /// The network's work counters (set when the projection joins a network).
    var counters = WorkCounters()

    // Per synapse.
    let weights: UnsafeMutablePointer<Double>
    let gradient: UnsafeMutablePointer<Double>
    let gradientSum: UnsafeMutablePointer<Double>
    let moment1: UnsafeMutablePointer<Double>?
    let moment2: UnsafeMutablePointer<Double>?

    // Per source (NEST's per-synapse event state, identical for all synapses of a source).
    private var tPrev: [Int]
    private var prevWasFlush: [Bool]
    private var tPrevUpdate: [Int]
    private var tNextUpdate: [Int]
    private var tTrigger: [Int]
    private var isis: [[Int32]]
    private var optimizerState: [SourceOptimizerState]

    /// What all synapses of one source do for one event (planned sequentially).
    struct Planned {
        var source: Int32
        var transmit: Bool
        var gradient: Bool
        var trigger: Int
        var isiStart: Int32
        var isiCount: Int32
        var regEntry: Int
        /// Index of the optimizer call in `plan`, −1 for none, and its first rate.
        var call: Int32
        var rateStart: Int32
    }
    private var planned: [Planned] = []
    private var isiArena: [Int32] = []
    private var plan = OptimizerPlan()
    /// Kernel settings captured when simulation starts.
    private var interval = 1000, learningWindow = 1000
    private var clockDt = 1.0
    /// Synapses into neurons whose NEST history bookkeeping is kept, by source.
    private var bookkept: [Int: [HistoryBookkeeping]] = [:]

    init(source: Int, targetPopulation: Int, target: Target, connectivity: Connectivity, weights: [Double],
         config: BaselineSynapseConfig, input: UnsafeMutablePointer<Double>, interval: Int) {
        sourcePopulation = source
        self.targetPopulation = targetPopulation
        self.target = target
        switch target {
        case .recurrent(let p): targetCount = p.size
        case .readout(let p): targetCount = p.size
        }
        self.connectivity = connectivity
        self.config = config
        tauMReadout = config.tauMReadout
        self.input = input
        let n = connectivity.count
        self.weights = .allocate(capacity: max(n, 1))
        for k in 0..<n { self.weights[k] = weights[k] }
        gradient = allocateDoubles(n)
        gradientSum = allocateDoubles(n)
        let adam = config.optimizer.kind == .adam
        moment1 = adam ? allocateDoubles(n) : nil
        moment2 = adam ? allocateDoubles(n) : nil
        let sources = connectivity.sources
        tPrev = Array(repeating: 0, count: sources)
        prevWasFlush = Array(repeating: false, count: sources)
        tPrevUpdate = Array(repeating: 0, count: sources)
        tNextUpdate = Array(repeating: interval, count: sources)   // NEST copies T into new synapses
        tTrigger = Array(repeating: 0, count: sources)
        isis = Array(repeating: [], count: sources)
        optimizerState = Array(repeating: SourceOptimizerState(), count: sources)
        self.interval = interval
    }

    deinit {
        connectivity.free()
        weights.deallocate(); gradient.deallocate(); gradientSum.deallocate()
        moment1?.deallocate(); moment2?.deallocate()
        plan.free()
    }

    /// Bytes per synapse: weight, g, G (+ Adam m, v) and the target index.
    var bytesPerSynapse: Int { BsshslmProjection.bytesPerSynapse(adam: moment1 != nil) }
    static func bytesPerSynapse(adam: Bool) -> Int { (adam ? 5 : 3) * 8 + 4 }

    func weight(_ i: Int) -> Double { weights[i] }
    func setWeights(_ w: UnsafeBufferPointer<Double>) { for k in 0..<count { weights[k] = w[k] } }

    private var recurrentTarget: Bool { if case .recurrent = target { return true } else { return false } }
    /// Interval phase shift of the target: 2 for recurrent neurons, 3 for readouts.
    private var shift: Int { recurrentTarget ? EpropIafBsshslm.shift : EpropReadoutBsshslm.shift }

    /// Captures the kernel settings and the bookkeeping of recorded targets.
    func prepareForSimulation(interval: Int, learningWindow: Int, dt: Double) {
        self.interval = interval
        self.learningWindow = learningWindow
        clockDt = dt
        let books: [Int: HistoryBookkeeping]
        switch target {
        case .recurrent(let p): books = p.bookkeeping
        case .readout(let p): books = p.bookkeeping
        }
        bookkept = [:]
        guard !books.isEmpty else { return }
        for s in 0..<connectivity.sources {
            for k in connectivity.rowStart[s]..<connectivity.rowStart[s + 1] {
                if let b = books[Int(connectivity.target[k])] { bookkept[s, default: []].append(b) }
            }
        }
    }

    /// New synapses start with their first interval end at T (NEST copies it from the
    /// kernel when connecting); the kernel's T changed before simulation.
    func resetIntervalClock(interval: Int) {
        self.interval = interval
        for s in 0..<tNextUpdate.count { tNextUpdate[s] = interval }
    }

    /// Oldest history entry a pending interval still needs (its trigger, or the entry
    /// holding its regularisation), `Int.max` if none; no event stamped before `now` is
    /// still to come. A source whose last event was a flush that closed its interval (no
    /// ISIs collected since) needs nothing once `now` is past its interval's end: its next
    /// event is then a spike after a flush (trigger and t_prev restart at that spike) stamped
    /// after the end, which updates without a gradient, or another flush, which is ignored
    /// (spec 10.3). Without this a source silent after its flush would hold the ring from
    /// that flush on for as long as it stays silent (NEST drops its mark then).
    func oldestPendingEntry(now: Int) -> Int {
        var oldest = Int.max
        let offset = shift + interval - 1
        for s in 0..<tTrigger.count where tTrigger[s] > 0 {
            if prevWasFlush[s] && isis[s].isEmpty && now > tNextUpdate[s] + shift { continue }
            oldest = min(oldest, tTrigger[s], tPrevUpdate[s] + offset)
        }
        return oldest
    }

    /// Synapses of the planned events, 16 steps each (a gradient reads an interval's history).
    public private(set) var plannedWork = 0

    func planEvents(_ events: EventList, stamp ts: Int) {
        planned.removeAll(keepingCapacity: true)
        isiArena.removeAll(keepingCapacity: true)
        plan.reset()
        defer {
            plannedWork = 0
            for p in planned { plannedWork &+= 16 &* (connectivity.rowStart[Int(p.source) + 1] - connectivity.rowStart[Int(p.source)]) }
        }
        for e in 0..<events.count {
            let s = Int(events.ids[e]), mult = events.multiplicity[e]
            if mult == 0 {
                planEvent(source: s, stamp: ts, flush: true)
            } else {
                for _ in 0..<mult { planEvent(source: s, stamp: ts, flush: false) }
            }
        }
    }

    /// NEST's `send` of spec §10.3 up to the per-synapse work.
    private func planEvent(source s: Int, stamp ts: Int, flush: Bool) {
        let shift = self.shift, interval = self.interval
        if prevWasFlush[s] {
            if flush { return }
            tPrev[s] = ts
            tTrigger[s] = ts
        }
        // A spike that would arrive exactly at an interval start is lost (TF's reset).
        if recurrentTarget && (ts - shift) % interval == 0 { return }
        if tTrigger[s] == 0 { tTrigger[s] = ts }
        let intervalEnd = tNextUpdate[s] + shift
        if tPrev[s] > 0 {
            let isi = min(ts, intervalEnd) - min(tPrev[s], intervalEnd)
            if isi > 0 { isis[s].append(Int32(isi)) }
        }
        var p = Planned(source: Int32(s), transmit: !flush, gradient: false, trigger: 0, isiStart: 0, isiCount: 0,
                        regEntry: 0, call: -1, rateStart: 0)
        if ts > intervalEnd {
            let index = (ts - shift) / interval
            let current = index * interval
            if let books = bookkept[s] {
                for b in books {
                    b.writeUpdate(previous: tPrevUpdate[s], current: current, shift: shift, flush: flush,
                                  previousWasFlush: prevWasFlush[s])
                }
            }
            if !isis[s].isEmpty && tPrev[s] > 0 {
                p.gradient = true
                p.trigger = tTrigger[s]
                p.isiStart = Int32(isiArena.count)
                p.isiCount = Int32(isis[s].count)
                p.regEntry = tPrevUpdate[s] + shift + interval - 1
                isiArena.append(contentsOf: isis[s])
                isis[s].removeAll(keepingCapacity: true)
            }
            if !flush { planOptimizer(&p, index: index, source: s) }
            tPrevUpdate[s] = current
            tNextUpdate[s] = current + interval
            tTrigger[s] = ts
        } else if !flush && prevWasFlush[s] {
            let index = (ts - shift) / interval
            if let books = bookkept[s] {
                for b in books {
                    b.writeUpdate(previous: tPrevUpdate[s], current: index * interval, shift: shift, flush: flush,
                                  previousWasFlush: prevWasFlush[s])
                }
            }
            planOptimizer(&p, index: index, source: s)
        }
        if !flush { tPrev[s] = ts }
        prevWasFlush[s] = flush
        if p.transmit || p.gradient || p.call >= 0 { planned.append(p) }
        count(p, row: connectivity.rowStart[s + 1] - connectivity.rowStart[s])
    }

    /// Work counters of one event for all `row` synapses of its source (WorkCounters.swift):
    /// the baseline integrates z̄ per synapse over every step from the trigger to the
    /// interval end.
    private func count(_ p: Planned, row: Int) {
        counters.add(.plasticEvents, row)
        if p.transmit { counters.add(.synapticEvents, row) }
        var touched = p.transmit ? row * 12 : 0
        if p.gradient {
            var steps = 0
            for i in Int(p.isiStart)..<Int(p.isiStart + p.isiCount) { steps += Int(isiArena[i]) }
            steps *= row
            switch target {
            case .recurrent(let population):
                counters.add(.eligibilitySteps, steps)
                if population.model.isAdaptive { counters.add(.adaptiveEligibilitySteps, steps) }
            case .readout:
                counters.add(.readoutEligibilitySteps, steps)
            }
            counters.add(.presynapticTraceSteps, steps)
            touched = row * (2 * bytesPerSynapse - 4)
        }
        if p.call >= 0 {
            let iterations = Int(plan.iterations[Int(p.call)])
            counters.add(.optimizerCalls, row)
            if iterations > 0 {
                counters.add(.weightWrites, row)
                if config.optimizer.kind == .adam {
                    counters.add(.adamSteps, row * iterations)
                } else {
                    counters.add(.gradientDescentSteps, row)
                }
            }
            touched = row * (2 * bytesPerSynapse - 4)
        }
        counters.add(.synapseStateBytesTouched, touched)
    }

    private func planOptimizer(_ p: inout Planned, index: Int, source s: Int) {
        p.call = Int32(plan.calls)
        p.rateStart = Int32(plan.rateCount)
        plan.plan(idx: index, &optimizerState[s], config.optimizer)
    }

    func integrate(targets: Range<Int>) {
        guard !planned.isEmpty, !targets.isEmpty else { return }
        let c = connectivity, target = c.target
        let w = weights, g = gradient, sum = gradientSum, m1 = moment1, m2 = moment2, input = self.input
        let opt = config.optimizer
        let kind = opt.kind, batch = Double(opt.batchSize), b1 = opt.beta1, b2 = opt.beta2, eps = opt.epsilon
        let wMin = opt.wMin, wMax = opt.wMax
        let kappa = exp(-clockDt / tauMReadout)
        let average = config.averageGradient, window = Double(learningWindow)
        let whole = targets.lowerBound == 0 && targets.upperBound == targetCount
        let iterations = plan.iterations, rates = plan.rates
        planned.withUnsafeBufferPointer { events in
            isiArena.withUnsafeBufferPointer { arena in
                for p in events {
                    let s = Int(p.source)
                    let rows = whole ? c.rowStart[s]..<c.rowStart[s + 1] : c.synapses(of: s, into: targets)
                    if rows.isEmpty { continue }
                    if p.gradient {
                        let isiList = UnsafeBufferPointer(rebasing: arena[Int(p.isiStart)..<Int(p.isiStart + p.isiCount)])
                        for k in rows {
                            var grad = intervalGradient(Int(target[k]), trigger: p.trigger, isis: isiList,
                                                        regEntry: p.regEntry, kappa: kappa)
                            if average { grad /= window }
                            g[k] = g[k] + grad
                        }
                    }
                    if p.call >= 0 {
                        let n = iterations[Int(p.call)]
                        for k in rows {
                            var o = SynapseOptimizer(weight: w[k], sum: sum[k], m: m1?[k] ?? 0, v: m2?[k] ?? 0)
                            var rate = Int(p.rateStart)
                            o.apply(g[k], iterations: n, rates: rates, rate: &rate, kind, batch: batch, beta1: b1,
                                    beta2: b2, epsilon: eps, wMin: wMin, wMax: wMax)
                            w[k] = o.weight
                            sum[k] = o.sum
                            m1?[k] = o.m
                            m2?[k] = o.v
                            g[k] = 0
                        }
                    }
                    if p.transmit {
                        for k in rows { input[Int(target[k])] += w[k] }
                    }
                }
            }
        }
    }

    /// compute_gradient of the target neuron j over the interval's ISIs (spec §10.3): local
    /// traces from zero, one step per history entry from the trigger.
    @inline(__always)
    private func intervalGradient(_ j: Int, trigger: Int, isis: UnsafeBufferPointer<Int32>, regEntry: Int,
                                  kappa: Double) -> Double {
        switch target {
        case .recurrent(let p):
            let history = p.history
            let ring = history.ring(j), mask = history.mask
            let alpha = p.alpha[j], pZ = p.pZ[j], oneMinusKappa = 1.0 - kappa
            let adaptive = p.model.isAdaptive
            let beta = p.beta[j], rho = p.rho[j]
            var zBar = 0.0, eBar = 0.0, grad = 0.0, sumE = 0.0, epsilon = 0.0
            var t = trigger
            for isi in isis {
                var z = 1.0
                for _ in 0..<Int(isi) {
                    let entry = ring + (t & mask) &* 3
                    let psi = entry[0], learningSignal = entry[1]
                    zBar = alpha * zBar + pZ * z
                    let e: Double
                    if adaptive {
                        e = psi * (zBar - beta * epsilon)
                        epsilon = rho * epsilon + e
                    } else {
                        e = psi * zBar
                    }
                    eBar = kappa * eBar + oneMinusKappa * e
                    grad += learningSignal * eBar
                    sumE += e
                    z = 0
                    t += 1
                }
            }
            let reg = history.contains(regEntry) ? (ring + (regEntry & mask) &* 3)[2] : 0
            return grad + reg * sumE
        case .readout(let p):
            let history = p.history
            let ring = history.ring(j), mask = history.mask
            let alpha = p.alpha[j], pZ = p.pZ[j]
            var zBar = 0.0, grad = 0.0
            var t = trigger
            for isi in isis {
                var z = 1.0
                for _ in 0..<Int(isi) {
                    let error = ring[t & mask]
                    zBar = alpha * zBar + pZ * z
                    grad += error * zBar
                    z = 0
                    t += 1
                }
            }
            return grad
        }
    }
}
