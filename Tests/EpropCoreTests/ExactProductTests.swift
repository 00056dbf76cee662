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
