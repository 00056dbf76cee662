/// Software prefetch (LLVM's prefetch intrinsic; no code on targets without one).
///
/// For access patterns the hardware prefetcher does not follow: history entries of
/// consecutive neurons lie a whole ring apart (kilobytes), and the gradient kernel jumps to a
/// new target's ring with every synapse. A prefetch never faults and never changes a result.
@_silgen_name("llvm.prefetch.p0")
@usableFromInline
func _llvmPrefetch(_ address: UnsafeRawPointer, _ write: Int32, _ locality: Int32, _ dataCache: Int32)

/// Asks for the cache line holding `p`, to be read soon.
@inlinable @inline(__always)
func prefetch<T>(_ p: UnsafePointer<T>) { _llvmPrefetch(UnsafeRawPointer(p), 0, 3, 1) }

@inlinable @inline(__always)
func prefetch<T>(_ p: UnsafeMutablePointer<T>) { _llvmPrefetch(UnsafeRawPointer(p), 0, 3, 1) }

/// Asks for the cache line holding `p`, to be written soon.
@inlinable @inline(__always)
func prefetchForWrite<T>(_ p: UnsafeMutablePointer<T>) { _llvmPrefetch(UnsafeRawPointer(p), 1, 3, 1) }
