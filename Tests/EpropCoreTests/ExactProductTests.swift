import Testing
@testable import EpropCore

/// `integerProduct` and `exactProduct` equal the hardware product bit for bit (the hardware
/// is exact, only slow on subnormals): operands and results across the subnormal range,
/// ties on the subnormal grid, rounding that carries into the smallest normal binade, and
/// normal results from subnormal operands.
@Test func integerProductEqualsHardwareProduct() {
    var rng = SeededRandom(seed: 5)
    func double(exponents: ClosedRange<UInt64>, mantissa: UInt64? = nil) -> Double {
        let e = exponents.lowerBound + rng.next() % (exponents.upperBound - exponents.lowerBound + 1)
        let m = mantissa ?? rng.next() & 0xF_FFFF_FFFF_FFFF
        return Double(bitPattern: (rng.next() & 1) << 63 | e << 52 | m)
    }
    var mismatches = 0, subnormalResults = 0
    for trial in 0..<600_000 {
        let a: Double, b: Double
        switch trial % 8 {
        case 0: (a, b) = (double(exponents: 0...0), double(exponents: 900...1100))
        case 1: (a, b) = (double(exponents: 0...2046), double(exponents: 0...0))
        case 2: (a, b) = (double(exponents: 1...600), double(exponents: 1...600))
        case 3: (a, b) = (double(exponents: 0...0), double(exponents: 0...0))
        case 4: (a, b) = (Double(bitPattern: rng.next() % 64), double(exponents: 1000...1100))   // ties
        case 5: (a, b) = (double(exponents: 1...2), double(exponents: 1022...1022, mantissa: 0xF_FFFF_FFFF_FFFF - rng.next() % 1024))
        case 6: (a, b) = (double(exponents: 1...2, mantissa: 0xF_FFFF_FFFF_FFFF - rng.next() % 8),
                          double(exponents: 1023...1023, mantissa: rng.next() % 8))   // carries at 2^-1022
        default: (a, b) = (double(exponents: 0...0), double(exponents: 1023...1083))   // normal results
        }
        let want = a * b
        if want != 0 && abs(want) < 0x1p-1022 { subnormalResults += 1 }
        if integerProduct(a, b).bitPattern != want.bitPattern || exactProduct(a, b).bitPattern != want.bitPattern {
            mismatches += 1
        }
    }
    #expect(mismatches == 0)
    #expect(subnormalResults > 50_000)
    // Zeros keep their signs; large operands take the hardware path, infinities included.
    #expect(exactProduct(-0.0, 0x1p-1070).bitPattern == (-0.0).bitPattern)
    #expect(exactProduct(0x1p-1074, -0.5).bitPattern == (-0.0).bitPattern)   // a tie rounds to the even 0
    #expect(exactProduct(0x1p-1074, 0.75) == 0x1p-1074)
    #expect(exactProduct(Double.infinity, 2) == .infinity && exactProduct(.nan, 0x1p-1074).isNaN)
}

/// `subnormalFixedPointLimit`: the largest m with every m′·2^−1074 (m′ ≤ m) a fixed point of
/// x ↦ κ⊗x, as a scan with the hardware product finds it; 0 where there is none.
@Test(arguments: [0.5000001, 0.6, 0.75, 0.9, 0.95, 0.97, 0.99, 0.999, 0.99995])
func subnormalFixedPointLimitMatchesScan(kappa: Double) {
    var m: UInt64 = 0
    while kappa * Double(bitPattern: m + 1) == Double(bitPattern: m + 1) { m += 1 }
    #expect(subnormalFixedPointLimit(kappa) == m, "κ = \(kappa)")
    #expect(m >= 1)
}

@Test func subnormalFixedPointLimitEdges() {
    for kappa in [0.5, 0.3, 0, -0.9, 1, 1.5, .nan, .infinity] {
        #expect(subnormalFixedPointLimit(kappa) == 0, "κ = \(kappa)")
    }
    // κ within 2^−40 of 1 (beyond the estimate's accuracy): found by bisection.
    let kappa = 1 - 0x1p-45
    let m = subnormalFixedPointLimit(kappa)
    let x = Double(bitPattern: m), next = Double(bitPattern: m + 1)
    #expect(m > 1 << 40 && kappa * x == x && kappa * next != next)
}
