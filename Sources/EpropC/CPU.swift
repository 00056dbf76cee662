import EpropCore
import EpropCPU

/// Nil if this CPU runs the core, else why not. The core is compiled for AVX2 and FMA on
/// x86-64 (Package.swift); on an older CPU its first vector instruction would kill the
/// process, so every C call reports this error instead (checked once). The same check tells
/// the core whether the CPU also runs its AVX-512 kernel (`WideKernel`).
let unsupportedCPU: EpropError? = {
    WideKernel.isAvailable = epropcpu_has_avx512() != 0
    #if EPROP_CORE_NEEDS_AVX2
    if epropcpu_has_avx2_fma() == 0 {
        return EpropError(.invalidState,
                          "this CPU lacks AVX2 or FMA, which this build of eprop requires (x86-64 Haswell, 2013, "
                          + "or later); rebuild it for any x86-64 CPU with EPROP_TARGET_CPU=x86-64 (e.g. "
                          + "EPROP_TARGET_CPU=x86-64 make python)")
    }
    #endif
    return nil
}()
