/// NEST's history bookkeeping for the baseline family (spec §10.6), replayed for recorded
/// neurons only, so that `eprop_history_duration` and `learning_signal` read as in NEST.
/// Marks are update-interval starts (plus the model's shift) that a synapse still has to
/// integrate; at every interval start the neuron drops the entries of unmarked intervals
/// and everything before the earliest mark.
extension HistoryBookkeeping {
    /// At connect: every eprop synapse into the neuron marks the first interval (time = shift).
    func initializeBaselineMarks(shift: Int, synapses: Int) {
        marks = synapses > 0 ? [(shift, synapses)] : []
        entries = []
    }

    /// write_update_to_history: the synapse moves from interval `previous` to `current`.
    func writeUpdate(previous: Int, current: Int, shift: Int, flush: Bool, previousWasFlush: Bool) {
        if !flush {
            let t = current + shift
            let i = markIndex(t)
            if i < marks.count && marks[i].time == t { marks[i].count += 1 } else { marks.insert((t, 1), at: i) }
        }
        if !previousWasFlush {
            let t = previous + shift
            let i = markIndex(t)
            if i < marks.count && marks[i].time == t {
                marks[i].count -= 1
                if marks[i].count == 0 { marks.remove(at: i) }
            }
        }
    }

    /// erase_used_eprop_history() at an interval start.
    func eraseUnmarkedIntervals(interval: Int) {
        guard !entries.isEmpty, let first = marks.first, let last = marks.last else { return }
        var i = 0
        var t = first.time
        while t <= last.time && i < marks.count {
            if marks[i].time == t { i += 1 } else { erase(t, t + interval) }
            t += interval
        }
        if let start = entries.first?.start { erase(start, first.time) }
    }
}
