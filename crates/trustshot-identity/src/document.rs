//! ID document against selfie: find the portrait on a photographed document,
//! check the capture, match the selfie to it, and decide approve / reject /
//! manual review with every score, threshold and reason, for a human reviewer.
//!
//! Thresholds. A document portrait is small, old and printed, so a genuine
//! pair scores lower than two selfies do, while a different person does not
//! score higher. Rather than lowering the approve threshold (which raises false
//! matches), the decision has a band: approve at or above the selfie
//! threshold for FMR 1e-4, reject below the one for FMR 1e-2, and send what
//! lies between to a person. How the specimens score: models/README.md, "ID".
//!
//! Orientation. People photograph IDs sideways. The portrait is looked for in
//! the photo as taken, turned a quarter either way and upside down, and the
//! orientation whose portrait the detector scores highest is used and
//! reported. The first orientation with a face is not enough: the detector
//! also finds some faces upside down or sideways (on 5 of the 13 specimens,
//! at 0.74 to 0.86), always scoring them below the upright face (0.89 to 0.94
//! on the same specimens; models/README.md, "ID documents"), and its landmarks
//! then look upright too, so they cannot tell. Four detections per document:
//! about 4 x the detect time (bench stage `document_portrait`), once per ID check.

use crate::passive::{moire_peak, LivenessScore, PassiveLiveness};
use trustshot_face::align;
use trustshot_face::luma_stats;
use trustshot_face::operating_point;
use trustshot_face::Face;
use trustshot_face::{Analysis, FaceEngine, FaceError, Frame, ReasonCode, Rotation};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdDecision {
    Approve,
    Reject,
    ManualReview,
}

impl IdDecision {
    pub fn as_str(&self) -> &'static str {
        match self {
            IdDecision::Approve => "approve",
            IdDecision::Reject => "reject",
            IdDecision::ManualReview => "manual_review",
        }
    }
}

/// Defaults and how they were chosen (models/README.md, "ID documents"): the
/// sharpness floor sits below every specimen portrait (softest 35) and below
/// the selfie gate (40); the moiré ceiling sits above every specimen document
/// (highest 3.45), and is not validated on a photographed screen (none in the data).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DocumentConfig {
    /// Smallest portrait width accepted, in document pixels.
    pub min_portrait_px: f32,
    /// Minimum variance of the Laplacian of the aligned portrait (printed
    /// portraits are softer than selfies, hence lower than the selfie gate).
    pub min_portrait_sharpness: f32,
    /// Maximum share of near-saturated pixels on the portrait.
    pub max_portrait_glare: f32,
    /// Above this moiré peak (log10 of peak over median spectral energy)
    /// around the portrait, the document is suspected to be a photo of a screen.
    pub max_moire_peak: f32,
    /// Selfie-to-portrait cosine at or above which the match is approved (FMR 1e-4).
    pub approve_fmr: f64,
    /// Below the threshold of this FMR the match is rejected (FMR 1e-2).
    pub reject_fmr: f64,
}

impl Default for DocumentConfig {
    fn default() -> Self {
        DocumentConfig {
            min_portrait_px: 32.0,
            min_portrait_sharpness: 20.0,
            max_portrait_glare: 0.05,
            max_moire_peak: 4.0,
            approve_fmr: 1e-4,
            reject_fmr: 1e-2,
        }
    }
}

/// Why an ID check was not approved outright. `as_str` codes are a public
/// contract (the CLI's JSON, receipts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdReasonCode {
    /// The selfie failed the capture-quality gate for this reason (`selfie_<reason>`).
    Selfie(ReasonCode),
    LivenessFailed,
    /// No liveness model is installed: a person must look (manual review).
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
    /// A layer of the high-assurance liveness session failed (`<layer>_failed`).
    AssuranceFailed(AssuranceLayer),
}

/// The layers of a high-assurance liveness session (`trustshot::assurance`),
/// in the order they are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssuranceLayer {
    Flash,
    Actions,
    Passive,
    SameFace,
}

impl AssuranceLayer {
    pub fn as_str(&self) -> &'static str {
        match self {
            AssuranceLayer::Flash => "flash",
            AssuranceLayer::Actions => "actions",
            AssuranceLayer::Passive => "passive",
            AssuranceLayer::SameFace => "same_face",
        }
    }
}

impl IdReasonCode {
    pub fn as_str(&self) -> &'static str {
        match self {
            IdReasonCode::Selfie(code) => match code {
                ReasonCode::NoFace => "selfie_no_face",
                ReasonCode::SeveralFaces => "selfie_several_faces",
                ReasonCode::FaceTooSmall => "selfie_face_too_small",
                ReasonCode::TooDark => "selfie_too_dark",
                ReasonCode::TooBright => "selfie_too_bright",
                ReasonCode::Blurry => "selfie_blurry",
                ReasonCode::HeadTurned => "selfie_head_turned",
                ReasonCode::HeadTilted => "selfie_head_tilted",
                ReasonCode::FaceCutOff => "selfie_face_cut_off",
            },
            IdReasonCode::LivenessFailed => "liveness_failed",
            IdReasonCode::LivenessUnavailable => "liveness_unavailable",
            IdReasonCode::PortraitNotFound => "portrait_not_found",
            IdReasonCode::PortraitTooSmall => "portrait_too_small",
            IdReasonCode::PortraitBlurred => "portrait_blurred",
            IdReasonCode::PortraitGlare => "portrait_glare",
            IdReasonCode::ScreenRecaptureSuspected => "screen_recapture_suspected",
            IdReasonCode::FaceMismatch => "face_mismatch",
            IdReasonCode::FaceMatchUncertain => "face_match_uncertain",
            IdReasonCode::AssuranceFailed(layer) => match layer {
                AssuranceLayer::Flash => "flash_failed",
                AssuranceLayer::Actions => "actions_failed",
                AssuranceLayer::Passive => "passive_failed",
                AssuranceLayer::SameFace => "same_face_failed",
            },
        }
    }
}

/// One reason behind a decision: what was measured, against which threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdReason {
    pub code: IdReasonCode,
    pub measured: f32,
    pub threshold: f32,
}

/// What was measured on the document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PortraitCheck {
    /// In the coordinates of the document turned by `orientation`.
    pub face: Face,
    /// The clockwise turn that made the document upright (0 when it was).
    pub orientation: Rotation,
    pub width: f32,
    pub sharpness: f32,
    pub glare: f32,
    pub moire_peak: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IdVerification {
    pub decision: IdDecision,
    /// Cosine of selfie and portrait embeddings.
    pub face_match: Option<f32>,
    pub approve_threshold: f32,
    pub reject_threshold: f32,
    pub liveness: Option<LivenessScore>,
    pub portrait: Option<PortraitCheck>,
    /// Everything that kept the decision from approve (empty when approved).
    pub reasons: Vec<IdReason>,
}

/// A portrait found on a document photo.
#[derive(Debug, Clone)]
pub struct Portrait {
    /// In the coordinates of `document`.
    pub face: Face,
    /// The clockwise turn applied to the photo to find it.
    pub orientation: Rotation,
    /// The document photo, turned upright.
    pub document: Frame,
}

/// The orientations tried, upright first (see the module header).
const ORIENTATIONS: [Rotation; 4] = [Rotation::R0, Rotation::R90, Rotation::R270, Rotation::R180];

/// Finds the portrait: in each orientation the largest face, and of those at
/// least `min_portrait_px` wide the one the detector scores highest (ties go to
/// the earlier orientation, upright first). When no orientation has one that
/// wide, the upright result (a face too small, or none) is returned, so that
/// the reason says what was seen.
pub fn find_portrait(
    engine: &FaceEngine,
    document: &Frame,
    config: &DocumentConfig,
) -> Result<Option<Portrait>, FaceError> {
    let mut upright = None;
    let mut best: Option<Portrait> = None;
    for orientation in ORIENTATIONS {
        let turned = document.clone().rotated(orientation);
        let largest = engine.detect(&turned)?.into_iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()));
        let Some(face) = largest else { continue };
        let found = Portrait { face, orientation, document: turned };
        if face.bbox.w < config.min_portrait_px {
            if orientation == Rotation::R0 {
                upright = Some(found);
            }
        } else if best.as_ref().is_none_or(|b| face.score > b.face.score) {
            best = Some(found);
        }
    }
    Ok(best.or(upright))
}

/// Capture measures of the portrait on the document.
pub fn check_portrait(portrait: &Portrait) -> PortraitCheck {
    let (document, face) = (&portrait.document, &portrait.face);
    let (sharpness, glare) = match align(document, face) {
        Some(a) => (luma_stats(&a.crop).1, crate::passive::glare_share(&a.crop)),
        None => (0.0, 0.0),
    };
    // The document around the portrait, where a screen's pixel grid shows.
    let around = crate::passive::context_crop(document, &face.bbox, 2.0, 128);
    PortraitCheck {
        face: *face,
        orientation: portrait.orientation,
        width: face.bbox.w,
        sharpness,
        glare,
        moire_peak: moire_peak(&around),
    }
}

/// What makes a found portrait a poor capture: too small, blurred, glare,
/// or the moiré of a screen photographed again.
fn capture_reasons(p: &PortraitCheck, config: &DocumentConfig) -> Vec<IdReason> {
    let checks = [
        (p.width < config.min_portrait_px, IdReasonCode::PortraitTooSmall, p.width, config.min_portrait_px),
        (
            p.sharpness < config.min_portrait_sharpness,
            IdReasonCode::PortraitBlurred,
            p.sharpness,
            config.min_portrait_sharpness,
        ),
        (p.glare > config.max_portrait_glare, IdReasonCode::PortraitGlare, p.glare, config.max_portrait_glare),
        (
            p.moire_peak > config.max_moire_peak,
            IdReasonCode::ScreenRecaptureSuspected,
            p.moire_peak,
            config.max_moire_peak,
        ),
    ];
    checks.into_iter().filter(|c| c.0).map(|(_, code, measured, threshold)| reason(code, measured, threshold)).collect()
}

fn reason(code: IdReasonCode, measured: f32, threshold: f32) -> IdReason {
    IdReason { code, measured, threshold }
}

/// The whole ID check on a document photo: [`find_portrait`], then [`decide_id`].
pub fn verify_id(
    engine: &FaceEngine,
    liveness: Option<&PassiveLiveness>,
    config: &DocumentConfig,
    document: &Frame,
    selfie_frame: &Frame,
    selfie: &Analysis,
) -> Result<IdVerification, FaceError> {
    let found = find_portrait(engine, document, config)?;
    decide_id(engine, liveness, config, found, selfie_frame, selfie)
}

/// The decision, from the portrait found on the document (or none) and the
/// selfie, already analysed (quality gate and embedding); `liveness` is
/// `None` when no liveness model is installed, which can never lead to
/// approval.
pub fn decide_id(
    engine: &FaceEngine,
    liveness: Option<&PassiveLiveness>,
    config: &DocumentConfig,
    found: Option<Portrait>,
    selfie_frame: &Frame,
    selfie: &Analysis,
) -> Result<IdVerification, FaceError> {
    let approve = operating_point(config.approve_fmr)
        .ok_or_else(|| FaceError::Config("approve_fmr is not calibrated".into()))?
        .threshold;
    let reject = operating_point(config.reject_fmr)
        .ok_or_else(|| FaceError::Config("reject_fmr is not calibrated".into()))?
        .threshold;
    let mut reasons = Vec::new();
    let mut rejected = false;

    // The selfie: a usable capture and a live person.
    for r in &selfie.quality.reasons {
        reasons.push(reason(IdReasonCode::Selfie(r.code), r.measured, r.threshold));
        rejected = true;
    }
    let selfie_face = selfie.main.map(|i| selfie.faces[i]);
    let live = match (liveness, selfie_face) {
        (Some(model), Some(face)) => {
            let score = model.assess(selfie_frame, &face)?;
            if !score.live {
                reasons.push(reason(IdReasonCode::LivenessFailed, score.score, score.threshold));
                rejected = true;
            }
            Some(score)
        }
        (None, _) => {
            reasons.push(reason(IdReasonCode::LivenessUnavailable, 0.0, 1.0));
            None
        }
        (Some(_), None) => None,
    };

    // The document: a portrait, captured well enough to compare.
    let portrait = found.as_ref().map(check_portrait);
    let mut face_match = None;
    match (&portrait, &found) {
        (None, _) | (_, None) => {
            reasons.push(reason(IdReasonCode::PortraitNotFound, 0.0, 1.0));
            rejected = true;
        }
        (Some(p), Some(found)) => {
            reasons.extend(capture_reasons(p, config));
            if let Some(selfie_embedding) = &selfie.embedding {
                let portrait_embedding = engine.embed_face(&found.document, &p.face)?;
                let score = selfie_embedding.cosine(&portrait_embedding);
                face_match = Some(score);
                if score < reject {
                    reasons.push(reason(IdReasonCode::FaceMismatch, score, reject));
                    rejected = true;
                } else if score < approve {
                    reasons.push(reason(IdReasonCode::FaceMatchUncertain, score, approve));
                }
            }
        }
    }
    let decision = if rejected {
        IdDecision::Reject
    } else if reasons.is_empty() {
        IdDecision::Approve
    } else {
        IdDecision::ManualReview
    };
    Ok(IdVerification {
        decision,
        face_match,
        approve_threshold: approve,
        reject_threshold: reject,
        liveness: live,
        portrait,
        reasons,
    })
}
