import Synchronization

/// Whether the running CPU can execute the AVX-512 eligibility kernel (the EpropWide
/// module, compiled for x86-64 with AVX-512 F/CD/BW/DQ/VL). The engine itself is compiled
/// for AVX2 and, being pure Swift, cannot ask the CPU: the C layer sets this once from
/// CPUID before any network is built, and a network reads it when it prepares a
/// simulation. Results are the same bits either way; only the speed differs.
public enum WideKernel {
    static let available = Atomic<Bool>(false)

    public static var isAvailable: Bool {
        get { available.load(ordering: .relaxed) }
        set { available.store(newValue, ordering: .relaxed) }
    }
}
