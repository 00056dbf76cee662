/// The energy estimate (docs/energy.md): every work counter maps to a fixed number of
/// elementary operations per count (`WorkCounter.operations`), and every operation has an
/// energy in pJ (`EnergyTable`, replaceable). The estimate is
///
///     E = Σ_counter count × Σ_entry operations[counter][entry] × table[entry] × 1e−12 J
///
/// Default table: M. Horowitz, "Computing's energy problem (and what we can do about it)",
/// ISSCC 2014, 45 nm CMOS at 0.9 V: 32-bit float add 0.9 pJ, multiply 3.7 pJ; 16-bit float
/// add 0.4 pJ, multiply 1.1 pJ; 64-bit SRAM access 10 pJ (8 KB), 20 pJ (32 KB), 100 pJ (1 MB);
/// 64-bit DRAM access 1.3–2.6 nJ. The engine computes in 64-bit floats, which that table
/// does not list: fadd64 and fmul64 are extrapolated from its own 16→32-bit ratios, applied
/// once more (add ×0.9/0.4, multiply ×3.7/1.1) — our derivation, not a published value.
///
/// Design note: the mapping counts what the engine's kernels do per count (a model of the
/// arithmetic and memory traffic, not a measurement). Division and square root count as a
/// multiply; comparisons and min/max as an add; constants hoisted out of loops (1 − κ, the
/// powers κ^d of a decay) are free. Per-synapse state is charged as DRAM traffic (large
/// networks do not fit in SRAM); neuron state, histories and per-source state as SRAM.
public struct EnergyTable: Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let defaultPicojoules: Double
        public let doc: String
    }

    /// The operations, in the order of the C ABI (append only).
    public static let entries: [Entry] = [
        Entry(name: "fadd64", defaultPicojoules: 2.0,
              doc: "64-bit float add, subtract, compare or min/max; Horowitz's 32-bit 0.9 pJ × his 16→32-bit ratio 0.9/0.4, rounded."),
        Entry(name: "fmul64", defaultPicojoules: 12.4,
              doc: "64-bit float multiply (division and square root count as one); Horowitz's 32-bit 3.7 pJ × his 16→32-bit ratio 3.7/1.1, rounded."),
        Entry(name: "sram_read_64b", defaultPicojoules: 10,
              doc: "64-bit read from an 8 KB SRAM (Horowitz: 10 pJ; 32 KB 20 pJ, 1 MB 100 pJ)."),
        Entry(name: "sram_write_64b", defaultPicojoules: 10,
              doc: "64-bit write to an 8 KB SRAM (Horowitz gives one value per access: 10 pJ)."),
        Entry(name: "dram_access_64b", defaultPicojoules: 1300,
              doc: "64-bit DRAM access (Horowitz: 1.3–2.6 nJ; the low end)."),
    ]

    public static func index(of name: String) -> Int? { entries.firstIndex { $0.name == name } }

    /// pJ per operation, in the order of `entries`.
    public private(set) var picojoules: [Double] = EnergyTable.entries.map(\.defaultPicojoules)

    public init() {}

    /// Sets entries by name, validated as a whole: every name known, every value finite
    /// and ≥ 0. Nothing changes if a check fails.
    public mutating func set(_ changes: [(String, Double)]) throws(EpropError) {
        var updated = picojoules
        for (name, value) in changes {
            let i = try EnergyTable.entry(name)
            guard value.isFinite, value >= 0 else {
                throw .badProperty("energy table entry \(name) (pJ): must be finite and ≥ 0, got \(fmt(value))")
            }
            updated[i] = value
        }
        picojoules = updated
    }

    public func value(_ name: String) throws(EpropError) -> Double { picojoules[try EnergyTable.entry(name)] }

    /// The index of entry `name`, or an error listing the entries.
    static func entry(_ name: String) throws(EpropError) -> Int {
        guard let i = index(of: name) else {
            throw .unknown("energy table has no entry \(name); entries are " + entries.map(\.name).joined(separator: ", "))
        }
        return i
    }
}

extension WorkCounter {
    /// Operations per count, one per `EnergyTable.entries` (fadd64, fmul64, sram_read_64b,
    /// sram_write_64b, dram_access_64b). docs/energy.md explains every row; a test keeps
    /// that table and this one in agreement.
    public var operations: [Double] {
        switch self {
        // v ← P_i·I + z_in + α·v, V_min clamp, ψ (piecewise linear), threshold test, f_av
        // and reg; state v, I, z_in, f_av, current, r read; v, z_in, f_av, z, ψ, I and the
        // history entry (ψ, L, reg) written. eprop_iaf with piecewise_linear ψ; the other
        // models differ by a few operations.
        case .neuronUpdates: return [11, 8, 6, 9, 0]
        // v ← P_i·I + z_in + α·v, clamp, y, err = (y − y*)·λ, y·λ, y*·λ, I; reads v, I, z_in,
        // y*, λ, current; writes v, z_in, y, y*, err, I and the history entry (err).
        case .readoutUpdates: return [6, 5, 6, 7, 0]
        // Reset by subtraction; the event written to the population's list.
        case .spikes: return [1, 0, 0, 1, 0]
        case .inputSpikes, .flushEvents: return [0, 0, 0, 1, 0]
        case .automaticFlushEvents, .plasticEvents: return [0, 0, 0, 0, 0]
        // input[j] += w (the target index and weight are synapse state, counted in bytes).
        case .synapticEvents: return [1, 0, 1, 1, 0]
        // e = ψ·z̄; ē = κ·ē + e; ē_reg = κ_reg·ē_reg + (1 − κ_reg)·e; Δg = L·ē + reg·ē_reg;
        // g += Δg. Reads ψ, L, reg and z̄. (optimize_each_step sums Δg in the optimizer
        // call's G += g instead, so there one add per step is counted twice.)
        case .eligibilitySteps: return [4, 6, 4, 0, 0]
        // e = ψ·(z̄ − β·ε), ε = ρ·ε + e: one more multiply and add each, on top of the step.
        case .adaptiveEligibilitySteps: return [2, 2, 0, 0, 0]
        // Δg = err·z̄, g += Δg; reads err and z̄.
        case .readoutEligibilitySteps: return [1, 1, 2, 0, 0]
        // z̄ = α·z̄ + z.
        case .presynapticTraceSteps: return [1, 1, 0, 0, 0]
        // ē·κ^d, ē_reg·κ_reg^d.
        case .traceDecays: return [0, 2, 0, 0, 0]
        // G += g.
        case .optimizerCalls: return [1, 0, 0, 0, 0]
        // G / batch_size, clamp to [Wmin, Wmax].
        case .weightWrites: return [2, 1, 0, 0, 0]
        // w − η·G; η read from the step's plan.
        case .gradientDescentSteps: return [1, 1, 1, 0, 0]
        // m = β₁·m + (1 − β₁)·G; v = β₂·v + (1 − β₂)·G²; w − a·m/(√v + ε); a read.
        case .adamSteps: return [4, 8, 1, 0, 0]
        // L += B·err; err read (the L entry stays in a register across a neuron's readouts).
        case .learningSignalWrites: return [1, 1, 1, 0, 0]
        // Written by the neuron updates (counted there); a peak is not work.
        case .historyEntriesWritten, .peakHistoryBytes: return [0, 0, 0, 0, 0]
        // One 64-bit DRAM access per 8 bytes, no reuse between events.
        case .synapseStateBytesTouched: return [0, 0, 0, 0, 0.125]
        }
    }
}

/// An energy estimate in joules: the total, and its split by counter and by operation.
public struct EnergyEstimate: Sendable {
    public let total: Double
    public let perCounter: [Double]
    public let perEntry: [Double]

    /// The estimate of `counts` (in the order of `WorkCounter.allCases`) under `table`.
    public init(counts: [Int64], table: EnergyTable) {
        var perCounter = [Double](repeating: 0, count: WorkCounter.allCases.count)
        var perEntry = [Double](repeating: 0, count: EnergyTable.entries.count)
        for c in WorkCounter.allCases {
            let n = Double(counts[c.rawValue])
            for (e, ops) in c.operations.enumerated() where ops != 0 {
                let joules = n * ops * table.picojoules[e] * 1e-12
                perCounter[c.rawValue] += joules
                perEntry[e] += joules
            }
        }
        self.perCounter = perCounter
        self.perEntry = perEntry
        total = perCounter.reduce(0, +)
    }
}
