#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Persistent worker threads for the parallel phases of a step.
///
/// A phase is cut into `chunks` fixed pieces (`chunksPerThread` per thread). Every thread
/// first claims the chunks of its own share, in order, then steals the chunks other threads
/// have not claimed yet, from the far end of their shares (with one chunk per thread: the
/// whole share of a worker that has not started yet). A chunk is claimed exactly once
/// (compare-and-exchange on its generation), so whichever thread runs it, each chunk does
/// the same operations in the same order: results do not depend on the number of threads or
/// on who ran what. On a quiet machine each thread runs exactly its own share (the same
/// cache footprint every step); on a shared machine, when a worker has been descheduled,
/// the caller runs the worker's chunks instead of waiting a whole time slice for it.
///
/// Waiting. Waking a sleeping thread costs about 65 µs here, close to a whole step of a
/// small network, so a waiting thread spins first — for `spinNanos` (a few µs, calibrated
/// in pause instructions at start-up) — then calls `sched_yield` between checks, which is
/// as fast as spinning when the core is otherwise idle but hands the core over when another
/// process wants it. A worker that has waited `sleepAfterNanos` (between simulate calls)
/// sleeps on a condition variable; `run` signals it only when a worker is known to sleep,
/// so in steady state no step makes a system call for waking. Nothing allocates per run.
final class WorkerPool: @unchecked Sendable {
    let threads: Int
    /// Pieces per phase: slice(n, part: chunk, of: chunks) is chunk `chunk` of n items.
    let chunks: Int
    /// One: every chunk repeats the per-event work of a projection (finding the rows of
    /// its targets), and a finer cut (4 per thread) made N-MNIST 2-thread steps 50 % slower.
    static let chunksPerThread = 1
    /// Spin this long before yielding, and sleep after this long without work.
    static let spinNanos = 4_000
    static let sleepAfterNanos = 2_000_000

    /// Cache-line-padded atomics: generation, remaining chunks, sleeping workers,
    /// stopping, then one claim slot per chunk (the generation that claimed it last).
    private let slots: UnsafeMutablePointer<Atomic<Int>>
    private static let stride = 8   // 64 B
    private static let generationSlot = 0, remainingSlot = 1, sleepersSlot = 2, stoppingSlot = 3, firstChunkSlot = 4
    private let slotCount: Int
    @inline(__always) private var generation: UnsafeMutablePointer<Atomic<Int>> { slots + WorkerPool.generationSlot * WorkerPool.stride }
    @inline(__always) private var remaining: UnsafeMutablePointer<Atomic<Int>> { slots + WorkerPool.remainingSlot * WorkerPool.stride }
    @inline(__always) private var sleepers: UnsafeMutablePointer<Atomic<Int>> { slots + WorkerPool.sleepersSlot * WorkerPool.stride }
    @inline(__always) private var stopping: UnsafeMutablePointer<Atomic<Int>> { slots + WorkerPool.stoppingSlot * WorkerPool.stride }
    @inline(__always) private func claim(_ chunk: Int) -> UnsafeMutablePointer<Atomic<Int>> {
        slots + (WorkerPool.firstChunkSlot + chunk) * WorkerPool.stride
    }

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    /// Pause instructions that take about `spinNanos`.
    private let spinIterations: Int
    /// The body of the current generation (set before the generation is published; read by
    /// a worker only after it has claimed a chunk of that generation).
    private var body: ((_ chunk: Int, _ thread: Int) -> Void)?
    private var workers: [pthread_t] = []

    init(threads: Int) {
        self.threads = max(1, threads)
        chunks = self.threads * WorkerPool.chunksPerThread
        slotCount = (WorkerPool.firstChunkSlot + chunks) * WorkerPool.stride
        slots = .allocate(capacity: slotCount)
        for i in 0..<slotCount { (slots + i).initialize(to: Atomic<Int>(0)) }
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        spinIterations = WorkerPool.calibratedSpins
        for thread in 1..<self.threads {
            let context = Unmanaged.passRetained(WorkerContext(pool: self, thread: thread)).toOpaque()
            var handle = pthread_t()
            let created = pthread_create(&handle, nil, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                context.pool.workerLoop(thread: context.thread)
                return nil
            }, context)
            precondition(created == 0, "could not start worker thread \(thread) (error \(created))")
            workers.append(handle)
        }
    }

    deinit {
        stopping.pointee.store(1, ordering: .sequentiallyConsistent)
        generation.pointee.add(1, ordering: .sequentiallyConsistent)
        wakeSleepers(force: true)
        for thread in workers { pthread_join(thread, nil) }
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
        slots.deinitialize(count: slotCount)
        slots.deallocate()
    }

    /// Runs body(chunk, thread) for every chunk 0..<chunks, in parallel, and returns when
    /// all are done. `thread` (0 = the caller) is only for per-thread scratch such as work
    /// counters; what a chunk computes must depend on `chunk` alone.
    func run(_ body: (_ chunk: Int, _ thread: Int) -> Void) {
        if threads == 1 {
            for chunk in 0..<chunks { body(chunk, 0) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            remaining.pointee.store(chunks, ordering: .relaxed)
            let g = generation.pointee.add(1, ordering: .sequentiallyConsistent).newValue
            wakeSleepers(force: false)
            work(generation: g, thread: 0)
            if remaining.pointee.load(ordering: .acquiring) != 0 {
                wait { self.remaining.pointee.load(ordering: .acquiring) == 0 }
            }
            self.body = nil
        }
    }

    /// Claims and runs chunks of generation g: the own share first, then the others' from
    /// their far ends.
    private func work(generation g: Int, thread: Int) {
        var done = 0
        for chunk in slice(chunks, part: thread, of: threads) where tryClaim(chunk, generation: g) {
            body.unsafelyUnwrapped(chunk, thread)
            done += 1
        }
        for k in 1..<threads {
            for chunk in slice(chunks, part: (thread + k) % threads, of: threads).reversed()
            where tryClaim(chunk, generation: g) {
                body.unsafelyUnwrapped(chunk, thread)
                done += 1
            }
        }
        // One release per thread and run, not per chunk: fewer cache-line transfers.
        if done > 0 { remaining.pointee.subtract(done, ordering: .releasing) }
    }

    @inline(__always)
    private func tryClaim(_ chunk: Int, generation g: Int) -> Bool {
        let slot = claim(chunk)
        // Cheap test first: a chunk claimed by someone else is not written again.
        guard slot.pointee.load(ordering: .relaxed) == g - 1 else { return false }
        return slot.pointee.compareExchange(expected: g - 1, desired: g, ordering: .acquiring).exchanged
    }

    /// Spins for about spinNanos, then yields the core between checks until `done`.
    /// With `sleepAfter`, returns false once that long has passed without `done`.
    @inline(__always)
    @discardableResult
    private func wait(sleepAfter: Int = Int.max, _ done: () -> Bool) -> Bool {
        for _ in 0..<spinIterations {
            if done() { return true }
            spinPause()
        }
        let start = WorkerPool.nanos()
        while !done() {
            sched_yield()
            if sleepAfter != Int.max, WorkerPool.nanos() - start > sleepAfter { return done() }
        }
        return true
    }

    private func wakeSleepers(force: Bool) {
        guard force || sleepers.pointee.load(ordering: .sequentiallyConsistent) > 0 else { return }
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    private func workerLoop(thread: Int) {
        var seen = 0
        while true {
            let woke = wait(sleepAfter: WorkerPool.sleepAfterNanos) {
                self.generation.pointee.load(ordering: .acquiring) != seen
            }
            if !woke {
                // Sleep until the next generation. The caller publishes the generation and
                // then reads `sleepers`; this thread counts itself and then reads the
                // generation (both sequentially consistent), so one of the two sees the other.
                sleepers.pointee.add(1, ordering: .sequentiallyConsistent)
                pthread_mutex_lock(mutex)
                while generation.pointee.load(ordering: .sequentiallyConsistent) == seen {
                    pthread_cond_wait(condition, mutex)
                }
                pthread_mutex_unlock(mutex)
                sleepers.pointee.subtract(1, ordering: .sequentiallyConsistent)
            }
            seen = generation.pointee.load(ordering: .acquiring)
            if stopping.pointee.load(ordering: .acquiring) != 0 { return }
            // A late worker may see a generation whose chunks are all done already: its
            // claims then fail and it runs nothing.
            work(generation: seen, thread: thread)
        }
    }

    // MARK: Spinning

    @inline(__always)
    static func nanos() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return ts.tv_sec * 1_000_000_000 + ts.tv_nsec
    }

    /// Pause instructions per spinNanos, measured once.
    static let calibratedSpins: Int = {
        let n = 20_000
        var best = Int.max
        for _ in 0..<3 {
            let t0 = nanos()
            for _ in 0..<n { spinPause() }
            best = min(best, nanos() - t0)
        }
        let perPause = max(Double(best) / Double(n), 1)   // ns
        return max(16, Int(Double(spinNanos) / perPause))
    }()
}

#if arch(x86_64) || arch(i386)
@_silgen_name("llvm.x86.sse2.pause")
private func _pause()
@inline(__always) private func spinPause() { _pause() }
#elseif arch(arm64)
@_silgen_name("llvm.aarch64.hint")
private func _hint(_ kind: Int32)
@inline(__always) private func spinPause() { _hint(1) }   // YIELD
#else
@inline(__always) private func spinPause() {}
#endif

private final class WorkerContext {
    /// Not retained: the pool's deinit joins every worker before its memory goes away.
    unowned(unsafe) let pool: WorkerPool
    let thread: Int
    init(pool: WorkerPool, thread: Int) {
        self.pool = pool
        self.thread = thread
    }
}

/// The part `part` of `parts` equal slices of 0..<n.
@inline(__always)
func slice(_ n: Int, part: Int, of parts: Int) -> Range<Int> {
    (n * part / parts)..<(n * (part + 1) / parts)
}
