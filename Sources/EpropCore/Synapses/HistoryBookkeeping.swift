/// NEST's per-neuron history bookkeeping (spec §7.5), kept only for recorded neurons: which
/// history entries NEST would still hold, so that `eprop_history_duration` and the
/// `learning_signal` recordable (entry lower_bound(t − 2), spec §7.2) read exactly as in
/// NEST. Learning never depends on it: the engine's ring (History.swift) holds the values.
final class HistoryBookkeeping {
    /// NEST's update_history: (time, count) marks of pending synapse intervals, sorted.
    var marks: [(time: Int, count: Int)] = []
    /// Entry times held, as sorted disjoint half-open intervals.
    var entries: [(start: Int, end: Int)] = []
    /// The neuron's eprop_isi_trace_cutoff in steps (set when simulation starts).
    var cutoff: Int

    init(cutoffSteps: Int) { cutoff = HistoryBookkeeping.bounded(cutoffSteps) }

    /// An infinite cutoff stays far from overflow in t − 1 + c.
    static func bounded(_ steps: Int) -> Int { min(steps, Int.max / 4) }

    var count: Int { entries.reduce(0) { $0 + $1.end - $1.start } }

    /// NEST appends entry t at every update step of a neuron with e-prop inputs.
    func append(_ t: Int) {
        if let last = entries.last, last.end == t {
            entries[entries.count - 1].end = t + 1
        } else {
            entries.append((t, t + 1))
        }
    }

    /// First entry time ≥ t, or nil.
    func lowerBound(_ t: Int) -> Int? {
        for interval in entries where interval.end > t { return max(interval.start, t) }
        return nil
    }

    private func contains(_ t: Int) -> Bool { entries.contains { $0.start <= t && t < $0.end } }

    /// Removes entries with time in [b, e).
    func erase(_ b: Int, _ e: Int) {
        guard b < e else { return }
        var kept: [(start: Int, end: Int)] = []
        kept.reserveCapacity(entries.count + 1)
        for interval in entries {
            if interval.end <= b || interval.start >= e {
                kept.append(interval)
            } else {
                if interval.start < b { kept.append((interval.start, b)) }
                if interval.end > e { kept.append((e, interval.end)) }
            }
        }
        entries = kept
    }

    func markIndex(_ t: Int) -> Int {
        var lo = 0, hi = marks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if marks[mid].time < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// erase_used_eprop_history(t_spike, t_prev) of spec §7.5, run for every event that
    /// passes an eprop synapse into this neuron, after that synapse's gradient.
    func eventPassed(stamp tSpike: Int, previous tPrev: Int) {
        let i = markIndex(tSpike)
        if i < marks.count && marks[i].time == tSpike { marks[i].count += 1 } else { marks.insert((tSpike, 1), at: i) }
        if tPrev > 0 {
            let k = markIndex(tPrev)
            if k < marks.count && marks[k].time == tPrev {
                if marks[k].count > 0 { marks[k].count -= 1 }
                if marks[k].count == 0 { marks.remove(at: k) }
            }
            let b0 = tPrev - 1, e0 = tPrev - 1 + cutoff
            var b = b0, e = e0
            var m = markIndex(max(0, b0 - cutoff))
            while m < marks.count && marks[m].time <= e0 && b < e {
                let u = marks[m].time
                if b0 <= u - 1 && u - 1 <= e0 { e = min(e, u - 1) }
                if b0 <= u - 1 + cutoff && u - 1 + cutoff <= e0 { b = max(b, u - 1 + cutoff) }
                m += 1
            }
            if b < e { erase(b, e) }
        }
        if let earliest = marks.first, let first = entries.first {
            let k = earliest.time - 1
            if contains(k) && first.start != k { erase(first.start, k) }
        }
    }
}
