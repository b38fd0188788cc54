//! trustshot: the SDK in Rust.
//!
//! The core crates each answer one question (`trustshot-frame`: what
//! picture came in?; `trustshot-face`: is this the same person?;
//! `trustshot-identity`: is a live person there, and is the ID real?;
//! `trustshot-evidence`: sealed proof; `trustshot-store`: whose templates
//! are kept?). This crate puts them together
//! the way the apps use them, as one object, [`Sdk`], with one method per
//! flow; the CLI (`trustshot-cli`) and the mobile bindings (`trustshot-ffi`)
//! are adapters over it.
//!
//! ```text
//! sdk              Sdk: the models loaded once, the configuration, pictures in (Image -> Frame)
//! config           SdkConfig: every tuning knob, in one place
//! selfie           analyze, verify_photos, enroll, verify_enrolled   (is this the enrolled driver?)
//! enroll           TemplateStore (crate trustshot-store): templates sealed at rest, locked, rollback-checked
//! liveness         check_liveness, start_challenge, start_flash      (is a live person there?)
//! assurance        the high-assurance decision: flash + actions + passive + same face
//! id_check         verify_id                                          (is the seller the person on the ID?)
//! delivery         seal_delivery, seal_receipt                        (was the parcel delivered here?)
//! recording        challenge and colour-flash sessions saved for device calibration
//! bench            the per-stage bench harness the CLI and the apps run
//! ```

pub mod assurance;
pub mod bench;
pub mod config;
pub mod delivery;
pub mod enroll;
pub mod id_check;
pub mod liveness;
pub mod recording;
pub mod sdk;
pub mod selfie;

pub use config::{DeliveryConfig, SdkConfig};
pub use delivery::{EvidenceRequest, FaceRedaction, GeoPoint, SealOptions, VerdictDecision};
pub use id_check::IdCheck;
pub use liveness::{ChallengeRun, FlashRun, LivenessCheck, LivenessSession};
pub use sdk::{model_file_names, Image, Sdk};
pub use selfie::{EnrollError, EnrolledVerification, PhotoVerification};
pub use trustshot_evidence as evidence;
pub use trustshot_face as face;
pub use trustshot_identity as identity;
