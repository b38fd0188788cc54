//! Errors of the evidence crate. Each failure a caller or a backend can act on
//! is its own variant; messages never contain manifest contents (delivery ids,
//! locations) or key material.

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EvidenceError {
    // --- keys
    #[error("key is not valid: {0}")]
    Key(&'static str),

    // --- sealing
    #[error("the delivery policy forbids a photo: {0}")]
    PhotoNotAllowed(&'static str),
    #[error("the delivery policy forbids a location: the delivery address is confidential")]
    LocationNotAllowed,
    #[error("at least one recipient is needed, at most {max}")]
    Recipients { max: usize },
    #[error("manifest is not valid: {0}")]
    Manifest(&'static str),
    #[error("the signer failed: {0}")]
    Signer(String),
    #[error("the signer returned a malformed signature: {0}")]
    SignatureEncoding(&'static str),
    #[error("randomness unavailable")]
    Random,
    #[error("I/O failed: {0}")]
    Io(String),

    // --- opening: one variant per way a package can be wrong
    #[error("not an age file (bad version line)")]
    NotAge,
    #[error("unsupported version {0:?}: this implementation reads age-encryption.org/v1 and bundle version 1")]
    UnknownVersion(String),
    #[error("malformed header: {0}")]
    MalformedHeader(&'static str),
    #[error("no recipient stanza is addressed to this key")]
    NoMatchingRecipient,
    #[error("header MAC does not verify: the header was altered")]
    HeaderMac,
    #[error("payload chunk {chunk} does not decrypt: the payload was altered or reordered")]
    PayloadCorrupt { chunk: u64 },
    #[error("payload is truncated: it ends after chunk {chunk} without a final chunk")]
    Truncated { chunk: u64 },
    #[error("data follows the final chunk")]
    TrailingData,
    #[error("malformed bundle: {0}")]
    MalformedBundle(&'static str),
    #[error("signed by another device key (expected key id {expected}, package has {found})")]
    SignerMismatch { expected: String, found: String },
    #[error("signature does not verify")]
    BadSignature,
    #[error("photo does not match its signed hash or length")]
    PhotoMismatch,
}

impl From<std::io::Error> for EvidenceError {
    fn from(e: std::io::Error) -> Self {
        EvidenceError::Io(e.to_string())
    }
}

impl EvidenceError {
    /// The variant's stable name (the same names as docs/evidence-format.md
    /// and the Python opener use), for logs, exit messages and FFI codes.
    pub fn kind(&self) -> &'static str {
        match self {
            EvidenceError::Key(_) => "Key",
            EvidenceError::PhotoNotAllowed(_) => "PhotoNotAllowed",
            EvidenceError::LocationNotAllowed => "LocationNotAllowed",
            EvidenceError::Recipients { .. } => "Recipients",
            EvidenceError::Manifest(_) => "Manifest",
            EvidenceError::Signer(_) => "Signer",
            EvidenceError::SignatureEncoding(_) => "SignatureEncoding",
            EvidenceError::Random => "Random",
            EvidenceError::Io(_) => "Io",
            EvidenceError::NotAge => "NotAge",
            EvidenceError::UnknownVersion(_) => "UnknownVersion",
            EvidenceError::MalformedHeader(_) => "MalformedHeader",
            EvidenceError::NoMatchingRecipient => "NoMatchingRecipient",
            EvidenceError::HeaderMac => "HeaderMac",
            EvidenceError::PayloadCorrupt { .. } => "PayloadCorrupt",
            EvidenceError::Truncated { .. } => "Truncated",
            EvidenceError::TrailingData => "TrailingData",
            EvidenceError::MalformedBundle(_) => "MalformedBundle",
            EvidenceError::SignerMismatch { .. } => "SignerMismatch",
            EvidenceError::BadSignature => "BadSignature",
            EvidenceError::PhotoMismatch => "PhotoMismatch",
        }
    }
}

/// Longest excerpt of input an error message quotes, in characters.
pub const MAX_EXCERPT_CHARS: usize = 64;

/// Input quoted in an error: at most [`MAX_EXCERPT_CHARS`] characters, control
/// characters escaped, "..." when cut, so an attacker's header line (up to the
/// 64 KiB a header may hold) is never echoed into logs or across the FFI.
pub fn excerpt(input: &[u8]) -> String {
    let text = String::from_utf8_lossy(input);
    let mut out: String = text.chars().take(MAX_EXCERPT_CHARS).flat_map(char::escape_default).collect();
    if text.chars().count() > MAX_EXCERPT_CHARS {
        out.push_str("...");
    }
    out
}

pub type Result<T, E = EvidenceError> = std::result::Result<T, E>;
