/// What the step loop calls, as unretained references of concrete classes, built by
/// `Network.prepare` before every simulate call (the network owns every one of these
/// objects for as long as it exists, and none is added or removed while it simulates).
///
/// Why: calling a method on an element of an array of protocol values (`[Projection]`)
/// retains and releases the object around every call, ≈ 60 atomic operations per step,
/// 3–4 % of an N-MNIST or sine-wave step. A guaranteed reference of the concrete class
/// (`Unmanaged._withUnsafeGuaranteedRef`) costs nothing.
struct StepPlan {
    /// A projection of the delivery order, with its source population's event list.
    struct Delivery {
        let projection: ProjectionRef
        let sourceEvents: Unmanaged<EventList>
    }

    /// A recurrent population with the learning-signal projections into it.
    struct Recurrent {
        let population: Unmanaged<RecurrentPopulation>
        let feedback: [Unmanaged<LearningSignalProjection>]
    }

    /// A projection: the engine's kinds unretained, any other as it is.
    enum ProjectionRef {
        case eprop(Unmanaged<EpropProjection>)
        case baseline(Unmanaged<BsshslmProjection>)
        case other(any Projection)

        init(_ projection: any Projection) {
            if let p = projection as? EpropProjection {
                self = .eprop(.passUnretained(p))
            } else if let p = projection as? BsshslmProjection {
                self = .baseline(.passUnretained(p))
            } else {
                self = .other(projection)
            }
        }

        /// `body` with the projection, not retained.
        @inline(__always)
        func callAsFunction<R>(_ body: (any Projection) -> R) -> R {
            switch self {
            case .eprop(let p): return p._withUnsafeGuaranteedRef { body($0) }
            case .baseline(let p): return p._withUnsafeGuaranteedRef { body($0) }
            case .other(let p): return body(p)
            }
        }
    }

    /// A population updated whole in phase 3 (recurrent ones only begin their step there).
    enum PopulationRef {
        case recurrent(Unmanaged<RecurrentPopulation>)
        case readout(Unmanaged<ReadoutPopulation>)
        case input(Unmanaged<InputPopulation>)
        case other(any NeuronPopulation)

        init(_ population: any NeuronPopulation) {
            if let p = population as? RecurrentPopulation {
                self = .recurrent(.passUnretained(p))
            } else if let p = population as? ReadoutPopulation {
                self = .readout(.passUnretained(p))
            } else if let p = population as? InputPopulation {
                self = .input(.passUnretained(p))
            } else {
                self = .other(population)
            }
        }

        /// Phase 3 of step t for everything but the recurrent neurons' update.
        @inline(__always)
        func beginUpdate(step t: Int) {
            switch self {
            case .recurrent(let p): p { $0.beginStep(t) }
            case .readout(let p): p { $0.update(step: t) }
            case .input(let p): p { $0.update(step: t) }
            case .other(let p): p.update(step: t)
            }
        }
    }

    var delivery: [Delivery] = []
    var learningSignals: [Unmanaged<LearningSignalProjection>] = []
    var populations: [PopulationRef] = []
    var recurrent: [Recurrent] = []

    init() {}

    init(network: Network) {
        delivery = network.deliveryOrder.map { projection in
            Delivery(projection: ProjectionRef(projection),
                     sourceEvents: .passUnretained(network.populations[projection.sourcePopulation].events))
        }
        learningSignals = network.learningSignals.map { .passUnretained($0) }
        populations = network.populations.map { PopulationRef($0) }
        recurrent = zip(network.recurrentPopulations, network.feedbackInto).map { population, feedback in
            Recurrent(population: .passUnretained(population), feedback: feedback.map { .passUnretained($0) })
        }
    }
}

extension Unmanaged {
    /// `body` with the object, not retained (the caller guarantees it stays alive).
    @inline(__always)
    func callAsFunction<R>(_ body: (Instance) -> R) -> R { _withUnsafeGuaranteedRef(body) }
}
