/// The time grid: resolution dt and conversions between ms and steps. The only place
/// where time units change (spec §1.1).
public struct Clock: Sendable {
    /// Resolution, ms.
    public let dt: Double
    /// "Never": the step count of an infinite duration (cutoff, flush interval).
    public static let never = Int.max

    public init(dt: Double) { self.dt = dt }

    /// A duration in ms as whole steps, rounded to NEST's tics (1 µs) and then up to whole
    /// steps, as NEST converts t_ref, cutoffs and flush intervals. +inf, and any duration of
    /// 2^60 steps or more (longer than any run: 3.6e7 years at 1 ms), gives `Clock.never`, so
    /// sums of two step counts cannot overflow.
    public func steps(_ ms: Double) -> Int {
        if ms.isInfinite { return Clock.never }
        let tics = (ms * 1000.0).rounded()
        let ticsPerStep = (dt * 1000.0).rounded()
        let steps = (tics / ticsPerStep).rounded(.up)
        return steps >= 0x1p60 ? Clock.never : Int(steps)
    }

    /// The step of a time that must lie on the grid (spike and amplitude times); nil if
    /// it is off the grid by more than a tic fraction.
    public func gridStep(_ ms: Double) -> Int? {
        guard ms.isFinite else { return nil }
        let x = ms / dt
        let r = x.rounded()
        guard abs(x - r) <= 1e-6 * max(1.0, abs(r)), abs(r) < 4.0e15 else { return nil }
        return Int(r)
    }

    public func ms(_ steps: Int) -> Double { Double(steps) * dt }
}
