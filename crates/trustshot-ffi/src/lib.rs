//! trustshot-ffi: the library the Android and iOS apps link, and the only
//! crate that knows uniffi. It wraps the SDK's types in records, enums and
//! objects that Kotlin and Swift can hold, and maps each area's errors to one
//! small error enum whose variant names are stable codes.
//!
//! ```text
//! image     ImageInput: encoded bytes or a camera buffer
//! face      FaceVerifier: detect + quality, verify, liveness, challenge, ID check
//! flash     FlashChallenge: the screen colour-flash session
//! store     EnrollmentStore + StoreKeyProvider (the app's key)
//! evidence  seal / open / inspect + DeviceSigner (the app's keystore)
//! bench     the bench harness, for running on a device
//! errors    FaceError, StoreError, LivenessError, EvidenceError
//! ```
//! Every object is Send + Sync: load a FaceVerifier once and share it.

mod bench;
#[cfg(test)]
mod callback_threads;
mod errors;
mod evidence;
mod face;
mod flash;
mod image;
mod store;

pub use bench::*;
pub use errors::*;
pub use evidence::*;
pub use face::*;
pub use flash::*;
pub use image::*;
pub use store::*;

uniffi::setup_scaffolding!();

/// The SDK version, e.g. "0.1.0".
#[uniffi::export]
pub fn sdk_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
