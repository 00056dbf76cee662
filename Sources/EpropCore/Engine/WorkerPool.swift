#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Persistent worker threads with a spinning barrier, for the parallel phases of a step.
///
/// Waking a sleeping thread costs about 65 µs here — close to a whole step of a small
/// network — so workers spin on an atomic generation counter while steps run, and only
/// back off to short sleeps after about a millisecond without work (between simulate calls).
/// `run` calls the body once per part, the calling thread taking part 0; every part touches
/// its own data, so results do not depend on the number of threads.
final class WorkerPool: @unchecked Sendable {
    let threads: Int
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    /// The body of the current generation (set before the generation is published).
    private var body: ((Int) -> Void)?
    private var workers: [pthread_t] = []

    init(threads: Int) {
        self.threads = max(1, threads)
        for part in 1..<self.threads {
            let context = Unmanaged.passRetained(WorkerContext(pool: self, part: part)).toOpaque()
            var thread = pthread_t()
            let created = pthread_create(&thread, nil, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                context.pool.workerLoop(part: context.part)
                return nil
            }, context)
            precondition(created == 0, "could not start worker thread \(part) (error \(created))")
            workers.append(thread)
        }
    }

    deinit {
        stopping.store(true, ordering: .releasing)
        generation.add(1, ordering: .releasing)
        for thread in workers { pthread_join(thread, nil) }
    }

    /// Runs body(0) … body(threads − 1), in parallel, and returns when all are done.
    func run(_ body: (Int) -> Void) {
        if threads == 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            pending.store(threads - 1, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
            escapable(0)
            while pending.load(ordering: .acquiring) != 0 {}
            self.body = nil
        }
    }

    private func workerLoop(part: Int) {
        var seen = 0
        while true {
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                spins += 1
                if spins > 200_000 {
                    var pause = timespec(tv_sec: 0, tv_nsec: 50_000)
                    nanosleep(&pause, nil)
                }
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            if stopping.load(ordering: .acquiring) { return }
            body?(part)
            pending.subtract(1, ordering: .releasing)
        }
    }
}

private final class WorkerContext {
    /// Not retained: the pool's deinit joins every worker before its memory goes away.
    unowned(unsafe) let pool: WorkerPool
    let part: Int
    init(pool: WorkerPool, part: Int) {
        self.pool = pool
        self.part = part
    }
}

/// The part `part` of `parts` equal slices of 0..<n.
@inline(__always)
func slice(_ n: Int, part: Int, of parts: Int) -> Range<Int> {
    (n * part / parts)..<(n * (part + 1) / parts)
}
