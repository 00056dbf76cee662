#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the engine holds in memory, and what a configuration would need before it is built.
/// The same per-item costs serve both, so an estimate can be checked against a build.
public enum MemoryModel {
    /// Per neuron of a recurrent population (state, derived columns, event lists, the count
    /// of steps with ψ = 0, the quiet stretch of its history), bytes.
    public static let recurrentNeuronBytes = 13 * 8 + 4 + 8 + 8 + 4 + 2 * 8 + 4 + 32
    /// Per readout neuron, bytes.
    public static let readoutNeuronBytes = 9 * 8 + 4
    /// Per input neuron, bytes.
    public static let inputNeuronBytes = 4 + 4 + 8 + 8
    /// Per source of an eprop projection (shared interval and optimizer state, whether its
    /// row is a run of consecutive targets, and the offset of its pending gradient block), bytes.
    public static let sourceBytes = 9 * 8 + 1 + 1 + 40
    /// Per static or feedback synapse: target index and weight, bytes.
    public static let fixedSynapseBytes = 4 + 8
    /// Per pending input spike, bytes.
    public static let inputSpikeBytes = 8 + 4
    /// Per eprop synapse whose source's last event was a flush (accumulate mode): its
    /// interval gradient g, kept in the pending-gradient pool until the next spike, bytes.
    public static let pendingGradientBytes = 8

    /// Bytes of one eprop synapse for the optimizer set-up (see EpropProjection): the target
    /// index, then weight, ē, ē_reg, and G (batch_size > 1), m, v (Adam), ε (adaptive
    /// targets), z̄ (differing τ_m), each 8 bytes in double and 4 in single precision. The
    /// same in both optimizer modes: g is kept only while a flush leaves it pending
    /// (`pendingGradientBytes`), not per synapse.
    public static func plasticSynapseBytes(adam: Bool, batch: Int, adaptiveTarget: Bool, heterogeneousTauM: Bool,
                                           precision: SynapsePrecision = .double) -> Int {
        4 + precision.fieldBytes * (3 + (batch > 1 ? 1 : 0) + (adam ? 2 : 0) + (adaptiveTarget ? 1 : 0)
                                    + (heterogeneousTauM ? 1 : 0))
    }

    /// Slots of a history ring that keeps `steps` entries (a power of two, at least 64).
    public static func historySlots(_ steps: Int) -> Int {
        var slots = 64
        while slots < steps { slots <<= 1 }
        return slots
    }

    /// Steps a target's history must span: the cutoff (automatic flushes consume silent
    /// sources' intervals beyond it), or 256 steps without one, plus the check period.
    public static func historySteps(cutoffSteps: Int, flushSteps: Int, eachStep: Bool) -> Int {
        let automatic = cutoffSteps == Clock.never ? 256 : cutoffSteps + 2
        // Without a cutoff an interval ends at the next flush at the latest: then count the
        // flush interval twice (conservative) rather than overflow.
        let bound = eachStep ? (flushSteps == Clock.never ? Int.max / 4
                                    : flushSteps.addingReportingOverflow(min(cutoffSteps, flushSteps)).partialValue)
                             : automatic + min(automatic / 4, 64)
        return min(bound, Int.max / 4)
    }

    /// Bytes of physical memory available now (MemAvailable), or nil if unknown.
    public static func availableBytes() -> Int? {
        guard let file = fopen("/proc/meminfo", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, 256, file) != nil {
            let text = String(cString: line)
            if text.hasPrefix("MemAvailable:") {
                let digits = text.split(separator: " ").compactMap { Int($0) }
                if let kB = digits.first { return kB * 1024 }
            }
        }
        return nil
    }

    /// Throws .outOfMemory if `bytes` more would not fit in the memory available now.
    static func require(_ bytes: Int, for what: String) throws(EpropError) {
        guard let available = availableBytes(), bytes > available else { return }
        throw EpropError(.outOfMemory, "\(what): needs about \(gigabytes(bytes)) but only \(gigabytes(available)) of memory are available")
    }

    static func gigabytes(_ bytes: Int) -> String {
        let gb = Double(bytes) / 1e9
        return gb >= 10 ? "\(Int(gb.rounded())) GB" : "\(Double(Int(gb * 100)) / 100) GB"
    }
}

extension Network {
    /// Bytes the engine holds now: neuron state, histories, synapses, per-source state,
    /// pending inputs and recordings (not the Swift runtime or the caller's arrays).
    public var memoryBytes: Int {
        var total = 0
        for population in populations {
            switch population {
            case let p as RecurrentPopulation:
                total += p.size * MemoryModel.recurrentNeuronBytes + p.history.bytes
            case let p as ReadoutPopulation:
                total += p.size * MemoryModel.readoutNeuronBytes + p.history.bytes
            case let p as InputPopulation:
                total += p.size * MemoryModel.inputNeuronBytes + p.spikeSteps.count * MemoryModel.inputSpikeBytes
            default: break
            }
        }
        for projection in projections {
            total += (projection.connectivity.sources + 1) * 8
            if let p = projection as? EpropProjection {
                total += p.count * p.bytesPerSynapse + p.connectivity.sources * MemoryModel.sourceBytes
                    + p.pending.capacity * 8
            } else if let p = projection as? BsshslmProjection {
                total += p.count * p.bytesPerSynapse + p.connectivity.sources * MemoryModel.sourceBytes
            } else {
                total += projection.count * MemoryModel.fixedSynapseBytes
            }
        }
        for recorder in recorders { total += recorder.bytes }
        return total
    }

    /// Bytes per synapse of a projection's state as allocated now (target index included),
    /// and the bytes of its pending-gradient pool (eprop_synapse; 0 for the others).
    public func projectionMemory(_ projection: Projection) -> (perSynapse: Int, pending: Int) {
        switch projection {
        case let p as EpropProjection: return (p.bytesPerSynapse, p.pendingGradientBytes)
        case let p as BsshslmProjection: return (p.bytesPerSynapse, 0)
        default: return (MemoryModel.fixedSynapseBytes, 0)
        }
    }

    /// Bytes of the history rings alone.
    public var historyBytes: Int {
        populations.reduce(0) { sum, p in
            sum + ((p as? RecurrentPopulation)?.history.bytes ?? (p as? ReadoutPopulation)?.history.bytes ?? 0)
        }
    }
}

extension MemoryModel {
    /// Predicted bytes of a network before it is built, from the same per-item costs the
    /// engine allocates (`Network.memoryBytes`), with each history ring at the size it
    /// settles at (cutoff or flush interval).
    ///
    /// In accumulate mode the pool of pending gradients is counted at its bound, 8 bytes per
    /// synapse (every source's last event a flush); a running network holds the fraction of
    /// its synapses whose source is between a flush and its next spike (e.g. ≈ 30 % at
    /// 23 Hz with a 50 ms flush interval), so the estimate is an upper bound by up to that.
    /// A recurrent population with dense incoming projections also keeps a step-major copy
    /// of its history (`EpropHistory.stepMajor`: as many bytes again as its history), which
    /// the counts here cannot tell and leave out.
    public static func estimate(recurrent: Int, readouts: Int, inputs: Int, plasticSynapses: Int, fixedSynapses: Int,
                                sources: Int, adam: Bool, eachStep: Bool, batch: Int, cutoffSteps: Int,
                                flushSteps: Int, precision: SynapsePrecision = .double) -> Int {
        let steps = historySteps(cutoffSteps: cutoffSteps, flushSteps: flushSteps, eachStep: eachStep)
        let slots = historySlots(min(steps, 1 << 24))
        let neurons = recurrent * (recurrentNeuronBytes + slots * 24) + readouts * (readoutNeuronBytes + slots * 8)
            + inputs * inputNeuronBytes
        let synapses = plasticSynapses * plasticSynapseBytes(adam: adam, batch: batch, adaptiveTarget: false,
                                                             heterogeneousTauM: false, precision: precision)
            + fixedSynapses * fixedSynapseBytes
        let pending = eachStep ? 0 : plasticSynapses * pendingGradientBytes
        return neurons + synapses + pending + sources * (sourceBytes + 8)
    }
}
