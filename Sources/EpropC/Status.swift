#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EpropCore

// The error half of the C layer: every exported function runs its body in `withStatus`,
// which maps a thrown EpropError to its status code and the thread-local message, and
// catches nothing else (the core throws only EpropError). It first refuses a CPU the core
// was not compiled for (CPU.swift).

private let lastErrorKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { free($0) }
    return key
}()

func setLastError(_ message: String) {
    let old = pthread_getspecific(lastErrorKey)
    pthread_setspecific(lastErrorKey, strdup(message))
    free(old)
}

func lastError() -> UnsafePointer<CChar> {
    if let p = pthread_getspecific(lastErrorKey) { return UnsafePointer(p.assumingMemoryBound(to: CChar.self)) }
    return interned("")
}

@inline(__always)
func withStatus(_ body: () throws(EpropError) -> Void) -> Int32 {
    do throws(EpropError) {
        if let unsupportedCPU { throw unsupportedCPU }
        try body()
        return EpropStatus.ok.rawValue
    } catch {
        setLastError(error.message)
        return error.status.rawValue
    }
}

/// Strings returned with "static storage": interned once, never freed.
private final class InternTable: @unchecked Sendable {
    var lock = pthread_mutex_t()
    var strings: [String: UnsafeMutablePointer<CChar>] = [:]
    init() { pthread_mutex_init(&lock, nil) }
    func intern(_ s: String) -> UnsafePointer<CChar> {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        if let p = strings[s] { return UnsafePointer(p) }
        let p = strdup(s)!
        strings[s] = p
        return UnsafePointer(p)
    }
}

private let internTable = InternTable()

func interned(_ s: String) -> UnsafePointer<CChar> { internTable.intern(s) }
