/// IEEE multiplication without the x86 microcode assist.
///
/// A multiplication whose operand or result is subnormal (below 2^−1022) takes a microcode
/// assist on this machine's cores, ≈ 40 cycles instead of one. The ē and ē_reg of synapses
/// onto a neuron that stopped firing decay into that range and, with κ > 1/2, never leave
/// it: they stop at a fixed point a few grid steps above 0 (EpropProjection's
/// `frozenQuietLane` then skips them). On the sine-wave task the assists doubled the time
/// of whole stretches of iterations. Flushing them to zero would change results in the last bits; NEST keeps
/// them. `exactProduct` gives the IEEE product bit for bit, with integer arithmetic where
/// it could be subnormal.

/// a ⊗ b (round to nearest, ties to even), bit for bit; the hardware multiplication when
/// neither the operands nor the product can be subnormal, `integerProduct` otherwise.
@inline(__always)
func exactProduct(_ a: Double, _ b: Double) -> Double {
    let ea = Int((a.bitPattern >> 52) & 0x7FF), eb = Int((b.bitPattern >> 52) & 0x7FF)
    // |a·b| ≥ 2^(ea + eb − 2046) for normal operands: at least 2^−1021 here.
    if ea + eb >= 1025 { return a * b }
    // Both finite here (an infinite or NaN operand has exponent 2047 and took the line
    // above): a zero operand gives the zero of the sign product without the call.
    if a == 0 || b == 0 { return Double(bitPattern: (a.bitPattern ^ b.bitPattern) & (1 << 63)) }
    return integerProduct(a, b)
}

/// a·b rounded to nearest, ties to even, computed with integer arithmetic: bit for bit the
/// IEEE product for finite a and b (zeros and subnormals included; overflow gives ±∞).
@inline(__always)
func integerProduct(_ a: Double, _ b: Double) -> Double {
    let sign: UInt64 = (a.bitPattern ^ b.bitPattern) & (1 << 63)
    let ea = Int((a.bitPattern >> 52) & 0x7FF), eb = Int((b.bitPattern >> 52) & 0x7FF)
    var ma = a.bitPattern & 0xF_FFFF_FFFF_FFFF, mb = b.bitPattern & 0xF_FFFF_FFFF_FFFF
    // value = m · 2^(e − 1075) for normal (implicit bit added), m · 2^−1074 for subnormal.
    var xa = ea - 1075, xb = eb - 1075
    if ea == 0 { xa = -1074 } else { ma |= 1 << 52 }
    if eb == 0 { xb = -1074 } else { mb |= 1 << 52 }
    if ma == 0 || mb == 0 { return Double(bitPattern: sign) }
    let p = ma.multipliedFullWidth(by: mb)      // < 2^106
    let hi = p.high, lo = p.low
    let exponent = xa + xb                      // of the product's lowest bit
    let bits = hi != 0 ? 128 - hi.leadingZeroBitCount : 64 - lo.leadingZeroBitCount
    let top = exponent + bits - 1               // exponent of the leading bit
    // Keep 53 significant bits, or fewer where the result falls below 2^−1022 (its bits
    // then sit on the grid 2^−1074).
    let lowest = max(top - 52, -1074)
    let shift = lowest - exponent
    var mantissa: UInt64
    if shift <= 0 {
        mantissa = lo << UInt64(-shift)         // exact (bits ≤ 53 then)
    } else {
        // round half to even at bit `shift`
        if shift >= 128 {
            return Double(bitPattern: sign)   // below half the grid step (P < 2^106): rounds to 0
        }
        let q: UInt64, rem: (UInt64, UInt64), half: (UInt64, UInt64)
        if shift >= 64 {
            q = hi >> UInt64(shift - 64)
            rem = (shift == 64 ? 0 : hi & ((1 << UInt64(shift - 64)) - 1), lo)
            half = shift == 64 ? (0, 1 << 63) : (1 << UInt64(shift - 65), 0)
        } else {
            q = (lo >> UInt64(shift)) | (hi << UInt64(64 - shift))
            rem = (0, lo & ((1 << UInt64(shift)) - 1))
            half = (0, 1 << UInt64(shift - 1))
        }
        mantissa = q
        if rem > half || (rem == half && q & 1 == 1) { mantissa += 1 }
    }
    // Compose: lowest is the exponent of the mantissa's unit bit.
    if lowest == -1074 && mantissa <= 1 << 52 {
        return Double(bitPattern: sign | mantissa)   // subnormal, 0, or (2^52) the smallest normal
    }
    var expField = lowest + 1075                     // for a 53-bit mantissa in [2^52, 2^53)
    if mantissa >= 1 << 53 { mantissa >>= 1; expField += 1 }   // rounding carried out
    if expField >= 0x7FF { return Double(bitPattern: sign | 0x7FF0_0000_0000_0000) }
    return Double(bitPattern: sign | (UInt64(expField) << 52) | (mantissa & 0xF_FFFF_FFFF_FFFF))
}

/// The largest m such that every positive subnormal x = m′·2^−1074 with m′ ≤ m is a fixed
/// point of x ↦ κ⊗x (0 if none: κ ≤ 1/2, κ ≥ 1, or not finite). For 1/2 < κ < 1,
/// κ⊗(m·2^−1074) = round(κ·m)·2^−1074, which equals m·2^−1074 while m·(1 − κ) < 1/2: a
/// quantity that decays by κ each step and reaches this range stays there for good, and a
/// bit-pattern comparison then replaces the multiplication (and its microcode assist).
func subnormalFixedPointLimit(_ kappa: Double) -> UInt64 {
    guard kappa > 0.5, kappa < 1 else { return 0 }
    @inline(__always) func fixed(_ m: UInt64) -> Bool {
        let x = Double(bitPattern: m)
        return exactProduct(kappa, x) == x
    }
    // 1 − κ is exact (Sterbenz); the estimate is within one of the boundary below 2^40.
    let estimate = (0.5 / (1 - kappa)).rounded(.down)
    let largest: UInt64 = (1 << 52) - 1
    if estimate >= Double(largest) { return largest }
    var m = UInt64(max(1, estimate - 8))
    if estimate >= 0x1p40 || !fixed(m) {
        // Far outside the estimate's accuracy (κ within 2^−40 of 1) or an unexpected miss:
        // the first non-fixed m by bisection over the (downward closed) fixed points.
        var lo: UInt64 = 0, hi = largest + 1   // fixed(lo) (or lo = 0), first non-fixed ≤ hi
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2
            if fixed(mid) { lo = mid } else { hi = mid }
        }
        return lo
    }
    while m < largest && fixed(m + 1) { m += 1 }
    return m
}
