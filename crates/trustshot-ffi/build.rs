//! Link flags that belong to the mobile library itself, so that every build of
//! it gets them (cargo-ndk, scripts/size-report, an app's own Gradle plugin).

fn main() {
    // Pack the dynamic relocations (Android's APS2 format). Without packing the
    // R_AARCH64_RELATIVE table is 0.45 MB of a 7.4 MB library. Android reads
    // packed relocations from 6.0 (API 23); the AAR's minSdk is 24.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("android") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,--pack-dyn-relocs=android");
        // 16 KB pages: Google Play requires 16 KB-aligned LOAD segments for
        // apps targeting Android 15+; such a library also loads on 4 KB-page
        // devices. scripts/size-report checks and prints the alignment.
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,max-page-size=16384");
    }
}
