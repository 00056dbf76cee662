/// Network-wide settings of the time-driven baseline family (NEST: kernel status, spec
/// §10.1). They pace every `*_bsshslm_2020` neuron and synapse; set them before simulating.
enum KernelParameters {
    static let table = ParameterTable(
        owner: "kernel",
        specs: [
            ParameterSpec("eprop_update_interval", unit: "ms", 1000.0, .greaterThan(0),
                          doc: "Length T of an update interval (a training sequence) of the baseline family."),
            ParameterSpec("eprop_learning_window", unit: "ms", 1000.0, .greaterThan(0),
                          doc: "The last part of each update interval in which baseline readouts produce errors (≤ T when set)."),
            ParameterSpec("eprop_reset_neurons_on_update", 1, .bool,
                          doc: "1: baseline neurons reset V_m, refractoriness, spike and adaptation at each interval start."),
        ],
        // As in NEST, the window is checked against the interval only when it is set: a
        // shorter interval set alone leaves the window (then covering whole intervals).
        crossRules: []
    )
}

extension Network {
    /// Sets kernel parameters by name (validated as a whole; before simulation starts).
    public func setKernelParameters(_ changes: [(String, Double)]) throws(EpropError) {
        guard currentStep == 0 else {
            throw .state("cannot set kernel parameters after simulation has started (at \(fmt(time)) ms)")
        }
        let updated = try kernel.setting(changes)
        if changes.contains(where: { $0.0 == "eprop_learning_window" })
            && updated["eprop_learning_window"] > updated["eprop_update_interval"] {
            throw .badProperty("kernel parameter eprop_learning_window (ms): eprop_learning_window ≤ eprop_update_interval "
                + "(\(fmt(updated["eprop_update_interval"])) ms) required, got \(fmt(updated["eprop_learning_window"]))")
        }
        for name in ["eprop_update_interval", "eprop_learning_window"] {
            guard clock.gridStep(updated[name]) != nil else {
                throw .badProperty("kernel parameter \(name): must be a multiple of the resolution \(fmt(clock.dt)) ms, got \(fmt(updated[name]))")
            }
        }
        kernel = updated
        for case let projection as BsshslmProjection in projections {
            projection.resetIntervalClock(interval: updateIntervalSteps)
        }
    }

    public func kernelParameter(_ name: String) throws(EpropError) -> Double {
        guard kernel.has(name) else {
            throw .unknown("kernel has no parameter \(name); parameters are "
                + KernelParameters.table.specs.map(\.name).joined(separator: ", "))
        }
        return kernel[name]
    }

    var updateIntervalSteps: Int { clock.gridStep(kernel["eprop_update_interval"]) ?? 1 }
    var learningWindowSteps: Int { clock.gridStep(kernel["eprop_learning_window"]) ?? 1 }

    /// Hands the interval settings to the baseline neurons and checks what depends on them.
    func prepareBaseline() throws(EpropError) {
        let interval = updateIntervalSteps, window = learningWindowSteps
        let reset = kernel["eprop_reset_neurons_on_update"] != 0
        for (id, population) in populations.enumerated() {
            if let p = population as? RecurrentPopulation, p.model.isBaseline {
                p.updateInterval = interval
                p.resetOnUpdate = reset
                let flush = p.neuronParameters.values("flush_event_send_interval")
                if let j = flush.firstIndex(where: { $0 < kernel["eprop_update_interval"] }) {
                    throw .badProperty("\(p.modelName) parameter flush_event_send_interval (ms): ≥ eprop_update_interval "
                        + "(\(fmt(kernel["eprop_update_interval"])) ms) required, got \(fmt(flush[j])) at neuron \(j) of population \(id)")
                }
                if currentStep == 0 {
                    for (j, books) in p.bookkeeping { books.initializeBaselineMarks(shift: EpropIafBsshslm.shift, synapses: Int(p.indegree[j])) }
                }
            } else if let p = population as? ReadoutPopulation, p.isBaseline {
                p.updateInterval = interval
                p.learningWindow = window
                p.resetOnUpdate = reset
                if currentStep == 0 {
                    for (j, books) in p.bookkeeping { books.initializeBaselineMarks(shift: EpropReadoutBsshslm.shift, synapses: Int(p.indegree[j])) }
                }
            }
        }
        for case let projection as BsshslmProjection in projections {
            projection.prepareForSimulation(interval: interval, learningWindow: window, dt: clock.dt)
        }
    }
}
