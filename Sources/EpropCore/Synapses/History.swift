/// Per-neuron e-prop history of one population (spec §7.1): for every step t an entry of
/// `channels` values — recurrent: (ψ_t, L_t, reg_t); readout: (err_t).
///
/// Design note: NEST keeps one sorted vector per neuron and erases used ranges on every
/// event (§7.5), which costs a search and a memmove per synapse event. All neurons of a
/// population append in lockstep, so eprop keeps one ring per population instead, laid
/// out [neuron][slot][channel] so the gradient kernel reads one neuron's entries
/// contiguously. The window [firstStep, endStep) only ever drops entries that no pending
/// synapse interval still needs (the oldest needed entry is asked of the incoming
/// projections when the ring is full), so learning is unaffected. A silent source would
/// hold old entries — the case NEST's flush events exist for; eprop's automatic flushes
/// (EpropProjection) consume them in accumulate mode, and growth is checked against the
/// available memory before a step starts.
public final class EpropHistory {
    public let neurons: Int
    public let channels: Int
    public private(set) var capacity: Int
    @usableFromInline var mask: Int
    @usableFromInline var data: UnsafeMutablePointer<Double>
    /// Oldest entry kept (inclusive) and one past the newest.
    public private(set) var firstStep = 0
    public private(set) var endStep = 0
    /// Oldest entry any pending synapse interval still needs (`Int.max` if none), asked
    /// when entry `t` is about to be written (no event stamped before `t` is still to come);
    /// set by the network to ask the incoming projections.
    var oldestNeeded: (_ t: Int) -> Int = { _ in Int.max }

    /// Per neuron (recurrent histories), entries known to have ψ = ±0 and finite L and reg
    /// (`QuietStretch`), found by the gradient kernel's frozen-lane checks; entries do not
    /// change once synapses integrate them, so later checks reuse what earlier ones read.
    /// Used by single-threaded integration only (threads would share a neuron's stretch).
    let quietStretches: UnsafeMutablePointer<QuietStretch>

    public init(neurons: Int, channels: Int, initialCapacity: Int = 64) {
        self.neurons = neurons
        self.channels = channels
        var cap = 4
        while cap < initialCapacity { cap <<= 1 }
        capacity = cap
        mask = cap - 1
        data = LargeMemory.allocate(Double.self, count: neurons * cap * channels)
        let stretches = channels == 3 ? max(neurons, 1) : 1
        quietStretches = .allocate(capacity: stretches)
        quietStretches.initialize(repeating: QuietStretch(), count: stretches)
    }

    deinit {
        LargeMemory.free(data)
        if let stepMajor { LargeMemory.free(stepMajor) }
        quietStretches.deallocate()
    }

    /// Bytes held by the ring (and its step-major copy, if kept).
    public var bytes: Int { neurons * capacity * channels * 8 * (stepMajor == nil ? 1 : 2) }

    // MARK: Step-major copy

    /// A second copy of the ring laid out [slot][channel][neuron], kept for populations whose
    /// incoming rows are mostly runs of consecutive targets (dense projections): the kernel
    /// then loads the ψ, L and reg of eight consecutive targets (four for adaptive ones) as
    /// one vector each instead of gathering them from each target's ring (`EpropProjection`).
    /// Written by the same writers as the ring (`write`, `setLearningSignal`); nil otherwise.
    @usableFromInline private(set) var stepMajor: UnsafeMutablePointer<Double>?
    /// Distance between the slots of the step-major copy (channels × neurons).
    public var stepMajorSlotStride: Int { channels &* neurons }

    /// Starts (or stops) keeping the step-major copy, with the entries of the window copied.
    func keepStepMajorCopy(_ keep: Bool) throws(EpropError) {
        precondition(channels == 3, "only recurrent histories (ψ, L, reg) keep a step-major copy")
        guard keep != (stepMajor != nil) else { return }
        guard keep else {
            LargeMemory.free(stepMajor!)
            stepMajor = nil
            return
        }
        try MemoryModel.require(neurons * capacity * channels * 8, for: "the step-major copy of the e-prop history")
        let copy = LargeMemory.allocate(Double.self, count: neurons * capacity * channels)
        for t in firstStep..<endStep {
            for j in 0..<neurons {
                let from = entry(j, t)
                for c in 0..<channels { copy[(t & mask) * channels * neurons + c * neurons + j] = from[c] }
            }
        }
        stepMajor = copy
    }

    /// Whether at least half of the synapses of `rows` (the incoming projections) lie in
    /// groups of eight consecutive targets as the kernel forms them (from each row's start):
    /// then the step-major copy pays for its writes.
    static func rowsMostlyConsecutive(_ rows: [Connectivity]) -> Bool {
        var inRuns = 0, total = 0
        for c in rows {
            total += c.count
            for s in 0..<c.sources {
                var first = c.rowStart[s]
                while first + 8 <= c.rowStart[s + 1] {
                    let t0 = c.target[first]
                    if (1..<8).allSatisfy({ c.target[first + $0] == t0 &+ Int32($0) }) { inRuns += 8 }
                    first += 8
                }
            }
        }
        return total > 0 && 2 * inRuns >= total
    }

    /// Writes the channels of neuron j's entry t (both copies).
    @inlinable @inline(__always)
    public func write(_ j: Int, _ t: Int, _ c0: Double, _ c1: Double, _ c2: Double) {
        let p = entry(j, t)
        p[0] = c0; p[1] = c1; p[2] = c2
        if let q = stepMajorBase(t).map({ $0 + j }) {
            let n = neurons
            q[0] = c0; q[n] = c1; q[n &+ n] = c2
        }
    }

    /// Neuron 0's channel 0 of entry t in the step-major copy (channel c of neuron j lies
    /// c·neurons + j further), or nil without the copy.
    @inlinable @inline(__always)
    public func stepMajorBase(_ t: Int) -> UnsafeMutablePointer<Double>? {
        stepMajor.map { $0 + (t & mask) &* stepMajorSlotStride }
    }

    /// Sets the learning signal (channel 1) of neuron j's entry t (both copies).
    @inlinable @inline(__always)
    public func setLearningSignal(_ j: Int, _ t: Int, _ value: Double) {
        entry(j, t)[1] = value
        if let step = stepMajorBase(t) { step[neurons &+ j] = value }
    }

    /// Makes room for entry `t` (= endStep); called once per step before the neurons write
    /// every channel of their entry t. Keeps at least entries ≥ t − 3, which the learning
    /// signal and the `learning_signal` recordable still touch (t − 2; baseline t − 3).
    public func append(_ t: Int) {
        precondition(t == endStep, "history entries must be appended step by step (got \(t), expected \(endStep))")
        if t - firstStep + 1 > capacity { try? makeRoom(for: t) }
        precondition(t - firstStep + 1 <= capacity, "history ring has no room for step \(t)")
        endStep = t + 1
    }

    /// Makes room for entry t: drops entries no pending interval needs, or grows the ring
    /// if the memory is available (checked before a step starts, so that running out stops
    /// the simulation cleanly instead of getting the process killed).
    func makeRoom(for t: Int) throws(EpropError) {
        guard t - firstStep + 1 > capacity else { return }
        let keepFrom = min(oldestNeeded(t), t - 3)
        if keepFrom > firstStep { firstStep = min(keepFrom, t) }
        guard t - firstStep + 1 > capacity else { return }
        var newCapacity = capacity
        while newCapacity < t - firstStep + 1 { newCapacity <<= 1 }
        newCapacity = max(newCapacity, capacity * 2)
        try MemoryModel.require(neurons * newCapacity * channels * 8 * (stepMajor == nil ? 1 : 2),
                                for: "the e-prop history (\(neurons) neurons × \(newCapacity) steps; a source silent since step \(firstStep) holds it — set flush_event_send_interval)")
        grow(toHold: t - firstStep + 1)
    }

    /// Grows the ring to at least `slots` entries now (keeping the window), if memory allows:
    /// growing mid-run allocates the larger ring next to the old one and copies every
    /// neuron's window (at 10⁶ neurons ≈ 5 s, with a peak 1.5 GiB higher).
    func reserve(slots: Int) throws(EpropError) {
        guard slots > capacity else { return }
        try MemoryModel.require(neurons * slots * channels * 8 * (stepMajor == nil ? 1 : 2),
                                for: "the e-prop history (\(neurons) neurons × \(slots) steps)")
        grow(toHold: slots)
    }

    /// Pointer to the channels of entry `t` of neuron `j`; `t` must lie in the window.
    @inlinable @inline(__always)
    public func entry(_ j: Int, _ t: Int) -> UnsafeMutablePointer<Double> {
        data + (j &* capacity &+ (t & mask)) &* channels
    }

    public func contains(_ t: Int) -> Bool { t >= firstStep && t < endStep }

    // MARK: Entries without a learning signal

    /// Runs [start, end) of entries whose learning signal L is known to be +0: the step loop
    /// saw no readout error that could reach them (`markWithoutLearningSignal`). Outside a
    /// learning window (N-MNIST: 290 of every 300 steps) the gradient kernel then skips
    /// L·ē: adding L·ē = ±0 to a sum changes none of its bits (see EpropProjection).
    /// Entries nobody marked count as carrying a signal, so code that writes L itself
    /// (tests) gets the full computation.
    private var signalFreeStart: [Int] = [], signalFreeEnd: [Int] = []
    /// Runs before this index have left the window.
    private var signalFreeHead = 0

    /// Records that entry t's learning signal is +0 (no readout error reached it). Called in
    /// increasing t, by the step loop only, when it decides the entry's learning signal.
    func markWithoutLearningSignal(_ t: Int) {
        if let last = signalFreeEnd.last, t <= last {
            guard t == last else { return }   // marked already
            signalFreeEnd[signalFreeEnd.count - 1] = t + 1
        } else {
            signalFreeStart.append(t)
            signalFreeEnd.append(t + 1)
        }
        // Forget runs that left the window (amortised: compact once half the array is dead).
        while signalFreeHead < signalFreeEnd.count - 1 && signalFreeEnd[signalFreeHead] <= firstStep { signalFreeHead += 1 }
        if signalFreeHead > 32 && signalFreeHead * 2 > signalFreeEnd.count {
            signalFreeStart.removeFirst(signalFreeHead)
            signalFreeEnd.removeFirst(signalFreeHead)
            signalFreeHead = 0
        }
    }

    /// The entries of [begin, begin + n) that may carry a learning signal, as offsets
    /// lo ..< hi from `begin`: every entry before lo and from hi on has L = +0 (lo == hi:
    /// all of them). An interval that ends in a learning window (or starts in one) then
    /// skips L·ē for its entries outside it.
    func learningSignalSpan(_ begin: Int, count n: Int) -> (lo: Int, hi: Int) {
        guard n > 0 else { return (0, 0) }
        let last = begin + n - 1
        var lo = 0, hi = n
        if let run = signalFreeRun(containing: begin) { lo = min(signalFreeEnd[run], begin + n) - begin }
        if let run = signalFreeRun(containing: last) { hi = max(lo, signalFreeStart[run] - begin) }
        return (lo, hi)
    }

    /// The run holding entry t, if any (runs are sorted and disjoint). Searched from the
    /// newest run: intervals end at the newest entries, and the window holds few runs
    /// (one per learning window).
    private func signalFreeRun(containing t: Int) -> Int? {
        var run = signalFreeStart.count - 1
        while run >= signalFreeHead && signalFreeStart[run] > t { run -= 1 }
        guard run >= signalFreeHead, t < signalFreeEnd[run] else { return nil }
        return run
    }

    /// Base pointer of neuron `j`'s ring and the index mask, for kernels that walk entries.
    @inlinable @inline(__always)
    public func ring(_ j: Int) -> UnsafeMutablePointer<Double> { data + j &* capacity &* channels }

    private func grow(toHold needed: Int) {
        var newCap = capacity
        while newCap < needed { newCap <<= 1 }
        newCap = max(newCap, capacity * 2)
        let newData = LargeMemory.allocate(Double.self, count: neurons * newCap * channels)
        let newMask = newCap - 1
        for j in 0..<neurons {
            for t in firstStep..<endStep {
                let src = data + (j * capacity + (t & mask)) * channels
                let dst = newData + (j * newCap + (t & newMask)) * channels
                for c in 0..<channels { dst[c] = src[c] }
            }
        }
        LargeMemory.free(data)
        data = newData
        if let old = stepMajor {
            let copy = LargeMemory.allocate(Double.self, count: neurons * newCap * channels)
            let slot = channels * neurons
            for t in firstStep..<endStep {
                (copy + (t & newMask) * slot).update(from: old + (t & mask) * slot, count: slot)
            }
            LargeMemory.free(old)
            stepMajor = copy
        }
        capacity = newCap
        mask = newMask
    }
}

/// Entries from..<to of one neuron's history all have ψ = ±0 and finite L and reg, with
/// |L| ≤ maxL and |reg| ≤ maxReg (empty while to ≤ from).
struct QuietStretch {
    var from = 0, to = 0
    var maxL = 0.0, maxReg = 0.0
}
