/// What the step loop calls, as unretained references of concrete classes in buffers of
/// trivial values, built by `Network.prepare` before every simulate call (the network owns
/// every one of these objects for as long as it exists, and none is added or removed while
/// it simulates).
///
/// Why: calling a method on an element of an array of protocol values (`[Projection]`)
/// retains and releases the object around every call, and copying or iterating an array
/// retains its buffer: ≈ 60 atomic operations per step, 3–4 % of an N-MNIST or sine-wave
/// step. A guaranteed reference of the concrete class (`Unmanaged._withUnsafeGuaranteedRef`)
/// read from an `UnsafeBufferPointer` costs nothing. The buffers are freed by `deallocate`
/// (before the next plan, and when the network goes).
struct StepPlan {
    /// A projection of the delivery order, with its source population's event list.
    struct Delivery {
        let projection: ProjectionRef
        let sourceEvents: Unmanaged<EventList>
    }

    /// A recurrent population with the learning-signal projections into it.
    struct Recurrent {
        let population: Unmanaged<RecurrentPopulation>
        let feedback: UnsafeBufferPointer<Unmanaged<LearningSignalProjection>>
    }

    /// A projection of the delivery order: the engine's kinds, unretained.
    enum ProjectionRef {
        case eprop(Unmanaged<EpropProjection>)
        case baseline(Unmanaged<BsshslmProjection>)
        case fixed(Unmanaged<StaticProjection>)

        init(_ projection: any Projection) {
            switch projection {
            case let p as EpropProjection: self = .eprop(.passUnretained(p))
            case let p as BsshslmProjection: self = .baseline(.passUnretained(p))
            case let p as StaticProjection: self = .fixed(.passUnretained(p))
            default: preconditionFailure("a projection of an unknown kind in the delivery order: \(type(of: projection))")
            }
        }

        /// `body` with the projection, not retained.
        @inline(__always)
        func callAsFunction<R>(_ body: (any Projection) -> R) -> R {
            switch self {
            case .eprop(let p): return p._withUnsafeGuaranteedRef { body($0) }
            case .baseline(let p): return p._withUnsafeGuaranteedRef { body($0) }
            case .fixed(let p): return p._withUnsafeGuaranteedRef { body($0) }
            }
        }
    }

    /// A population updated whole in phase 3 (recurrent ones only begin their step there).
    enum PopulationRef {
        case recurrent(Unmanaged<RecurrentPopulation>)
        case readout(Unmanaged<ReadoutPopulation>)
        case input(Unmanaged<InputPopulation>)

        init(_ population: any NeuronPopulation) {
            switch population {
            case let p as RecurrentPopulation: self = .recurrent(.passUnretained(p))
            case let p as ReadoutPopulation: self = .readout(.passUnretained(p))
            case let p as InputPopulation: self = .input(.passUnretained(p))
            default: preconditionFailure("a population of an unknown kind: \(type(of: population))")
            }
        }

        /// Phase 3 of step t for everything but the recurrent neurons' update.
        @inline(__always)
        func beginUpdate(step t: Int) {
            switch self {
            case .recurrent(let p): p { $0.beginStep(t) }
            case .readout(let p): p { $0.update(step: t) }
            case .input(let p): p { $0.update(step: t) }
            }
        }
    }

    /// A recorder, sampled after every step.
    enum RecorderRef {
        case spikes(Unmanaged<SpikeRecorder>)
        case state(Unmanaged<StateRecorder>)
        case weights(Unmanaged<WeightRecorder>)

        init(_ recorder: any Recorder) {
            switch recorder {
            case let r as SpikeRecorder: self = .spikes(.passUnretained(r))
            case let r as StateRecorder: self = .state(.passUnretained(r))
            case let r as WeightRecorder: self = .weights(.passUnretained(r))
            default: preconditionFailure("a recorder of an unknown kind: \(type(of: recorder))")
            }
        }

        @inline(__always)
        func sample(step t: Int) {
            switch self {
            case .spikes(let r): r { $0.sample(step: t) }
            case .state(let r): r { $0.sample(step: t) }
            case .weights(let r): r { $0.sample(step: t) }
            }
        }
    }

    private(set) var delivery = UnsafeBufferPointer<Delivery>(start: nil, count: 0)
    private(set) var learningSignals = UnsafeBufferPointer<Unmanaged<LearningSignalProjection>>(start: nil, count: 0)
    private(set) var populations = UnsafeBufferPointer<PopulationRef>(start: nil, count: 0)
    private(set) var recurrent = UnsafeBufferPointer<Recurrent>(start: nil, count: 0)
    private(set) var recorders = UnsafeBufferPointer<RecorderRef>(start: nil, count: 0)

    init() {}

    init(network: Network) {
        delivery = Self.buffer(network.deliveryOrder.map { projection in
            Delivery(projection: ProjectionRef(projection),
                     sourceEvents: .passUnretained(network.populations[projection.sourcePopulation].events))
        })
        learningSignals = Self.buffer(network.learningSignals.map { .passUnretained($0) })
        populations = Self.buffer(network.populations.map { PopulationRef($0) })
        recurrent = Self.buffer(zip(network.recurrentPopulations, network.feedbackInto).map { population, feedback in
            Recurrent(population: .passUnretained(population), feedback: Self.buffer(feedback.map { .passUnretained($0) }))
        })
        recorders = Self.buffer(network.recorders.map { RecorderRef($0) })
    }

    /// Frees the buffers (the objects they name belong to the network).
    mutating func deallocate() {
        for r in recurrent { r.feedback.deallocate() }
        delivery.deallocate()
        learningSignals.deallocate()
        populations.deallocate()
        recurrent.deallocate()
        recorders.deallocate()
        self = StepPlan()
    }

    private static func buffer<T>(_ values: [T]) -> UnsafeBufferPointer<T> {
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: values.count)
        _ = buffer.initialize(from: values)
        return UnsafeBufferPointer(buffer)
    }
}

extension Unmanaged {
    /// `body` with the object, not retained (the caller guarantees it stays alive).
    @inline(__always)
    func callAsFunction<R>(_ body: (Instance) -> R) -> R { _withUnsafeGuaranteedRef(body) }
}
