extension Network {
    /// One simulation step t, in the order of spec §1.3 (every step is one min-delay slice).
    /// With threads, gradients run in shares of the planned synapses (each synapse in exactly
    /// one share) and everything that sums into a neuron runs in chunks owning disjoint
    /// ranges of target neurons, so every synapse and every neuron sees the same operations
    /// in the same order for any number of threads and whichever thread runs a chunk.
    ///
    /// With `deliverNextLearningSignals`, phase 1 of step t + 1 (the learning signals from the
    /// readout errors of step t) runs at the end of step t, block by block right after the
    /// recurrent neurons' update, while the history lines both write are in cache (and, with
    /// threads, in the same parallel run). The same sums in the same order: the neuron
    /// update reads no learning signal, and nothing runs between the two steps.
    func step(_ t: Int, deliverNextLearningSignals fuse: Bool = false) {
        let parts = pool?.chunks ?? 1
        let plan = stepPlan   // unretained references (StepPlan.swift)
        let phase1Done = learningSignalsDelivered == t
        if !phase1Done { markLearningSignals(step: t) }
        // Spikes and flush events stamped t (emitted in step t − 1): what all synapses of a
        // source share is planned once, in order of source population (so inputs into a
        // neuron add up in increasing source id, as in NEST).
        var work = 0
        for delivery in plan.delivery {
            delivery.sourceEvents { events in delivery.projection { $0.planEvents(events, stamp: t) } }
            work &+= delivery.projection { $0.plannedWork }
        }
        for recurrent in plan.recurrent { work &+= 10 &* recurrent.population { $0.size } }
        // A small step runs on this thread: the same operations in the same order.
        let parallel = pool != nil && work >= parallelMinimumWork
        if parallel { for delivery in plan.delivery { delivery.projection { $0.partition(parts: parts) } } }
        // Phase 1: readout errors of step t − 1 become the learning signal of recurrent
        // history entry t − 2 (§6, §7.2) — before the gradients of phase 2 read it.
        // Phase 2: each synapse computes its gradient and weight update, then transmits
        // the new weight (§8.2).
        if !parallel {
            if !phase1Done {
                for feedback in plan.learningSignals {
                    feedback { $0.deliverLearningSignal(step: t, targets: 0..<$0.targetCount, part: 0) }
                }
            }
            for delivery in plan.delivery { delivery.projection { $0.integrate(targets: 0..<$0.targetCount) } }
        } else {
            // With threads, phase 2 runs as shares of the synapses (A), then by target (B):
            // chunks of targets would cut every row, and two threads writing the halves of
            // one cache line cost more than they gain.
            if !phase1Done {
                run { part, thread in
                    for feedback in plan.learningSignals {
                        feedback { $0.deliverLearningSignal(step: t, targets: slice($0.targetCount, part: part, of: parts), part: thread) }
                    }
                }
            }
            run { part, _ in
                for delivery in plan.delivery { delivery.projection { $0.integrateSynapses(part: part) } }
            }
            run { part, _ in
                for delivery in plan.delivery {
                    delivery.projection { $0.transmit(targets: slice($0.targetCount, part: part, of: parts)) }
                }
            }
        }

        // Phase 3: every neuron updates for step t and emits its events (stamp t + 1). The
        // other populations go first (their order against the recurrent ones does not
        // matter): fused phase 1 of step t + 1 reads the readout errors of step t.
        for population in plan.populations { population.beginUpdate(step: t) }
        if fuse { markLearningSignals(step: t + 1) }
        if !parallel {
            for recurrent in plan.recurrent {
                recurrent.population { population in
                    update(population, step: t, neurons: 0..<population.size, events: population.events,
                           deliverNext: fuse ? recurrent.feedback : .init(start: nil, count: 0), part: 0)
                    population.endSequentialStep(t)
                }
            }
        } else {
            run { part, thread in
                for recurrent in plan.recurrent {
                    recurrent.population { population in
                        update(population, step: t, neurons: slice(population.size, part: part, of: parts),
                               events: population.partEvents[part],
                               deliverNext: fuse ? recurrent.feedback : .init(start: nil, count: 0), part: thread)
                    }
                }
            }
            for recurrent in plan.recurrent { recurrent.population { $0.endStep(t) } }
        }
        learningSignalsDelivered = fuse ? t + 1 : -1

        for recorder in plan.recorders { recorder.sample(step: t) }
    }

    /// Records, before the learning signals of step t are delivered (in phase 1, or fused
    /// into step t − 1) and before step t plans its events, which recurrent history entry
    /// t − lag gets none: no readout error of the feedback projections into its population
    /// is nonzero, which is exactly when every delivery leaves L alone.
    private func markLearningSignals(step t: Int) {
        guard marksEntriesWithoutLearningSignal else { return }
        learningSignalMarkers.withUnsafeBufferPointer { markers in
            for marker in markers { marker.mark(step: t) }
        }
    }

    /// The update of `neurons` for step t, followed block by block by the learning signals
    /// of step t + 1 (`deliverNext`) into the same neurons.
    @inline(__always)
    private func update(_ population: RecurrentPopulation, step t: Int, neurons: Range<Int>, events: EventList,
                        deliverNext: UnsafeBufferPointer<Unmanaged<LearningSignalProjection>>, part: Int) {
        guard !deliverNext.isEmpty else { return population.update(step: t, neurons: neurons, events: events) }
        var lower = neurons.lowerBound
        while lower < neurons.upperBound {
            let block = lower..<min(lower + 256, neurons.upperBound)
            population.update(step: t, neurons: block, events: events)
            for feedback in deliverNext { feedback { $0.deliverLearningSignal(step: t + 1, targets: block, part: part) } }
            lower = block.upperBound
        }
    }

    @inline(__always)
    private func run(_ body: (_ chunk: Int, _ thread: Int) -> Void) {
        if let pool { pool.run(body) } else { body(0, 0) }
    }
}

/// What `markLearningSignals` reads of one recurrent population and the readouts feeding
/// it back: raw pointers and an unretained history (the network owns it for as long as it
/// exists; `prepare` rebuilds the markers before every simulate call), so that the check
/// each step costs no reference counting (iterating the populations did: ≈ 0.7 % of a
/// sine-wave step).
struct LearningSignalMarker {
    let history: Unmanaged<EpropHistory>
    let lag: Int
    /// Each feedback projection's readout errors and their count.
    let errors: [(UnsafeMutablePointer<Double>, Int)]

    init(history: EpropHistory, lag: Int, errors: [(UnsafeMutablePointer<Double>, Int)]) {
        self.history = .passUnretained(history)
        self.lag = lag
        self.errors = errors
    }

    /// Marks entry t − lag when no readout error is nonzero.
    func mark(step t: Int) {
        history._withUnsafeGuaranteedRef { history in
            let entry = t - lag
            guard history.contains(entry) else { return }
            for (error, count) in errors where anyNonzero(error, count: count) { return }
            history.markWithoutLearningSignal(entry)
        }
    }
}
