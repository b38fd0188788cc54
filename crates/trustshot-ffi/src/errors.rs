//! The errors Kotlin and Swift see: one enum per area, variant names as stable
//! codes, a `detail` sentence for logs (no images, embeddings, names or places
//! in it). Kotlin names them `FaceException`, `StoreException`, ...

use trustshot::delivery::DeliveryError as CoreDelivery;
use trustshot::enroll::StoreError as CoreStore;
use trustshot::id_check::IdCheckError as CoreIdCheck;
use trustshot::liveness::{
    ChallengeRunError as CoreChallengeRun, FlashRunError as CoreFlashRun, LivenessError as CorePassive,
};
use trustshot::EnrollError as CoreEnroll;
use trustshot_evidence::EvidenceError as CoreEvidence;
use trustshot_face::FaceError as CoreFace;
use trustshot_identity::FlashError as CoreFlash;
use trustshot_identity::SessionError as CoreSession;

#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum FaceError {
    /// The bytes or the camera buffer are not a usable picture (empty,
    /// truncated, unsupported format, wrong length for the stated size).
    #[error("{detail}")]
    InvalidImage { detail: String },
    /// Over the size limits (dimensions or bytes).
    #[error("{detail}")]
    ImageTooLarge { detail: String },
    /// The picture has no face where one is needed.
    #[error("{detail}")]
    NoFace { detail: String },
    /// A model file is not installed (liveness models come from a mirror).
    #[error("{detail}")]
    ModelMissing { detail: String },
    /// A model failed to load or run.
    #[error("{detail}")]
    ModelFailed { detail: String },
    /// Nothing to compare with: no reference picture, nothing enrolled.
    #[error("{detail}")]
    NoReference { detail: String },
    #[error("{detail}")]
    InvalidArgument { detail: String },
}

impl From<CorePassive> for FaceError {
    fn from(e: CorePassive) -> Self {
        let detail = e.to_string();
        match e {
            CorePassive::Unavailable => FaceError::ModelMissing { detail },
            CorePassive::NoFace => FaceError::NoFace { detail },
            CorePassive::Face(e) => e.into(),
        }
    }
}

impl From<CoreIdCheck> for FaceError {
    fn from(e: CoreIdCheck) -> Self {
        match e {
            CoreIdCheck::Face(e) => e.into(),
            CoreIdCheck::NoSessionSelfie => FaceError::NoFace { detail: e.to_string() },
        }
    }
}

impl From<CoreFace> for FaceError {
    fn from(e: CoreFace) -> Self {
        let detail = e.to_string();
        match e {
            CoreFace::ImageTooLarge { .. } | CoreFace::EncodedTooLarge { .. } => FaceError::ImageTooLarge { detail },
            CoreFace::EmptyInput
            | CoreFace::UnsupportedFormat
            | CoreFace::Decode(_)
            | CoreFace::CorruptJpeg(_)
            | CoreFace::ImageTooSmall { .. }
            | CoreFace::BufferLength { .. }
            | CoreFace::BufferGeometry(_)
            | CoreFace::PlaneGeometry { .. }
            | CoreFace::Rotation(_) => FaceError::InvalidImage { detail },
            CoreFace::ModelMissing(_) => FaceError::ModelMissing { detail },
            CoreFace::ModelLoad { .. } | CoreFace::ModelMismatch { .. } | CoreFace::Inference { .. } => {
                FaceError::ModelFailed { detail }
            }
            CoreFace::NoReference => FaceError::NoReference { detail },
            CoreFace::Config(_) => FaceError::InvalidArgument { detail },
        }
    }
}

#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum StoreError {
    /// The key from the app is not 32 bytes, or the app could not provide it.
    #[error("{detail}")]
    Key { detail: String },
    /// Wrong key, or the file was altered: nothing was changed.
    #[error("{detail}")]
    Unreadable { detail: String },
    /// The file is older than one this handle (or the generation the app
    /// passed) already saw: an earlier copy was put back. Nothing was changed.
    #[error("{detail}")]
    Rollback { detail: String },
    #[error("{detail}")]
    Io { detail: String },
    #[error("{detail}")]
    UnknownTemplate { detail: String },
    /// Nothing is enrolled for that person.
    #[error("{detail}")]
    NotEnrolled { detail: String },
    /// A picture given for enrollment failed the quality gate.
    #[error("{detail}")]
    CaptureRejected { detail: String, reasons: Vec<crate::face::QualityReason> },
    /// The pipeline failed on a picture (see the detail).
    #[error("{detail}")]
    Face { detail: String },
}

impl From<CoreStore> for StoreError {
    fn from(e: CoreStore) -> Self {
        let detail = e.to_string();
        match e {
            CoreStore::KeyLength(_) => StoreError::Key { detail },
            CoreStore::NotAStore
            | CoreStore::Unauthentic
            | CoreStore::Malformed(_)
            | CoreStore::ModelMismatch { .. }
            // Not reachable from the bindings' calls (the vectors come from the
            // embedder, the model name is the SDK's): a template that breaks
            // the store's rules.
            | CoreStore::NotATemplate
            | CoreStore::ModelName => StoreError::Unreadable { detail },
            CoreStore::Rollback { .. } => StoreError::Rollback { detail },
            CoreStore::Io(_) | CoreStore::Random => StoreError::Io { detail },
            CoreStore::UnknownTemplate => StoreError::UnknownTemplate { detail },
            CoreStore::PersonId => StoreError::Key { detail: "person id must be 1 to 256 bytes".into() },
        }
    }
}

impl From<FaceError> for StoreError {
    fn from(e: FaceError) -> Self {
        StoreError::Face { detail: e.to_string() }
    }
}

impl From<CoreEnroll> for StoreError {
    fn from(e: CoreEnroll) -> Self {
        let detail = e.to_string();
        match e {
            CoreEnroll::Store(e) => e.into(),
            CoreEnroll::Face(e) => FaceError::from(e).into(),
            CoreEnroll::CaptureRejected { reasons, .. } => {
                StoreError::CaptureRejected { detail, reasons: reasons.iter().map(Into::into).collect() }
            }
            CoreEnroll::NoReference => StoreError::Face { detail },
            CoreEnroll::NotEnrolled => StoreError::NotEnrolled { detail },
        }
    }
}

/// A callback that failed in the app (an exception Kotlin or Swift did not declare).
impl From<uniffi::UnexpectedUniFFICallbackError> for StoreError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        StoreError::Key { detail: format!("the key provider failed: {}", e.reason) }
    }
}

#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum LivenessError {
    #[error("{detail}")]
    OutOfOrder { detail: String },
    /// The session passed, failed or timed out: start a new one.
    #[error("{detail}")]
    SessionFinished { detail: String },
    #[error("{detail}")]
    Face { detail: String },
    /// A colour-flash session was asked for its verdict before every colour
    /// was shown and over.
    #[error("{detail}")]
    NotFinished { detail: String },
    /// A session recording (calibration) could not be written.
    #[error("{detail}")]
    Recording { detail: String },
}

impl From<CoreFlash> for LivenessError {
    fn from(e: CoreFlash) -> Self {
        let detail = e.to_string();
        match e {
            CoreFlash::StepOutOfOrder { .. } | CoreFlash::TimeOutOfOrder { .. } => LivenessError::OutOfOrder { detail },
            CoreFlash::NotFinished { .. } => LivenessError::NotFinished { detail },
            CoreFlash::Config(_) | CoreFlash::Randomness => LivenessError::Face { detail },
        }
    }
}

impl From<CoreFlashRun> for LivenessError {
    fn from(e: CoreFlashRun) -> Self {
        match e {
            CoreFlashRun::Session(e) => e.into(),
            CoreFlashRun::Face(e) => FaceError::from(e).into(),
            CoreFlashRun::Recording(e) => LivenessError::Recording { detail: e.to_string() },
        }
    }
}

impl From<CoreChallengeRun> for LivenessError {
    fn from(e: CoreChallengeRun) -> Self {
        match e {
            CoreChallengeRun::Session(e) => e.into(),
            CoreChallengeRun::Recording(e) => e.into(),
        }
    }
}

impl From<trustshot::recording::RecordingError> for LivenessError {
    fn from(e: trustshot::recording::RecordingError) -> Self {
        LivenessError::Recording { detail: e.to_string() }
    }
}

impl From<CoreSession> for LivenessError {
    fn from(e: CoreSession) -> Self {
        let detail = e.to_string();
        match e {
            CoreSession::OutOfOrder { .. } => LivenessError::OutOfOrder { detail },
            CoreSession::Finished(_) => LivenessError::SessionFinished { detail },
            CoreSession::Config(_) | CoreSession::Face(_) => LivenessError::Face { detail },
        }
    }
}

impl From<FaceError> for LivenessError {
    fn from(e: FaceError) -> Self {
        LivenessError::Face { detail: e.to_string() }
    }
}

/// Evidence errors: one variant per failure of docs/evidence-format.md.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum EvidenceError {
    #[error("{detail}")]
    Key { detail: String },
    #[error("{detail}")]
    PhotoNotAllowed { detail: String },
    /// The address is confidential: the request must carry no location.
    #[error("{detail}")]
    LocationNotAllowed { detail: String },
    #[error("{detail}")]
    InvalidRequest { detail: String },
    #[error("{detail}")]
    InvalidImage { detail: String },
    /// The app's signer failed or returned a malformed signature.
    #[error("{detail}")]
    Signer { detail: String },
    #[error("{detail}")]
    Io { detail: String },
    #[error("{detail}")]
    NotAge { detail: String },
    #[error("{detail}")]
    UnknownVersion { detail: String },
    #[error("{detail}")]
    MalformedHeader { detail: String },
    #[error("{detail}")]
    NoMatchingRecipient { detail: String },
    #[error("{detail}")]
    HeaderMac { detail: String },
    #[error("{detail}")]
    PayloadCorrupt { detail: String },
    #[error("{detail}")]
    Truncated { detail: String },
    #[error("{detail}")]
    TrailingData { detail: String },
    #[error("{detail}")]
    MalformedBundle { detail: String },
    #[error("{detail}")]
    SignerMismatch { detail: String },
    #[error("{detail}")]
    BadSignature { detail: String },
    #[error("{detail}")]
    PhotoMismatch { detail: String },
}

impl From<CoreEvidence> for EvidenceError {
    fn from(e: CoreEvidence) -> Self {
        let detail = e.to_string();
        match e {
            CoreEvidence::Key(_) => EvidenceError::Key { detail },
            CoreEvidence::PhotoNotAllowed(_) => EvidenceError::PhotoNotAllowed { detail },
            CoreEvidence::LocationNotAllowed => EvidenceError::LocationNotAllowed { detail },
            CoreEvidence::Recipients { .. } | CoreEvidence::Manifest(_) => EvidenceError::InvalidRequest { detail },
            CoreEvidence::Signer(_) | CoreEvidence::SignatureEncoding(_) => EvidenceError::Signer { detail },
            CoreEvidence::Random | CoreEvidence::Io(_) => EvidenceError::Io { detail },
            CoreEvidence::NotAge => EvidenceError::NotAge { detail },
            CoreEvidence::UnknownVersion(_) => EvidenceError::UnknownVersion { detail },
            CoreEvidence::MalformedHeader(_) => EvidenceError::MalformedHeader { detail },
            CoreEvidence::NoMatchingRecipient => EvidenceError::NoMatchingRecipient { detail },
            CoreEvidence::HeaderMac => EvidenceError::HeaderMac { detail },
            CoreEvidence::PayloadCorrupt { .. } => EvidenceError::PayloadCorrupt { detail },
            CoreEvidence::Truncated { .. } => EvidenceError::Truncated { detail },
            CoreEvidence::TrailingData => EvidenceError::TrailingData { detail },
            CoreEvidence::MalformedBundle(_) => EvidenceError::MalformedBundle { detail },
            CoreEvidence::SignerMismatch { .. } => EvidenceError::SignerMismatch { detail },
            CoreEvidence::BadSignature => EvidenceError::BadSignature { detail },
            CoreEvidence::PhotoMismatch => EvidenceError::PhotoMismatch { detail },
        }
    }
}

impl From<CoreDelivery> for EvidenceError {
    fn from(e: CoreDelivery) -> Self {
        match e {
            CoreDelivery::Photo(e) => FaceError::from(e).into(),
            CoreDelivery::Evidence(e) => e.into(),
            CoreDelivery::Encode(_) => EvidenceError::InvalidImage { detail: e.to_string() },
        }
    }
}

impl From<FaceError> for EvidenceError {
    fn from(e: FaceError) -> Self {
        EvidenceError::InvalidImage { detail: e.to_string() }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for EvidenceError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        EvidenceError::Signer { detail: format!("the device signer failed: {}", e.reason) }
    }
}
