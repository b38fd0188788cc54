//! trustshot-evidence: sealed evidence packages — proof-of-delivery photos and
//! verification receipts, signed by the device and encrypted to the operator.
//!
//! The format is specified in `docs/evidence-format.md`: an age v1 file
//! (`p256tag` recipients, STREAM payload) carrying a COSE_Sign1 (ES256) over a
//! canonical-CBOR manifest, then the photo.
//!
//! This crate has no image or inference code: a backend links only this, with
//! the `open` feature for the operator's static-key decryption.
//!
//! ```text
//! keys      P-256 key encodings (PEM SPKI / PKCS#8, key ids, age1tag)
//! hkdf      HKDF-SHA-256 on ring HMAC
//! hpke      RFC 9180 base mode, DHKEM(P-256) + HKDF-SHA256 + ChaCha20Poly1305
//! age       age v1 header, p256tag stanzas, STREAM payload
//! cbor      canonical CBOR subset
//! cose      COSE_Sign1 ES256, the Signer trait, DER <-> raw signatures
//! manifest  what is signed; location rounding; the delivery policy
//! package   seal / open / inspect
//! attestation  the signer's attestation chain against the operator's roots (feature `attestation`)
//! folder    open into a folder, owner-only, whole or not at all (feature `open`)
//! ```
//! The `trustshot-open` binary (feature `open`) is the slim backend opener:
//! it links this crate only.

pub mod age;
#[cfg(feature = "attestation")]
pub mod attestation;
pub mod cbor;
pub mod cose;
pub mod error;
#[cfg(all(feature = "open", unix))]
pub mod folder;
pub mod hkdf;
pub mod hpke;
pub mod keys;
pub mod manifest;
pub mod package;

pub use cose::{SignatureFormat, Signer, SoftwareSigner};
pub use error::{EvidenceError, Result};
pub use keys::PublicKey;
pub use manifest::{Kind, Location, Manifest, ModelRef, PhotoRef, Policy, Verdict};
pub use package::{inspect, seal, Inspection, Opened, PhotoData, PhotoInput, SealSummary};

#[cfg(feature = "open")]
pub use age::Identity;
#[cfg(all(feature = "open", unix))]
pub use folder::{open_to_folder, OpenedFolder};
#[cfg(feature = "open")]
pub use package::open;
