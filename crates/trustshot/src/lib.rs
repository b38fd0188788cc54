//! trustshot: the SDK in Rust.
//!
//! The core crates each answer one question (`trustshot-face`: is this the
//! enrolled person?; `trustshot-liveness`: is a live person there, and is the ID
//! real?; `trustshot-evidence`: sealed proof). This crate puts them together the
//! way the apps use them, and holds the bench harness that the CLI and the
//! mobile bindings both run. The FFI crate wraps this crate, nothing else.

pub mod bench;
pub mod delivery;

pub use trustshot_evidence as evidence;
pub use trustshot_face as face;
