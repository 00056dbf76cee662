#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The e-prop parameters every recurrent model shares (spec §3.1), in NEST's names and units.
let sharedEpropParameters: [ParameterSpec] = [
    ParameterSpec("c_reg", 0.0, .atLeast(0), doc: "Firing-rate regularisation coefficient."),
    ParameterSpec("f_target", unit: "Hz", 10.0, .atLeast(0),
                  doc: "Target firing rate of the regularisation (read back in Hz; NEST reads back spikes/ms)."),
    ParameterSpec("kappa", 0.97, .closed(0, 1), doc: "Low-pass filter of the eligibility trace ē."),
    ParameterSpec("kappa_reg", 0.97, .closed(0, 1),
                  doc: "Low-pass filter of the firing-rate estimate and of the regularisation trace."),
    ParameterSpec("surrogate_gradient_function", 0, .choice(SurrogateGradient.names),
                  doc: "Pseudo-derivative ψ of the spike non-linearity (spec §4)."),
    ParameterSpec("surrogate_gradient_height", 0.3, .greaterThan(0), doc: "Height h of ψ."),
    ParameterSpec("surrogate_gradient_width", 1.0, .greaterThan(0), doc: "Width w of ψ (mV)."),
    ParameterSpec("eprop_isi_trace_cutoff", unit: "ms", .infinity, .atLeast(0), infinite: true,
                  doc: "Eligibility traces of an inter-spike interval are integrated for at most this long, then only decayed."),
    ParameterSpec("flush_event_send_interval", unit: "ms", .infinity, .greaterThan(0), infinite: true,
                  doc: "A silent neuron sends a flush event this long after its last event, so synapses consume pending history."),
]

/// The recurrent neuron models, each defined in its own file by a parameter table and an
/// update kernel; everything else (history, regularisation, flush events, state) is here.
public enum RecurrentModel: Sendable {
    case iaf

    public var name: String {
        switch self {
        case .iaf: return "eprop_iaf"
        }
    }

    public var table: ParameterTable {
        switch self {
        case .iaf: return EpropIaf.table
        }
    }
}

/// A population of recurrent e-prop neurons (spec §3): SoA state, the per-step history
/// (ψ, L, reg), the online rate regularisation (§7.3) and flush events (§7.6).
/// Voltages are stored relative to E_L (§1.4).
public final class RecurrentPopulation: NeuronPopulation {
    public let model: RecurrentModel
    public let size: Int
    public var modelName: String { model.name }
    public private(set) var parameters: ParameterSet
    public let events: EventList
    public let history: EpropHistory

    // State (SoA). v is relative to E_L.
    let v: UnsafeMutablePointer<Double>
    let iIn: UnsafeMutablePointer<Double>
    let zIn: UnsafeMutablePointer<Double>
    let fAv: UnsafeMutablePointer<Double>
    let psi: UnsafeMutablePointer<Double>
    let refractory: UnsafeMutablePointer<Int32>
    let lastEvent: UnsafeMutablePointer<Int>
    /// Number of incoming eprop synapses per neuron (NEST's eprop_indegree).
    var indegree: [Int32]
    /// The last step updated (−1 before the first).
    var lastStep = -1

    // Derived constants (prepare).
    var alpha = 0.0, pI = 0.0, vTh = 0.0, vMin = 0.0, iE = 0.0
    var refractorySteps = 0
    var cReg = 0.0, fTargetPerStep = 0.0, kappa = 0.0, kappaReg = 0.0, dt = 1.0
    var surrogate = SurrogateGradient.piecewiseLinear, sgHeight = 0.0, sgWidth = 0.0
    var cutoffSteps = Clock.never, flushSteps = Clock.never

    public init(model: RecurrentModel, size: Int) {
        self.model = model
        self.size = size
        parameters = model.table.defaults()
        events = EventList(capacity: size)
        history = EpropHistory(neurons: size, channels: 3)
        v = allocateDoubles(size)
        iIn = allocateDoubles(size)
        zIn = allocateDoubles(size)
        fAv = allocateDoubles(size)
        psi = allocateDoubles(size)
        refractory = .allocate(capacity: size)
        refractory.initialize(repeating: 0, count: size)
        lastEvent = .allocate(capacity: size)
        lastEvent.initialize(repeating: 0, count: size)
        indegree = Array(repeating: 0, count: size)
    }

    deinit {
        v.deallocate(); iIn.deallocate(); zIn.deallocate(); fAv.deallocate(); psi.deallocate()
        refractory.deallocate(); lastEvent.deallocate()
    }

    public var spikeInput: UnsafeMutablePointer<Double>? { zIn }

    public func setParameters(_ changes: [(String, Double)]) throws(EpropError) {
        var vM: Double? = nil
        var rest: [(String, Double)] = []
        for (name, value) in changes {
            if name == "V_m" {
                guard value.isFinite else { throw .badProperty("\(modelName) state V_m (mV): must be finite, got \(fmt(value))") }
                vM = value
            } else { rest.append((name, value)) }
        }
        let updated = try parameters.setting(rest)
        // §1.4: absolute V_m keeps its value when E_L changes, unless V_m is set too.
        let oldEL = parameters["E_L"], newEL = updated["E_L"]
        parameters = updated
        if let vM {
            for j in 0..<size { v[j] = vM - newEL }
        } else if oldEL != newEL {
            for j in 0..<size { v[j] = (v[j] + oldEL) - newEL }
        }
    }

    public func setState(_ name: String, _ values: UnsafeBufferPointer<Double>) throws(EpropError) {
        guard name == "V_m" else { throw .unknown("\(modelName): settable state is V_m, not \(name)") }
        let eL = parameters["E_L"]
        for j in 0..<size {
            guard values[j].isFinite else { throw .badProperty("\(modelName) state V_m (mV): must be finite, got \(fmt(values[j])) at neuron \(j)") }
        }
        for j in 0..<size { v[j] = values[j] - eL }
    }

    public var recordables: [String] { ["V_m", "surrogate_gradient", "learning_signal"] }

    public func recordable(_ index: Int, _ j: Int) -> Double {
        switch index {
        case 0: return v[j] + parameters["E_L"]
        case 1: return psi[j]
        default:
            // §7.2: the learning signal of entry t − 2, complete at the start of step t.
            let t = lastStep - 2
            return history.contains(t) ? history.entry(j, t)[1] : 0
        }
    }

    public func prepare(_ clock: Clock) {
        let p = parameters
        dt = clock.dt
        cReg = p["c_reg"]
        fTargetPerStep = p["f_target"] / 1000.0 * clock.dt
        kappa = p["kappa"]
        kappaReg = p["kappa_reg"]
        surrogate = SurrogateGradient(rawValue: Int(p["surrogate_gradient_function"]))!
        sgHeight = p["surrogate_gradient_height"]
        sgWidth = p["surrogate_gradient_width"]
        cutoffSteps = clock.steps(p["eprop_isi_trace_cutoff"])
        flushSteps = clock.steps(p["flush_event_send_interval"])
        switch model {
        case .iaf: prepareIaf(clock)
        }
    }

    public func update(step t: Int) {
        events.count = 0
        history.append(t)
        switch model {
        case .iaf: updateIaf(step: t)
        }
        lastStep = t
    }

    /// After the model kernel decided neuron j's spike z ∈ {0, 1} of step t: flush event
    /// (§7.6), rate regularisation (§7.3) and history entry t (ψ, L = 0, reg).
    @inline(__always)
    func finishStep(_ j: Int, _ t: Int, spiked: Bool, psi psiValue: Double) {
        if spiked {
            events.append(j, 1)
            lastEvent[j] = t
        } else if lastEvent[j] > 0 && flushSteps != Clock.never && t - lastEvent[j] >= flushSteps {
            events.append(j, 0)
            lastEvent[j] = t
        }
        let z: Double = spiked ? 1 : 0
        fAv[j] = kappaReg * fAv[j] + (1.0 - kappaReg) * z / dt
        let entry = history.entry(j, t)
        entry[0] = psiValue
        entry[1] = 0
        entry[2] = cReg * (fAv[j] - fTargetPerStep)
        psi[j] = psiValue
    }
}
