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
    /// Neurons in the target population.
    var targetCount: Int { get }
    /// Takes the source population's events stamped `stamp` and plans what all synapses of
    /// a source share (spec §1.3 phase 2; sequential).
    func planEvents(_ events: EventList, stamp: Int)
    /// Integrates the planned events into the synapses whose targets lie in `targets` and
    /// transmits them to those targets; disjoint ranges touch disjoint data (parallel).
    func integrate(targets: Range<Int>)
    /// Parallel form of `integrate`, phase A: splits the planned events' synapses into
    /// `parts` contiguous, cache-line aligned shares of about equal work (sequential).
    func partition(parts: Int)
    /// Phase A: gradients and weight updates of share `part` (no transmission).
    func integrateSynapses(part: Int)
    /// Phase B, after every share of phase A: transmits the planned spikes to the targets in
    /// `targets` (and, for projections without phase A, integrates them as `integrate` does).
    func transmit(targets: Range<Int>)
    /// Synapse work of the events planned last, in synapse-steps: what decides whether a
    /// step is worth running on several threads (`Network.parallelMinimumWork`).
    var plannedWork: Int { get }
}

extension Projection {
    public var count: Int { connectivity.count }

    func partition(parts: Int) {}
    func integrateSynapses(part: Int) {}
    public var plannedWork: Int { 0 }
    func transmit(targets: Range<Int>) { integrate(targets: targets) }

    /// Processes the events of the source population stamped `stamp`, all targets at once.
    func deliver(_ events: EventList, stamp: Int) {
        planEvents(events, stamp: stamp)
        integrate(targets: 0..<targetCount)
    }

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

    /// Takes weights given in the connectivity's storage order.
    init(_ weights: [Double]) {
        count = weights.count
        values = .allocate(capacity: max(count, 1))
        for k in 0..<count { values[k] = weights[k] }
    }

    deinit { values.deallocate() }

    func set(_ w: UnsafeBufferPointer<Double>) { for k in 0..<count { values[k] = w[k] } }
}

/// `static_synapse`: a fixed weight; a spike of multiplicity n adds the weight n times,
/// as n separate events do in NEST. Flush events are dropped.
final class StaticProjection: Projection, WorkCounting {
    let sourcePopulation: Int
    let targetPopulation: Int
    let targetCount: Int
    /// The source's events of the current step (valid until the source updates).
    private var events: EventList?
    var synapseModel: String { "static_synapse" }
    let connectivity: Connectivity
    let weights: FixedWeights
    let input: UnsafeMutablePointer<Double>
    var counters = WorkCounters()

    init(source: Int, target: Int, targetCount: Int, connectivity: Connectivity, weights: [Double],
         input: UnsafeMutablePointer<Double>) {
        sourcePopulation = source
        targetPopulation = target
        self.targetCount = targetCount
        self.connectivity = connectivity
        self.input = input
        self.weights = FixedWeights(weights)
    }

    deinit { connectivity.free() }

    func weight(_ i: Int) -> Double { weights.values[i] }
    func setWeights(_ w: UnsafeBufferPointer<Double>) { weights.set(w) }

    func planEvents(_ events: EventList, stamp: Int) {
        self.events = events
        // Work counters: every synapse of a spiking source transmits once per multiplicity,
        // reading its target index and weight (12 B).
        var transmissions = 0
        connectivity.rowStart.withUnsafeBufferPointer { row in
            for e in 0..<events.count where events.multiplicity[e] > 0 {
                let s = Int(events.ids[e])
                transmissions += (row[s + 1] - row[s]) * Int(events.multiplicity[e])
            }
        }
        counters.add(.synapticEvents, transmissions)
        counters.add(.synapseStateBytesTouched, transmissions * MemoryModel.fixedSynapseBytes)
    }

    func integrate(targets: Range<Int>) {
        guard let events, events.count > 0 else { return }
        let target = connectivity.target, w = weights.values, input = self.input
        let whole = targets.lowerBound == 0 && targets.upperBound == targetCount
        connectivity.rowStart.withUnsafeBufferPointer { row in
            for e in 0..<events.count {
                let mult = events.multiplicity[e]
                guard mult > 0 else { continue }
                let s = Int(events.ids[e])
                let rows = whole ? row[s]..<row[s + 1] : connectivity.synapses(of: s, into: targets)
                for _ in 0..<mult {
                    for k in rows { input[Int(target[k])] += w[k] }
                }
            }
        }
    }
}

/// `eprop_learning_signal_connection` (spec §6) and its baseline twin (§10.5): feedback
/// weight B_jk from readout k to recurrent neuron j. At the start of step t it adds B_jk·e_k
/// of the readout's step t − 1 to the learning signal of history entry t − 2 (baseline
/// targets: t − 3); its delay is ignored, as in NEST.
final class LearningSignalProjection: Projection, WorkCounting {
    let sourcePopulation: Int
    let targetPopulation: Int
    var targetCount: Int { recurrent.size }
    let synapseModel: String
    let connectivity: Connectivity
    let weights: FixedWeights
    unowned let readouts: ReadoutPopulation
    unowned let recurrent: RecurrentPopulation
    private let unretainedReadouts: Unmanaged<ReadoutPopulation>
    private let unretainedRecurrent: Unmanaged<RecurrentPopulation>
    var counters = WorkCounters()

    init(source: Int, target: Int, connectivity: Connectivity, weights: [Double],
         readouts: ReadoutPopulation, recurrent: RecurrentPopulation, synapseModel: String) {
        self.synapseModel = synapseModel
        sourcePopulation = source
        targetPopulation = target
        self.connectivity = connectivity
        self.readouts = readouts
        self.recurrent = recurrent
        unretainedReadouts = .passUnretained(readouts)
        unretainedRecurrent = .passUnretained(recurrent)
        self.weights = FixedWeights(weights)
        let n = max(connectivity.count, 1)
        incomingWeight = .allocate(capacity: n)
        incomingWeight.initialize(repeating: 0, count: n)
        incomingSource = .allocate(capacity: n)
        incomingSource.initialize(repeating: 0, count: n)
        incomingStart = []
        refreshIncoming()
    }

    deinit {
        connectivity.free()
        incomingWeight.deallocate()
        incomingSource.deallocate()
    }

    func weight(_ i: Int) -> Double { weights.values[i] }
    func setWeights(_ w: UnsafeBufferPointer<Double>) {
        weights.set(w)
        refreshIncoming()
    }

    /// The feedback synapses in neuron-major order (what the delivery reads, contiguously).
    private func refreshIncoming() {
        let (start, synapses, source) = LearningSignalProjection.transpose(connectivity, targets: recurrent.size)
        incomingStart = start
        oneEach = (0..<recurrent.size).allSatisfy { start[$0 + 1] - start[$0] == 1 }
        for k in 0..<synapses.count {
            let syn = Int(synapses[k])
            incomingWeight[k] = weights.values[syn]
            incomingSource[k] = source[syn]
        }
    }

    func planEvents(_ events: EventList, stamp: Int) {}
    func integrate(targets: Range<Int>) {}


    /// Spec §1.3 phase 1 at the start of step t, for the recurrent neurons in `targets`
    /// (part `part` of a parallel phase). The entry reached depends on the target family
    /// (t − 2; baseline t − 3, §10.5).
    func deliverLearningSignal(step t: Int, targets: Range<Int>, part: Int = 0) {
        // Through unretained references (the network owns both populations): every use of
        // the unowned ones retained and released them, ≈ 8 times per step.
        unretainedRecurrent._withUnsafeGuaranteedRef { recurrent in
            unretainedReadouts._withUnsafeGuaranteedRef { readouts in
                Unmanaged.passUnretained(recurrent.history)._withUnsafeGuaranteedRef { history in
                    Unmanaged.passUnretained(counters)._withUnsafeGuaranteedRef { counters in
                        deliver(step: t, targets: targets, part: part, lag: recurrent.model.learningSignalLag,
                                error: readouts.error, readouts: readouts.size, history: history, counters: counters)
                    }
                }
            }
        }
    }

    private func deliver(step t: Int, targets: Range<Int>, part: Int, lag: Int, error: UnsafeMutablePointer<Double>,
                         readouts: Int, history: EpropHistory, counters: WorkCounters) {
        let entry = t - lag
        guard history.contains(entry), !targets.isEmpty else { return }
        let b = incomingWeight, source = incomingSource
        // Neuron by neuron, adding each readout's B·e in readout order: the same sums in the
        // same order as NEST's readout-by-readout delivery, with one pass over the history.
        // B and the readout of each synapse are kept in that (neuron-major) order too, so
        // the pass reads them contiguously; the history entries are a ring's length apart,
        // beyond what the hardware prefetcher follows, so they are prefetched a few neurons ahead.
        incomingStart.withUnsafeBufferPointer { start in
            // Work counters: one addition per feedback synapse into these neurons, reading
            // its index, readout and weight (4 + 4 + 8 B).
            let writes = start[targets.upperBound] - start[targets.lowerBound]
            counters.add(.learningSignalWrites, writes, part: part)
            counters.add(.synapseStateBytesTouched, writes * 16, part: part)
            // With every error ±0 (a closed learning window) each B·e is ±0 (B is finite),
            // and L, which starts at +0 and so is never −0, stays as it is: bit for bit.
            guard anyNonzero(error, count: readouts) else { return }
            var from = targets.lowerBound
            if oneEach, let step = history.stepMajorBase(entry) {
                // One feedback synapse per neuron (k = j): four neurons at a time, their L read
                // and written side by side in the step-major copy, the neuron-major entries
                // written lane by lane. The same operation per neuron: L + B·e.
                let signal = step + history.neurons
                while from &+ 4 <= targets.upperBound {
                    let j = from
                    let e = SIMD4<Double>(error[Int(source[j])], error[Int(source[j &+ 1])],
                                          error[Int(source[j &+ 2])], error[Int(source[j &+ 3])])
                    let l = UnsafeRawPointer(signal + j).loadUnaligned(as: SIMD4<Double>.self)
                        + UnsafeRawPointer(b + j).loadUnaligned(as: SIMD4<Double>.self) * e
                    UnsafeMutableRawPointer(signal + j).storeBytes(of: l, as: SIMD4<Double>.self)
                    for lane in 0..<4 { history.entry(j &+ lane, entry)[1] = l[lane] }
                    from &+= 4
                }
            }
            let ahead = 8
            for j in from..<targets.upperBound where start[j] < start[j + 1] {
                if j &+ ahead < targets.upperBound { prefetchForWrite(history.entry(j &+ ahead, entry) + 1) }
                var l = history.entry(j, entry)[1]
                for k in start[j]..<start[j + 1] {
                    l += b[k] * error[Int(source[k])]
                }
                history.setLearningSignal(j, entry, l)
            }
        }
    }

    /// The feedback synapses of each recurrent neuron j are k in incomingStart[j] ..<
    /// incomingStart[j+1], in readout order (then storage order): their weight B and readout.
    private var incomingStart: [Int]
    /// Whether every recurrent neuron has exactly one feedback synapse (one readout, as in
    /// the sine-wave task): then synapse k feeds neuron k.
    private var oneEach = false
    private let incomingWeight: UnsafeMutablePointer<Double>
    private let incomingSource: UnsafeMutablePointer<Int32>

    private static func transpose(_ c: Connectivity, targets: Int) -> (start: [Int], synapses: [Int32], source: [Int32]) {
        var start = [Int](repeating: 0, count: targets + 1)
        var source = [Int32](repeating: 0, count: c.count)
        for k in 0..<c.sources {
            for syn in c.rowStart[k]..<c.rowStart[k + 1] {
                start[Int(c.target[syn]) + 1] += 1
                source[syn] = Int32(k)
            }
        }
        for j in 0..<targets { start[j + 1] += start[j] }
        var fill = start
        var synapses = [Int32](repeating: 0, count: c.count)
        for syn in 0..<c.count {   // storage order is readout-major, so each list keeps readout order
            let j = Int(c.target[syn])
            synapses[fill[j]] = Int32(syn)
            fill[j] += 1
        }
        return (start, synapses, source)
    }
}

/// Whether any of values[0 ..< count] is nonzero (±0 count as zero).
@inline(__always)
func anyNonzero(_ values: UnsafeMutablePointer<Double>, count: Int) -> Bool {
    for k in 0..<count where values[k] != 0 { return true }
    return false
}
