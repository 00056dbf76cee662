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
        .target(name: "EpropCore"),
        // The @_cdecl layer only: validate, convert, call the core.
        .target(name: "EpropC", dependencies: ["EpropCore"]),
        .testTarget(name: "EpropCoreTests", dependencies: ["EpropCore"]),
    ]
)
