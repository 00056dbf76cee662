#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The pseudo-derivative ψ of the spike non-linearity (spec §4), as NEST's code computes
/// it (not as its docstrings write it). d = v − θ with both relative to E_L, h = height,
/// w = width. ψ = 0 while the neuron is refractory (the caller checks that).
///
///     piecewise_linear          h · max(0, 1 − |d|/w)
///     exponential               h · exp(−|d|/w)
///     fast_sigmoid_derivative   h · (1 + |d|/w)^(−2)
///     arctan_derivative         h / (1 + (d/w)²)
public enum SurrogateGradient: Int, CaseIterable, Sendable {
    case piecewiseLinear = 0
    case exponential = 1
    case fastSigmoidDerivative = 2
    case arctanDerivative = 3

    /// NEST's names, in the order of the cases (the index is the stored parameter value).
    public static let names = ["piecewise_linear", "exponential", "fast_sigmoid_derivative", "arctan_derivative"]

    @inline(__always)
    public func value(_ d: Double, height h: Double, width w: Double) -> Double {
        switch self {
        case .piecewiseLinear:
            return h * max(0.0, 1.0 - abs(d) / w)
        case .exponential:
            return h * exp(-abs(d) / w)
        case .fastSigmoidDerivative:
            return h * pow(1.0 + abs(d) / w, -2.0)
        case .arctanDerivative:
            return h / (1.0 + pow(d / w, 2.0))
        }
    }
}
