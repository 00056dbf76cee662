#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// The weight optimizer shared by every eprop_synapse of a network: NEST's "optimizer"
/// defaults of eprop_synapse (spec §9.1), validated through one parameter table.
public final class OptimizerConfig {
    public enum Kind: Int, Sendable { case gradientDescent = 0, adam = 1 }
    static let typeNames = ["gradient_descent", "adam"]

    static let table = ParameterTable(
        owner: "optimizer",
        specs: [
            ParameterSpec("type", 0, .choice(typeNames), doc: "Optimizer; changeable only before eprop synapses exist."),
            ParameterSpec("batch_size", 1, .positiveWhole,
                          doc: "Steps (event-driven models: time-step indices) per weight update; gradients are averaged over it."),
            ParameterSpec("eta", 1e-4, .atLeast(0), doc: "Learning rate (takes effect one optimization late, as in NEST)."),
            ParameterSpec("Wmin", -100.0, .any, doc: "Lower weight bound, applied after every update."),
            ParameterSpec("Wmax", 100.0, .any, doc: "Upper weight bound, applied after every update."),
            ParameterSpec("optimize_each_step", 1, .bool,
                          doc: "1: optimize at every step of an interval; 0: once per presynaptic spike with the summed gradient."),
            ParameterSpec("beta_1", 0.9, .halfOpen(0, 1), doc: "Adam: decay of the first moment."),
            ParameterSpec("beta_2", 0.999, .halfOpen(0, 1), doc: "Adam: decay of the second moment."),
            ParameterSpec("epsilon", 1e-7, .atLeast(0), doc: "Adam: ε added to √v (TensorFlow form)."),
        ],
        crossRules: [CrossRule("Wmin ≤ Wmax") { $0["Wmin"] > $0["Wmax"] }]
    )

    public private(set) var parameters = OptimizerConfig.table.defaults()
    /// NEST's eta bookkeeping (§9.1): how often eta was set to a different value, and the
    /// first such value, used by synapses that have never optimized.
    public private(set) var etaChangeCount = 0
    public private(set) var etaFirstChange = 0.0
    /// Set once an eprop_synapse exists: the type can no longer change.
    var locked = false

    // Cached values (refreshed on every change).
    public private(set) var kind = Kind.gradientDescent
    public private(set) var batchSize = 1
    public private(set) var eta = 1e-4, wMin = -100.0, wMax = 100.0
    public private(set) var eachStep = true
    public private(set) var beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7

    public init() {}

    public func set(_ changes: [(String, Double)]) throws(EpropError) {
        let updated = try parameters.setting(changes)
        if locked && updated["type"] != parameters["type"] {
            throw .state("optimizer type cannot change after eprop synapses were created (it is \"\(typeName)\")")
        }
        if updated["eta"] != parameters["eta"] {
            etaChangeCount += 1
            if etaChangeCount == 1 { etaFirstChange = updated["eta"] }
        }
        parameters = updated
        kind = Kind(rawValue: Int(updated["type"]))!
        batchSize = Int(updated["batch_size"])
        eta = updated["eta"]; wMin = updated["Wmin"]; wMax = updated["Wmax"]
        eachStep = updated["optimize_each_step"] != 0
        beta1 = updated["beta_1"]; beta2 = updated["beta_2"]; epsilon = updated["epsilon"]
    }

    public func setType(_ name: String) throws(EpropError) {
        guard let i = OptimizerConfig.typeNames.firstIndex(of: name) else {
            throw .badProperty("optimizer parameter type: one of \"gradient_descent\", \"adam\" required, got \"\(name)\"")
        }
        try set([("type", Double(i))])
    }

    public var typeName: String { OptimizerConfig.typeNames[kind.rawValue] }
}

/// The optimizer bookkeeping NEST keeps per synapse but which is identical for every
/// synapse of one source (they see the same events, so the same optimizer calls): step
/// k, β powers, eta_current, n_optimize (spec §9.2). Per synapse only G, m, v remain.
struct SourceOptimizerState {
    var k = 1
    var beta1Power = 1.0
    var beta2Power = 1.0
    var etaCurrent = 1e-4      // hard-coded initial value, as in NEST
    var nOptimize = 0
}

/// The plan of one event's optimizer calls for all synapses of a source: per call the
/// number of update iterations (0 = none; GD ≤ 1, Adam catch-up ≥ 1) and, flattened,
/// the rate of every iteration (GD: eta_current; Adam: a = η·√(1−β2^k)/(1−β1^k)).
struct OptimizerPlan {
    var iterations: UnsafeMutablePointer<Int32>
    var iterationsCapacity: Int
    var rates: UnsafeMutablePointer<Double>
    var ratesCapacity: Int
    var calls = 0
    var rateCount = 0
    /// Planned calls that update the weight, and their update iterations (work counters).
    var updates = 0
    var iterationTotal = 0

    init() {
        iterationsCapacity = 256
        iterations = .allocate(capacity: iterationsCapacity)
        ratesCapacity = 256
        rates = .allocate(capacity: ratesCapacity)
    }

    func free() {
        iterations.deallocate()
        rates.deallocate()
    }

    mutating func reset() {
        calls = 0
        rateCount = 0
        updates = 0
        iterationTotal = 0
    }

    /// Plans `optimized_weight(idx, …)` of spec §9.3 for the source state `s`.
    mutating func plan(idx: Int, _ s: inout SourceOptimizerState, _ config: OptimizerConfig) {
        if calls == iterationsCapacity { growIterations() }
        if config.etaChangeCount != 0 && s.nOptimize == 0 { s.etaCurrent = config.etaFirstChange }
        let kTarget = 1 + idx / config.batchSize
        guard s.k < kTarget else {
            iterations[calls] = 0
            calls += 1
            return
        }
        switch config.kind {
        case .gradientDescent:
            reserveRates(1)
            rates[rateCount] = s.etaCurrent
            rateCount += 1
            iterations[calls] = 1
        case .adam:
            let n = kTarget - s.k
            reserveRates(n)
            let b1 = config.beta1, b2 = config.beta2, eta = s.etaCurrent
            for _ in 0..<n {
                s.beta1Power *= b1
                s.beta2Power *= b2
                rates[rateCount] = eta * (1.0 - s.beta2Power).squareRoot() / (1.0 - s.beta1Power)
                rateCount += 1
            }
            iterations[calls] = Int32(clamping: n)
        }
        updates += 1
        iterationTotal += Int(iterations[calls])
        calls += 1
        s.etaCurrent = config.eta
        s.nOptimize += 1
        s.k = kTarget
    }

    private mutating func growIterations() {
        let bigger = UnsafeMutablePointer<Int32>.allocate(capacity: iterationsCapacity * 2)
        bigger.update(from: iterations, count: calls)
        iterations.deallocate()
        iterations = bigger
        iterationsCapacity *= 2
    }

    private mutating func reserveRates(_ extra: Int) {
        guard rateCount + extra > ratesCapacity else { return }
        var cap = ratesCapacity
        while cap < rateCount + extra { cap *= 2 }
        let bigger = UnsafeMutablePointer<Double>.allocate(capacity: cap)
        bigger.update(from: rates, count: rateCount)
        rates.deallocate()
        rates = bigger
        ratesCapacity = cap
    }
}

/// One synapse's optimizer state while its event is processed, in registers.
struct SynapseOptimizer {
    var weight: Double
    var sum: Double       // G, the gradient summed since the last update
    var m: Double
    var v: Double

    /// Applies planned call `iterations` with gradient `g` (spec §9.3); `rate` walks the
    /// plan's rates.
    @inline(__always)
    mutating func apply(_ g: Double, iterations: Int32, rates: UnsafeMutablePointer<Double>, rate: inout Int,
                        _ kind: OptimizerConfig.Kind, batch: Double, beta1: Double, beta2: Double,
                        epsilon: Double, wMin: Double, wMax: Double) {
        sum = sum + g
        guard iterations > 0 else { return }
        if batch != 1 { sum = sum / batch }   // x / 1 is x exactly: spare the divider
        switch kind {
        case .gradientDescent:
            weight = weight - rates[rate] * sum
            rate += 1
            sum = 0
        case .adam:
            for _ in 0..<iterations {
                m = beta1 * m + (1.0 - beta1) * sum
                v = beta2 * v + (1.0 - beta2) * sum * sum
                weight = weight - rates[rate] * m / (v.squareRoot() + epsilon)
                rate += 1
                sum = 0
            }
        }
        weight = min(max(weight, wMin), wMax)
    }
}

/// The optimizer states of four synapses of one event, one synapse per lane. The synapses of
/// an event's row share its planned call (iterations and rates), so the lanes run that call
/// in step: Adam's catch-up iterations (one square root and one division each, ≈ 45 k per
/// step on the N-MNIST tutorial network) then use packed square roots and divisions. Each
/// lane does exactly SynapseOptimizer.apply's operations, bit for bit.
struct SynapseOptimizerLanes {
    var weight: SIMD4<Double>
    var sum: SIMD4<Double>
    var m: SIMD4<Double>
    var v: SIMD4<Double>

    /// All lanes 0.
    init() { (weight, sum, m, v) = (.zero, .zero, .zero, .zero) }

    init(weight: SIMD4<Double>, sum: SIMD4<Double>, m: SIMD4<Double>, v: SIMD4<Double>) {
        (self.weight, self.sum, self.m, self.v) = (weight, sum, m, v)
    }

    /// SynapseOptimizer.apply for every lane, with gradients `g`.
    @inline(__always)
    mutating func apply(_ g: SIMD4<Double>, iterations: Int32, rates: UnsafeMutablePointer<Double>, rate: inout Int,
                        _ kind: OptimizerConfig.Kind, batch: Double, beta1: Double, beta2: Double,
                        epsilon: Double, wMin: Double, wMax: Double) {
        sum = sum + g
        guard iterations > 0 else { return }
        if batch != 1 { sum = sum / batch }   // x / 1 is x exactly: spare the divider (packed divisions
                                              // are the bottleneck of optimize_each_step)
        switch kind {
        case .gradientDescent:
            weight = weight - rates[rate] * sum
            rate += 1
            sum = SIMD4()
        case .adam:
            for _ in 0..<iterations {
                m = beta1 * m + (1.0 - beta1) * sum
                v = beta2 * v + (1.0 - beta2) * sum * sum
                weight = weight - rates[rate] * m / (packedSquareRoot(v) + epsilon)
                rate += 1
                sum = SIMD4()
            }
        }
        // min(max(weight, wMin), wMax) as Swift's max and min choose: max(x, y) is y when
        // y ≥ x, min(x, y) is y when y < x (so a NaN weight stays NaN in both).
        weight.replace(with: wMin, where: wMin .>= weight)
        weight.replace(with: wMax, where: wMax .< weight)
    }
}

/// √x lane by lane. IEEE square roots are correctly rounded, so this equals Double's
/// squareRoot() in every lane; on x86-64 it is two packed 128-bit instructions (SIMD's own
/// squareRoot() calls libm's sqrt once per lane, with a branch for errno).
@inline(__always)
func packedSquareRoot(_ x: SIMD4<Double>) -> SIMD4<Double> {
    #if arch(x86_64)
    // __m128d is SIMD2<Double>.
    return SIMD4(lowHalf: _mm_sqrt_pd(x.lowHalf), highHalf: _mm_sqrt_pd(x.highHalf))
    #else
    return x.squareRoot()
    #endif
}
