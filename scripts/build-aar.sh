#!/usr/bin/env bash
# Builds the Android AAR: the Rust library for arm64-v8a, armeabi-v7a and
# x86_64 with cargo-ndk, the Kotlin bindings, then the Gradle module.
# UNTESTED on the development machine: it needs the Android NDK
# (ANDROID_NDK_HOME), the Android SDK and Gradle, none of which exist there.
# Models are not bundled: apps ship models/dist as assets (or download them)
# and pass their directory to FaceVerifier.
# --platform 24 matches the module's minSdk; the library's release-small
# profile (LTO) and packed relocations (crates/trustshot-ffi/build.rs) are what
# scripts/size-report measures.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${ANDROID_NDK_HOME:?set ANDROID_NDK_HOME to an Android NDK (r26 or newer)}"
MODULE=bindings/kotlin
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
command -v cargo-ndk >/dev/null || cargo install --locked cargo-ndk --version =3.5.4
cargo ndk --platform 24 -t arm64-v8a -t armeabi-v7a -t x86_64 -o "$MODULE/src/main/jniLibs" \
  build --profile release-small -p trustshot-ffi
# Bindings from an unstripped host build (library mode needs the metadata symbols).
cargo build --release -p trustshot-ffi -p uniffi-bindgen
rm -rf "$MODULE/generated"
target/release/uniffi-bindgen generate --no-format --library target/release/libtrustshot_ffi.so \
  --language kotlin --out-dir "$MODULE/generated"
(cd "$MODULE" && gradle --no-daemon assembleRelease)
echo "AAR: $MODULE/build/outputs/aar/"
