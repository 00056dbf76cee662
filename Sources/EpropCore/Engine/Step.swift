extension Network {
    /// One simulation step t, in the order of spec §1.3 (every step is one min-delay slice).
    /// Parallel chunks own disjoint ranges of target neurons (the same fractions of every
    /// projection's and population's targets), so every sum into a neuron and every synapse
    /// sees the same operations in the same order for any number of threads and whichever
    /// thread runs a chunk.
    func step(_ t: Int) {
        let parts = pool?.chunks ?? 1
        // Spikes and flush events stamped t (emitted in step t − 1): what all synapses of a
        // source share is planned once, in order of source population (so inputs into a
        // neuron add up in increasing source id, as in NEST).
        for projection in deliveryOrder {
            projection.planEvents(populations[projection.sourcePopulation].events, stamp: t)
            if pool != nil { projection.partition(parts: parts) }
        }
        // Phase 1: readout errors of step t − 1 become the learning signal of recurrent
        // history entry t − 2 (§6, §7.2) — before the gradients of phase 2 read it.
        // Phase 2: each synapse computes its gradient and weight update, then transmits
        // the new weight (§8.2).
        if pool == nil {
            for feedback in learningSignals { feedback.deliverLearningSignal(step: t, targets: 0..<feedback.targetCount, part: 0) }
            for projection in deliveryOrder { projection.integrate(targets: 0..<projection.targetCount) }
        } else {
            // With threads, phase 2 runs as shares of the synapses (A), then by target (B):
            // chunks of targets would cut every row, and two threads writing the halves of
            // one cache line cost more than they gain.
            run { part, thread in
                for feedback in learningSignals {
                    feedback.deliverLearningSignal(step: t, targets: slice(feedback.targetCount, part: part, of: parts), part: thread)
                }
            }
            run { part, _ in
                for projection in deliveryOrder { projection.integrateSynapses(part: part) }
            }
            run { part, _ in
                for projection in deliveryOrder { projection.transmit(targets: slice(projection.targetCount, part: part, of: parts)) }
            }
        }

        // Phase 3: every neuron updates for step t and emits its events (stamp t + 1).
        if pool == nil {
            for population in populations { population.update(step: t) }
        } else {
            for population in populations {
                if let recurrent = population as? RecurrentPopulation { recurrent.beginStep(t) } else { population.update(step: t) }
            }
            let recurrent = recurrentPopulations   // a stored array: no allocation per step
            run { part, _ in
                for population in recurrent {
                    population.update(step: t, neurons: slice(population.size, part: part, of: parts),
                                      events: population.partEvents[part])
                }
            }
            for population in recurrent { population.endStep(t) }
        }

        for recorder in recorders { recorder.sample(step: t) }
    }

    @inline(__always)
    private func run(_ body: (_ chunk: Int, _ thread: Int) -> Void) {
        if let pool { pool.run(body) } else { body(0, 0) }
    }
}
