extension Network {
    /// One simulation step t, in the order of spec §1.3 (every step is one min-delay slice).
    func step(_ t: Int) {
        // Phase 1: secondary events stamped t — readout errors of step t − 1 become the
        // learning signal of recurrent history entry t − 2 (§6, §7.2).
        for feedback in learningSignals { feedback.deliverLearningSignal(step: t) }

        // Phase 2: spikes and flush events stamped t (emitted in step t − 1). Each event
        // runs the synapse's gradient and weight update first and then transmits the new
        // weight (§8.2). Projections go in order of source population, so inputs into a
        // neuron add up in increasing source id, as in NEST.
        for projection in deliveryOrder {
            projection.deliver(populations[projection.sourcePopulation].events, stamp: t)
        }

        // Phase 3: every neuron updates for step t and emits its events (stamp t + 1).
        for population in populations { population.update(step: t) }

        for recorder in recorders { recorder.sample(step: t) }
    }
}
