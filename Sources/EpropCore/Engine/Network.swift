/// A network: populations, projections, recorders, the optimizer and the clock. The build
/// API validates everything a caller can get wrong and throws `EpropError`; nothing a
/// caller passes can reach a trap.
public final class Network {
    public let clock: Clock
    /// Steps simulated so far; the next step to run.
    public private(set) var currentStep = 0
    public private(set) var populations: [NeuronPopulation] = []
    public private(set) var projections: [Projection] = []
    public let optimizer = OptimizerConfig()
    /// Common properties of eprop_synapse_bsshslm_2020 (its own optimizer, average_gradient,
    /// tau_m_readout).
    public let baselineSynapse = BaselineSynapseConfig()
    /// Storage precision of eprop_synapse (its common property "precision"); each connect
    /// call takes the value in effect then, as NEST's SetDefaults applies to later Connects.
    public var synapsePrecision = SynapsePrecision.double
    /// Kernel parameters of the baseline family (KernelParameters.swift).
    public internal(set) var kernel = KernelParameters.table.defaults()
    var deliveryOrder: [Projection] = []
    /// The recurrent populations, kept as a list so the step loop allocates nothing.
    private(set) var recurrentPopulations: [RecurrentPopulation] = []
    /// Threads of the parallel phases (1: no worker threads).
    public private(set) var threads = 1
    /// Work a step needs before its phases run on the worker threads: the planned synapse
    /// work (eligibility steps plus 4 per synapse event) plus 10 per recurrent neuron.
    /// Smaller steps run on the calling thread, where they are faster (measured here: the
    /// N-MNIST tutorial network, ≈ 24 k per step, is 5 % slower on 2 threads than on 1; a
    /// 1,000-neuron sparse network, ≈ 45 k, is 1.18× faster). Results are the same either
    /// way. 0: every step is parallel.
    public private(set) var parallelMinimumWork = 32_768
    var pool: WorkerPool?
    var learningSignals: [LearningSignalProjection] = []
    /// The learning-signal projections into each of `recurrentPopulations` (same order),
    /// set by `prepare`.
    var feedbackInto: [[LearningSignalProjection]] = []
    /// The step whose learning signals (phase 1) were delivered at the end of the step
    /// before, fused with the recurrent neurons' update (Step.swift); −1: none.
    var learningSignalsDelivered = -1
    /// Whether history entries no readout error reaches are marked, so that the gradient
    /// kernel leaves out their L·ē (the same bits, EpropProjection.accumulate). Off only in
    /// the tests that compare both ways.
    var marksEntriesWithoutLearningSignal = true
    /// Whether recurrent populations whose incoming rows are mostly runs of consecutive
    /// targets keep a step-major history copy for the kernel (`EpropHistory.stepMajor`);
    /// off only in tests that compare both ways.
    var keepsStepMajorCopies = true
    /// Whether groups of consecutive targets may use the AVX-512 kernel where the CPU has
    /// it (`WideKernel`); off only in tests that compare both ways.
    var usesWideKernel = true
    /// Per recurrent population, what `markLearningSignals` reads (set by `prepare`).
    var learningSignalMarkers: [LearningSignalMarker] = []
    /// What the step loop calls, unretained (set by `prepare`; its buffers freed with the
    /// network).
    var stepPlan = StepPlan()
    var recorders: [Recorder] = []
    /// Work counters of every simulate call since creation or the last reset (WorkCounters.swift).
    public let counters = WorkCounters()
    /// pJ per operation of the energy estimate (Energy.swift).
    public var energyTable = EnergyTable()

    /// resolution: dt in ms (> 0, finite).
    public init(resolution: Double) throws(EpropError) {
        guard resolution.isFinite, resolution > 0 else {
            throw .invalid("resolution: must be finite and > 0 ms, got \(fmt(resolution))")
        }
        guard resolution >= 0.001, (resolution * 1000).rounded() == resolution * 1000 else {
            throw .invalid("resolution: must be a multiple of NEST's tic 0.001 ms and ≥ 0.001 ms, got \(fmt(resolution))")
        }
        clock = Clock(dt: resolution)
    }

    deinit { stepPlan.deallocate() }

    /// Simulated time, ms.
    public var time: Double { clock.ms(currentStep) }

    /// Sets the number of threads (1 … 256). Results are bit-identical for any number.
    public func setThreads(_ n: Int) throws(EpropError) {
        guard n >= 1, n <= 256 else { throw .invalid("threads: must be between 1 and 256, got \(n)") }
        guard n != threads else { return }
        pool = nil
        threads = n
        pool = n > 1 ? WorkerPool(threads: n) : nil
        counters.resize(parts: n)
    }

    /// Sets `parallelMinimumWork` (≥ 0).
    public func setParallelMinimumWork(_ work: Int) throws(EpropError) {
        guard work >= 0 else { throw .invalid("parallel_min_work: must be ≥ 0, got \(work)") }
        parallelMinimumWork = work
    }

    // MARK: Populations

    /// Adds `size` neurons of `model` (a name in `ModelCatalog.names`); returns the id.
    @discardableResult
    public func addPopulation(model: String, size: Int) throws(EpropError) -> Int {
        guard size >= 1, size <= Int(Int32.max) else {
            throw .invalid("size: must be between 1 and \(Int32.max), got \(size)")
        }
        try requireNotStarted("add a population")
        try MemoryModel.require(size * (MemoryModel.recurrentNeuronBytes + 64 * 3 * 8), for: "add_population (\(size) neurons)")
        let population = try ModelCatalog.make(model, size: size, clock: clock)
        (population as? WorkCounting)?.counters = counters
        populations.append(population)
        if let recurrent = population as? RecurrentPopulation { recurrentPopulations.append(recurrent) }
        return populations.count - 1
    }

    public func population(_ id: Int) throws(EpropError) -> NeuronPopulation {
        guard id >= 0, id < populations.count else {
            throw .invalid("population: no population \(id); ids are 0..<\(populations.count)")
        }
        return populations[id]
    }

    public func setParameters(_ id: Int, _ changes: [(String, Double)]) throws(EpropError) {
        try population(id).setParameters(changes)
    }

    public func setParameter(_ id: Int, _ name: String, choice: String) throws(EpropError) {
        let pop = try population(id)
        guard let i = pop.parameters.table.index(of: name) else {
            throw .unknown("\(pop.modelName) has no parameter \(name); parameters are "
                + pop.parameters.table.specs.map(\.name).joined(separator: ", "))
        }
        guard case .choice(let names) = pop.parameters.table.specs[i].rule else {
            throw .invalid("\(pop.modelName) parameter \(name) takes a number, not a name")
        }
        guard let k = names.firstIndex(of: choice) else {
            throw .badProperty("\(pop.modelName) parameter \(name): "
                + pop.parameters.table.specs[i].ruleText + " required, got \"\(choice)\"")
        }
        try pop.setParameters([(name, Double(k))])
    }

    /// A real or bool parameter; for a choice parameter the index of its value.
    public func parameter(_ id: Int, _ name: String) throws(EpropError) -> Double {
        let pop = try population(id)
        guard pop.parameters.has(name) else {
            if pop.recordables.contains(name) {
                throw .invalid("\(name) is per-neuron state of \(pop.modelName): read it with get_state")
            }
            throw .unknown("\(pop.modelName) has no parameter \(name); parameters are "
                + pop.parameters.table.specs.map(\.name).joined(separator: ", "))
        }
        if pop.neuronParameters.isPerNeuron(name) {
            throw .invalid("\(pop.modelName) parameter \(name) is set per neuron: read it with get_parameter_array")
        }
        return pop.parameters[name]
    }

    /// Every neuron's value of parameter `name` (state such as V_m: use `state`).
    public func parameterArray(_ id: Int, _ name: String, into out: UnsafeMutableBufferPointer<Double>) throws(EpropError) {
        let pop = try population(id)
        guard pop.parameters.has(name) else {
            throw .unknown("\(pop.modelName) has no parameter \(name); parameters are "
                + pop.parameters.table.specs.map(\.name).joined(separator: ", "))
        }
        guard out.count == pop.size else {
            throw .invalid("values: must hold the population size \(pop.size), got \(out.count)")
        }
        for (j, x) in pop.neuronParameters.values(name).enumerated() { out[j] = x }
    }

    /// Sets per-neuron values of parameter (or state) `name`, validated for every neuron.
    public func setParameterArray(_ id: Int, _ name: String, _ values: UnsafeBufferPointer<Double>) throws(EpropError) {
        let pop = try population(id)
        guard values.count == pop.size else {
            throw .invalid("values: must hold one value per neuron (\(pop.size)), got \(values.count)")
        }
        try pop.setParameters([], arrays: [(name, Array(values))])
    }

    public func choiceParameter(_ id: Int, _ name: String) throws(EpropError) -> String {
        let pop = try population(id)
        guard pop.parameters.has(name) else {
            throw .unknown("\(pop.modelName) has no parameter \(name)")
        }
        guard let value = pop.parameters.choiceName(name) else {
            throw .invalid("\(pop.modelName) parameter \(name) is a number; read it with get_parameter")
        }
        guard !pop.neuronParameters.isPerNeuron(name) else {
            throw .invalid("\(pop.modelName) parameter \(name) is set per neuron")
        }
        return value
    }

    // MARK: Inputs

    /// Replaces the pending spikes of an input population (spike_generator times, ms, all later
    /// than now); spikes at the current time are already on their way and are kept.
    public func setSpikeTimes(_ id: Int, neurons: UnsafeBufferPointer<Int64>, times: UnsafeBufferPointer<Double>) throws(EpropError) {
        guard let input = try population(id) as? InputPopulation else {
            throw .invalid("population \(id) is \(populations[id].modelName); spike times drive \"input\" populations")
        }
        guard neurons.count == times.count else {
            throw .invalid("neurons and times_ms: lengths must match, got \(neurons.count) and \(times.count)")
        }
        var steps = [Int](repeating: 0, count: times.count)
        var ids = [Int32](repeating: 0, count: times.count)
        for i in 0..<times.count {
            let n = neurons[i]
            guard n >= 0, n < Int64(input.size) else {
                throw .invalid("neurons[\(i)]: must be in 0..<\(input.size), got \(n)")
            }
            guard let g = clock.gridStep(times[i]) else {
                throw .invalid("times_ms[\(i)]: must be a finite multiple of the resolution \(fmt(clock.dt)) ms, got \(fmt(times[i]))")
            }
            guard g > currentStep else {
                throw .invalid("times_ms[\(i)]: must be later than the current time \(fmt(time)) ms, got \(fmt(times[i]))")
            }
            steps[i] = g   // the generator fires in step g − 1; the parrot (our neuron) in step g
            ids[i] = Int32(n)
        }
        input.setSpikes(steps: steps, neurons: ids, currentStep: currentStep)
    }

    public enum ReadoutSignal: Sendable { case target, learningWindow, current }

    /// Replaces the pending target or learning-window schedule of a readout population.
    public func setSchedule(_ signal: ReadoutSignal, _ id: Int, times: UnsafeBufferPointer<Double>,
                            values: UnsafeBufferPointer<Double>, neurons: Int) throws(EpropError) {
        let name = signal == .target ? "target" : signal == .learningWindow ? "learning window" : "current"
        let pop = try population(id)
        let readout = pop as? ReadoutPopulation, recurrent = pop as? RecurrentPopulation
        if signal == .current {
            guard readout != nil || recurrent != nil else {
                throw .invalid("population \(id) is \(pop.modelName); a current drives e-prop neuron populations")
            }
        } else if readout == nil {
            throw .invalid("population \(id) is \(pop.modelName); a \(name) drives \"eprop_readout\" populations")
        } else if signal == .learningWindow && readout!.isBaseline {
            throw .invalid("population \(id) is eprop_readout_bsshslm_2020: its learning window is the kernel parameter eprop_learning_window")
        }
        guard neurons == pop.size else {
            throw .invalid("n_neurons: must equal the population size \(pop.size), got \(neurons)")
        }
        guard values.count == times.count * neurons else {
            throw .invalid("values: must hold n_neurons × n_times = \(neurons * times.count) values, got \(values.count)")
        }
        var steps = [Int](repeating: 0, count: times.count)
        for k in 0..<times.count {
            guard let g = clock.gridStep(times[k]) else {
                throw .invalid("times_ms[\(k)]: must be a finite multiple of the resolution \(fmt(clock.dt)) ms, got \(fmt(times[k]))")
            }
            guard g >= currentStep else {
                throw .invalid("times_ms[\(k)]: must not be before the current time \(fmt(time)) ms, got \(fmt(times[k]))")
            }
            if k > 0 && g <= steps[k - 1] {
                throw .invalid("times_ms: must be strictly increasing, but times_ms[\(k)] = \(fmt(times[k])) follows \(fmt(times[k - 1]))")
            }
            steps[k] = g
        }
        for i in 0..<values.count where !values[i].isFinite {
            throw .invalid("values[\(i)]: must be finite, got \(fmt(values[i]))")
        }
        let schedule = RateSchedule(steps: steps, values: Array(values), cursor: 0)
        switch signal {
        case .target: readout!.targetSchedule = schedule
        case .learningWindow: readout!.windowSchedule = schedule
        case .current:
            if let readout {
                readout.currentSchedule = schedule
            } else {
                recurrent!.currentSchedule = schedule
                if !schedule.steps.isEmpty { recurrent!.receivesCurrent = true }
            }
        }
    }

    // MARK: Connections

    /// Connects pre[i] → post[i] with weights[i]; returns the projection id.
    @discardableResult
    public func connect(pre prePopulation: Int, post postPopulation: Int, synapseModel: String,
                        pre: UnsafeBufferPointer<Int64>, post: UnsafeBufferPointer<Int64>,
                        weights: UnsafeBufferPointer<Double>, delay: Double) throws(EpropError) -> Int {
        try requireNotStarted("connect")
        let source = try population(prePopulation)
        let target = try population(postPopulation)
        guard pre.count == post.count, pre.count == weights.count else {
            throw .invalid("pre, post and weights: lengths must match, got \(pre.count), \(post.count) and \(weights.count)")
        }
        for i in 0..<pre.count {
            guard pre[i] >= 0, pre[i] < Int64(source.size) else {
                throw .invalid("pre[\(i)]: must be in 0..<\(source.size) (size of population \(prePopulation)), got \(pre[i])")
            }
            guard post[i] >= 0, post[i] < Int64(target.size) else {
                throw .invalid("post[\(i)]: must be in 0..<\(target.size) (size of population \(postPopulation)), got \(post[i])")
            }
            guard weights[i].isFinite else {
                throw .invalid("weights[\(i)]: must be finite, got \(fmt(weights[i]))")
            }
        }
        guard delay.isFinite, delay > 0 else {
            throw .invalid("delay_ms: must be finite and > 0, got \(fmt(delay))")
        }
        if synapseModel == "eprop_synapse_bsshslm_2020" {
            // NEST checks the baseline synapse's weights against its bounds at Connect (the
            // event-driven eprop_synapse only at SetStatus; tools/bsshslm_semantics.md S-1).
            let bounds = baselineSynapse.optimizer
            for i in 0..<weights.count where weights[i] < bounds.wMin || weights[i] > bounds.wMax {
                throw .illegal("weights[\(i)]: eprop_synapse_bsshslm_2020 weights must lie in [Wmin, Wmax] = "
                    + "[\(fmt(bounds.wMin)), \(fmt(bounds.wMax))], got \(fmt(weights[i]))")
            }
        }
        let perSynapse = synapseModel == "eprop_synapse"
            ? MemoryModel.plasticSynapseBytes(adam: optimizer.kind == .adam, batch: optimizer.batchSize,
                                              adaptiveTarget: true, heterogeneousTauM: false, precision: synapsePrecision)
            : synapseModel == "eprop_synapse_bsshslm_2020" ? BsshslmProjection.bytesPerSynapse(adam: baselineSynapse.optimizer.kind == .adam)
            : MemoryModel.fixedSynapseBytes
        // Construction holds the order (8 B) and the sorted weights (8 B) besides the synapses.
        try MemoryModel.require(pre.count * (perSynapse + 16) + source.size * MemoryModel.sourceBytes,
                                for: "connect (\(pre.count) synapses)")
        let delaySteps = clock.gridStep(delay)
        let projection: Projection
        switch synapseModel {
        case "eprop_synapse", "static_synapse", "eprop_synapse_bsshslm_2020":
            guard source is InputPopulation || source is RecurrentPopulation else {
                throw .illegal("\(synapseModel) from \(source.modelName): the source must emit spikes (input or a recurrent e-prop model)")
            }
            guard delaySteps == 1 else {
                throw .illegal("delay_ms: \(synapseModel) currently requires a delay of exactly one step (\(fmt(clock.dt)) ms), got \(fmt(delay))")
            }
            let (connectivity, order) = Connectivity.build(sources: source.size, pre: pre, post: post)
            let weights = Connectivity.inStorageOrder(weights, order)
            if synapseModel == "eprop_synapse_bsshslm_2020" {
                let kind: BsshslmProjection.Target
                if let recurrent = target as? RecurrentPopulation, recurrent.model.isBaseline {
                    kind = .recurrent(recurrent)
                    for i in 0..<post.count { recurrent.indegree[Int(post[i])] += 1 }
                } else if let readout = target as? ReadoutPopulation, readout.isBaseline {
                    kind = .readout(readout)
                    for i in 0..<post.count { readout.indegree[Int(post[i])] += 1 }
                } else {
                    connectivity.free()
                    throw .illegal("eprop_synapse_bsshslm_2020 onto \(target.modelName): the target must be a baseline e-prop neuron ("
                        + RecurrentModel.baseline.map(\.name).joined(separator: ", ") + ", eprop_readout_bsshslm_2020)")
                }
                baselineSynapse.optimizer.locked = true
                projection = BsshslmProjection(source: prePopulation, targetPopulation: postPopulation, target: kind,
                                               connectivity: connectivity, weights: weights, config: baselineSynapse,
                                               input: target.spikeInput!, interval: updateIntervalSteps)
            } else if synapseModel == "static_synapse" {
                guard let input = target.spikeInput else {
                    throw .illegal("static_synapse onto \(target.modelName): the target does not take spikes")
                }
                projection = StaticProjection(source: prePopulation, target: postPopulation, targetCount: target.size,
                                              connectivity: connectivity, weights: weights, input: input)
            } else {
                let kind: EpropProjection.Target
                if let recurrent = target as? RecurrentPopulation, !recurrent.model.isBaseline {
                    kind = .recurrent(recurrent)
                    for i in 0..<post.count { recurrent.indegree[Int(post[i])] += 1 }
                } else if let readout = target as? ReadoutPopulation, !readout.isBaseline {
                    kind = .readout(readout)
                    for i in 0..<post.count { readout.indegree[Int(post[i])] += 1 }
                } else {
                    connectivity.free()
                    throw .illegal("eprop_synapse onto \(target.modelName): the target must be an event-driven e-prop neuron ("
                        + RecurrentModel.eventDriven.map(\.name).joined(separator: ", ") + ", eprop_readout; "
                        + "baseline models take eprop_synapse_bsshslm_2020)")
                }
                optimizer.locked = true
                projection = EpropProjection(source: prePopulation, targetPopulation: postPopulation, target: kind,
                                             connectivity: connectivity, weights: weights, optimizer: optimizer,
                                             input: target.spikeInput!, precision: synapsePrecision)
            }
        case "eprop_learning_signal_connection", "eprop_learning_signal_connection_bsshslm_2020":
            guard let readouts = source as? ReadoutPopulation else {
                throw .illegal("\(synapseModel) from \(source.modelName): the source must be an eprop_readout or eprop_readout_bsshslm_2020")
            }
            guard let recurrent = target as? RecurrentPopulation else {
                throw .illegal("\(synapseModel) onto \(target.modelName): the target must be a recurrent e-prop neuron ("
                + RecurrentModel.allCases.map(\.name).joined(separator: ", ") + ")")
            }
            guard delaySteps != nil, delay >= clock.dt else {
                throw .invalid("delay_ms: must be a multiple of the resolution and ≥ \(fmt(clock.dt)) ms (it is ignored, as in NEST), got \(fmt(delay))")
            }
            let (connectivity, order) = Connectivity.build(sources: source.size, pre: pre, post: post)
            let feedback = LearningSignalProjection(source: prePopulation, target: postPopulation,
                                                    connectivity: connectivity,
                                                    weights: Connectivity.inStorageOrder(weights, order),
                                                    readouts: readouts, recurrent: recurrent, synapseModel: synapseModel)
            learningSignals.append(feedback)
            projection = feedback
        default:
            throw .unknown("unknown synapse model \"\(synapseModel)\"; synapse models are "
                + ModelCatalog.synapseModels.joined(separator: ", "))
        }
        (projection as? WorkCounting)?.counters = counters
        projections.append(projection)
        if !(projection is LearningSignalProjection) {
            deliveryOrder.append(projection)
            // Stable: by source population, then creation.
            deliveryOrder = deliveryOrder.enumerated().sorted {
                ($0.element.sourcePopulation, $0.offset) < ($1.element.sourcePopulation, $1.offset)
            }.map(\.element)
        }
        return projections.count - 1
    }

    public func projection(_ id: Int) throws(EpropError) -> Projection {
        guard id >= 0, id < projections.count else {
            throw .invalid("projection: no projection \(id); ids are 0..<\(projections.count)")
        }
        return projections[id]
    }

    /// Sets every weight of a projection in storage order.
    public func setWeights(_ id: Int, _ w: UnsafeBufferPointer<Double>) throws(EpropError) {
        let p = try projection(id)
        guard w.count == p.count else {
            throw .invalid("weights: projection \(id) has \(p.count) synapses, got \(w.count) values")
        }
        for i in 0..<w.count where !w[i].isFinite {
            throw .invalid("weights[\(i)]: must be finite, got \(fmt(w[i]))")
        }
        if p is EpropProjection || p is BsshslmProjection {
            let bounds = p is EpropProjection ? optimizer : baselineSynapse.optimizer
            for i in 0..<w.count where w[i] < bounds.wMin || w[i] > bounds.wMax {
                throw .badProperty("weights[\(i)]: \(p.synapseModel) weights must lie in [Wmin, Wmax] = [\(fmt(bounds.wMin)), \(fmt(bounds.wMax))], got \(fmt(w[i]))")
            }
        }
        p.setWeights(w)
    }

    // MARK: Recording

    public func recordSpikes(_ id: Int) throws(EpropError) -> Int {
        let pop = try population(id)
        recorders.append(SpikeRecorder(population: pop))
        return recorders.count - 1
    }

    public func recordState(_ id: Int, recordables names: [String], neurons: [Int]) throws(EpropError) -> Int {
        let pop = try population(id)
        guard !names.isEmpty else { throw .invalid("recordables: name at least one of " + pop.recordables.joined(separator: ", ")) }
        var indices: [Int] = []
        for name in names {
            guard !name.isEmpty else { throw .invalid("recordables: empty name in the list") }
            let index = try pop.recordableIndex(name)
            guard !indices.contains(index) else { throw .invalid("recordables: \(name) is listed twice") }
            indices.append(index)
        }
        guard !neurons.isEmpty else { throw .invalid("neurons: name at least one neuron") }
        for (i, j) in neurons.enumerated() where j < 0 || j >= pop.size {
            throw .invalid("neurons[\(i)]: must be in 0..<\(pop.size), got \(j)")
        }
        if names.contains("eprop_history_duration") || names.contains("learning_signal") {
            try keepBookkeeping(pop, neurons: neurons, strict: names.contains("eprop_history_duration"))
        }
        recorders.append(StateRecorder(population: pop, recordables: indices, neurons: neurons))
        return recorders.count - 1
    }

    /// Starts NEST's history bookkeeping for `neurons` (needed by eprop_history_duration and
    /// the exact learning_signal). It must start with the simulation to be exact.
    private func keepBookkeeping(_ pop: NeuronPopulation, neurons: [Int], strict: Bool) throws(EpropError) {
        let recurrent = pop as? RecurrentPopulation, readout = pop as? ReadoutPopulation
        let existing = recurrent?.bookkeeping ?? readout?.bookkeeping ?? [:]
        let missing = neurons.filter { existing[$0] == nil }
        guard !missing.isEmpty else { return }
        if currentStep > 0 {
            if strict {
                throw .state("eprop_history_duration: record it with a recorder created before the first simulate call "
                    + "(NEST's history bookkeeping is kept only for neurons recorded from the start)")
            }
            return   // learning_signal then reads entry t − 2 of the engine's history
        }
        let cutoff = pop.parameters.has("eprop_isi_trace_cutoff") ? clock.steps(pop.parameters["eprop_isi_trace_cutoff"]) : Clock.never
        for j in missing {
            if let recurrent { recurrent.bookkeeping[j] = HistoryBookkeeping(cutoffSteps: cutoff) }
            if let readout { readout.bookkeeping[j] = HistoryBookkeeping(cutoffSteps: cutoff) }
        }
    }

    public func recordWeights(_ id: Int, pre: [Int], post: [Int]) throws(EpropError) -> Int {
        let p = try projection(id)
        guard pre.count == post.count, !pre.isEmpty else {
            throw .invalid("pre and post: must be non-empty and of equal length, got \(pre.count) and \(post.count)")
        }
        var synapses: [Int] = []
        for i in 0..<pre.count {
            guard pre[i] >= 0, pre[i] < p.connectivity.sources, let k = p.connectivity.find(pre[i], post[i]) else {
                throw .invalid("(pre[\(i)], post[\(i)]) = (\(pre[i]), \(post[i])): projection \(id) has no such synapse")
            }
            synapses.append(k)
        }
        recorders.append(WeightRecorder(projection: p, synapses: synapses))
        return recorders.count - 1
    }

    func recorder(_ id: Int) throws(EpropError) -> Recorder {
        guard id >= 0, id < recorders.count else {
            throw .invalid("recorder: no recorder \(id); ids are 0..<\(recorders.count)")
        }
        return recorders[id]
    }

    // MARK: Simulation

    private func requireNotStarted(_ what: String) throws(EpropError) {
        guard currentStep == 0 else {
            throw .state("cannot \(what) after simulation has started (at \(fmt(time)) ms)")
        }
    }

    /// Simulates `duration` ms (a non-negative multiple of dt), continuing exactly where the
    /// last call stopped. `progress(done, total)` is called every `every` steps and after
    /// the last; returning false stops after the current step with `.interrupted`.
    public func simulate(_ duration: Double, every: Int = 0,
                         progress: ((Int, Int) -> Bool)? = nil) throws(EpropError) {
        guard let steps = clock.gridStep(duration), steps >= 0, duration >= 0 else {
            throw .invalid("duration_ms: must be a non-negative multiple of the resolution \(fmt(clock.dt)) ms, got \(fmt(duration))")
        }
        try prepareBaseline()
        prepare()
        try sizeHistories()
        for recorder in recorders { recorder.reserve(steps: steps) }
        let interval = every > 0 ? every : max(steps, 1)
        let histories: [(EpropHistory, Int)] = populations.compactMap { population in
            if let p = population as? RecurrentPopulation { return (p.history, 0) }
            if let p = population as? ReadoutPopulation { return (p.history, p.isBaseline ? 1 : 0) }
            return nil
        }
        for i in 0..<steps {
            var held = 0
            for (history, lag) in histories {
                // Baseline readouts write entry t − 1 in step t.
                if currentStep - lag >= 0 { try history.makeRoom(for: currentStep - lag) }
                held += history.bytes
            }
            counters.raise(.peakHistoryBytes, to: held)
            // The next step's learning signals may be delivered at the end of this one only
            // if nothing can happen in between: not after the last step of the call, and not
            // where the progress callback may stop the simulation.
            let nextFollows = i + 1 < steps && (progress == nil || (i + 1) % interval != 0)
            step(currentStep, deliverNextLearningSignals: nextFollows)
            currentStep += 1
            if let progress, (i + 1) % interval == 0 || i + 1 == steps {
                if !progress(i + 1, steps) && i + 1 < steps {
                    throw .init(.interrupted, "simulation stopped by the progress callback at \(fmt(time)) ms")
                }
            }
        }
    }

    /// Derived constants for the clock, and the history windows' questions to the projections.
    /// Grows each large event-driven recurrent population's history ring (≥ 64 MiB) to the
    /// size it would settle at during the run (`MemoryModel.historySteps`, what `estimate`
    /// counts), before the first step rather than by doubling mid-run.
    func sizeHistories() throws(EpropError) {
        for p in recurrentPopulations where !p.model.isBaseline && p.flushSteps.isUniform && p.cutoffSteps != Clock.never {
            let flush = Int(p.flushSteps[0])
            let steps = MemoryModel.historySteps(cutoffSteps: p.cutoffSteps, flushSteps: flush < 0 ? Clock.never : flush,
                                                 eachStep: optimizer.eachStep)
            guard steps <= 1 << 12 else { continue }   // a long span: let the ring grow as needed
            let slots = MemoryModel.historySlots(steps)
            // Small rings grow cheaply, and short runs of them may never need the full span.
            guard p.size * slots * p.history.channels * 8 >= 64 << 20 else { continue }
            try p.history.reserve(slots: slots)
        }
    }

    func prepare() {
        for population in populations { population.prepare(clock) }
        feedbackInto = recurrentPopulations.map { recurrent in learningSignals.filter { $0.recurrent === recurrent } }
        learningSignalMarkers = zip(recurrentPopulations, feedbackInto).map { recurrent, feedback in
            LearningSignalMarker(history: recurrent.history, lag: recurrent.model.learningSignalLag,
                                 errors: feedback.map { ($0.readouts.error, $0.readouts.size) })
        }
        stepPlan.deallocate()
        stepPlan = StepPlan(network: self)
        learningSignalsDelivered = -1
        for recurrent in recurrentPopulations where recurrent.partEvents.count != (pool?.chunks ?? 0) {
            recurrent.configureParts(pool?.chunks ?? 1)
        }
        for case let projection as EpropProjection in projections {
            projection.prepareForSimulation()
            projection.usesWidePairs = usesWideKernel && WideKernel.isAvailable
        }
        for (id, population) in populations.enumerated() {
            let incoming = projections.compactMap { $0 as? EpropProjection }.filter { $0.targetPopulation == id }
            let baseline = projections.compactMap { $0 as? BsshslmProjection }.filter { $0.targetPopulation == id }
            let ask: (Int) -> Int = { t in
                min(incoming.reduce(Int.max) { min($0, $1.oldestPendingEntry()) },
                    baseline.reduce(Int.max) { min($0, $1.oldestPendingEntry(now: t)) })
            }
            if let recurrent = population as? RecurrentPopulation {
                recurrent.history.oldestNeeded = ask
                // The event-driven models' groups of consecutive targets read the copy (eight
                // lanes, four with ε); without the memory for it the kernel gathers as before.
                // Decided once, before the first step: connections are fixed from then on.
                if currentStep == 0 && !recurrent.model.isBaseline {
                    let keep = keepsStepMajorCopies && EpropHistory.rowsMostlyConsecutive(incoming.map(\.connectivity))
                    try? recurrent.history.keepStepMajorCopy(keep)
                }
            } else if let readout = population as? ReadoutPopulation {
                readout.history.oldestNeeded = ask
            }
        }
    }
}

extension Network {
    /// Per-neuron recordable `name` of population `id`, into `out` (one value per neuron).
    public func state(_ id: Int, _ name: String, into out: UnsafeMutableBufferPointer<Double>) throws(EpropError) {
        let pop = try population(id)
        guard out.count == pop.size else {
            throw .invalid("values: must hold the population size \(pop.size), got \(out.count)")
        }
        try pop.state(name, into: out)
        if name == "eprop_history_duration", let j = (0..<pop.size).first(where: { out[$0].isNaN }) {
            throw .state("eprop_history_duration of neuron \(j): record it with a recorder created before the first simulate call "
                + "(NEST's history bookkeeping is kept only for neurons recorded from the start)")
        }
    }

    /// Connects every (post, pre) pair with weights[post · nPre + pre]; with the same
    /// population on both sides and `allowAutapses` false, the diagonal is skipped.
    @discardableResult
    public func connectDense(pre prePopulation: Int, post postPopulation: Int, synapseModel: String,
                             weights: UnsafeBufferPointer<Double>, nPost: Int, nPre: Int,
                             allowAutapses: Bool, delay: Double) throws(EpropError) -> Int {
        let source = try population(prePopulation), target = try population(postPopulation)
        guard nPre == source.size else {
            throw .invalid("n_pre: must equal the size \(source.size) of population \(prePopulation), got \(nPre)")
        }
        guard nPost == target.size else {
            throw .invalid("n_post: must equal the size \(target.size) of population \(postPopulation), got \(nPost)")
        }
        guard weights.count == nPre * nPost else {
            throw .invalid("weights: must hold n_post × n_pre = \(nPre * nPost) values, got \(weights.count)")
        }
        let skipDiagonal = prePopulation == postPopulation && !allowAutapses
        var pre: [Int64] = [], post: [Int64] = [], w: [Double] = []
        let n = nPre * nPost
        pre.reserveCapacity(n); post.reserveCapacity(n); w.reserveCapacity(n)
        for i in 0..<nPre {
            for j in 0..<nPost where !(skipDiagonal && i == j) {
                pre.append(Int64(i))
                post.append(Int64(j))
                w.append(weights[j * nPre + i])
            }
        }
        return try pre.withUnsafeBufferPointer { (p) throws(EpropError) -> Int in
            try post.withUnsafeBufferPointer { (q) throws(EpropError) -> Int in
                try w.withUnsafeBufferPointer { (ws) throws(EpropError) -> Int in
                    try connect(pre: prePopulation, post: postPopulation, synapseModel: synapseModel,
                                pre: p, post: q, weights: ws, delay: delay)
                }
            }
        }
    }

    /// Dense weights[post · nPre + pre] of a projection; absent synapses read 0.
    public func weightMatrix(_ id: Int, into out: UnsafeMutableBufferPointer<Double>, nPost: Int, nPre: Int) throws(EpropError) {
        let p = try projection(id)
        let source = populations[p.sourcePopulation], target = populations[p.targetPopulation]
        guard nPre == source.size, nPost == target.size else {
            throw .invalid("n_post × n_pre: must be \(target.size) × \(source.size) (the population sizes), got \(nPost) × \(nPre)")
        }
        guard out.count == nPre * nPost else {
            throw .invalid("weights: must hold \(nPre * nPost) values, got \(out.count)")
        }
        for i in 0..<out.count { out[i] = 0 }
        let c = p.connectivity
        for s in 0..<c.sources {
            for k in c.rowStart[s]..<c.rowStart[s + 1] { out[Int(c.target[k]) * nPre + s] += p.weight(k) }
        }
    }

    /// (pre, post) of every synapse of projection `id` in storage order.
    public func connections(_ id: Int) throws(EpropError) -> (pre: [Int], post: [Int]) {
        let p = try projection(id)
        let c = p.connectivity
        return (p.sources(), (0..<c.count).map { Int(c.target[$0]) })
    }

    public func recorderCount(_ id: Int) throws(EpropError) -> Int { try recorder(id).count }
    public func recorderWidth(_ id: Int) throws(EpropError) -> Int { try recorder(id).width }
    public func clearRecorder(_ id: Int) throws(EpropError) { try recorder(id).clear() }

    /// Spike times (ms) and senders of a spike recorder.
    public func recordedSpikes(_ id: Int) throws(EpropError) -> (steps: [Int], senders: [Int32]) {
        guard let r = try recorder(id) as? SpikeRecorder else {
            throw .invalid("recorder \(id) records samples, not spikes: read it with get_samples")
        }
        return (r.steps, r.senders)
    }

    /// Sample steps and values of a state or weight recorder.
    public func recordedSamples(_ id: Int) throws(EpropError) -> (steps: [Int], values: [Double]) {
        switch try recorder(id) {
        case let r as StateRecorder: return (r.buffer.steps, r.buffer.values)
        case let r as WeightRecorder: return (r.buffer.steps, r.buffer.values)
        default: throw .invalid("recorder \(id) records spikes: read it with get_spikes")
        }
    }
}
