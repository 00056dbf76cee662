/// Synapses grouped by source (CSR): the synapses of source s are rowStart[s] ..< rowStart[s+1],
/// sorted by target. Built from (pre, post) lists by a stable counting sort.
public struct Connectivity {
    public let sources: Int
    public let rowStart: [Int]
    /// Target neuron of every synapse.
    public let target: UnsafeMutablePointer<Int32>

    public var count: Int { rowStart[sources] }

    /// The connectivity of the synapses (pre[i], post[i]) and, for every synapse in storage
    /// order, the index i it came from — to put per-synapse values such as weights in storage
    /// order. The order is not kept (it would cost 8 bytes per synapse).
    static func build(sources: Int, pre: UnsafeBufferPointer<Int64>, post: UnsafeBufferPointer<Int64>)
        -> (connectivity: Connectivity, order: [Int])
    {
        let n = pre.count
        var start = [Int](repeating: 0, count: sources + 1)
        for i in 0..<n { start[Int(pre[i]) + 1] += 1 }
        for s in 0..<sources { start[s + 1] += start[s] }
        var fill = start
        var order = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let s = Int(pre[i])
            order[fill[s]] = i
            fill[s] += 1
        }
        // Within a row, sort by target; ties keep the order of the caller's arrays.
        for s in 0..<sources where start[s + 1] - start[s] > 1 {
            order[start[s]..<start[s + 1]].sort { a, b in
                post[a] != post[b] ? post[a] < post[b] : a < b
            }
        }
        let target = LargeMemory.allocate(Int32.self, count: n)
        for k in 0..<n { target[k] = Int32(truncatingIfNeeded: post[order[k]]) }
        return (Connectivity(sources: sources, rowStart: start, target: target), order)
    }

    private init(sources: Int, rowStart: [Int], target: UnsafeMutablePointer<Int32>) {
        self.sources = sources
        self.rowStart = rowStart
        self.target = target
    }

    /// `values` (in the caller's order) in storage order.
    static func inStorageOrder(_ values: UnsafeBufferPointer<Double>, _ order: [Int]) -> [Double] {
        order.map { values[$0] }
    }

    func free() { LargeMemory.free(target) }

    /// The synapses of source `s` whose targets lie in `targets` (rows are sorted by target).
    @inline(__always)
    func synapses(of s: Int, into targets: Range<Int>) -> Range<Int> {
        func lowerBound(_ value: Int) -> Int {
            var lo = rowStart[s], hi = rowStart[s + 1]
            while lo < hi {
                let mid = (lo + hi) >> 1
                if Int(target[mid]) < value { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        return lowerBound(targets.lowerBound)..<lowerBound(targets.upperBound)
    }

    /// Index of the first synapse (s → j), or nil.
    func find(_ s: Int, _ j: Int) -> Int? {
        var lo = rowStart[s], hi = rowStart[s + 1]
        while lo < hi {
            let mid = (lo + hi) / 2
            if Int(target[mid]) < j { lo = mid + 1 } else { hi = mid }
        }
        return lo < rowStart[s + 1] && Int(target[lo]) == j ? lo : nil
    }
}
