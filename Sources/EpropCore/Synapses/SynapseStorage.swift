#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How `eprop_synapse` stores its per-synapse state (eprop's own option; NEST stores
/// doubles). The kernel always computes in Double: a synapse's state is loaded into
/// registers, one event is integrated in double precision (all its steps, the optimizer
/// calls, the decay), and the result is stored — rounded to Float in single precision.
///
/// - double: bit-identical to NEST; 8 bytes per field.
/// - single: 4 bytes per field, so half the synapse memory and memory traffic. Rounding
///   happens once per event and field, not per step (docs/precision.md measures the effect).
public enum SynapsePrecision: Int, Sendable, CaseIterable {
    case double = 0, single = 1

    public static let names = ["double", "single"]

    public var name: String { SynapsePrecision.names[rawValue] }

    /// Bytes of one stored field.
    public var fieldBytes: Int { self == .double ? 8 : 4 }

    /// The precision named `name`, or a BadProperty error naming the parameter and the choices.
    public init(name: String) throws(EpropError) {
        guard let i = SynapsePrecision.names.firstIndex(of: name) else {
            throw .badProperty("eprop_synapse parameter precision: one of \"double\", \"single\" required, got \"\(name)\"")
        }
        self = SynapsePrecision(rawValue: i)!
    }
}

/// A stored synapse field: Double or Float, loaded into and stored from Double. The kernel
/// is generic over it and specialised for both (whole-module optimisation), so the double
/// path compiles to exactly the code it had before the option existed.
protocol SynapseScalar {
    static func load(_ p: UnsafeMutablePointer<Self>, _ i: Int) -> Double
    static func store(_ p: UnsafeMutablePointer<Self>, _ i: Int, _ value: Double)
    /// `value` as it reads back after a store.
    static func rounded(_ value: Double) -> Double
}

extension Double: SynapseScalar {
    @inline(__always) static func load(_ p: UnsafeMutablePointer<Double>, _ i: Int) -> Double { p[i] }
    @inline(__always) static func store(_ p: UnsafeMutablePointer<Double>, _ i: Int, _ value: Double) { p[i] = value }
    @inline(__always) static func rounded(_ value: Double) -> Double { value }
}

extension Float: SynapseScalar {
    @inline(__always) static func load(_ p: UnsafeMutablePointer<Float>, _ i: Int) -> Double { Double(p[i]) }
    @inline(__always) static func store(_ p: UnsafeMutablePointer<Float>, _ i: Int, _ value: Double) { p[i] = Float(value) }
    @inline(__always) static func rounded(_ value: Double) -> Double { Double(Float(value)) }
}

/// One per-synapse field of a projection (SoA), zero-initialised, in the projection's precision.
struct SynapseColumn {
    let raw: UnsafeMutableRawPointer

    init(count: Int, precision: SynapsePrecision) {
        // Cache-line aligned, so that the parallel shares of a step (split at multiples of a
        // line's synapses) never write the same line.
        raw = LargeMemory.allocate(bytes: max(count, 1) * precision.fieldBytes)
    }

    @inline(__always)
    func typed<S: SynapseScalar>(_: S.Type) -> UnsafeMutablePointer<S> { raw.assumingMemoryBound(to: S.self) }

    func get(_ i: Int, _ precision: SynapsePrecision) -> Double {
        precision == .double ? typed(Double.self)[i] : Double(typed(Float.self)[i])
    }

    func set(_ i: Int, _ value: Double, _ precision: SynapsePrecision) {
        if precision == .double { typed(Double.self)[i] = value } else { typed(Float.self)[i] = Float(value) }
    }

    func free() { LargeMemory.free(raw) }
}

/// The interval gradient g of the synapses whose source's last event was a flush, kept
/// only while it is pending (spec §8.4: a flush continues the interval, the next spike
/// consumes g with its optimizer call). Within one event g lives in a register, so a
/// synapse needs no g of its own: a source gets a block of its row's length at a flush
/// and gives it back at its next spike.
///
/// Blocks come from one pool of doubles, in size classes (exact up to 16, then 8 classes
/// per power of two: under 12.5 % rounding), with a free list per class. Everything
/// happens while planning (sequentially); a block given back is reused only from the next
/// planning round on, after every thread has read it. In steady state no step allocates:
/// the pool and the free lists keep their capacity. The pool's size is the high-water
/// mark of pending blocks; it never shrinks.
///
/// Doubles in both precisions: the value lives between two events of a source only.
struct PendingGradients {
    /// The pool (nil until the first block).
    private(set) var pool: UnsafeMutablePointer<Double>?
    private(set) var capacity = 0
    private var used = 0
    private var freeBlocks: [[Int]] = []
    /// Blocks given back in this planning round: (offset, class).
    private var released: [(Int, Int)] = []
    /// Per source: offset of its block, or −1.
    private(set) var slot: [Int]

    init(sources: Int) { slot = Array(repeating: -1, count: sources) }

    func deallocate() { if let pool { free(pool) } }

    /// Bytes held: the pool and the per-source offsets.
    var bytes: Int { capacity * 8 + slot.count * 8 }

    /// Number of blocks handed out now (tests).
    var pendingSources: Int { slot.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }

    /// Size class of a block of `n` doubles and its size.
    static func sizeClass(_ n: Int) -> (index: Int, size: Int) {
        if n <= 16 { return (n, n) }
        let shift = (Int.bitWidth - (n - 1).leadingZeroBitCount) - 4
        let q = (n - 1) >> shift   // 8 ... 15
        return (17 + (shift - 1) * 8 + (q - 8), (q + 1) << shift)
    }

    /// Start of a planning round: blocks given back in the previous round become reusable.
    mutating func recycle() {
        guard !released.isEmpty else { return }
        for (offset, c) in released {
            while freeBlocks.count <= c { freeBlocks.append([]) }
            freeBlocks[c].append(offset)
        }
        released.removeAll(keepingCapacity: true)
    }

    /// The block of source `s` (of `n` doubles), allocated if it has none.
    mutating func block(of s: Int, length n: Int) -> Int {
        if slot[s] >= 0 { return slot[s] }
        let (c, size) = PendingGradients.sizeClass(n)
        let offset: Int
        if c < freeBlocks.count, let reused = freeBlocks[c].popLast() {
            offset = reused
        } else {
            if used + size > capacity { grow(to: used + size) }
            offset = used
            used += size
        }
        slot[s] = offset
        return offset
    }

    /// Gives source `s`'s block back (reusable from the next planning round).
    mutating func release(_ s: Int, length n: Int) {
        let offset = slot[s]
        guard offset >= 0 else { return }
        released.append((offset, PendingGradients.sizeClass(n).index))
        slot[s] = -1
    }

    private mutating func grow(to needed: Int) {
        let newCapacity = max(needed, capacity + capacity / 4, 1024)
        guard let p = realloc(pool, newCapacity * 8) else {
            fatalError("eprop: out of memory for pending gradients (\(newCapacity * 8) bytes)")
        }
        pool = p.bindMemory(to: Double.self, capacity: newCapacity)
        capacity = newCapacity
    }
}
