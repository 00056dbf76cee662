#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory for the big arrays the gradient kernel reads at random places every step: the
/// history rings and the per-synapse columns. From 2 MiB on it is aligned to 2 MiB and, on
/// Linux, advised as transparent huge pages (`madvise`, honoured where THP is "madvise" or
/// "always"): each event reads a short run of a random target's ring, and with 4-KiB pages
/// nearly every run of a 300-MB ring set missed the TLB. Contents are zero; the memory
/// held is what was asked for (the last partial 2 MiB stays in small pages).
enum LargeMemory {
    static let hugePage = 2 << 20

    /// `bytes` of zeroed memory, aligned to 64 B at least; release with `free`.
    static func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        let size = max(bytes, 1)
        guard size >= hugePage else {
            let p = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
            p.initializeMemory(as: UInt8.self, repeating: 0, count: size)
            return p
        }
        var allocated: UnsafeMutableRawPointer?
        guard posix_memalign(&allocated, hugePage, size) == 0, let p = allocated else {
            fatalError("out of memory allocating \(size) bytes (the memory check before building should have refused)")
        }
        #if os(Linux)
        // Only the whole 2-MiB pieces: the tail keeps small pages, so nothing is rounded up
        // (an array of 2.1 MiB would otherwise hold 4). A hint: without THP pages stay small.
        _ = madvise(p, size / hugePage * hugePage, MADV_HUGEPAGE)
        #endif
        p.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        return p
    }

    /// Releases memory from `allocate`.
    static func free(_ p: UnsafeMutableRawPointer) {
        #if canImport(Glibc)
        Glibc.free(p)
        #else
        Darwin.free(p)
        #endif
    }

    /// `count` zeroed values of type T (a plain numeric type).
    static func allocate<T>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        allocate(bytes: max(count, 1) * MemoryLayout<T>.stride).bindMemory(to: T.self, capacity: max(count, 1))
    }
}
