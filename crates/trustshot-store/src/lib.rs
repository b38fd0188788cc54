//! trustshot-store: the enrollment store. Face templates kept on the device,
//! sealed at rest with AES-256-GCM under a key the host app supplies (from
//! Android Keystore or the iOS keychain), until the user asks for their removal.
//!
//! ```text
//! format   the sealed file, without the file: seal / unseal (fuzzed: fuzz/)
//! store    TemplateStore: one handle on a store file, locked, re-read, rollback-checked
//! ```
//!
//! A template's vector is kept as plain `f32`s of unit length: this crate knows
//! nothing of the face models (`trustshot-face`'s `Embedding::from_normalized`
//! turns a vector back into an embedding), so it builds without tract and
//! image and its decoder can be fuzzed on its own.

pub mod format;
mod store;

pub use format::Template;
pub use store::TemplateStore;

/// Longest person id, in bytes.
pub const MAX_PERSON_ID: usize = 256;
/// Longest template vector (the length field is a `u16`).
pub const MAX_DIM: usize = u16::MAX as usize;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store key must be 32 bytes, got {0}")]
    KeyLength(usize),
    #[error("store file is not a trustshot enrollment store (bad magic or too short)")]
    NotAStore,
    #[error("store could not be opened: wrong key, or the file was altered")]
    Unauthentic,
    #[error("store contents are malformed after decryption: {0}")]
    Malformed(&'static str),
    #[error("store file is older than one this device already used (generation {found}, expected at least {expected}): an earlier copy was put back; refused")]
    Rollback { found: u64, expected: u64 },
    #[error("store I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("randomness unavailable")]
    Random,
    #[error("no template with that id")]
    UnknownTemplate,
    #[error("person id must be 1 to {MAX_PERSON_ID} bytes")]
    PersonId,
    #[error("model name must be 1 to {} bytes", format::MAX_MODEL_NAME)]
    ModelName,
    #[error("a template must be a unit-length vector of 1 to {MAX_DIM} finite values")]
    NotATemplate,
    #[error("templates were made by model {stored}, not by {current}: re-enroll")]
    ModelMismatch { stored: String, current: String },
}

#[cfg(test)]
mod tests;
