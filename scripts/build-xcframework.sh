#!/usr/bin/env bash
# Builds TrustshotFFI.xcframework (iOS device + simulator) and the generated
# Swift sources into bindings/swift, ready for `swift build` / Xcode.
# UNTESTED on the development machine: it needs macOS with Xcode (xcodebuild,
# the iOS SDKs). The Rust code itself is checked to compile for aarch64-apple-ios
# by scripts/cross-check.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=bindings/swift
TARGETS=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
rustup target add "${TARGETS[@]}"
for t in "${TARGETS[@]}"; do
  cargo build --profile release-small -p trustshot-ffi --target "$t"
done
# Bindings from the (unstripped) static library, in library mode.
cargo build --release -p uniffi-bindgen
target/release/uniffi-bindgen generate --no-format --library target/aarch64-apple-ios/release-small/libtrustshot_ffi.a \
  --language swift --out-dir target/swift-gen
cp target/swift-gen/Trustshot.swift "$SWIFT/Sources/Trustshot/trustshot_ffi.swift"
HEADERS=target/swift-gen/headers
rm -rf "$HEADERS" && mkdir -p "$HEADERS"
cp target/swift-gen/TrustshotFFI.h "$HEADERS/"
cp target/swift-gen/TrustshotFFI.modulemap "$HEADERS/module.modulemap"
# One fat simulator library (arm64 + x86_64), then the XCFramework.
mkdir -p target/ios-sim-universal
lipo -create target/aarch64-apple-ios-sim/release-small/libtrustshot_ffi.a target/x86_64-apple-ios/release-small/libtrustshot_ffi.a \
  -output target/ios-sim-universal/libtrustshot_ffi.a
rm -rf "$SWIFT/TrustshotFFI.xcframework"
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/release-small/libtrustshot_ffi.a -headers "$HEADERS" \
  -library target/ios-sim-universal/libtrustshot_ffi.a -headers "$HEADERS" \
  -output "$SWIFT/TrustshotFFI.xcframework"
# The release zip and its checksum (what SwiftPM's remote binaryTarget checks).
(cd "$SWIFT" && rm -f TrustshotFFI.xcframework.zip && zip -qry TrustshotFFI.xcframework.zip TrustshotFFI.xcframework)
scripts/xcframework-checksum "$SWIFT/TrustshotFFI.xcframework.zip" > "$SWIFT/TrustshotFFI.xcframework.zip.checksum"
# Test resources: the models and the sample photos.
mkdir -p "$SWIFT/Tests/TrustshotTests/Resources/models" "$SWIFT/Tests/TrustshotTests/Resources/samples"
cp models/dist/*.nnef.tar "$SWIFT/Tests/TrustshotTests/Resources/models/"
cp samples/*.jpg "$SWIFT/Tests/TrustshotTests/Resources/samples/"
echo "built $SWIFT/TrustshotFFI.xcframework; run: cd $SWIFT && xcodebuild test -scheme Trustshot -destination 'platform=iOS Simulator,name=iPhone 15'"
