// swift-tools-version:5.9
// The trustshot iOS SDK: the Rust library as an XCFramework (binary target,
// built by scripts/build-xcframework.sh) and the Swift bindings uniffi generates
// from it, plus a thin hand-written layer (Secure Enclave signer, store key).
import PackageDescription

let package = Package(
    name: "Trustshot",
    platforms: [.iOS(.v15)],
    products: [
        .library(name: "Trustshot", targets: ["Trustshot"]),
    ],
    targets: [
        .binaryTarget(name: "TrustshotFFI", path: "TrustshotFFI.xcframework"),
        // Sources/Trustshot/trustshot_ffi.swift is generated (scripts/build-xcframework.sh).
        .target(
            name: "Trustshot",
            dependencies: ["TrustshotFFI"],
            path: "Sources/Trustshot",
            resources: [.copy("PrivacyInfo.xcprivacy")]
        ),
        .testTarget(
            name: "TrustshotTests",
            dependencies: ["Trustshot"],
            path: "Tests/TrustshotTests",
            resources: [.copy("Resources")]
        ),
    ]
)
