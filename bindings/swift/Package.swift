// swift-tools-version:5.9
// The trustshot iOS SDK: the Rust library as an XCFramework (binary target,
// built by scripts/build-xcframework.sh) and the Swift bindings uniffi generates
// from it, plus a thin hand-written layer (Secure Enclave signer, store key).
import Foundation
import PackageDescription

// The XCFramework: a local build (scripts/build-xcframework.sh), or a released
// zip: set TRUSTSHOT_BINARY_URL and TRUSTSHOT_BINARY_CHECKSUM (the script
// prints the checksum, as `swift package compute-checksum` would).
let environment = ProcessInfo.processInfo.environment
let binary: Target = {
    if let url = environment["TRUSTSHOT_BINARY_URL"], let checksum = environment["TRUSTSHOT_BINARY_CHECKSUM"] {
        return .binaryTarget(name: "TrustshotFFI", url: url, checksum: checksum)
    }
    return .binaryTarget(name: "TrustshotFFI", path: "TrustshotFFI.xcframework")
}()

let package = Package(
    name: "Trustshot",
    platforms: [.iOS(.v15)],
    products: [
        .library(name: "Trustshot", targets: ["Trustshot"]),
    ],
    targets: [
        binary,
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
