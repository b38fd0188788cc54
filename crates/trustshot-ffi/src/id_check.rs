//! The seller ID check from the app: document photo and selfie in, approve /
//! reject / manual review out, with every score and reason for a reviewer.

use crate::errors::FaceError;
use crate::face::{FaceAnalysis, FaceBox, FaceVerifier, QualityCode};
use crate::image::{ImageInput, Rotation};
use crate::liveness::LivenessResult;
use trustshot_identity::{self as identity, IdDecision};

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum IdVerdict {
    Approve,
    Reject,
    ManualReview,
}

/// Why an ID check was not approved outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum IdReasonCode {
    /// The selfie failed the capture-quality gate.
    SelfieQuality {
        code: QualityCode,
    },
    LivenessFailed,
    /// No liveness model is installed: a person must look.
    LivenessUnavailable,
    PortraitNotFound,
    PortraitTooSmall,
    PortraitBlurred,
    PortraitGlare,
    /// The document shows the moiré of a photographed screen.
    ScreenRecaptureSuspected,
    /// Below the reject threshold: a different person.
    FaceMismatch,
    /// Between the reject and approve thresholds: a person decides.
    FaceMatchUncertain,
}

impl From<identity::IdReasonCode> for IdReasonCode {
    fn from(c: identity::IdReasonCode) -> Self {
        match c {
            identity::IdReasonCode::Selfie(code) => IdReasonCode::SelfieQuality { code: code.into() },
            identity::IdReasonCode::LivenessFailed => IdReasonCode::LivenessFailed,
            identity::IdReasonCode::LivenessUnavailable => IdReasonCode::LivenessUnavailable,
            identity::IdReasonCode::PortraitNotFound => IdReasonCode::PortraitNotFound,
            identity::IdReasonCode::PortraitTooSmall => IdReasonCode::PortraitTooSmall,
            identity::IdReasonCode::PortraitBlurred => IdReasonCode::PortraitBlurred,
            identity::IdReasonCode::PortraitGlare => IdReasonCode::PortraitGlare,
            identity::IdReasonCode::ScreenRecaptureSuspected => IdReasonCode::ScreenRecaptureSuspected,
            identity::IdReasonCode::FaceMismatch => IdReasonCode::FaceMismatch,
            identity::IdReasonCode::FaceMatchUncertain => IdReasonCode::FaceMatchUncertain,
        }
    }
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct IdReason {
    pub code: IdReasonCode,
    pub measured: f32,
    pub threshold: f32,
}

/// An ID check, with everything a human reviewer needs.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct IdResult {
    pub decision: IdVerdict,
    pub face_match: Option<f32>,
    pub approve_threshold: f32,
    pub reject_threshold: f32,
    pub liveness: Option<LivenessResult>,
    /// In the coordinates of the document turned upright by `portrait_rotation`.
    pub portrait: Option<FaceBox>,
    /// The clockwise turn that made the document upright (documents
    /// photographed sideways are tried in every orientation).
    pub portrait_rotation: Option<Rotation>,
    pub portrait_sharpness: Option<f32>,
    pub portrait_glare: Option<f32>,
    pub moire_peak: Option<f32>,
    pub selfie: FaceAnalysis,
    pub reasons: Vec<IdReason>,
}

#[uniffi::export]
impl FaceVerifier {
    /// Is the seller on `selfie` the person on the ID `document`?
    pub fn verify_id(&self, document: ImageInput, selfie: ImageInput) -> Result<IdResult, FaceError> {
        let check = self.sdk.verify_id(&self.frame(&document)?, &self.frame(&selfie)?)?;
        let v = &check.verdict;
        Ok(IdResult {
            decision: match v.decision {
                IdDecision::Approve => IdVerdict::Approve,
                IdDecision::Reject => IdVerdict::Reject,
                IdDecision::ManualReview => IdVerdict::ManualReview,
            },
            face_match: v.face_match,
            approve_threshold: v.approve_threshold,
            reject_threshold: v.reject_threshold,
            liveness: v.liveness.as_ref().map(LivenessResult::from),
            portrait: v.portrait.map(|p| p.face.bbox.into()),
            portrait_rotation: v.portrait.map(|p| p.orientation.into()),
            portrait_sharpness: v.portrait.map(|p| p.sharpness),
            portrait_glare: v.portrait.map(|p| p.glare),
            moire_peak: v.portrait.map(|p| p.moire_peak),
            selfie: (&check.selfie).into(),
            reasons: v
                .reasons
                .iter()
                .map(|r| IdReason { code: r.code.into(), measured: r.measured, threshold: r.threshold })
                .collect(),
        })
    }
}
