//! trustshot: the SDK in Rust.
//!
//! The core crates each answer one question (`trustshot-face`: is this the
//! same person?; `trustshot-identity`: is a live person there, and is the ID
//! real?; `trustshot-evidence`: sealed proof). This crate puts them together the
//! way the apps use them: the enrollment store (`enroll`), the delivery-photo
//! flow (`delivery`), recording colour-flash sessions for device calibration
//! (`flash_recording`), and the bench harness that the CLI and the mobile
//! bindings both run.

pub mod bench;
pub mod delivery;
pub mod enroll;
pub mod flash_recording;

pub use trustshot_evidence as evidence;
pub use trustshot_face as face;
