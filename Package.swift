// swift-tools-version:6.0
import PackageDescription

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
        .target(name: "EpropCore",
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        // The @_cdecl layer only: validate, convert, call the core.
        .target(name: "EpropC", dependencies: ["EpropCore"]),
        .testTarget(name: "EpropCoreTests", dependencies: ["EpropCore"]),
    ]
)
