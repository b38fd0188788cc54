//! trustshot-ffi: the library the Android and iOS apps link, and the only
//! crate that knows uniffi. It wraps the SDK's types in records, enums and
//! objects that Kotlin and Swift can hold, and maps each area's errors to one
//! small error enum whose variant names are stable codes.
//!
//! ```text
//! config    TrustshotConfig: every tuning knob, defaults from the core (defaultConfig())
//! image     ImageInput: encoded bytes or a camera buffer; Rotation
//! face      FaceVerifier (wraps trustshot::Sdk): analyze, verify photo vs photos
//! store     EnrollmentStore + StoreKeyProvider (the app's key): enroll, verify enrolled
//! liveness  passive liveness, ChallengeSession, prompts
//! flash     FlashChallenge: the screen colour-flash session
//! id_check  verifyId: document vs selfie, approve / reject / manual review
//! evidence  seal delivery / receipt, open / inspect + DeviceSigner (the app's keystore)
//! bench     the bench harness, for running on a device
//! errors    FaceError, StoreError, LivenessError, EvidenceError
//! ```
//! Each method is one `trustshot::Sdk` call and the mapping of its result:
//! no flow logic lives here. Every object is Send + Sync: load a
//! FaceVerifier once and share it.

mod bench;
#[cfg(test)]
mod callback_threads;
mod config;
mod errors;
mod evidence;
mod face;
mod flash;
mod id_check;
mod image;
mod liveness;
mod store;

pub use bench::*;
pub use config::*;
pub use errors::*;
pub use evidence::*;
pub use face::*;
pub use flash::*;
pub use id_check::*;
pub use image::*;
pub use liveness::*;
pub use store::*;

uniffi::setup_scaffolding!();

/// The SDK version, e.g. "0.1.0".
#[uniffi::export]
pub fn sdk_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
