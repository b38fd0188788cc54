//! The seller ID check from the app: document photo and selfie in, approve /
//! reject / manual review out, with every score and reason for a reviewer.

use crate::errors::FaceError;
use crate::face::{FaceAnalysis, FaceBox, FaceVerifier, QualityCode};
use crate::flash::FlashChallenge;
use crate::image::{ImageInput, Rotation};
use crate::liveness::{assurance_result, AssuranceLayer, AssuranceResult, ChallengeSession, LivenessResult};
use std::sync::Arc;
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
    /// A layer of the high-assurance liveness session failed.
    AssuranceFailed {
        layer: AssuranceLayer,
    },
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
            identity::IdReasonCode::AssuranceFailed(layer) => IdReasonCode::AssuranceFailed { layer: layer.into() },
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
    /// Every layer of the high-assurance session (None for `verify_id`).
    pub assurance: Option<AssuranceResult>,
}

#[uniffi::export]
impl FaceVerifier {
    /// Is the seller on `selfie` the person on the ID `document`? (One
    /// picture; `verify_id_session` is the high-assurance flow.)
    pub fn verify_id(&self, document: ImageInput, selfie: ImageInput) -> Result<IdResult, FaceError> {
        Ok(id_result(&self.sdk.verify_id(&self.frame(&document)?, &self.frame(&selfie)?)?))
    }

    /// The high-assurance ID check: the selfie is the best frame of the
    /// finished `challenge`, and the challenge with `flash` (the same
    /// capture) must pass every layer, else the check is rejected with one
    /// `AssuranceFailed` reason per failed layer. `FaceException.NoFace` when
    /// the session never saw a sharp frontal face.
    pub fn verify_id_session(
        &self,
        document: ImageInput,
        challenge: Arc<ChallengeSession>,
        flash: Arc<FlashChallenge>,
    ) -> Result<IdResult, FaceError> {
        let document = self.frame(&document)?;
        let check = flash.with_run(|run| self.sdk.verify_id_session(&document, &challenge.lock(), run))?;
        Ok(id_result(&check))
    }
}

fn id_result(check: &trustshot::IdCheck) -> IdResult {
    let v = &check.verdict;
    IdResult {
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
        assurance: check.assurance.as_ref().map(assurance_result),
    }
}
