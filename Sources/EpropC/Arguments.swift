import EpropCore

// The argument half of the C layer: pointer, length and handle checks that name the
// offending argument. Semantic checks (ranges, names, models) live in the core.

/// The heap object behind an `eprop_network*`.
final class NetworkHandle {
    let network: Network
    init(_ network: Network) { self.network = network }
}

func handle(_ p: OpaquePointer?) throws(EpropError) -> Network {
    guard let p else { throw EpropError(.nullArgument, "network: must not be NULL") }
    return Unmanaged<NetworkHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue().network
}

func string(_ p: UnsafePointer<CChar>?, _ name: String) throws(EpropError) -> String {
    guard let p else { throw EpropError(.nullArgument, "\(name): must not be NULL") }
    return String(cString: p)
}

func output<T>(_ p: UnsafeMutablePointer<T>?, _ name: String) throws(EpropError) -> UnsafeMutablePointer<T> {
    guard let p else { throw EpropError(.nullArgument, "\(name): must not be NULL") }
    return p
}

/// `count` elements at `p`; NULL is allowed only for count 0.
func buffer<T>(_ p: UnsafePointer<T>?, _ count: Int64, _ name: String, countName: String = "count")
    throws(EpropError) -> UnsafeBufferPointer<T>
{
    guard count >= 0 else { throw EpropError(.invalidArgument, "\(countName): must be ≥ 0, got \(count)") }
    guard count < Int64(1) << 40 else { throw EpropError(.invalidArgument, "\(countName): implausibly large, got \(count)") }
    if count == 0 { return UnsafeBufferPointer(start: nil, count: 0) }
    guard let p else { throw EpropError(.nullArgument, "\(name): must not be NULL when \(countName) is \(count)") }
    return UnsafeBufferPointer(start: p, count: Int(count))
}

func outputBuffer<T>(_ p: UnsafeMutablePointer<T>?, _ count: Int64, _ name: String, countName: String = "count")
    throws(EpropError) -> UnsafeMutableBufferPointer<T>
{
    guard count >= 0 else { throw EpropError(.invalidArgument, "\(countName): must be ≥ 0, got \(count)") }
    if count == 0 { return UnsafeMutableBufferPointer(start: nil, count: 0) }
    guard let p else { throw EpropError(.nullArgument, "\(name): must not be NULL when \(countName) is \(count)") }
    return UnsafeMutableBufferPointer(start: p, count: Int(count))
}

/// Names from a `const char *const *` array.
func names(_ p: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int64, _ name: String) throws(EpropError) -> [String] {
    let list = try buffer(p, count, name)
    var out: [String] = []
    for (i, s) in list.enumerated() { out.append(try string(s, "\(name)[\(i)]")) }
    return out
}

func exactCount(_ given: Int64, _ expected: Int, _ name: String, _ what: String) throws(EpropError) {
    guard given == Int64(expected) else {
        throw EpropError(.invalidArgument, "\(name): must equal \(what) \(expected), got \(given)")
    }
}

func capacity(_ given: Int64, atLeast needed: Int, _ name: String) throws(EpropError) {
    guard given >= Int64(needed) else {
        throw EpropError(.bufferTooSmall, "\(name): \(needed) needed, got \(given)")
    }
}
