// swift-tools-version:6.0
import PackageDescription

// The engine's instruction set. On x86-64 it is compiled for Haswell (2013) and later: AVX2
// and FMA give the gradient kernel 256-bit vectors (the sine-wave network 18 %, N-MNIST 16 %
// faster than SSE2). Results do not change: Swift never fuses a multiply and an add into
// an FMA on its own. EPROP_TARGET_CPU=x86-64 builds for any x86-64 CPU (or names another
// LLVM CPU); a library built for Haswell refuses to run on a CPU without AVX2 and FMA
// with a clear error (Sources/EpropC/CPU.swift), instead of dying of an illegal instruction.
#if arch(x86_64)
let targetCPU: String? = Context.environment["EPROP_TARGET_CPU"] ?? "haswell"
#else
let targetCPU: String? = Context.environment["EPROP_TARGET_CPU"]
#endif
let coreNeedsAVX2 = targetCPU == "haswell"
#if arch(x86_64)
let wideCPU: String? = "skylake-avx512"
#else
let wideCPU: String? = nil
#endif

let package = Package(
    name: "eprop",
    products: [
        // libeprop.so: the C ABI of Include/eprop.h.
        .library(name: "eprop", type: .dynamic, targets: ["EpropC"]),
    ],
    targets: [
        // The engine: pure Swift, no Foundation.
        // Release builds drop Swift's runtime exclusivity checks (5–8 % of the step loop);
        // debug builds, which run the tests, keep them.
        .target(name: "EpropCore", dependencies: ["EpropWide"],
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
                    + (targetCPU.map { [.unsafeFlags(["-target-cpu", $0])] } ?? [])),
        // The eligibility kernel of two groups of eight consecutive targets, compiled for
        // AVX-512 (EightLanePairs.swift); the core calls it only on a CPU that has AVX-512
        // (Sources/EpropC/CPU.swift). Swift's SIMD arithmetic reaches LLVM lane by lane and
        // is vectorised again; LLVM's search for horizontal reductions split the kernel's
        // 512-bit chains into 256-bit, 128-bit and scalar pieces, hence that flag.
        .target(name: "EpropWide",
                swiftSettings: wideCPU.map { [.unsafeFlags(["-target-cpu", $0, "-Xllvm", "-slp-vectorize-hor=false"])] } ?? []),
        // Which instructions the running CPU has (for the check above).
        .target(name: "EpropCPU"),
        // The @_cdecl layer only: validate, convert, call the core.
        .target(name: "EpropC", dependencies: ["EpropCore", "EpropCPU"],
                swiftSettings: coreNeedsAVX2 ? [.define("EPROP_CORE_NEEDS_AVX2")] : []),
        .testTarget(name: "EpropCoreTests", dependencies: ["EpropCore", "EpropWide", "EpropCPU"]),
    ]
)
