/// Status codes shared with the C header (`EPROP_OK`, `EPROP_ERR_*`), one to one.
public enum EpropStatus: Int32, Sendable {
    case ok = 0
    case nullArgument = 1
    case invalidArgument = 2
    case unknownName = 3
    case badProperty = 4
    case illegalConnection = 5
    case invalidState = 6
    case bufferTooSmall = 7
    case outOfMemory = 8
    case interrupted = 9
    case internalError = 10

    /// One-line meaning, as documented in `eprop.h`.
    public var meaning: String {
        switch self {
        case .ok: return "success"
        case .nullArgument: return "a required pointer or handle was NULL"
        case .invalidArgument: return "an argument is out of range, NaN, or of the wrong length"
        case .unknownName: return "unknown model, parameter, recordable or synapse name"
        case .badProperty: return "a parameter value violates the model's validity rules"
        case .illegalConnection: return "the connection is not allowed between these models"
        case .invalidState: return "the call is not allowed in the network's current state"
        case .bufferTooSmall: return "an output buffer's capacity is too small"
        case .outOfMemory: return "the request would not fit in memory"
        case .interrupted: return "the progress callback asked to stop"
        case .internalError: return "a bug in eprop: please report it"
        }
    }
}

/// Every error a caller can cause: a status and a message that names the argument or
/// parameter and the allowed range.
public struct EpropError: Error, Equatable, CustomStringConvertible {
    public let status: EpropStatus
    public let message: String

    public init(_ status: EpropStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { message }

    static func invalid(_ message: String) -> EpropError { EpropError(.invalidArgument, message) }
    static func badProperty(_ message: String) -> EpropError { EpropError(.badProperty, message) }
    static func unknown(_ message: String) -> EpropError { EpropError(.unknownName, message) }
    static func illegal(_ message: String) -> EpropError { EpropError(.illegalConnection, message) }
    static func state(_ message: String) -> EpropError { EpropError(.invalidState, message) }
}

/// Formats a Double the way messages show it (no Foundation): integers without ".0" noise.
@usableFromInline
func fmt(_ x: Double) -> String {
    if x == .infinity { return "inf" }
    if x == -.infinity { return "-inf" }
    if x.isNaN { return "nan" }
    if x == x.rounded() && abs(x) < 1e15 { return "\(Int(x))" }   // "0", not "0.0"
    return "\(x)"
}
