import Testing
@testable import EpropCore

/// Spec §4: the four ψ functions as NEST's code computes them.
@Test func surrogateFormulas() {
    let h = 0.5, w = 1.0 / 1.7, d = -0.2
    #expect(SurrogateGradient.piecewiseLinear.value(d, height: h, width: w) == h * (1 - 0.2 / w))
    #expect(SurrogateGradient.piecewiseLinear.value(2.0, height: h, width: w) == 0)
    #expect(abs(SurrogateGradient.exponential.value(d, height: h, width: w) - h * 0.7117703227626097) < 1e-15)
    #expect(abs(SurrogateGradient.fastSigmoidDerivative.value(d, height: h, width: w) - h / (1.34 * 1.34)) < 1e-15)
    #expect(abs(SurrogateGradient.arctanDerivative.value(d, height: h, width: w) - h / (1 + 0.34 * 0.34)) < 1e-15)
}
