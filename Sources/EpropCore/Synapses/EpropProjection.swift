#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import EpropWide

/// `eprop_synapse` (spec §8): plastic synapses of one projection and the event-driven
/// gradient kernel — the only copy, used for every target model.
///
/// Storage. What every synapse of a source shares because it sees the same events —
/// previous stamp, flush flag, presynaptic trace z̄ and its one-step buffer, remaining
/// cutoff steps, pending decay, optimizer step bookkeeping — lives once per source.
/// Per synapse only what differs: target, weight, ē, ē_reg, and as the set-up needs them
/// the batch sum G (batch_size > 1), Adam's m, v, ε (adaptive targets) and z̄ (targets
/// with differing τ_m), each field a Double or, with precision "single", a Float
/// (SynapseStorage.swift). The interval gradient g lives in a register within an event;
/// between events it is needed only after a flush (the next spike consumes it), so it is
/// kept only then, per source, in `pending` (PendingGradients). Bytes per synapse, target
/// included (double / single): gradient descent 28 / 16, Adam 44 / 24; +8 / +4 each for
/// G, ε, per-synapse z̄; plus 8 per synapse of a source whose last event was a flush.
///
/// Kernel, for an event of source i stamped t_s after one stamped t_prev (spec §8.3, as
/// NEST computes it; note ē has no (1 − κ) factor, ē_reg has one):
///
///     interval start (previous event a spike): rem = cutoff, g = 0, the spike enters z̄
///     for t in [t_prev − 1, t_prev − 1 + min(rem, t_s − t_prev)):
///         z̄ = α·z̄ + z_t                          (once per source)
///         e = ψ_t · z̄;  ē = κ·ē + e;  ē_reg = κ_reg·ē_reg + (1 − κ_reg)·e
///         Δg = L_t·ē + reg_t·ē_reg                 (readout target: Δg = err_t·z̄)
///         optimize_each_step: w = opt(t + 1, Δg)    else g += Δg
///     steps past the cutoff only decay (pow), applied at the next spike, not at a flush;
///     accumulate mode: w = opt(t_s − 1, g) at a spike. Then the spike is transmitted
///     with the new weight. A flush event is never transmitted.
public final class EpropProjection: Projection, WorkCounting {
    enum Target {
        case recurrent(RecurrentPopulation)
        case readout(ReadoutPopulation)
    }

    /// `target` without ownership (the projection holds it strongly): what the kernel's
    /// per-call views read through, so that building them retains and releases nothing.
    enum UnretainedTarget {
        case recurrent(Unmanaged<RecurrentPopulation>)
        case readout(Unmanaged<ReadoutPopulation>)
    }

    /// What an event needs in common for every synapse of its source, planned once
    /// (sequentially) before the synapses are integrated (in parallel, by target range).
    struct PlannedEvent {
        var source: Int
        var flush: Bool
        /// The source's row targets consecutive neurons (`rowIsRun`).
        var rowIsRun = false
        /// False for a source's first event, which computes nothing (spec §8.2).
        var integrates = false
        var begin = 0, n = 0, decay = 0
        var resetG = false
        /// Offsets of this event's z̄ and z sequences and optimizer calls and rates.
        var sequence = 0, calls = 0, rates = 0
        /// Pool offsets of the pending g the event starts from and of where it leaves its g
        /// (−1: starts from 0 / not kept), minus the row start, so synapse k's is at + k.
        var gradientIn = -1, gradientOut = -1
        var hasGradientIn = false, hasGradientOut = false
        /// Accumulate mode: only entries signalBegin ..< signalEnd of the interval (offsets)
        /// may carry a learning signal, the others have L = +0 (EpropHistory), so the kernel
        /// skips L·ē there. The whole interval unless planning found such entries.
        var signalBegin = 0, signalEnd = Int.max
    }

    public let sourcePopulation: Int
    public let targetPopulation: Int
    public var synapseModel: String { "eprop_synapse" }
    public let connectivity: Connectivity
    let target: Target
    let unretainedTarget: UnretainedTarget
    let optimizer: OptimizerConfig
    let input: UnsafeMutablePointer<Double>
    public let targetCount: Int

    /// Storage precision of the per-synapse fields (fixed at connect time).
    public let precision: SynapsePrecision

    // Per synapse, in `precision`.
    let weights: SynapseColumn
    let eBar: SynapseColumn
    let eBarReg: SynapseColumn
    /// G, the optimizer's sum since its last update; non-zero between events only when
    /// batch_size > 1 (or after the optimizer mode changed mid-run).
    var batchSum: SynapseColumn?
    /// The optimizer mode of the last simulate call, to notice a change.
    var lastEachStep: Bool?
    let adamM: SynapseColumn?
    let adamV: SynapseColumn?
    /// Adaptation eligibility ε, for adaptive targets only.
    let epsilon: SynapseColumn?
    /// z̄ per synapse, only when the targets' τ_m differ (then z̄ depends on the target).
    var zBarSynapse: SynapseColumn?
    /// g of the intervals a flush interrupted, per source while pending.
    var pending: PendingGradients
    /// Whether a flush keeps its g for the next event: in accumulate mode, and in
    /// optimize-each-step mode once accumulate mode has been used (its g then is the last
    /// Δg, which a later switch back to accumulate mode continues from, as in NEST).
    private var keepsFlushGradient = false
    private var accumulated = false

    // Per source, as raw buffers (allocated once, `sources` long): planning reads and writes
    // about twenty of these per event, and as arrays stored on the class each write paid a
    // uniqueness and an exclusivity check.
    let tPrev: UnsafeMutablePointer<Int>
    /// Per source, whether its row's targets are consecutive neurons (an input row of a
    /// dense projection): the row can go through the AVX-512 module in one call.
    let rowIsRun: UnsafeMutablePointer<Bool>
    /// Stamp of the source's previous event other than an automatic flush (what NEST sees).
    let visiblePrevious: UnsafeMutablePointer<Int>
    let prevWasFlush: UnsafeMutablePointer<Bool>
    let zBar: UnsafeMutablePointer<Double>
    let zBuffer: UnsafeMutablePointer<Double>
    let remaining: UnsafeMutablePointer<Int>
    let pendingDecay: UnsafeMutablePointer<Int>
    let sourceOptimizer: UnsafeMutablePointer<SourceOptimizerState>

    // The events of the current step, planned, and their sequences (reused every step).
    var planned = RawList<PlannedEvent>()
    /// Eligibility steps of the planned events plus 4 per synapse event (`partition`'s measure).
    public private(set) var plannedWork = 0
    var zBarSequence: UnsafeMutablePointer<Double>
    var zSequence: UnsafeMutablePointer<Double>
    var sequenceCapacity = 1024
    var sequenceCount = 0
    var plan = OptimizerPlan()
    /// The network's work counters (set when the projection joins a network).
    var counters = WorkCounters()
    /// plan.updates and plan.iterationTotal before the current event's calls (counting).
    private var plannedUpdates = 0, plannedIterations = 0
    /// Whether the targets are recurrent neurons (not readouts).
    private let recurrentTarget: Bool
    /// Bytes of synapse state an integrated event touches per synapse: 2 × bytesPerSynapse − 4
    /// (every field read and written, the target read), pending g apart.
    private var eventStateBytes = 0

    init(source: Int, targetPopulation: Int, target: Target, connectivity: Connectivity,
         weights w: [Double], optimizer: OptimizerConfig, input: UnsafeMutablePointer<Double>,
         precision: SynapsePrecision = .double) {
        sourcePopulation = source
        self.precision = precision
        self.targetPopulation = targetPopulation
        self.target = target
        switch target {
        case .recurrent(let p): unretainedTarget = .recurrent(.passUnretained(p))
        case .readout(let p): unretainedTarget = .readout(.passUnretained(p))
        }
        self.connectivity = connectivity
        self.optimizer = optimizer
        self.input = input
        switch target {
        case .recurrent(let p): targetCount = p.size; recurrentTarget = true
        case .readout(let p): targetCount = p.size; recurrentTarget = false
        }
        let n = connectivity.count
        weights = SynapseColumn(count: n, precision: precision)
        for k in 0..<n { weights.set(k, w[k], precision) }   // given in storage order
        eBar = SynapseColumn(count: n, precision: precision)
        eBarReg = SynapseColumn(count: n, precision: precision)
        if optimizer.kind == .adam {
            adamM = SynapseColumn(count: n, precision: precision)
            adamV = SynapseColumn(count: n, precision: precision)
        } else {
            adamM = nil
            adamV = nil
        }
        if case .recurrent(let p) = target, p.model.isAdaptive {
            epsilon = SynapseColumn(count: n, precision: precision)
        } else {
            epsilon = nil
        }
        let sources = connectivity.sources
        pending = PendingGradients(sources: sources)
        func column<T>(_ value: T) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(sources, 1))
            p.initialize(repeating: value, count: max(sources, 1))
            return p
        }
        tPrev = column(0)
        rowIsRun = column(false)
        for source in 0..<sources {
            let start = connectivity.rowStart[source], end = connectivity.rowStart[source + 1]
            rowIsRun[source] = (start..<end).allSatisfy {
                Int(connectivity.target[$0]) == Int(connectivity.target[start]) + ($0 - start)
            }
        }
        visiblePrevious = column(0)
        prevWasFlush = column(false)
        zBar = column(0.0)
        zBuffer = column(0.0)
        remaining = column(0)
        pendingDecay = column(0)
        sourceOptimizer = column(SourceOptimizerState())
        zBarSequence = allocateDoubles(sequenceCapacity)
        zSequence = allocateDoubles(sequenceCapacity)
    }

    deinit {
        for c in [weights, eBar, eBarReg] { c.free() }
        for p in [tPrev, visiblePrevious, remaining, pendingDecay] { p.deallocate() }
        prevWasFlush.deallocate()
        rowIsRun.deallocate()
        zBar.deallocate()
        zBuffer.deallocate()
        sourceOptimizer.deallocate()
        pending.deallocate()
        batchSum?.free()
        adamM?.free()
        adamV?.free()
        epsilon?.free()
        zBarSynapse?.free()
        zBarSequence.deallocate()
        zSequence.deallocate()
        planned.deallocate()
        plan.free()
        connectivity.free()
    }

    /// Weight of synapse i (in single precision: the stored Float, exactly).
    public func weight(_ i: Int) -> Double { weights.get(i, precision) }
    /// Sets every weight (in single precision rounded to the nearest Float).
    public func setWeights(_ w: UnsafeBufferPointer<Double>) { for k in 0..<count { weights.set(k, w[k], precision) } }

    /// Bytes of per-synapse state (target index included), as allocated now; the pending
    /// gradients of flushed sources come on top (`pendingGradientBytes`).
    public var bytesPerSynapse: Int {
        4 + precision.fieldBytes * (3 + (batchSum != nil ? 1 : 0) + (adamM != nil ? 2 : 0)
                                    + (epsilon != nil ? 1 : 0) + (zBarSynapse != nil ? 1 : 0))
    }

    /// Bytes of the pending-gradient pool and its per-source offsets.
    public var pendingGradientBytes: Int { pending.bytes }

    /// Adam moments of synapse i (0 for gradient descent).
    public func moments(_ i: Int) -> (m: Double, v: Double) {
        (adamM?.get(i, precision) ?? 0, adamV?.get(i, precision) ?? 0)
    }

    /// ē and ē_reg of synapse i (tests).
    func traces(_ i: Int) -> (eBar: Double, eBarReg: Double) { (eBar.get(i, precision), eBarReg.get(i, precision)) }

    var cutoffSteps: Int {
        switch target {
        case .recurrent(let p): return p.cutoffSteps
        case .readout(let p): return p.cutoffSteps
        }
    }

    /// The oldest history entry of the target population that a pending interval of this
    /// projection still needs, or Int.max.
    func oldestPendingEntry() -> Int {
        // A scan over every source, when a target's history ring is full: with 10⁶ sources
        // and the oldest pending interval close to the ring's length, that is nearly every
        // step (the per-source columns are raw buffers: no per-element checks).
        let c = cutoffSteps
        var oldest = Int.max
        let previous = tPrev, flushed = prevWasFlush, left = remaining
        for s in 0..<connectivity.sources where previous[s] > 0 && previous[s] - 1 < oldest {
            if (flushed[s] ? left[s] : c) > 0 { oldest = previous[s] - 1 }
        }
        return oldest
    }

    /// Synapses into neurons whose NEST history bookkeeping is kept, by source.
    var bookkept: [Int: [(synapse: Int, books: HistoryBookkeeping)]] = [:]

    /// Readies the projection for simulation: per-synapse z̄ when the targets' τ_m differ
    /// (z̄ then depends on the target), and the bookkeeping of recorded targets.
    func prepareForSimulation() {
        let each = optimizer.eachStep
        if !each { accumulated = true }
        keepsFlushGradient = accumulated
        if batchSum == nil && (optimizer.batchSize > 1 || (lastEachStep != nil && lastEachStep != each)) {
            batchSum = SynapseColumn(count: count, precision: precision)
        }
        lastEachStep = each
        let uniformAlpha: Bool
        let books: [Int: HistoryBookkeeping]
        switch target {
        case .recurrent(let p): uniformAlpha = p.alpha.isUniform; books = p.bookkeeping
        case .readout(let p): uniformAlpha = p.alpha.isUniform; books = p.bookkeeping
        }
        bookkept = [:]
        if !books.isEmpty {
            for s in 0..<connectivity.sources {
                for k in connectivity.rowStart[s]..<connectivity.rowStart[s + 1] {
                    if let b = books[Int(connectivity.target[k])] { bookkept[s, default: []].append((k, b)) }
                }
            }
        }
        if !uniformAlpha && zBarSynapse == nil {
            let perSynapse = SynapseColumn(count: count, precision: precision)
            for s in 0..<connectivity.sources {
                for k in connectivity.rowStart[s]..<connectivity.rowStart[s + 1] { perSynapse.set(k, zBar[s], precision) }
            }
            zBarSynapse = perSynapse
        }
        eventStateBytes = 2 * bytesPerSynapse - 4
    }

    public func deliver(_ events: EventList, stamp: Int) {
        planEvents(events, stamp: stamp)
        integrate(targets: 0..<targetCount)
    }

    /// One event of source `s` through every synapse of its row (spec §8.2).
    func process(source s: Int, stamp ts: Int, flush: Bool) {
        startPlanning()
        var tally = EventTally()
        planEvent(source: s, stamp: ts, flush: flush, tally: &tally)
        count(tally)
        integrate(targets: 0..<targetCount)
    }

    // MARK: Planning (sequential)

    /// Plans the events of the source population stamped `stamp` (spec §1.3 phase 2).
    public func planEvents(_ events: EventList, stamp: Int) {
        startPlanning()
        var tally = EventTally()
        for e in 0..<events.count {
            let s = Int(events.ids[e])
            let mult = events.multiplicity[e]
            if mult == 0 {
                planEvent(source: s, stamp: stamp, flush: true, tally: &tally)
            } else {
                // Repeated spikes are separate events (spec §13 item 17).
                for _ in 0..<mult { planEvent(source: s, stamp: stamp, flush: false, tally: &tally) }
            }
        }
        let eachStep = Unmanaged.passUnretained(optimizer)._withUnsafeGuaranteedRef { $0.eachStep }
        if !eachStep && stamp % automaticFlushPeriod == 0 { planAutomaticFlushes(stamp: stamp, tally: &tally) }
        count(tally)
        plannedWork = tally.steps &+ 4 &* tally.integrated
    }

    /// Steps after which a silent source's pending interval is consumed by an automatic
    /// flush: the cutoff (then nothing is left to integrate) or, without one, 256 steps.
    var automaticFlushAge: Int {
        let c = cutoffSteps
        return c == Clock.never ? 256 : c + 2
    }

    /// How often sources are checked for automatic flushes (steps).
    var automaticFlushPeriod: Int { max(1, min(automaticFlushAge / 4, 64)) }

    /// Lane intervals skipped as frozen (for tests, counted in debug builds only; atomic,
    /// since the kernel's shares run on several threads).
    let frozenLaneIntervals = Atomic<Int>(0)
    /// Target rings larger than this (bytes) are prefetched run by run (a variable only so
    /// that tests can reach that path with small networks).
    var prefetchRingBytes = 1 << 21
    /// Whether two groups of eight consecutive targets run together through the AVX-512
    /// kernel (`integrateEightLanePair`); set from `WideKernel.isAvailable` when the
    /// network prepares (tests turn it off to compare).
    var usesWidePairs = false
    /// Pairs that went through that kernel, those of them with a spare lane (`gapPair`) and
    /// those whose gradient descent and transmission ran in the kernel's module
    /// (`integrateEightLanePairDescending`), counted in debug builds only, for tests.
    let widePairs = Atomic<Int>(0), gapPairs = Atomic<Int>(0), descendingPairs = Atomic<Int>(0)
    /// Rows that went through the module in one call (`runOfPairs`), and flush pairs
    /// finished there (`integrateEightLanePairKeeping`); debug builds only.
    let runRows = Atomic<Int>(0), keepingPairs = Atomic<Int>(0)
    /// Of those, the pairs that took their row's last four synapses along, and those that
    /// kept frozen lanes as they were (counted likewise).
    let pairsWithTails = Atomic<Int>(0), pairsWithFrozenLanes = Atomic<Int>(0)
    /// Interval entries planned without a learning signal, summed over events, and the
    /// events whose interval has entries with and without one (for tests).
    var entriesWithoutLearningSignal = 0, eventsPartlyWithoutLearningSignal = 0

    /// Sources found due for an automatic flush (reused).
    private var flushCandidates: [Int] = []

    /// Automatic flush events (design note): in accumulate mode (optimize_each_step off) a
    /// source silent for longer than `automaticFlushAge` gets a flush event of its own, so
    /// the targets' history stays bounded without user-set flush intervals. There a flush
    /// only advances traces no caller can read (spec §7.6, §8.4: flushes never change
    /// learning), so nothing observable differs from NEST. In optimize_each_step mode a flush
    /// applies the interval's per-step updates, making weights read between events differ
    /// from NEST's, so there, as in NEST, flush_event_send_interval bounds the history.
    /// Not transmitted, not seen by NEST's bookkeeping.
    private func planAutomaticFlushes(stamp t: Int, tally: inout EventTally) {
        let age = automaticFlushAge, c = cutoffSteps
        flushCandidates.removeAll(keepingCapacity: true)
        // One pass over every source (10⁶ at 1M), then the few due ones are planned.
        let previous = tPrev, flushed = prevWasFlush, left = remaining
        for s in 0..<connectivity.sources where previous[s] > 0 && t - (previous[s] - 1) > age {
            if (flushed[s] ? left[s] : c) > 0 { flushCandidates.append(s) }
        }
        for s in flushCandidates { planEvent(source: s, stamp: t, flush: true, automatic: true, tally: &tally) }
    }

    private func startPlanning() {
        repeatedSource = false
        pending.recycle()   // blocks of the previous round's spikes were read by now
        planned.removeAll()
        sequenceCount = 0
        plan.reset()
    }

    /// The part of an event every synapse of the source shares: the presynaptic spike
    /// sequence z and (uniform α) the trace z̄ over the interval's n entries, the cutoff and
    /// decay bookkeeping, and the optimizer calls; then the source's new state.
    private func planEvent(source s: Int, stamp ts: Int, flush: Bool, automatic: Bool = false,
                           tally: inout EventTally) {
        // A source without synapses in this projection has no state anyone reads: its events
        // are not planned at all (at 1M, every recurrent spike is an event of the readout
        // projection, whose rows are 99 % empty).
        guard connectivity.rowStart[s + 1] > connectivity.rowStart[s] else { return }
        let previous = tPrev[s]
        if previous == ts { repeatedSource = true }
        if !automatic {
            // NEST's bookkeeping sees the previous event NEST would have seen.
            if !bookkept.isEmpty, let tracked = bookkept[s] {
                for (_, books) in tracked { books.eventPassed(stamp: ts, previous: visiblePrevious[s]) }
            }
            visiblePrevious[s] = ts
        }
        var event = PlannedEvent(source: s, flush: flush)
        event.rowIsRun = rowIsRun[s]
        if previous > 0 {
            let alpha: Double
            switch target {
            case .recurrent(let p): alpha = p.alpha[0]
            case .readout(let p): alpha = p.alpha[0]
            }
            let isi = ts - previous
            var zCurrent = 0.0
            event.resetG = !prevWasFlush[s]
            if event.resetG {
                remaining[s] = cutoffSteps
                zCurrent = 1
            }
            event.integrates = true
            event.begin = previous - 1
            let n = min(remaining[s], isi)
            event.n = n
            if n > 0, !optimizer.eachStep, case .recurrent(let p) = target {
                let span = p.history.learningSignalSpan(event.begin, count: n)
                (event.signalBegin, event.signalEnd) = span
                entriesWithoutLearningSignal += n - (span.hi - span.lo)
                if span.lo < span.hi && (span.lo > 0 || span.hi < n) { eventsPartlyWithoutLearningSignal += 1 }
            }
            event.sequence = sequenceCount
            reserveSequence(n)
            var zb = zBar[s], zBuf = zBuffer[s]
            let zBarOut = zBarSequence + sequenceCount, zOut = zSequence + sequenceCount
            let head = min(n, 2)
            for i in 0..<head {
                let z = zBuf
                zBuf = zCurrent
                zCurrent = 0
                zb = alpha * zb + z
                zBarOut[i] = zb
                zOut[i] = z
            }
            // From the third entry on z is +0, and α·z̄ + 0 is α·z̄ to the bit (z̄ ≥ +0 is
            // never −0): the chain's latency is the multiplication alone.
            if n > head {
                for i in head..<n {
                    zb = alpha * zb
                    zBarOut[i] = zb
                }
                // Only the per-synapse z̄ (targets' τ_m differ) reads the z sequence.
                if zBarSynapse != nil { (zOut + head).update(repeating: 0, count: n - head) }
            }
            sequenceCount += n
            remaining[s] -= n
            pendingDecay[s] += isi - n
            if !flush && pendingDecay[s] > 0 {
                event.decay = pendingDecay[s]
                pendingDecay[s] = 0
                zb *= pow(alpha, Double(event.decay))
            }
            zBar[s] = zb
            zBuffer[s] = zBuf
            // The pending g: continued after a flush, kept after a flush (spec §8.4).
            let rowStart = connectivity.rowStart[s], row = connectivity.rowStart[s + 1] - rowStart
            if !event.resetG && pending.slot[s] >= 0 {
                event.gradientIn = pending.slot[s] - rowStart
                event.hasGradientIn = true
            }
            if flush && keepsFlushGradient && row > 0 {
                event.gradientOut = pending.block(of: s, length: row) - rowStart
                event.hasGradientOut = true
            } else {
                pending.release(s, length: row)
            }
            // Optimizer calls of this event, identical for every synapse of the source.
            event.calls = plan.calls
            event.rates = plan.rateCount
            plannedUpdates = plan.updates
            plannedIterations = plan.iterationTotal
            let config = optimizer
            if config.eachStep {
                for i in 0..<n { plan.plan(idx: event.begin + i + 1, &sourceOptimizer[s], config) }
            } else if !flush {
                plan.plan(idx: ts - 1, &sourceOptimizer[s], config)
            }
        }
        tPrev[s] = ts
        prevWasFlush[s] = flush
        planned.append(event)
        tally.count(event, row: connectivity.rowStart[s + 1] - connectivity.rowStart[s], automatic: automatic,
                    perSynapseTrace: zBarSynapse != nil, calls: plan.calls - event.calls,
                    updates: plan.updates - plannedUpdates, iterations: plan.iterationTotal - plannedIterations)
    }

    /// Adds the work of the events planned in a step to the network's counters.
    private func count(_ t: EventTally) {
        let adam = Unmanaged.passUnretained(optimizer)._withUnsafeGuaranteedRef { $0.kind == .adam }
        // Through unretained references: a retain and release per projection and step otherwise.
        Unmanaged.passUnretained(counters)._withUnsafeGuaranteedRef { c in
            c.add(.plasticEvents, t.plastic)
            c.add(.automaticFlushEvents, t.automaticFlushes)
            c.add(.synapticEvents, t.transmissions)
            if recurrentTarget {
                c.add(.eligibilitySteps, t.steps)
                if epsilon != nil { c.add(.adaptiveEligibilitySteps, t.steps) }   // adaptive targets
                c.add(.traceDecays, t.decays)
            } else {
                c.add(.readoutEligibilitySteps, t.steps)
            }
            c.add(.presynapticTraceSteps, t.traceSteps)
            c.add(.optimizerCalls, t.calls)
            c.add(.weightWrites, t.updates)
            if adam { c.add(.adamSteps, t.iterations) } else { c.add(.gradientDescentSteps, t.updates) }
            c.add(.synapseStateBytesTouched, t.firstSpikes &* (4 &+ precision.fieldBytes) &+ t.integrated &* eventStateBytes
                  &+ t.gradientAccesses &* 8)
        }
    }

    private func reserveSequence(_ n: Int) {
        guard sequenceCount + n > sequenceCapacity else { return }
        var capacity = sequenceCapacity
        while capacity < sequenceCount + n { capacity *= 2 }
        let zb = allocateDoubles(capacity), z = allocateDoubles(capacity)
        zb.update(from: zBarSequence, count: sequenceCount)
        z.update(from: zSequence, count: sequenceCount)
        zBarSequence.deallocate()
        zSequence.deallocate()
        zBarSequence = zb
        zSequence = z
        sequenceCapacity = capacity
    }

    // MARK: Integration (parallel over target ranges)

    /// The per-synapse fields, typed, hoisted once per integrate call.
    struct Fields<S: SynapseScalar> {
        let weights, eBar, eBarReg: UnsafeMutablePointer<S>
        let batchSum, adamM, adamV, epsilon, zBar: UnsafeMutablePointer<S>?
        /// The pending-gradient pool (valid until the next planning round).
        let pool: UnsafeMutablePointer<Double>?

        init(_ p: EpropProjection) {
            weights = p.weights.typed(S.self)
            eBar = p.eBar.typed(S.self)
            eBarReg = p.eBarReg.typed(S.self)
            batchSum = p.batchSum?.typed(S.self)
            adamM = p.adamM?.typed(S.self)
            adamV = p.adamV?.typed(S.self)
            epsilon = p.epsilon?.typed(S.self)
            zBar = p.zBarSynapse?.typed(S.self)
            pool = p.pending.pool
        }

        /// Where the event's pending g comes from / goes to, indexed by synapse (nil: none).
        @inline(__always)
        func gradients(_ event: PlannedEvent) -> (from: UnsafeMutablePointer<Double>?, to: UnsafeMutablePointer<Double>?) {
            (event.hasGradientIn ? pool! + event.gradientIn : nil, event.hasGradientOut ? pool! + event.gradientOut : nil)
        }
    }

    /// Integrates the planned events into the synapses whose targets lie in `targets`, and
    /// transmits the spikes to those targets. Disjoint target ranges touch disjoint data.
    public func integrate(targets: Range<Int>) {
        guard !planned.isEmpty, !targets.isEmpty else { return }
        switch precision {
        case .double: integrate(targets: targets, Fields<Double>(self))
        case .single: integrate(targets: targets, Fields<Float>(self))
        }
    }

    private func integrate<S: SynapseScalar>(targets: Range<Int>, _ fields: Fields<S>) {
        let whole = targets.lowerBound == 0 && targets.upperBound == targetCount
        // (Called on one thread only: with threads, integrateSynapses runs the shares.)
        let kernelTargets = KernelTargets(unretainedTarget, quietStretches: whole)
        let stepMajor = StepMajorView(unretainedTarget)
        let tgt = connectivity.target
        connectivity.rowStart.withUnsafeBufferPointer { rowStart in
            planned.withUnsafeBufferPointer { events in
                for event in events {
                    let rows = whole ? rowStart[event.source]..<rowStart[event.source + 1]
                        : connectivity.synapses(of: event.source, into: targets)
                    guard !rows.isEmpty else { continue }
                    if !event.integrates {
                        if !event.flush {
                            let w = fields.weights, input = self.input
                            for syn in rows { input[Int(tgt[syn])] += S.load(w, syn) }
                        }
                        continue
                    }
                    integrate(event, rows: rows, kernelTargets, stepMajor, fields, transmitting: true)
                }
            }
        }
    }

    // MARK: Parallel integration in two phases (threads)

    /// Where each parallel share of the planned synapses begins: share p runs from
    /// (event shareStart[2p], synapse shareStart[2p + 1]) to where share p + 1 begins.
    /// Empty when the step's events cannot be shared out (then phase B integrates by target).
    private var shareStart: [Int] = []
    /// Whether a source has more than one event this step (a spike of multiplicity > 1):
    /// each of its events then transmits the weight its own update left, and its row's
    /// updates must run in event order, so the step integrates by target instead.
    private var repeatedSource = false

    /// Splits the planned events' synapses into `parts` contiguous shares of about equal work
    /// (row length × (entries + 4) per event), each split at a multiple of a cache line's
    /// synapses. Splitting by target instead (as `integrate(targets:)` does) cuts every row
    /// in the middle, and two threads writing both halves of the same lines of ē, ē_reg, w,
    /// m and v at the same moment cost N-MNIST more than the second thread gained.
    public func partition(parts: Int) {
        shareStart.removeAll(keepingCapacity: true)
        guard !repeatedSource else { return }
        shareStart.append(0)
        shareStart.append(0)
        let line = 64 / precision.fieldBytes
        let total = plannedWork   // Σ row · (n + 4) over the integrating events
        connectivity.rowStart.withUnsafeBufferPointer { rowStart in
            var done = 0, part = 1
            for index in 0..<planned.count where planned.base[index].integrates && part < parts {
                let event = planned.base[index]
                let start = rowStart[event.source], end = rowStart[event.source + 1], cost = event.n &+ 4
                let work = (end - start) &* cost
                while part < parts && done + work > total * part / parts {
                    let into = max(0, total * part / parts - done)
                    let split = (start + (into + cost - 1) / cost + line - 1) / line * line
                    guard split < end else { break }   // the share ends with this row
                    shareStart.append(index)
                    shareStart.append(split)
                    part += 1
                }
                done += work
            }
            while part <= parts {
                shareStart.append(planned.count)
                shareStart.append(0)
                part += 1
            }
        }
    }

    /// Phase A of share `part`: every synapse's gradient and weight update, no transmission.
    public func integrateSynapses(part: Int) {
        guard !planned.isEmpty, 2 * part + 3 < shareStart.count else { return }
        switch precision {
        case .double: integrateSynapses(part: part, Fields<Double>(self))
        case .single: integrateSynapses(part: part, Fields<Float>(self))
        }
    }

    private func integrateSynapses<S: SynapseScalar>(part: Int, _ fields: Fields<S>) {
        let firstEvent = shareStart[2 * part], firstSynapse = shareStart[2 * part + 1]
        let lastEvent = shareStart[2 * part + 2], endSynapse = shareStart[2 * part + 3]
        guard firstEvent < planned.count else { return }
        let kernelTargets = KernelTargets(unretainedTarget), stepMajor = StepMajorView(unretainedTarget)
        connectivity.rowStart.withUnsafeBufferPointer { rowStart in
            planned.withUnsafeBufferPointer { events in
                for index in firstEvent...min(lastEvent, events.count - 1) {
                    let event = events[index]
                    guard event.integrates else { continue }
                    var lower = rowStart[event.source], upper = rowStart[event.source + 1]
                    if index == firstEvent { lower = max(lower, firstSynapse) }
                    if index == lastEvent { upper = min(upper, endSynapse) }
                    guard lower < upper else { continue }
                    integrate(event, rows: lower..<upper, kernelTargets, stepMajor, fields, transmitting: false)
                }
            }
        }
    }

    /// Phase B: the planned spikes, with the weights phase A left, into the targets in
    /// `targets`, in the order `integrate(targets:)` adds them (events in order, rows in
    /// storage order), so every sum is bit-identical.
    public func transmit(targets: Range<Int>) {
        guard !planned.isEmpty, !targets.isEmpty else { return }
        guard !shareStart.isEmpty else { return integrate(targets: targets) }
        switch precision {
        case .double: transmit(targets: targets, Double.self)
        case .single: transmit(targets: targets, Float.self)
        }
    }

    private func transmit<S: SynapseScalar>(targets: Range<Int>, _: S.Type) {
        let whole = targets.lowerBound == 0 && targets.upperBound == targetCount
        let tgt = connectivity.target, input = self.input, w = weights.typed(S.self)
        connectivity.rowStart.withUnsafeBufferPointer { rowStart in
            planned.withUnsafeBufferPointer { events in
                for event in events where !event.flush {
                    let rows = whole ? rowStart[event.source]..<rowStart[event.source + 1]
                        : connectivity.synapses(of: event.source, into: targets)
                    for syn in rows { input[Int(tgt[syn])] += S.load(w, syn) }
                }
            }
        }
    }

    /// One event through the synapses `rows`, by the target family.
    @inline(__always)
    private func integrate<S: SynapseScalar>(_ event: PlannedEvent, rows: Range<Int>, _ targets: KernelTargets,
                                             _ stepMajor: StepMajorView?, _ fields: Fields<S>, transmitting: Bool) {
        if recurrentTarget, let stepMajor {
            integrate(event, rows: rows, recurrent: targets, stepMajor: stepMajor, fields, transmitting: transmitting)
        } else if recurrentTarget {
            integrate(event, rows: rows, recurrent: targets, fields, transmitting: transmitting)
        } else {
            integrate(event, rows: rows, readout: targets, fields, transmitting: transmitting)
        }
    }

    private func integrate<S: SynapseScalar>(_ event: PlannedEvent, rows: Range<Int>, recurrent population: KernelTargets,
                                             _ fields: Fields<S>, transmitting: Bool) {
        integrate(event, rows: rows, recurrent: population, fields, transmitting: transmitting, stepMajor: nil)
    }

    /// The same for a population that keeps a step-major history copy: a copy of its own,
    /// since the consecutive-target path inlined into the other made its gathering groups
    /// 2–3 % slower (N-MNIST) through register allocation.
    private func integrate<S: SynapseScalar>(_ event: PlannedEvent, rows: Range<Int>, recurrent population: KernelTargets,
                                             stepMajor: StepMajorView, _ fields: Fields<S>, transmitting: Bool) {
        integrate(event, rows: rows, recurrent: population, fields, transmitting: transmitting, stepMajor: stepMajor)
    }

    @inline(__always)
    private func integrate<S: SynapseScalar>(_ event: PlannedEvent, rows: Range<Int>, recurrent population: KernelTargets,
                                             _ fields: Fields<S>, transmitting: Bool, stepMajor: StepMajorView?) {
        let alphaColumn = population.alpha, kappa = population.kappa, kappaReg = population.kappaReg
        let beta = population.beta, rho = population.rho
        let begin = event.begin, n = event.n, decay = event.decay, flush = event.flush
        let history = population
        precondition(n == 0 || (history.contains(begin) && history.contains(begin + n - 1)),
                     "e-prop history entries \(begin)..<\(begin + n) missing (window \(history.firstStep)..<\(history.endStep))")
        let config = optimizer
        let each = config.eachStep, transmit = !flush && transmitting
        let finalCall = !each && !flush
        let tgt = connectivity.target, input = self.input
        let (gradientIn, gradientOut) = fields.gradients(event)
        var first = rows.lowerBound
        let adaptive = population.adaptive
        if fields.zBar == nil && kappa.isUniform && kappaReg.isUniform
            && (!adaptive || (beta.isUniform && rho.isUniform)) {
            // Four or eight synapses at a time: their ē chains are independent, so SIMD lanes
            // hide the latency of ē = κ·ē + e. Each lane does exactly the scalar operations.
            // With optimize_each_step the four lanes also make the optimizer call of every step
            // (the synapses of an event share its planned calls).
            let k = kappa[0], kr = kappaReg[0]
            let kd = decay > 0 ? pow(k, Double(decay)) : 1, krd = decay > 0 ? pow(kr, Double(decay)) : 1
            // Each synapse reads a run of its target's ring, at a new place for every synapse.
            // Runs are short (≈ 20 entries, 8 lines at 10k–1M neurons), too short for the
            // hardware prefetcher to pick up, so while four synapses compute, the kernel asks
            // for the runs of the four synapses two groups ahead, one entry per lane and
            // iteration (`prefetchGroup`): the requests are spread over the computation
            // rather than issued as one burst of ≈ 36 lines, which stalled on the core's
            // line-fill buffers (a third of the kernel's samples sat on the prefetch loop).
            // Measured at 100k: 14.4–17.5 → 11.7–12.8 s per simulated s against the burst of
            // whole runs one group ahead. A ring that fits in the core's cache is not
            // prefetched (that costs ≈ 4 % on the sine-wave network).
            let prefetchRuns = history.ringBytes > prefetchRingBytes
            // Eight synapses per group where nothing is prefetched: two independent 4-lane
            // chains per ē overlap their latency. With prefetching (or ε) eight lanes need more
            // than the 16 vector registers and their spills cost more than the overlap gains,
            // so those rows go four at a time (measured: N-MNIST −5 %, 10k and 100k no gain;
            // built for AVX2, 8 prefetching lanes at 100k: 12.35 → 12.6–13.1 s).
            let upper = rows.upperBound
            // Entries with no learning signal (outside the learning window) leave L·ē out: a
            // third fewer history reads per step (N-MNIST, whose window is 10 of every 300
            // steps: 6.43 → 5.92 ms per sample for intervals wholly outside it; see
            // `accumulate` for those that reach into it).
            // With a step-major copy the groups of consecutive targets read whole slots of
            // it in order (the hardware prefetcher follows), so large rings take this path too.
            if (!prefetchRuns || stepMajor != nil) && !adaptive && !each {
                if let stepMajor {
                    first = eightLaneGroups(event, first, upper, S.self, gradientIn, gradientOut, history, k, kr, kd,
                                            krd, fields, finalCall: finalCall, transmit: transmit, copy: stepMajor)
                } else {
                    first = eightLaneGroups(event, first, upper, S.self, gradientIn, gradientOut, history, k, kr, kd,
                                            krd, fields, finalCall: finalCall, transmit: transmit)
                }
            }
            if let stepMajor, adaptive && !each {
                first = adaptiveFourLaneGroups(event, first, upper, S.self, gradientIn, gradientOut, history, k, kr, kd,
                                               krd, beta: beta[0], rho: rho[0], fields, finalCall: finalCall,
                                               transmit: transmit, stepMajor: stepMajor)
            }
            // Four lanes, with `adaptive` and `each` constants in each inlined copy: the plain
            // one keeps ε, β, ρ and the optimizer states out of the registers of its loop.
            // (Spelled out: routing the four cases through one nested helper made
            // optimize_each_step 3 % slower.)
            @inline(__always)
            func four(_ first: Int, valid: Int, prefetch group: Int) -> SIMD4<Double> {
                let b = adaptive ? beta[0] : 0, r = adaptive ? rho[0] : 0
                switch (adaptive, each) {
                case (false, false):
                    return accumulate(SIMD4<Double>.self, first, valid: valid, event, S.self, gradientIn, history: history,
                                      kappa: k, kappaReg: kr, kappaDecay: kd, kappaRegDecay: krd, adaptive: false,
                                      beta: 0, rho: 0, prefetchGroup: group, eachStep: false, skipsSignalFree: true, fields)
                case (true, false):
                    return accumulate(SIMD4<Double>.self, first, valid: valid, event, S.self, gradientIn, history: history,
                                      kappa: k, kappaReg: kr, kappaDecay: kd, kappaRegDecay: krd, adaptive: true,
                                      beta: b, rho: r, prefetchGroup: group, eachStep: false, fields)
                case (false, true):
                    return accumulate(SIMD4<Double>.self, first, valid: valid, event, S.self, gradientIn, history: history,
                                      kappa: k, kappaReg: kr, kappaDecay: kd, kappaRegDecay: krd, adaptive: false,
                                      beta: 0, rho: 0, prefetchGroup: group, eachStep: true, fields)
                case (true, true):
                    return accumulate(SIMD4<Double>.self, first, valid: valid, event, S.self, gradientIn, history: history,
                                      kappa: k, kappaReg: kr, kappaDecay: kd, kappaRegDecay: krd, adaptive: true,
                                      beta: b, rho: r, prefetchGroup: group, eachStep: true, fields)
                }
            }
            while first + 4 <= upper {
                let group = prefetchRuns && first + 12 <= upper ? first + 8 : -1
                let g = four(first, valid: 4, prefetch: group)
                finish(first, lanes: g, event, fields, finalCall: finalCall, gradientOut: gradientOut, transmit: transmit)
                first += 4
            }
            if first < upper {
                // The last 1–3 synapses as one 4-lane group whose spare lanes repeat the last
                // synapse and are discarded: the scalar loop costs ≈ 4× per synapse (N-MNIST's
                // input rows of ≈ 37 synapses end in one; −2.8 % per sample).
                let valid = upper - first
                let g = four(first, valid: valid, prefetch: -1)
                finish(first, lanes: g, valid: valid, event, fields, finalCall: finalCall, gradientOut: gradientOut,
                       transmit: transmit)
                first = upper
            }
        }
        let mask = history.mask
        let zBarSeq = zBarSequence + event.sequence, zSeq = zSequence + event.sequence
        let iterations = plan.iterations + event.calls, rates = plan.rates + event.rates
        let perSynapseZBar = fields.zBar
        let eps = fields.epsilon, eBar = fields.eBar, eBarReg = fields.eBarReg
        for syn in first..<rows.upperBound {
            let j = Int(tgt[syn])
            let ring = history.ring(j)
            let kj = kappa[j], krj = kappaReg[j], alphaJ = alphaColumn[j], betaJ = beta[j], rhoJ = rho[j]
            var eb = S.load(eBar, syn), ebr = S.load(eBarReg, syn), epsilonJ = eps.map { S.load($0, syn) } ?? 0
            var zb = perSynapseZBar.map { S.load($0, syn) } ?? 0
            var g = gradientIn?[syn] ?? 0
            var opt = optimizerState(syn, fields)
            var rate = 0
            for i in 0..<n {
                let h = ring + ((begin + i) & mask) &* 3
                let zBarValue: Double
                if perSynapseZBar != nil {
                    zb = alphaJ * zb + zSeq[i]
                    zBarValue = zb
                } else {
                    zBarValue = zBarSeq[i]
                }
                let e: Double
                if adaptive {
                    e = h[0] * (zBarValue - betaJ * epsilonJ)
                    epsilonJ = rhoJ * epsilonJ + e
                } else {
                    e = h[0] * zBarValue
                }
                eb = kj * eb + e
                ebr = krj * ebr + (1.0 - krj) * e
                let dg = h[1] * eb + h[2] * ebr
                if each {
                    g = dg
                    apply(&opt, g, iterations: iterations[i], rates: rates, rate: &rate)
                } else {
                    g = g + dg
                }
            }
            if decay > 0 {
                eb *= pow(kj, Double(decay))
                ebr *= pow(krj, Double(decay))
                if adaptive { epsilonJ *= pow(rhoJ, Double(decay)) }
                if perSynapseZBar != nil { zb *= pow(alphaJ, Double(decay)) }
            }
            if finalCall { apply(&opt, g, iterations: iterations[0], rates: rates, rate: &rate) }
            S.store(eBar, syn, eb)
            S.store(eBarReg, syn, ebr)
            if let eps { S.store(eps, syn, epsilonJ) }
            if let perSynapseZBar { S.store(perSynapseZBar, syn, zb) }
            gradientOut?[syn] = g
            store(syn, opt, fields)
            if transmit { input[j] += S.rounded(opt.weight) }
        }
    }

    /// `eightLaneGroups` for rows onto a population that keeps a step-major copy, and for
    /// the others: two functions, so that the gathering rows (N-MNIST) run code without the
    /// pair paths (inlined into one function they cost N-MNIST ≈ 15 % through its register
    /// allocation).
    @inline(never)
    private func eightLaneGroups<S: SynapseScalar>(_ event: PlannedEvent, _ first: Int, _ upper: Int, _: S.Type,
                                                   _ gradientIn: UnsafeMutablePointer<Double>?,
                                                   _ gradientOut: UnsafeMutablePointer<Double>?, _ history: KernelTargets,
                                                   _ k: Double, _ kr: Double, _ kd: Double, _ krd: Double,
                                                   _ fields: Fields<S>, finalCall: Bool, transmit: Bool,
                                                   copy stepMajor: StepMajorView) -> Int {
        eightLaneGroups(event, first, upper, S.self, gradientIn, gradientOut, history, k, kr, kd, krd, fields,
                        finalCall: finalCall, transmit: transmit, stepMajor: stepMajor)
    }

    @inline(never)
    private func eightLaneGroups<S: SynapseScalar>(_ event: PlannedEvent, _ first: Int, _ upper: Int, _: S.Type,
                                                   _ gradientIn: UnsafeMutablePointer<Double>?,
                                                   _ gradientOut: UnsafeMutablePointer<Double>?, _ history: KernelTargets,
                                                   _ k: Double, _ kr: Double, _ kd: Double, _ krd: Double,
                                                   _ fields: Fields<S>, finalCall: Bool, transmit: Bool) -> Int {
        eightLaneGroups(event, first, upper, S.self, gradientIn, gradientOut, history, k, kr, kd, krd, fields,
                        finalCall: finalCall, transmit: transmit, stepMajor: nil)
    }

    /// The 8-lane groups of a row (see `integrate(_:rows:recurrent:)`) from `first`, with the
    /// overlapped tail group; returns where the 4-lane groups go on. With `stepMajor`, eight
    /// consecutive targets read the history's step-major copy: one vector load per channel
    /// instead of eight (the sine-wave network's dense rows: ≈ 1.7× less kernel time).
    @inline(__always)
    private func eightLaneGroups<S: SynapseScalar>(_ event: PlannedEvent, _ first: Int, _ upper: Int, _: S.Type,
                                                   _ gradientIn: UnsafeMutablePointer<Double>?,
                                                   _ gradientOut: UnsafeMutablePointer<Double>?, _ history: KernelTargets,
                                                   _ k: Double, _ kr: Double, _ kd: Double, _ krd: Double,
                                                   _ fields: Fields<S>, finalCall: Bool, transmit: Bool,
                                                   stepMajor: StepMajorView?) -> Int {
        var first = first
        let tgt = connectivity.target, input = self.input
        // The last 5–7 synapses of a longer row run as the upper lanes of a group of
        // eight that overlaps the group before it, instead of as two four-lane groups
        // (each as slow per step as a group of eight; N-MNIST's input rows of ≈ 37).
        // That group runs first and keeps only its upper lanes, so the lower ones are
        // computed again, from the same stored state, by the group before; its
        // transmissions wait for the rest of the row (row order).
        let tail = (upper - first) % 8, overlapped = tail >= 5 && upper - first > 8
        if overlapped {
            let g: SIMD8<Double>
            if let stepMajor, consecutiveTargets(from: upper - 8) {
                g = accumulate(SIMD8<Double>.self, upper - 8, event, S.self, gradientIn, history: history,
                               kappa: k, kappaReg: kr, kappaDecay: kd, kappaRegDecay: krd, adaptive: false,
                               beta: 0, rho: 0, prefetchGroup: -1, eachStep: false, skipsSignalFree: true,
                               keptFrom: 8 - tail, consecutive: stepMajor, fields)
            } else {
                g = accumulate(SIMD8<Double>.self, upper - 8, event, S.self, gradientIn, history: history,
                               kappa: k, kappaReg: kr, kappaDecay: kd, kappaRegDecay: krd, adaptive: false,
                               beta: 0, rho: 0, prefetchGroup: -1, eachStep: false, skipsSignalFree: true,
                               keptFrom: 8 - tail, fields)
            }
            finish(upper - 8, lanes: g, from: 8 - tail, event, fields, finalCall: finalCall,
                   gradientOut: gradientOut, transmit: false)
        }
        if usesWidePairs, S.self == Double.self, let stepMajor, event.rowIsRun, !overlapped, finalCall,
           gradientOut == nil {
            first = runOfPairs(event, first, upper, gradientIn, history, k, kr, kd, krd, fields, transmit: transmit,
                               stepMajor: stepMajor)
        }
        while first + 8 <= upper {
            if usesWidePairs, S.self == Double.self, let stepMajor, first + 16 <= upper {
                let done = widePair(event, first, gradientIn, gradientOut, history, k, kr, kd, krd, fields,
                                    finalCall: finalCall, transmit: transmit, stepMajor: stepMajor,
                                    withTail: upper - first == 20)
                if done > 0 {
                    first += done
                    continue
                }
            }
            // (Not with an overlapped last group: that one assumes whole groups of 8 before it.)
            if usesWidePairs, S.self == Double.self, !overlapped, let stepMajor, first + 15 <= upper,
               gapPair(event, first, gradientIn, gradientOut, history, k, kr, kd, krd, fields, finalCall: finalCall,
                       transmit: transmit, stepMajor: stepMajor) {
                first += 15
                continue
            }
            let g: SIMD8<Double>
            if let stepMajor, consecutiveTargets(from: first) {
                g = accumulate(SIMD8<Double>.self, first, event, S.self, gradientIn, history: history, kappa: k,
                               kappaReg: kr, kappaDecay: kd, kappaRegDecay: krd, adaptive: false, beta: 0,
                               rho: 0, prefetchGroup: -1, eachStep: false, skipsSignalFree: true,
                               consecutive: stepMajor, fields)
            } else {
                g = accumulate(SIMD8<Double>.self, first, event, S.self, gradientIn, history: history, kappa: k,
                               kappaReg: kr, kappaDecay: kd, kappaRegDecay: krd, adaptive: false, beta: 0,
                               rho: 0, prefetchGroup: -1, eachStep: false, skipsSignalFree: true, fields)
            }
            finish(first, lanes: g, event, fields, finalCall: finalCall, gradientOut: gradientOut,
                   transmit: transmit)
            first += 8
        }
        if overlapped {
            if transmit {
                for syn in first..<upper { input[Int(tgt[syn])] += S.load(fields.weights, syn) }
            }
            first = upper
        }
        return first
    }

    /// Synapses first ..< first + 16 as two groups of eight consecutive targets through the
    /// AVX-512 kernel (EpropWide), then `finish` for each group in row order; 0, with
    /// nothing changed, where the targets are not consecutive. Each lane does the operations
    /// of `accumulate` in the same order, and like there, lanes with near-subnormal traces
    /// (checked where a target is quiet) run from 0 and are redone one by one, as are lanes
    /// whose ē overflowed where the L = +0 entries left L·ē out: the same bits. With
    /// `withTail` (the row's last 20 synapses), the last four join the kernel's loop where
    /// their targets are consecutive too and everything finishes in the kernel's module
    /// (gradient descent): returns 20 then, else 16.
    // Out of line: inlined, it enlarged both eight-lane-group functions (their register use
    // is what N-MNIST's gathering rows depend on) for no gain on the sine-wave network.
    @inline(never)
    private func widePair<S: SynapseScalar>(_ event: PlannedEvent, _ first: Int,
                                            _ gradientIn: UnsafeMutablePointer<Double>?,
                                            _ gradientOut: UnsafeMutablePointer<Double>?, _ history: KernelTargets,
                                            _ k: Double, _ kr: Double, _ kd: Double, _ krd: Double,
                                            _ fields: Fields<S>, finalCall: Bool, transmit: Bool,
                                            stepMajor: StepMajorView, withTail: Bool) -> Int {
        guard consecutiveTargets(from: first), consecutiveTargets(from: first + 8) else { return 0 }
        let tgt = connectivity.target
        let targetA = Int(tgt[first]), targetB = Int(tgt[first + 8])
        let interval = wideInterval(event, history, stepMajor, k, kr, kd, krd)
        let n = interval.n, signalFrom = interval.signalFrom, signalTo = interval.signalTo
        let eBar = self.eBar.typed(Double.self), eBarReg = self.eBarReg.typed(Double.self)
        // Near-subnormal traces (only where a target is quiet) start from 0 in the kernel
        // and are redone one by one after it.
        var tiny = 0, unused = SIMD8<Double>()   // bit lane of the 16
        if history.quiet {
            for half in 0..<2 where quietTargets(stepMajor.quietFlags + (half == 0 ? targetA : targetB), lanes: 8) {
                let at = first + 8 * half
                tiny |= Self.nearSubnormalLanes(UnsafeRawPointer(eBar + at).loadUnaligned(as: SIMD8<Double>.self),
                                                UnsafeRawPointer(eBarReg + at).loadUnaligned(as: SIMD8<Double>.self))
                    << (8 * half)
            }
        }
        // The common case whole in the AVX-512 module: kernel, gradient descent and
        // transmission in registers, ē and ē_reg written back once (no copy of the state
        // through memory, no 4-lane optimizer calls).
        // Near-subnormal lanes that the interval cannot change (frozen onto a quiet target,
        // `frozenQuietLane`; not with a decay, which changes them) are kept as they are.
        @inline(__always)
        func frozen(_ lanes: Int, from start: Int) -> Bool {
            lanesFrozen(lanes, from: start, event, gradientIn, history, k, kr)
        }
        if finalCall && gradientOut == nil && optimizer.kind == .gradientDescent
            && (tiny == 0 || (frozen(tiny & 0xFF, from: first) && frozen(tiny >> 8, from: first + 8))) {
            let f = unsafeBitCast(fields, to: Fields<Double>.self)
            let descent = wideDescent(event, weights: f.weights + first, batchSum: f.batchSum.map { $0 + first })
            let input = self.input
            // The row's last four synapses join in where their targets are consecutive and
            // none of their traces is near subnormal but frozen.
            var targetC = -1, keep = tiny
            if withTail && consecutiveTargets(from: first + 16, count: 4) {
                targetC = Int(tgt[first + 16])
                if history.quiet && quietTargets(stepMajor.quietFlags + targetC, lanes: 4) {
                    var eb = UnsafeRawPointer(eBar + first + 16).loadUnaligned(as: SIMD4<Double>.self)
                    var ebr = UnsafeRawPointer(eBarReg + first + 16).loadUnaligned(as: SIMD4<Double>.self)
                    var unusedTail = SIMD4<Double>()
                    let tinyTail = zeroNearSubnormalLanes(valid: 4, adaptive: false, &eb, &ebr, &unusedTail)
                    if tinyTail != 0 {
                        if frozen(tinyTail, from: first + 16) { keep |= tinyTail << 16 } else { targetC = -1 }
                    }
                }
            }
            let withC = targetC >= 0
            if integrateEightLanePairDescending(interval, historyA: stepMajor.base + targetA,
                                                historyB: stepMajor.base + targetB,
                                                historyC: withC ? UnsafePointer(stepMajor.base + targetC) : nil,
                                                eBar: eBar + first, eBarReg: eBarReg + first,
                                                gradientIn: gradientIn.map { UnsafePointer($0 + first) },
                                                descent: descent, inputA: transmit ? input + targetA : nil,
                                                inputB: transmit ? input + targetB : nil,
                                                inputC: transmit && withC ? input + targetC : nil,
                                                keep: UInt32(keep)) {
                #if DEBUG
                if keep != 0 { frozenLaneIntervals.wrappingAdd(keep.nonzeroBitCount, ordering: .relaxed) }
                widePairs.add(1, ordering: .relaxed)
                descendingPairs.add(1, ordering: .relaxed)
                if withC { pairsWithTails.add(1, ordering: .relaxed) }
                if keep != 0 { pairsWithFrozenLanes.add(1, ordering: .relaxed) }
                #endif
                return withC ? 20 : 16
            }
        }
        // A flush (g kept, nothing transmitted) likewise, where no lane needs redoing.
        if !finalCall && !transmit
            && (tiny == 0 || (frozen(tiny & 0xFF, from: first) && frozen(tiny >> 8, from: first + 8)))
            && integrateEightLanePairKeeping(interval, historyA: stepMajor.base + targetA,
                                             historyB: stepMajor.base + targetB, eBar: eBar + first,
                                             eBarReg: eBarReg + first,
                                             gradientIn: gradientIn.map { UnsafePointer($0 + first) },
                                             gradientOut: gradientOut.map { $0 + first }, keep: UInt32(tiny)) {
            #if DEBUG
            widePairs.add(1, ordering: .relaxed)
            keepingPairs.add(1, ordering: .relaxed)
            if tiny != 0 { frozenLaneIntervals.wrappingAdd(tiny.nonzeroBitCount, ordering: .relaxed) }
            #endif
            return 16
        }
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 48) { buffer in
            // ē, ē_reg and g of the 16 lanes, out of the kernel (and into it, see below).
            let state = buffer.baseAddress!
            @inline(__always)
            func lanes(_ offset: Int) -> SIMD8<Double> {
                UnsafeRawPointer(state + offset).loadUnaligned(as: SIMD8<Double>.self)
            }
            @inline(__always)
            func store(_ offset: Int, _ value: SIMD8<Double>) {
                UnsafeMutableRawPointer(state + offset).storeBytes(of: value, as: SIMD8<Double>.self)
            }
            // Where lanes are redone, the kernel reads copies, else the stored values (a
            // copy that is read back at once as whole vectors stalls on store forwarding).
            if tiny != 0 {
                state.update(from: eBar + first, count: 16)
                (state + 16).update(from: eBarReg + first, count: 16)
                if let gradientIn {
                    (state + 32).update(from: gradientIn + first, count: 16)
                } else {
                    (state + 32).update(repeating: 0, count: 16)
                }
                for lane in 0..<16 where tiny >> lane & 1 != 0 {
                    state[lane] = 0
                    state[16 + lane] = 0
                }
                integrateEightLanePair(interval, historyA: stepMajor.base + targetA, historyB: stepMajor.base + targetB,
                                       eBar: state, eBarReg: state + 16, gradientIn: state + 32, out: state)
            } else {
                integrateEightLanePair(interval, historyA: stepMajor.base + targetA, historyB: stepMajor.base + targetB,
                                       eBar: eBar + first, eBarReg: eBarReg + first,
                                       gradientIn: gradientIn.map { UnsafePointer($0 + first) }, out: state)
            }
            for half in 0..<2 {
                var mask = tiny >> (8 * half) & 0xFF
                var eb = lanes(8 * half), ebr = lanes(16 + 8 * half), g = lanes(32 + 8 * half)
                if signalFrom > 0 || signalTo < n {
                    for lane in 0..<8 where !eb[lane].isFinite { mask |= 1 << lane }
                }
                if mask != 0 {
                    var opt = SynapseOptimizerLanes()
                    integrateNearSubnormal(first + 8 * half, lanes: mask, event, fields, gradientIn, history: history,
                                           kappa: k, kappaReg: kr, kappaDecay: kd, kappaRegDecay: krd, adaptive: false,
                                           beta: 0, rho: 0, eachStep: false, eb: &eb, ebr: &ebr, eps: &unused, g: &g,
                                           opt: &opt)
                    store(8 * half, eb); store(16 + 8 * half, ebr); store(32 + 8 * half, g)
                }
            }
            #if DEBUG
            widePairs.add(1, ordering: .relaxed)
            #endif
            (eBar + first).update(from: state, count: 16)
            (eBarReg + first).update(from: state + 16, count: 16)
            finish(first, lanes: lanes(32), event, fields, finalCall: finalCall, gradientOut: gradientOut,
                   transmit: transmit)
            finish(first + 8, lanes: lanes(40), event, fields, finalCall: finalCall, gradientOut: gradientOut,
                   transmit: transmit)
        }
        return 16
    }

    /// Whether every lane set in `lanes` (bit i: synapse start + i, of 8) is frozen onto a
    /// quiet target (`frozenQuietLane`; never with a decay, which changes the traces).
    @inline(__always)
    private func lanesFrozen(_ lanes: Int, from start: Int, _ event: PlannedEvent,
                             _ gradientIn: UnsafeMutablePointer<Double>?, _ history: KernelTargets,
                             _ k: Double, _ kr: Double) -> Bool {
        guard event.decay == 0 else { return false }
        let tgt = connectivity.target
        let eBar = self.eBar.typed(Double.self), eBarReg = self.eBarReg.typed(Double.self)
        for lane in 0..<8 where lanes >> lane & 1 != 0 {
            let syn = start + lane
            let target = Int(tgt[syn])
            guard Self.frozenQuietLane(ring: history.ring(target), begin: event.begin, n: event.n,
                                       mask: history.mask, kappa: k, kappaReg: kr, eBar: eBar[syn],
                                       eBarReg: eBarReg[syn], g: gradientIn?[syn] ?? 0,
                                       kappaFixedPoints: history.kappaFixedPoints,
                                       kappaRegFixedPoints: history.kappaRegFixedPoints,
                                       stretch: history.quietStretches.map { $0 + target }) else { return false }
        }
        return true
    }

    /// A row of consecutive targets (`rowIsRun`) of 16k or 16k + 4 synapses from `first`
    /// through the AVX-512 module in one call (`integrateRunDescending`) where everything
    /// finishes there, as in `widePair`'s common case: kernel, gradient descent and
    /// transmission, near-subnormal lanes kept where frozen. Returns where the per-pair path
    /// goes on: `first` where the row does not qualify (or a near-subnormal lane is not
    /// frozen), else after the pairs done.
    @inline(__always)
    private func runOfPairs<S: SynapseScalar>(_ event: PlannedEvent, _ first: Int, _ upper: Int,
                                              _ gradientIn: UnsafeMutablePointer<Double>?, _ history: KernelTargets,
                                              _ k: Double, _ kr: Double, _ kd: Double, _ krd: Double,
                                              _ fields: Fields<S>, transmit: Bool, stepMajor: StepMajorView) -> Int {
        let length = upper - first, pairs = length / 16
        let tail = length % 16 == 4 && pairs > 0
        guard pairs > 0, pairs <= 64, length % 16 == 0 || tail, optimizer.kind == .gradientDescent else { return first }
        let target0 = Int(connectivity.target[first])
        let eBar = self.eBar.typed(Double.self), eBarReg = self.eBarReg.typed(Double.self)
        return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: pairs) { keepBuffer -> Int in
            let keep = keepBuffer.baseAddress!
            var kept = 0
            for p in 0..<pairs {
                var tiny = 0
                if history.quiet {
                    let at = first + 16 * p, flags = stepMajor.quietFlags + target0 + 16 * p
                    for half in 0..<2 where quietTargets(flags + 8 * half, lanes: 8) {
                        tiny |= Self.nearSubnormalLanes(
                            UnsafeRawPointer(eBar + at + 8 * half).loadUnaligned(as: SIMD8<Double>.self),
                            UnsafeRawPointer(eBarReg + at + 8 * half).loadUnaligned(as: SIMD8<Double>.self))
                            << (8 * half)
                    }
                    if tail && p == pairs - 1 && quietTargets(flags + 16, lanes: 4) {
                        var eb = UnsafeRawPointer(eBar + at + 16).loadUnaligned(as: SIMD4<Double>.self)
                        var ebr = UnsafeRawPointer(eBarReg + at + 16).loadUnaligned(as: SIMD4<Double>.self)
                        var unused = SIMD4<Double>()
                        tiny |= zeroNearSubnormalLanes(valid: 4, adaptive: false, &eb, &ebr, &unused) << 16
                    }
                    if tiny != 0 {
                        for part in 0..<3 where tiny >> (8 * part) & 0xFF != 0 {
                            guard lanesFrozen(tiny >> (8 * part) & 0xFF, from: at + 8 * part, event, gradientIn,
                                              history, k, kr) else { return first }
                        }
                        kept += 1
                    }
                }
                keep[p] = UInt32(tiny)
            }
            let f = unsafeBitCast(fields, to: Fields<Double>.self)
            let done = integrateRunDescending(wideInterval(event, history, stepMajor, k, kr, kd, krd),
                                              history: stepMajor.base + target0, pairs: pairs, tail: tail,
                                              eBar: eBar + first, eBarReg: eBarReg + first,
                                              gradientIn: gradientIn.map { UnsafePointer($0 + first) },
                                              descent: wideDescent(event, weights: f.weights + first,
                                                                   batchSum: f.batchSum.map { $0 + first }),
                                              input: transmit ? self.input + target0 : nil,
                                              keep: kept > 0 ? UnsafePointer(keep) : nil)
            #if DEBUG
            runRows.add(1, ordering: .relaxed)
            widePairs.add(done, ordering: .relaxed)
            descendingPairs.add(done, ordering: .relaxed)
            if tail && done == pairs { pairsWithTails.add(1, ordering: .relaxed) }
            for p in 0..<done where keep[p] != 0 {
                pairsWithFrozenLanes.add(1, ordering: .relaxed)
                frozenLaneIntervals.wrappingAdd(keep[p].nonzeroBitCount, ordering: .relaxed)
            }
            #endif
            return first + 16 * done + (tail && done == pairs ? 4 : 0)
        }
    }

    /// The event's planned gradient-descent call as the AVX-512 module makes it, on the 16
    /// weights (and batch sums) at `weights` (`batchSum`).
    @inline(__always)
    private func wideDescent(_ event: PlannedEvent, weights: UnsafeMutablePointer<Double>,
                             batchSum: UnsafeMutablePointer<Double>?) -> WideDescent {
        let c = optimizer, updates = plan.iterations[event.calls] > 0
        return WideDescent(weights: weights, batchSum: batchSum, updates: updates, batch: Double(c.batchSize),
                           rate: updates ? plan.rates[event.rates] : 0, wMin: c.wMin, wMax: c.wMax)
    }

    /// The event's interval as the AVX-512 kernel reads it (learning-signal span clipped to n).
    @inline(__always)
    private func wideInterval(_ event: PlannedEvent, _ history: KernelTargets, _ stepMajor: StepMajorView,
                              _ k: Double, _ kr: Double, _ kd: Double, _ krd: Double) -> WideInterval {
        let n = event.n
        return WideInterval(begin: event.begin, n: n, mask: history.mask, slotStride: stepMajor.slotStride,
                            channelStride: stepMajor.channelStride, signalFrom: min(event.signalBegin, n),
                            signalTo: min(event.signalEnd, n), zBar: zBarSequence + event.sequence, kappa: k,
                            kappaReg: kr, decays: event.decay > 0, kappaDecay: kd, kappaRegDecay: krd)
    }

    /// Synapses first ..< first + 15 whose targets are 16 consecutive neurons but one (the
    /// source itself in a dense recurrent row without autapses) through the AVX-512 kernel,
    /// with a spare lane for the missing target that is computed and dropped; with gradient
    /// descent after an accumulated interval the descent runs in that module too (the lanes
    /// gathered into 16 and scattered back), else `finish` follows in row order. False, with
    /// nothing changed, for other targets, and where the simple
    /// path cannot hold: a quiet target in the window (near-subnormal traces) or entries
    /// without a learning signal (overflowed ē to redo). Each lane does the operations of
    /// `accumulate` in the same order: the same bits.
    @inline(__always)
    private func gapPair<S: SynapseScalar>(_ event: PlannedEvent, _ first: Int,
                                           _ gradientIn: UnsafeMutablePointer<Double>?,
                                           _ gradientOut: UnsafeMutablePointer<Double>?, _ history: KernelTargets,
                                           _ k: Double, _ kr: Double, _ kd: Double, _ krd: Double,
                                           _ fields: Fields<S>, finalCall: Bool, transmit: Bool,
                                           stepMajor: StepMajorView) -> Bool {
        let tgt = connectivity.target, t0 = tgt[first]
        guard tgt[first + 14] == t0 &+ 15 else { return false }
        // The spare lane: the first whose target is not t0 + lane; every later one must be
        // t0 + lane + 1.
        var spare = 1
        while spare < 15 && tgt[first + spare] == t0 &+ Int32(spare) { spare += 1 }
        var step = Int32(0)
        for lane in spare..<15 { step |= tgt[first + lane] ^ (t0 &+ Int32(lane + 1)) }
        guard step == 0 else { return false }
        guard event.signalBegin == 0 && event.signalEnd >= event.n else { return false }
        let targetA = Int(t0), targetB = targetA + 8
        if history.quiet && (quietTargets(stepMajor.quietFlags + targetA, lanes: 8)
                             || quietTargets(stepMajor.quietFlags + targetB, lanes: 8)) { return false }
        let interval = wideInterval(event, history, stepMajor, k, kr, kd, krd)
        let eBar = self.eBar.typed(Double.self), eBarReg = self.eBarReg.typed(Double.self)
        if finalCall && gradientOut == nil && optimizer.kind == .gradientDescent {
            // The 15 synapses' ē, ē_reg, g, w and G gathered into 16 lanes (the spare one 0),
            // the kernel and the descent in the AVX-512 module, the results scattered back and
            // transmitted in row order.
            let f = unsafeBitCast(fields, to: Fields<Double>.self)
            let done = withUnsafeTemporaryAllocation(of: Double.self, capacity: 80) { buffer -> Bool in
                let state = buffer.baseAddress!
                for lane in 0..<16 {
                    guard lane != spare else {
                        for field in 0..<5 { state[16 * field + lane] = 0 }
                        continue
                    }
                    let syn = first + (lane < spare ? lane : lane - 1)
                    state[lane] = eBar[syn]
                    state[16 + lane] = eBarReg[syn]
                    state[32 + lane] = gradientIn.map { $0[syn] } ?? 0
                    state[48 + lane] = f.weights[syn]
                    state[64 + lane] = f.batchSum.map { $0[syn] } ?? 0
                }
                let descent = wideDescent(event, weights: state + 48, batchSum: f.batchSum == nil ? nil : state + 64)
                guard integrateEightLanePairDescending(interval, historyA: stepMajor.base + targetA,
                                                       historyB: stepMajor.base + targetB, eBar: state,
                                                       eBarReg: state + 16, gradientIn: state + 32, descent: descent,
                                                       inputA: nil, inputB: nil) else { return false }
                let input = self.input
                for lane in 0..<16 where lane != spare {
                    let syn = first + (lane < spare ? lane : lane - 1)
                    eBar[syn] = state[lane]
                    eBarReg[syn] = state[16 + lane]
                    f.weights[syn] = state[48 + lane]
                    if let batchSum = f.batchSum { batchSum[syn] = state[64 + lane] }
                    if transmit { input[Int(tgt[syn])] += state[48 + lane] }
                }
                return true
            }
            if done {
                #if DEBUG
                widePairs.add(1, ordering: .relaxed)
                gapPairs.add(1, ordering: .relaxed)
                descendingPairs.add(1, ordering: .relaxed)
                #endif
                return true
            }
        }
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 64) { buffer in
            // ē, ē_reg and g of the 16 lanes (the spare one from 0), then the 15 g in row order.
            let state = buffer.baseAddress!, g = state + 48
            for lane in 0..<16 {
                if lane == spare {
                    state[lane] = 0; state[16 + lane] = 0; state[32 + lane] = 0
                    continue
                }
                let syn = first + (lane < spare ? lane : lane - 1)
                state[lane] = eBar[syn]
                state[16 + lane] = eBarReg[syn]
                state[32 + lane] = gradientIn.map { $0[syn] } ?? 0
            }
            integrateEightLanePair(interval, historyA: stepMajor.base + targetA, historyB: stepMajor.base + targetB,
                                   eBar: state, eBarReg: state + 16, gradientIn: state + 32, out: state)
            for lane in 0..<16 where lane != spare {
                let i = lane < spare ? lane : lane - 1
                eBar[first + i] = state[lane]
                eBarReg[first + i] = state[16 + lane]
                g[i] = state[32 + lane]
            }
            g[15] = g[14]
            #if DEBUG
            widePairs.add(1, ordering: .relaxed)
            gapPairs.add(1, ordering: .relaxed)
            #endif
            @inline(__always)
            func lanes(_ offset: Int) -> SIMD8<Double> { UnsafeRawPointer(g + offset).loadUnaligned(as: SIMD8<Double>.self) }
            finish(first, lanes: lanes(0), event, fields, finalCall: finalCall, gradientOut: gradientOut,
                   transmit: transmit)
            finish(first + 8, lanes: lanes(8), valid: 7, event, fields, finalCall: finalCall, gradientOut: gradientOut,
                   transmit: transmit)
        }
        return true
    }

    /// The whole 4-lane groups of a row onto adaptive targets (ε) from `first`, where the
    /// population keeps a step-major copy: four consecutive targets load their entries side
    /// by side, the others gather as in `integrate`. Returns where the last 1–3 synapses
    /// start. Out of line, so that the gathering integrate keeps its code.
    @inline(never)
    private func adaptiveFourLaneGroups<S: SynapseScalar>(_ event: PlannedEvent, _ first: Int, _ upper: Int, _: S.Type,
                                                          _ gradientIn: UnsafeMutablePointer<Double>?,
                                                          _ gradientOut: UnsafeMutablePointer<Double>?,
                                                          _ history: KernelTargets, _ k: Double, _ kr: Double,
                                                          _ kd: Double, _ krd: Double, beta: Double, rho: Double,
                                                          _ fields: Fields<S>, finalCall: Bool, transmit: Bool,
                                                          stepMajor: StepMajorView) -> Int {
        var first = first
        while first + 4 <= upper {
            let g: SIMD4<Double>
            if consecutiveTargets(from: first, count: 4) {
                g = accumulate(SIMD4<Double>.self, first, event, S.self, gradientIn, history: history, kappa: k,
                               kappaReg: kr, kappaDecay: kd, kappaRegDecay: krd, adaptive: true, beta: beta, rho: rho,
                               prefetchGroup: -1, eachStep: false, consecutive: stepMajor, fields)
            } else {
                g = accumulate(SIMD4<Double>.self, first, event, S.self, gradientIn, history: history, kappa: k,
                               kappaReg: kr, kappaDecay: kd, kappaRegDecay: krd, adaptive: true, beta: beta, rho: rho,
                               prefetchGroup: -1, eachStep: false, fields)
            }
            finish(first, lanes: g, event, fields, finalCall: finalCall, gradientOut: gradientOut, transmit: transmit)
            first += 4
        }
        return first
    }

    /// Whether one of `lanes` (4 or 8) consecutive neurons' quiet flags at `flags` is set.
    @inline(__always)
    private func quietTargets(_ flags: UnsafeMutablePointer<UInt8>, lanes: Int) -> Bool {
        lanes == 8 ? UnsafeRawPointer(flags).loadUnaligned(as: UInt64.self) != 0
            : UnsafeRawPointer(flags).loadUnaligned(as: UInt32.self) != 0
    }

    /// Whether synapses first ..< first + count target consecutive neurons, in order.
    @inline(__always)
    private func consecutiveTargets(from first: Int, count: Int = 8) -> Bool {
        let tgt = connectivity.target, t0 = tgt[first]
        var step = Int32(0)
        for lane in 1..<count { step |= tgt[first + lane] ^ (t0 &+ Int32(lane)) }
        return step == 0
    }

    /// The accumulate-mode optimizer call (at a spike), the kept g (at a flush) and the
    /// transmission of the synapses first ..< first + valid after `accumulate`.
    @inline(__always)
    private func finish<V: SIMD, S: SynapseScalar>(_ first: Int, lanes g: V, valid: Int = V.scalarCount, from kept: Int = 0,
                                                   _ event: PlannedEvent, _ fields: Fields<S>, finalCall: Bool,
                                                   gradientOut: UnsafeMutablePointer<Double>?,
                                                   transmit: Bool) where V.Scalar == Double {
        let tgt = connectivity.target, input = self.input
        if finalCall && S.self == Double.self && kept == 0 && valid == V.scalarCount && V.scalarCount % 4 == 0
            && optimizer.kind == .gradientDescent {
            withUnsafeBytes(of: g) { lanes in
                let f = unsafeBitCast(fields, to: Fields<Double>.self)
                for quarter in 0..<V.scalarCount / 4 {
                    gradientDescent(first + 4 * quarter, lanes: lanes.loadUnaligned(fromByteOffset: 32 * quarter, as: SIMD4<Double>.self),
                                    event, f)
                }
            }
        } else if finalCall {
            // Four synapses per optimizer call: packed enough to fill the divider with Adam's
            // square roots and divisions, few enough that m, v, w and G stay in registers.
            var lane = kept
            while lane < valid {
                let count = min(4, valid - lane)
                var four = SIMD4<Double>()
                for l in 0..<4 { four[l] = g[lane + min(l, count - 1)] }
                optimize(first + lane, lanes: four, valid: count, event, fields)
                lane += 4
            }
        }
        if let gradientOut {
            if valid == V.scalarCount && kept == 0 {
                UnsafeMutableRawPointer(gradientOut + first).storeBytes(of: g, as: V.self)
            } else {
                for lane in kept..<valid { gradientOut[first + lane] = g[lane] }
            }
        }
        if transmit {
            for syn in first + kept..<first + valid { input[Int(tgt[syn])] += S.load(fields.weights, syn) }
        }
    }

    /// ē, ē_reg of synapses first ..< first + valid (valid ≤ V.scalarCount; spare lanes
    /// compute a copy of the last synapse, never stored) over the interval's n entries
    /// (uniform targets), with the decay applied if due, and their summed gradient g,
    /// continued from `gradientIn`; with `eachStep` (four lanes) the optimizer call of every
    /// entry instead, g then being the last entry's. Each lane does exactly the scalar
    /// operations. With `prefetchGroup` ≥ 0, iteration i also prefetches entry i of the runs
    /// of the synapses prefetchGroup ..< prefetchGroup + V.scalarCount (same event).
    @inline(__always)
    private func accumulate<V: SIMD, S: SynapseScalar>(_: V.Type, _ first: Int, valid: Int = V.scalarCount,
                                                       _ event: PlannedEvent, _: S.Type,
                                                       _ gradientIn: UnsafeMutablePointer<Double>?, history: KernelTargets,
                                                       kappa: Double, kappaReg: Double, kappaDecay: Double,
                                                       kappaRegDecay: Double, adaptive: Bool, beta: Double, rho: Double,
                                                       prefetchGroup: Int, eachStep: Bool, skipsSignalFree: Bool = false,
                                                       keptFrom kept: Int = 0, consecutive stepMajor: StepMajorView? = nil,
                                                       _ fields: Fields<S>) -> V where V.Scalar == Double {
        let lanes = V.scalarCount
        let begin = event.begin, n = event.n, decay = event.decay
        let tgt = connectivity.target
        let mask = history.mask, zBarSeq = zBarSequence + event.sequence
        let oneMinusKappaReg = 1.0 - kappaReg
        // The columns are read from self (not hoisted) so their pointers need no register
        // across the loop below.
        let eBar = self.eBar.typed(S.self), eBarReg = self.eBarReg.typed(S.self)
        let epsilonStore = epsilon?.typed(S.self)
        var eb = V(), ebr = V(), g = V(), eps = V()
        // A full group in double precision reads its columns as vectors.
        let packed = valid == lanes && S.self == Double.self
        if packed {
            eb = UnsafeRawPointer(eBar + first).loadUnaligned(as: V.self)
            ebr = UnsafeRawPointer(eBarReg + first).loadUnaligned(as: V.self)
            if let gradientIn { g = UnsafeRawPointer(gradientIn + first).loadUnaligned(as: V.self) }
            if adaptive, let epsilonStore { eps = UnsafeRawPointer(epsilonStore + first).loadUnaligned(as: V.self) }
        } else {
            for lane in 0..<lanes {
                let syn = first + min(lane, valid - 1)   // spare lanes repeat the last synapse
                eb[lane] = S.load(eBar, syn)
                ebr[lane] = S.load(eBarReg, syn)
                if let gradientIn { g[lane] = gradientIn[syn] }
                if adaptive, let epsilonStore { eps[lane] = S.load(epsilonStore, syn) }
            }
        }
        // optimize_each_step: the optimizer states of the lanes (four), one call per step.
        precondition(!eachStep || lanes == 4)
        var opt = eachStep ? optimizerLanes(first, valid: valid, fields) : SynapseOptimizerLanes()
        let iterations = plan.iterations + event.calls, rates = plan.rates + event.rates
        let config = optimizer
        var rate = 0
        let pf = prefetchGroup >= 0
        let signalFrom = skipsSignalFree ? min(event.signalBegin, n) : 0
        let signalTo = skipsSignalFree ? min(event.signalEnd, n) : n
        // Traces near or below 2^−1022 (synapses onto neurons that stopped firing decay there)
        // would make nearly every multiplication of their lane a microcode assist (≈ 40
        // cycles). Such lanes run the packed loop from 0 and are then redone one by one with
        // integer products (`integrateNearSubnormal`, the same bits).
        // Eight consecutive targets check only when one of them is quiet: their flags are one
        // word. (Skipping the check never changes a result: hardware arithmetic on subnormal
        // numbers is exact, only slow.)
        let mayBeTiny = history.quiet
            && (stepMajor.map { quietTargets($0.quietFlags + Int(tgt[first]), lanes: lanes) } ?? true)
        var tiny = mayBeTiny ? zeroNearSubnormalLanes(valid: valid, adaptive: adaptive, &eb, &ebr, &eps) : 0
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Double>.self, capacity: 2 * lanes) { rings in
            // rings[lane]: the lane's target ring; rings[lanes + lane]: the ring to prefetch.
            for lane in 0..<lanes {
                rings[lane] = history.ring(Int(tgt[first + min(lane, valid - 1)]))
                rings[lanes + lane] = pf ? history.ring(Int(tgt[prefetchGroup + lane])) : rings[lane]
            }
            // Entries signalFrom ..< signalTo with L, the others (L = +0) without: two copies
            // of the loop, the inputs' intervals often reach into the learning window.
            // Consecutive targets: their entries lie side by side in the step-major copy.
            let consecutive = stepMajor != nil
            let slotStride = stepMajor?.slotStride ?? 0, channelStride = stepMajor?.channelStride ?? 0
            let sideBySide = stepMajor.map { $0.base + Int(tgt[first]) } ?? rings[0]
            @inline(__always)
            func entries(_ from: Int, _ to: Int, learningSignal: Bool) {
                for i in from..<to {
                    var psi = V(), learning = V(), reg = V()   // ψ, L, reg of the entry
                    if consecutive {
                        let p = sideBySide + ((begin + i) & mask) &* slotStride
                        let l = p + channelStride, r = l + channelStride
                        for lane in 0..<lanes {
                            psi[lane] = p[lane]
                            if learningSignal { learning[lane] = l[lane] }
                            reg[lane] = r[lane]
                        }
                    } else {
                        let offset = ((begin + i) & mask) &* 3
                        for lane in 0..<lanes {
                            let p = rings[lane] + offset
                            if pf { prefetch(rings[lanes + lane] + offset) }
                            psi[lane] = p[0]
                            if learningSignal { learning[lane] = p[1] }
                            reg[lane] = p[2]
                        }
                    }
                    let e: V
                    if adaptive {
                        // e = ψ·(z̄ − β·ε), then ε = ρ·ε + e (spec §8.3), lane by lane.
                        e = psi * (zBarSeq[i] - beta * eps)
                        eps = rho * eps + e
                    } else {
                        e = psi * zBarSeq[i]
                    }
                    eb = kappa * eb + e
                    ebr = kappaReg * ebr + oneMinusKappaReg * e
                    if eachStep {
                        g = learning * eb + reg * ebr
                        opt.apply(unsafeBitCast(g, to: SIMD4<Double>.self), iterations: iterations[i], rates: rates,
                                  rate: &rate, config.kind, batch: Double(config.batchSize), beta1: config.beta1,
                                  beta2: config.beta2, epsilon: config.epsilon, wMin: config.wMin, wMax: config.wMax)
                    } else if learningSignal {
                        g = g + (learning * eb + reg * ebr)
                    } else {
                        g = g + reg * ebr   // L = +0: see below
                    }
                }
            }
            guard skipsSignalFree else { return entries(0, n, learningSignal: true) }
            entries(0, signalFrom, learningSignal: false)
            entries(signalFrom, signalTo, learningSignal: true)
            entries(signalTo, n, learningSignal: false)
        }
        // Without a learning signal (L = +0, entries outside signalFrom ..< signalTo), Δg =
        // L·ē + reg·ē_reg is reg·ē_reg to the bit while ē is finite: L·ē is then ±0, and
        // x + (±0) = x except for the sign of a zero sum, which cannot reach g (g starts at
        // +0 and (+0) + (±0) = +0; nonzero g + ±0 = g; g is never −0, in any order of the
        // entries with and without L). A lane whose ē overflowed (+0·∞ is NaN) is redone
        // with L, one by one like the near-subnormal lanes below; ē stays non-finite once
        // it is, so its value after the loop tells.
        if skipsSignalFree && (signalFrom > 0 || signalTo < n) {
            for lane in 0..<valid where !eb[lane].isFinite { tiny |= 1 << lane }
        }
        if decay > 0 {
            eb = eb * kappaDecay
            ebr = ebr * kappaRegDecay
            if adaptive { eps = eps * pow(rho, Double(decay)) }
        }
        if tiny != 0 {
            integrateNearSubnormal(first, lanes: tiny, event, fields, gradientIn, history: history, kappa: kappa,
                                   kappaReg: kappaReg, kappaDecay: kappaDecay, kappaRegDecay: kappaRegDecay,
                                   adaptive: adaptive, beta: beta, rho: rho, eachStep: eachStep, eb: &eb, ebr: &ebr,
                                   eps: &eps, g: &g, opt: &opt)
        }
        if eachStep { store(opt, first, valid: valid, fields) }
        if packed && kept == 0 {
            UnsafeMutableRawPointer(eBar + first).storeBytes(of: eb, as: V.self)
            UnsafeMutableRawPointer(eBarReg + first).storeBytes(of: ebr, as: V.self)
            if adaptive { UnsafeMutableRawPointer(epsilonStore! + first).storeBytes(of: eps, as: V.self) }
        } else {
            for lane in kept..<valid {
                S.store(eBar, first + lane, eb[lane])
                S.store(eBarReg, first + lane, ebr[lane])
                if adaptive { S.store(epsilonStore!, first + lane, eps[lane]) }
            }
        }
        return g
    }

    /// The lanes (bit `lane`) of eight whose ē or ē_reg is near subnormal, as
    /// `zeroNearSubnormalLanes` finds them (without zeroing anything): one vector comparison.
    @inline(__always)
    static func nearSubnormalLanes(_ eb: SIMD8<Double>, _ ebr: SIMD8<Double>) -> Int {
        // Integer arithmetic only (masks and their lanes went through memory): with x = |ē|'s
        // bits < 2^63, 0 < x ≤ bits(2^−1000) − 1 ⟺ the signs of −x and x − bits(2^−1000) are set.
        let limit = SIMD8<UInt64>(repeating: (0x1p-1000 as Double).bitPattern)
        let magnitude = SIMD8<UInt64>(repeating: ~(1 << 63))
        @inline(__always) func near(_ v: SIMD8<Double>) -> SIMD8<UInt64> {
            let x = unsafeBitCast(v, to: SIMD8<UInt64>.self) & magnitude
            return ((SIMD8<UInt64>() &- x) & (x &- limit)) &>> 63
        }
        let shifts = SIMD8<UInt64>(0, 1, 2, 3, 4, 5, 6, 7)
        return Int(((near(eb) | near(ebr)) &<< shifts).wrappedSum())
    }

    /// The lanes (bit `lane`, of the first `valid`) whose traces are near subnormal (nonzero
    /// and below 2^−1000 in magnitude: 22 binades above the subnormal range, ≈ 500 decay
    /// steps at κ = 0.97, more than an interval usually holds), set to 0 (spare lanes follow
    /// the last valid one). Only a matter of speed: a lane above the limit that still decays
    /// into the subnormal range in one interval costs microcode assists, not other bits; one
    /// below it takes the slower integer products. (2^−960 sent the sine-wave network's
    /// decaying traces there ≈ 3000 steps early: 1.4 % of its time.) Out of line: only
    /// called for quiet targets.
    @inline(never)
    private func zeroNearSubnormalLanes<V: SIMD>(valid: Int, adaptive: Bool, _ eb: inout V, _ ebr: inout V,
                                                 _ eps: inout V) -> Int where V.Scalar == Double {
        // Without branches (the check runs for every group once a population has quiet
        // neurons): 0 < |x| < 2^−1000 ⟺ |x|'s bits − 1 < bits(2^−1000) − 1, unsigned (−0
        // wraps around; NaN and ∞ lie above).
        let below: UInt64 = (0x1p-1000 as Double).bitPattern &- 1, magnitude: UInt64 = ~(1 << 63)
        var tiny = 0
        for lane in 0..<valid {
            var near = (eb[lane].bitPattern & magnitude) &- 1 < below ? 1 : 0
            near |= (ebr[lane].bitPattern & magnitude) &- 1 < below ? 1 : 0
            if adaptive { near |= (eps[lane].bitPattern & magnitude) &- 1 < below ? 1 : 0 }
            tiny |= near << lane
        }
        if tiny != 0 {
            for lane in 0..<V.scalarCount where tiny & (1 << min(lane, valid - 1)) != 0 {
                eb[lane] = 0; ebr[lane] = 0; eps[lane] = 0
            }
        }
        return tiny
    }

    /// `accumulate`'s loop and decay for the lanes set in `lanes` (synapse first + lane), one
    /// at a time from their stored values, with every product of the traces through
    /// `exactProduct`: the same bits as the packed loop, without microcode assists (the
    /// optimize_each_step calls use the hardware: at most one assist per step). Always with
    /// L·ē: it also redoes lanes whose ē overflowed in a loop without the learning signal.
    @inline(never)
    private func integrateNearSubnormal<V: SIMD, S: SynapseScalar>(_ first: Int, lanes: Int, _ event: PlannedEvent,
                                                                   _ fields: Fields<S>,
                                                                   _ gradientIn: UnsafeMutablePointer<Double>?,
                                                                   history: KernelTargets, kappa: Double,
                                                                   kappaReg: Double, kappaDecay: Double,
                                                                   kappaRegDecay: Double, adaptive: Bool, beta: Double,
                                                                   rho: Double, eachStep: Bool, eb: inout V,
                                                                   ebr: inout V, eps: inout V, g: inout V,
                                                                   opt: inout SynapseOptimizerLanes)
                                                                   where V.Scalar == Double {
        let iterations = plan.iterations + event.calls, rates = plan.rates + event.rates
        let config = optimizer
        let eBar = self.eBar.typed(S.self), eBarReg = self.eBarReg.typed(S.self)
        let epsilonStore = epsilon?.typed(S.self)
        let begin = event.begin, n = event.n, decay = event.decay
        let tgt = connectivity.target, mask = history.mask, zBarSeq = zBarSequence + event.sequence
        let oneMinusKappaReg = 1.0 - kappaReg
        let rhoDecay = adaptive && decay > 0 ? pow(rho, Double(decay)) : 1
        for lane in 0..<V.scalarCount where lanes & (1 << lane) != 0 {
            let syn = first + lane
            let ring = history.ring(Int(tgt[syn]))
            var e1 = S.load(eBar, syn), e2 = S.load(eBarReg, syn), gl = gradientIn?[syn] ?? 0
            var ep = adaptive ? S.load(epsilonStore!, syn) : 0
            var synapseOpt = optimizerState(syn, fields), rate = 0
            let frozen = !eachStep && !adaptive
                && Self.frozenQuietLane(ring: ring, begin: begin, n: n, mask: mask, kappa: kappa,
                                        kappaReg: kappaReg, eBar: e1, eBarReg: e2, g: gl,
                                        kappaFixedPoints: history.kappaFixedPoints,
                                        kappaRegFixedPoints: history.kappaRegFixedPoints,
                                        stretch: history.quietStretches.map { $0 + Int(tgt[syn]) })
            #if DEBUG
            if frozen { frozenLaneIntervals.wrappingAdd(1, ordering: .relaxed) }
            #endif
            for i in 0..<(frozen ? 0 : n) {
                let h = ring + ((begin + i) & mask) &* 3
                let e: Double
                if adaptive {
                    e = exactProduct(h[0], zBarSeq[i] - exactProduct(beta, ep))
                    ep = exactProduct(rho, ep) + e
                } else {
                    e = exactProduct(h[0], zBarSeq[i])
                }
                e1 = exactProduct(kappa, e1) + e
                e2 = exactProduct(kappaReg, e2) + exactProduct(oneMinusKappaReg, e)
                if eachStep {
                    gl = exactProduct(h[1], e1) + exactProduct(h[2], e2)
                    synapseOpt.apply(gl, iterations: iterations[i], rates: rates, rate: &rate, config.kind,
                                     batch: Double(config.batchSize), beta1: config.beta1, beta2: config.beta2,
                                     epsilon: config.epsilon, wMin: config.wMin, wMax: config.wMax)
                } else {
                    gl = gl + (exactProduct(h[1], e1) + exactProduct(h[2], e2))
                }
            }
            if eachStep && lane < 4 {
                (opt.weight[lane], opt.sum[lane], opt.m[lane], opt.v[lane]) =
                    (synapseOpt.weight, synapseOpt.sum, synapseOpt.m, synapseOpt.v)
            }
            if decay > 0 {
                e1 = exactProduct(e1, kappaDecay)
                e2 = exactProduct(e2, kappaRegDecay)
                if adaptive { ep = exactProduct(ep, rhoDecay) }
            }
            eb[lane] = e1; ebr[lane] = e2; eps[lane] = ep; g[lane] = gl
        }
    }

    /// Whether the accumulate-mode loop of `integrateNearSubnormal` would leave ē, ē_reg and
    /// g exactly as they are over the n entries from `begin` of the target's `ring`, so it
    /// can be skipped. A synapse onto a neuron that stopped firing ends there and stays,
    /// often for the rest of a run: with κ > 1/2 its ē does not decay to 0 but to a fixed
    /// point of x ↦ κ⊗x a few grid steps above 0 (m ↦ round(κ·m) for m·2^−1074 keeps
    /// m < 1/(2(1 − κ))), and every step then cost six integer products (16 % of the
    /// sine-wave network). Holds when
    /// - ψ = 0 at every entry: e = ψ⊗z̄ = ±0, so ē ← κ⊗ē + e and ē_reg ← κ_reg⊗ē_reg +
    ///   (1 − κ_reg)⊗e are κ⊗ē and κ_reg⊗ē_reg, which equal ē and ē_reg (fixed points);
    /// - each Δg = L⊗ē + reg⊗ē_reg is too small to change g: |Δg| ≤ (|L|max·m + |reg|max·m_reg
    ///   + 1)·2^−1074 (m, m_reg: ē, ē_reg in units of 2^−1074; each product rounds by at most
    ///   half a unit), which is below a quarter of g's last place (so g + Δg = g even next
    ///   to a power of two), or rounds every product to ±0 (|L|max·m ≤ 1/4 and likewise for
    ///   reg: then g + (±0) = g, g never being −0).
    ///
    /// Below `kappaFixedPoints` (`kappaRegFixedPoints`) ē (ē_reg) is known to be a fixed point
    /// without the product; 0 checks with it.
    ///
    /// With `stretch` (the target's `QuietStretch`), entries it covers are not read again:
    /// its bounds stand in for theirs (at least their maxima, so the test only gets stricter),
    /// and the entries read extend it.
    static func frozenQuietLane(ring: UnsafeMutablePointer<Double>, begin: Int, n: Int, mask: Int, kappa: Double,
                                kappaReg: Double, eBar: Double, eBarReg: Double, g: Double,
                                kappaFixedPoints: UInt64 = 0, kappaRegFixedPoints: UInt64 = 0,
                                stretch: UnsafeMutablePointer<QuietStretch>? = nil) -> Bool {
        guard eBar >= 0, eBar < 0x1p-1022, eBarReg >= 0, eBarReg < 0x1p-1022,
              eBar.bitPattern <= kappaFixedPoints || exactProduct(kappa, eBar) == eBar,
              eBarReg.bitPattern <= kappaRegFixedPoints || exactProduct(kappaReg, eBarReg) == eBarReg
        else { return false }
        // One pass without branches over the magnitudes' bit patterns, which order like the
        // magnitudes, with NaN and ∞ above every finite value: ψ must be ±0 at every entry,
        // and L and reg finite (NaN and ∞ change g).
        let magnitude: UInt64 = ~(1 << 63), infinity = Double.infinity.bitPattern
        @inline(__always)
        func read(_ from: Int, _ to: Int) -> (quiet: Bool, maxL: Double, maxReg: Double) {
            var psiBits: UInt64 = 0, lBits: UInt64 = 0, regBits: UInt64 = 0
            for t in from..<to {
                let h = ring + (t & mask) &* 3
                psiBits |= h[0].bitPattern & magnitude
                lBits = max(lBits, h[1].bitPattern & magnitude)
                regBits = max(regBits, h[2].bitPattern & magnitude)
            }
            return (psiBits == 0 && lBits < infinity && regBits < infinity,
                    Double(bitPattern: lBits), Double(bitPattern: regBits))
        }
        let end = begin + n
        if let stretch {
            let known = stretch.pointee
            if known.from < known.to && known.from <= begin && begin <= known.to {
                // The stretch covers the interval up to `known.to`: read only the rest.
                let rest = read(min(max(known.to, begin), end), end)
                guard rest.quiet else {
                    stretch.pointee = QuietStretch()
                    return false
                }
                let merged = QuietStretch(from: known.from, to: max(known.to, end), maxL: max(known.maxL, rest.maxL),
                                          maxReg: max(known.maxReg, rest.maxReg))
                stretch.pointee = merged
                if frozenBound(maxL: merged.maxL, maxReg: merged.maxReg, eBar: eBar, eBarReg: eBarReg, g: g) {
                    return true
                }
                // The stretch's bounds may be those of older, larger entries: the interval's own.
            } else {
                let all = read(begin, end)
                guard all.quiet else { return false }
                stretch.pointee = QuietStretch(from: begin, to: end, maxL: all.maxL, maxReg: all.maxReg)
                return frozenBound(maxL: all.maxL, maxReg: all.maxReg, eBar: eBar, eBarReg: eBarReg, g: g)
            }
        }
        let all = read(begin, end)
        guard all.quiet else { return false }
        let (maxL, maxReg) = (all.maxL, all.maxReg)
        return frozenBound(maxL: maxL, maxReg: maxReg, eBar: eBar, eBarReg: eBarReg, g: g)
    }

    /// The last test of `frozenQuietLane`: whether no product L⊗ē, reg⊗ē_reg (|L| ≤ maxL,
    /// |reg| ≤ maxReg; +∞ or NaN bounds fail) can change g. ē, ē_reg: non-negative, below 2^−1022.
    @inline(__always)
    static func frozenBound(maxL: Double, maxReg: Double, eBar: Double, eBarReg: Double, g: Double) -> Bool {
        // ē, ē_reg < 2^−1022 are multiples of 2^−1074: m = ē·2^1074 exactly (as integers).
        let m = Double(eBar.bitPattern), mReg = Double(eBarReg.bitPattern)
        let lProducts = maxL * m, regProducts = maxReg * mReg   // normal numbers, relative error < 2^−52
        if lProducts <= 0.25 * (1 - 0x1p-40) && regProducts <= 0.25 * (1 - 0x1p-40) { return true }
        // g normal: a quarter of its last place is 2^(exponent − 1077) = 2^(exponent − 3) units.
        let exponent = Int((g.bitPattern >> 52) & 0x7FF)
        guard exponent > 0, exponent < 0x7FF else { return false }
        let bound = (lProducts + regProducts + 1) * (1 + 0x1p-40)
        return bound < Double(sign: .plus, exponent: exponent - 3, significand: 1)
    }

    private func integrate<S: SynapseScalar>(_ event: PlannedEvent, rows: Range<Int>, readout population: KernelTargets,
                                             _ fields: Fields<S>, transmitting: Bool) {
        let alphaColumn = population.alpha
        let begin = event.begin, n = event.n, decay = event.decay, flush = event.flush
        let history = population
        precondition(n == 0 || (history.contains(begin) && history.contains(begin + n - 1)),
                     "readout history entries \(begin)..<\(begin + n) missing (window \(history.firstStep)..<\(history.endStep))")
        let mask = history.mask
        let each = optimizer.eachStep, transmit = !flush && transmitting
        let finalCall = !each && !flush
        let zBarSeq = zBarSequence + event.sequence, zSeq = zSequence + event.sequence
        let iterations = plan.iterations + event.calls, rates = plan.rates + event.rates
        let perSynapseZBar = fields.zBar
        let (gradientIn, gradientOut) = fields.gradients(event)
        let tgt = connectivity.target, input = self.input
        if !each {
            // Accumulate mode: each synapse's g, then one optimizer call per four synapses
            // (packed Adam iterations), then the transmissions in row order.
            var first = rows.lowerBound
            while first < rows.upperBound {
                let valid = min(4, rows.upperBound - first)
                var g4 = SIMD4<Double>()
                if let perSynapseZBar {
                    // Per-synapse z̄ (targets' τ_m differ): one synapse at a time.
                    for lane in 0..<valid {
                        let syn = first + lane
                        let k = Int(tgt[syn])
                        let ring = history.ring(k)
                        var zb = S.load(perSynapseZBar, syn)
                        var g = gradientIn?[syn] ?? 0
                        for i in 0..<n {
                            zb = alphaColumn[k] * zb + zSeq[i]
                            g = g + ring[(begin + i) & mask] * zb
                        }
                        if decay > 0 { zb *= pow(alphaColumn[k], Double(decay)) }
                        S.store(perSynapseZBar, syn, zb)
                        g4[lane] = g
                    }
                    for lane in valid..<4 { g4[lane] = g4[valid - 1] }
                } else {
                    // Four independent g chains side by side (each lane the scalar operations;
                    // spare lanes repeat the last synapse).
                    func ring(_ lane: Int) -> UnsafeMutablePointer<Double> {
                        history.ring(Int(tgt[first + min(lane, valid - 1)]))
                    }
                    let r = (ring(0), ring(1), ring(2), ring(3))
                    for lane in 0..<4 { g4[lane] = gradientIn?[first + min(lane, valid - 1)] ?? 0 }
                    for i in 0..<n {
                        let slot = (begin + i) & mask
                        g4 = g4 + SIMD4(r.0[slot], r.1[slot], r.2[slot], r.3[slot]) * zBarSeq[i]
                    }
                }
                if let gradientOut { for lane in 0..<valid { gradientOut[first + lane] = g4[lane] } }
                if finalCall { optimize(first, lanes: g4, valid: valid, event, fields) }
                if transmit {
                    for syn in first..<first + valid { input[Int(tgt[syn])] += S.load(fields.weights, syn) }
                }
                first += valid
            }
            return
        }
        // optimize_each_step: one optimizer call per step of the interval.
        for syn in rows {
            let k = Int(tgt[syn])
            let ring = history.ring(k)
            let alphaK = alphaColumn[k]
            var zb = perSynapseZBar.map { S.load($0, syn) } ?? 0
            var g = gradientIn?[syn] ?? 0
            var opt = optimizerState(syn, fields)
            var rate = 0
            for i in 0..<n {
                let zBarValue: Double
                if perSynapseZBar != nil {
                    zb = alphaK * zb + zSeq[i]
                    zBarValue = zb
                } else {
                    zBarValue = zBarSeq[i]
                }
                g = ring[(begin + i) & mask] * zBarValue
                apply(&opt, g, iterations: iterations[i], rates: rates, rate: &rate)
            }
            if decay > 0 && perSynapseZBar != nil { zb *= pow(alphaK, Double(decay)) }
            if let perSynapseZBar { S.store(perSynapseZBar, syn, zb) }
            gradientOut?[syn] = g
            store(syn, opt, fields)
            if transmit { input[k] += S.rounded(opt.weight) }
        }
    }

    @inline(__always)
    private func optimizerState<S: SynapseScalar>(_ syn: Int, _ f: Fields<S>) -> SynapseOptimizer {
        SynapseOptimizer(weight: S.load(f.weights, syn), sum: f.batchSum.map { S.load($0, syn) } ?? 0,
                         m: f.adamM.map { S.load($0, syn) } ?? 0, v: f.adamV.map { S.load($0, syn) } ?? 0)
    }

    @inline(__always)
    private func store<S: SynapseScalar>(_ syn: Int, _ opt: SynapseOptimizer, _ f: Fields<S>) {
        S.store(f.weights, syn, opt.weight)
        if let batchSum = f.batchSum { S.store(batchSum, syn, opt.sum) }   // without the array, G is 0 after every call
        if let adamM = f.adamM, let adamV = f.adamV {
            S.store(adamM, syn, opt.m)
            S.store(adamV, syn, opt.v)
        }
    }

    /// Planned optimizer call with gradient g (spec §9.3).
    @inline(__always)
    private func apply(_ opt: inout SynapseOptimizer, _ g: Double, iterations: Int32,
                       rates: UnsafeMutablePointer<Double>, rate: inout Int) {
        let c = optimizer
        opt.apply(g, iterations: iterations, rates: rates, rate: &rate, c.kind, batch: Double(c.batchSize),
                  beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon, wMin: c.wMin, wMax: c.wMax)
    }

    /// The event's final (accumulate-mode) optimizer call for synapses first ..< first + valid
    /// (valid ≤ 4; spare lanes repeat the last synapse and are not stored) with
    /// gradients g, lane by lane. Out of line, so that `finish` is small enough to be inlined
    /// into the kernel's groups (N-MNIST −1 %).
    @inline(never)
    private func optimize<S: SynapseScalar>(_ first: Int, lanes g: SIMD4<Double>, valid: Int, _ event: PlannedEvent,
                                            _ f: Fields<S>) {
        var opt = optimizerLanes(first, valid: valid, f)
        let c = optimizer
        var rate = 0
        opt.apply(g, iterations: plan.iterations[event.calls], rates: plan.rates + event.rates, rate: &rate, c.kind,
                  batch: Double(c.batchSize), beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon, wMin: c.wMin,
                  wMax: c.wMax)
        store(opt, first, valid: valid, f)
    }

    /// The optimizer call of synapses first ..< first + 4 (double storage) with gradient
    /// descent: `SynapseOptimizerLanes.apply` on their weights and sums loaded side by side,
    /// without `optimize`'s generality (no Adam moments to load, no lanes to pack).
    @inline(__always)
    private func gradientDescent(_ first: Int, lanes g: SIMD4<Double>, _ event: PlannedEvent, _ f: Fields<Double>) {
        typealias V = SIMD4<Double>
        let w = UnsafeMutableRawPointer(f.weights + first)
        var opt = SynapseOptimizerLanes(weight: w.loadUnaligned(as: V.self),
                                        sum: f.batchSum.map { UnsafeRawPointer($0 + first).loadUnaligned(as: V.self) } ?? V(),
                                        m: V(), v: V())
        let c = optimizer
        var rate = 0
        opt.apply(g, iterations: plan.iterations[event.calls], rates: plan.rates + event.rates, rate: &rate,
                  .gradientDescent, batch: Double(c.batchSize), beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon,
                  wMin: c.wMin, wMax: c.wMax)
        w.storeBytes(of: opt.weight, as: V.self)
        if let batchSum = f.batchSum { UnsafeMutableRawPointer(batchSum + first).storeBytes(of: opt.sum, as: V.self) }
    }

    /// The optimizer states of synapses first ..< first + valid in four lanes (spare lanes
    /// repeat the last synapse).
    @inline(__always)
    private func optimizerLanes<S: SynapseScalar>(_ first: Int, valid: Int, _ f: Fields<S>) -> SynapseOptimizerLanes {
        var opt = SynapseOptimizerLanes()
        if valid == 4 && S.self == Double.self {
            func four(_ p: UnsafeMutablePointer<S>) -> SIMD4<Double> { UnsafeRawPointer(p + first).loadUnaligned(as: SIMD4<Double>.self) }
            opt.weight = four(f.weights)
            if let batchSum = f.batchSum { opt.sum = four(batchSum) }
            if let adamM = f.adamM, let adamV = f.adamV { (opt.m, opt.v) = (four(adamM), four(adamV)) }
            return opt
        }
        for lane in 0..<4 {
            let syn = first + min(lane, valid - 1)
            opt.weight[lane] = S.load(f.weights, syn)
            if let batchSum = f.batchSum { opt.sum[lane] = S.load(batchSum, syn) }
            if let adamM = f.adamM, let adamV = f.adamV {
                opt.m[lane] = S.load(adamM, syn)
                opt.v[lane] = S.load(adamV, syn)
            }
        }
        return opt
    }

    /// Stores the first `valid` lanes of `opt` into synapses first ..< first + valid.
    @inline(__always)
    private func store<S: SynapseScalar>(_ opt: SynapseOptimizerLanes, _ first: Int, valid: Int, _ f: Fields<S>) {
        if valid == 4 && S.self == Double.self {
            func four(_ p: UnsafeMutablePointer<S>, _ x: SIMD4<Double>) { UnsafeMutableRawPointer(p + first).storeBytes(of: x, as: SIMD4<Double>.self) }
            four(f.weights, opt.weight)
            if let batchSum = f.batchSum { four(batchSum, opt.sum) }
            if let adamM = f.adamM, let adamV = f.adamV { four(adamM, opt.m); four(adamV, opt.v) }
            return
        }
        for lane in 0..<valid {
            let syn = first + lane
            S.store(f.weights, syn, opt.weight[lane])
            if let batchSum = f.batchSum { S.store(batchSum, syn, opt.sum[lane]) }   // without it, G is 0 after every call
            if let adamM = f.adamM, let adamV = f.adamV {
                S.store(adamM, syn, opt.m[lane])
                S.store(adamV, syn, opt.v[lane])
            }
        }
    }
}

/// Work of the events one projection planned in a step: what every synapse of each event's
/// row does in `integrate`, tallied once per event (row length × steps), never per synapse,
/// and added to the network's counters once per step (WorkCounters.swift).
struct EventTally {
    var plastic = 0, automaticFlushes = 0, transmissions = 0, steps = 0, decays = 0, traceSteps = 0
    var calls = 0, updates = 0, iterations = 0
    /// Synapse-events of first spikes (target and weight read) and of integrated events
    /// (every field read and written), and pending-g reads plus writes (8 B each).
    var firstSpikes = 0, integrated = 0, gradientAccesses = 0

    /// An event over `row` synapses with `calls` optimizer calls planned (`updates` of them
    /// updating, in `iterations` iterations), the same for every synapse of the row.
    @inline(__always)
    mutating func count(_ event: EpropProjection.PlannedEvent, row: Int, automatic: Bool, perSynapseTrace: Bool,
                        calls: Int, updates: Int, iterations: Int) {
        plastic &+= row
        if automatic { automaticFlushes &+= 1 }
        if !event.flush { transmissions &+= row }
        guard event.integrates else {
            if !event.flush { firstSpikes &+= row }   // a source's first event computes nothing
            return
        }
        integrated &+= row
        if event.hasGradientIn { gradientAccesses &+= row }
        if event.hasGradientOut { gradientAccesses &+= row }
        let n = event.n, rowSteps = row &* n
        steps &+= rowSteps
        if event.decay > 0 { decays &+= row }
        traceSteps &+= perSynapseTrace ? n &+ rowSteps : n
        self.calls &+= row &* calls
        self.updates &+= row &* updates
        self.iterations &+= row &* iterations
    }
}

/// What the gradient kernel reads of the target population: raw pointers and values,
/// gathered once per integrate call. Reading them through the population object per event
/// retains and releases objects both threads share, and those atomic counts on one cache
/// line cost a second thread more than its share of the work.
struct KernelTargets {
    let data: UnsafeMutablePointer<Double>
    let entryStride: Int, mask: Int
    let firstStep: Int, endStep: Int
    let ringBytes: Int
    let alpha: Column, kappa: Column, kappaReg: Column, beta: Column, rho: Column
    let adaptive: Bool
    /// Some target has had ψ = 0 for long: traces onto it may be near subnormal.
    let quiet: Bool
    /// The fixed points of κ⊗ and κ_reg⊗ in the subnormal range (`RecurrentPopulation.
    /// traceFixedPoints`, `rateFixedPoints`; 0 for readouts).
    let kappaFixedPoints: UInt64, kappaRegFixedPoints: UInt64
    /// The targets' quiet stretches (`EpropHistory.quietStretches`), where this integration
    /// runs alone (nil: the frozen-lane checks read every interval).
    var quietStretches: UnsafeMutablePointer<QuietStretch>? = nil

    init(_ target: EpropProjection.UnretainedTarget, quietStretches: Bool = false) {
        switch target {
        case .recurrent(let population):
            (alpha, kappa, kappaReg, beta, rho, adaptive, quiet, data, entryStride, mask, firstStep, endStep, ringBytes)
                = population._withUnsafeGuaranteedRef { p in
                    Unmanaged.passUnretained(p.history)._withUnsafeGuaranteedRef { h in
                        (p.alpha, p.kappa, p.kappaReg, p.beta, p.rho, p.model.isAdaptive, p.hasQuietNeurons,
                         h.data, h.capacity &* h.channels, h.mask, h.firstStep, h.endStep, h.bytes)
                    }
                }
            (kappaFixedPoints, kappaRegFixedPoints) = population._withUnsafeGuaranteedRef { p in
                (p.traceFixedPoints, p.rateFixedPoints)
            }
            if quietStretches {
                self.quietStretches = population._withUnsafeGuaranteedRef { p in
                    Unmanaged.passUnretained(p.history)._withUnsafeGuaranteedRef { $0.quietStretches }
                }
            }
        case .readout(let population):
            (alpha, data, entryStride, mask, firstStep, endStep, ringBytes) = population._withUnsafeGuaranteedRef { p in
                Unmanaged.passUnretained(p.history)._withUnsafeGuaranteedRef { h in
                    (p.alpha, h.data, h.capacity &* h.channels, h.mask, h.firstStep, h.endStep, h.bytes)
                }
            }
            (kappa, kappaReg, beta, rho) = (alpha, alpha, alpha, alpha)   // unused for readouts
            adaptive = false
            quiet = false
            (kappaFixedPoints, kappaRegFixedPoints) = (0, 0)
        }
    }

    /// Base of neuron j's ring.
    @inline(__always) func ring(_ j: Int) -> UnsafeMutablePointer<Double> { data + j &* entryStride }

    func contains(_ t: Int) -> Bool { t >= firstStep && t < endStep }
}

/// A recurrent population's step-major history copy ([slot][channel][neuron]) as the
/// kernel reads it, if the population keeps one (kept apart from `KernelTargets`, which
/// every other event passes by value).
struct StepMajorView {
    let base: UnsafeMutablePointer<Double>
    let slotStride: Int, channelStride: Int
    /// The population's per-neuron quiet flags (`RecurrentPopulation.quietFlags`).
    let quietFlags: UnsafeMutablePointer<UInt8>

    init?(_ target: EpropProjection.UnretainedTarget) {
        guard case .recurrent(let population) = target else { return nil }
        guard let view = population._withUnsafeGuaranteedRef({ p in
            Unmanaged.passUnretained(p.history)._withUnsafeGuaranteedRef { h in
                h.stepMajor.map { ($0, h.stepMajorSlotStride, h.neurons, p.quietFlags) }
            }
        }) else { return nil }
        (base, slotStride, channelStride, quietFlags) = view
    }
}
