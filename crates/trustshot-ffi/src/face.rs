//! FaceVerifier: the models loaded once, and every face question the apps ask
//! (detect and check a capture, verify against references, passive liveness,
//! challenge sessions, ID document against selfie).

use crate::errors::{FaceError, LivenessError};
use crate::image::ImageInput;
use std::sync::{Arc, Mutex};
use trustshot_face::engine::{Analysis, Subject, Verification};
use trustshot_face::quality::Reason;
use trustshot_face::{Decision, EngineConfig, FaceEngine, Frame, ModelInfo};
use trustshot_identity::{self as identity, DocumentConfig, IdDecision, PassiveLiveness};

#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct FaceBox {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DetectedFace {
    pub bbox: FaceBox,
    /// Eye (image left), eye (image right), nose tip, mouth corners (image left, right).
    pub landmarks: Vec<Point>,
    /// The detector's score, 0..1.
    pub score: f32,
    /// The second look's probability that the box holds a face, 0..1.
    pub face_probability: f32,
}

/// A failed capture check: the measured value and the limit it crossed.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct QualityReason {
    /// Stable code: no_face, several_faces, face_too_small, too_dark, too_bright,
    /// blurry, head_turned, head_tilted, face_cut_off.
    pub code: String,
    pub measured: f32,
    pub threshold: f32,
    /// What the user should do, in English (apps localise by `code`).
    pub advice: String,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct QualityReport {
    pub passed: bool,
    pub face_count: u32,
    pub face_width: f32,
    pub brightness: f32,
    pub sharpness: f32,
    pub yaw: f32,
    pub pitch: f32,
    pub roll: f32,
    pub cut_off: f32,
    pub reasons: Vec<QualityReason>,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FaceAnalysis {
    pub faces: Vec<DetectedFace>,
    /// Index of the main (largest) face in `faces`.
    pub main_face: Option<u32>,
    pub quality: QualityReport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MatchDecision {
    Match,
    NoMatch,
    /// A capture failed the quality gate: see the reasons.
    Rejected,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Rejection {
    /// "probe" or "reference[i]".
    pub image: String,
    pub reason: QualityReason,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VerificationResult {
    pub decision: MatchDecision,
    pub score: Option<f32>,
    pub threshold: f32,
    /// False-match rate the threshold was calibrated for.
    pub fmr: f64,
    /// Non-empty exactly when rejected.
    pub reasons: Vec<Rejection>,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ModelDescription {
    pub id: String,
    pub file: String,
    pub sha256: String,
}

pub(crate) fn reason(r: &Reason) -> QualityReason {
    QualityReason {
        code: r.code.as_str().into(),
        measured: r.measured,
        threshold: r.threshold,
        advice: r.code.advice().into(),
    }
}

pub(crate) fn analysis(a: &Analysis) -> FaceAnalysis {
    let m = &a.quality.measures;
    FaceAnalysis {
        faces: a
            .faces
            .iter()
            .map(|f| DetectedFace {
                bbox: FaceBox { x: f.bbox.x, y: f.bbox.y, width: f.bbox.w, height: f.bbox.h },
                landmarks: f.landmarks.iter().map(|p| Point { x: p.x, y: p.y }).collect(),
                score: f.score,
                face_probability: f.face_probability,
            })
            .collect(),
        main_face: a.main.map(|i| i as u32),
        quality: QualityReport {
            passed: a.quality.passed(),
            face_count: m.face_count as u32,
            face_width: m.face_width,
            brightness: m.brightness,
            sharpness: m.sharpness,
            yaw: m.pose.yaw,
            pitch: m.pose.pitch,
            roll: m.pose.roll,
            cut_off: m.cut_off,
            reasons: a.quality.reasons.iter().map(reason).collect(),
        },
    }
}

pub(crate) fn verification(v: &Verification) -> VerificationResult {
    VerificationResult {
        decision: match v.decision {
            Decision::Match => MatchDecision::Match,
            Decision::NoMatch => MatchDecision::NoMatch,
            Decision::Rejected => MatchDecision::Rejected,
        },
        score: v.score,
        threshold: v.threshold,
        fmr: v.fmr,
        reasons: v
            .reasons
            .iter()
            .map(|r| Rejection {
                image: match r.subject {
                    Subject::Probe => "probe".into(),
                    Subject::Reference(i) => format!("reference[{i}]"),
                },
                reason: reason(&r.reason),
            })
            .collect(),
    }
}

fn model(m: ModelInfo) -> ModelDescription {
    ModelDescription { id: m.id, file: m.file, sha256: m.sha256 }
}

/// The face models, loaded once from a directory; share one instance.
#[derive(uniffi::Object)]
pub struct FaceVerifier {
    pub(crate) engine: Arc<FaceEngine>,
    pub(crate) liveness: Option<PassiveLiveness>,
}

impl FaceVerifier {
    pub(crate) fn frame(&self, image: &ImageInput) -> Result<Frame, FaceError> {
        image.to_frame(&self.engine.config().limits)
    }

    pub(crate) fn analyze_frame(&self, image: &ImageInput) -> Result<(Frame, Analysis), FaceError> {
        let frame = self.frame(image)?;
        let a = self.engine.analyze(&frame)?;
        Ok((frame, a))
    }
}

#[uniffi::export]
impl FaceVerifier {
    /// Loads the models from `model_dir` (the files `scripts/setup` puts in
    /// models/dist; on Android, copy them out of the assets first). Liveness is
    /// loaded when its models are present.
    #[uniffi::constructor]
    pub fn new(model_dir: String) -> Result<Arc<Self>, FaceError> {
        let dir = std::path::Path::new(&model_dir);
        let engine = Arc::new(FaceEngine::load(dir, EngineConfig::default())?);
        let liveness = match PassiveLiveness::load(dir) {
            Ok(l) => Some(l),
            Err(trustshot_face::FaceError::ModelMissing(_)) => None,
            Err(e) => return Err(e.into()),
        };
        Ok(Arc::new(FaceVerifier { engine, liveness }))
    }

    /// Faces and capture quality of one picture.
    pub fn analyze(&self, image: ImageInput) -> Result<FaceAnalysis, FaceError> {
        Ok(analysis(&self.analyze_frame(&image)?.1))
    }

    /// Is the person on `probe` the person on `references` (averaged into one template)?
    pub fn verify(&self, probe: ImageInput, references: Vec<ImageInput>) -> Result<VerificationResult, FaceError> {
        let probe = self.analyze_frame(&probe)?.1;
        let refs = references.iter().map(|r| self.analyze_frame(r).map(|(_, a)| a)).collect::<Result<Vec<_>, _>>()?;
        Ok(verification(&self.engine.verify(&probe, &refs)?))
    }

    /// Whether the liveness models are installed.
    pub fn liveness_available(&self) -> bool {
        self.liveness.is_some()
    }

    /// The loaded models, with the SHA-256 of each file (for receipts).
    pub fn models(&self) -> Vec<ModelDescription> {
        let mut all = self.engine.models();
        if let Some(l) = &self.liveness {
            all.extend(l.models());
        }
        all.into_iter().map(model).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct LivenessResult {
    pub live: bool,
    /// Fused live probability, 0..1.
    pub score: f32,
    pub threshold: f32,
    /// The cues behind the score.
    pub model_score: f32,
    pub high_freq: f32,
    pub glare: f32,
}

fn liveness_result(s: &trustshot_identity::LivenessScore) -> LivenessResult {
    LivenessResult {
        live: s.live,
        score: s.score,
        threshold: s.threshold,
        model_score: s.cues.model,
        high_freq: s.cues.high_freq,
        glare: s.cues.glare,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChallengeAction {
    TurnLeft,
    TurnRight,
    MoveCloser,
    Blink,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ChallengeState {
    /// Waiting for a frontal face to start from.
    Starting,
    InProgress {
        done: u32,
        current: ChallengeAction,
    },
    Passed,
    /// `reason`: face_changed, several_faces or still_image.
    Failed {
        reason: String,
    },
    TimedOut,
}

fn action(a: identity::Action) -> ChallengeAction {
    match a {
        identity::Action::TurnLeft => ChallengeAction::TurnLeft,
        identity::Action::TurnRight => ChallengeAction::TurnRight,
        identity::Action::MoveCloser => ChallengeAction::MoveCloser,
        identity::Action::Blink => ChallengeAction::Blink,
    }
}

/// What a capture screen shows for an action: a stable key (apps localise by
/// it; CHANGELOG.md states the policy for keys) and the default English text.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Prompt {
    pub key: String,
    pub text: String,
}

/// The prompt for `action` (e.g. key `challenge.turn_left`, "Turn your head slowly to your left.").
#[uniffi::export]
pub fn challenge_prompt(action: ChallengeAction) -> Prompt {
    let core = match action {
        ChallengeAction::TurnLeft => identity::Action::TurnLeft,
        ChallengeAction::TurnRight => identity::Action::TurnRight,
        ChallengeAction::MoveCloser => identity::Action::MoveCloser,
        ChallengeAction::Blink => identity::Action::Blink,
    };
    Prompt { key: core.prompt_key(), text: core.instruction().into() }
}

/// An active-liveness session: ask for its actions in order, feed it frames.
#[derive(uniffi::Object)]
pub struct ChallengeSession {
    engine_limits: trustshot_face::Limits,
    inner: Mutex<identity::ChallengeSession>,
}

#[uniffi::export]
impl ChallengeSession {
    pub fn actions(&self) -> Vec<ChallengeAction> {
        self.lock().actions().iter().copied().map(action).collect()
    }

    /// Feeds a frame taken at `timestamp_ms` (monotonic, increasing).
    pub fn push_frame(&self, image: ImageInput, timestamp_ms: u64) -> Result<ChallengeState, LivenessError> {
        let frame = image.to_frame(&self.engine_limits)?;
        let state = self.lock().push_frame(&frame, timestamp_ms)?;
        Ok(match state {
            identity::SessionState::Starting => ChallengeState::Starting,
            identity::SessionState::InProgress { done, current } => {
                ChallengeState::InProgress { done: done as u32, current: action(current) }
            }
            identity::SessionState::Passed => ChallengeState::Passed,
            identity::SessionState::Failed(r) => ChallengeState::Failed { reason: r.as_str().into() },
            identity::SessionState::TimedOut => ChallengeState::TimedOut,
        })
    }
}

impl ChallengeSession {
    fn lock(&self) -> std::sync::MutexGuard<'_, identity::ChallengeSession> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum IdVerdict {
    Approve,
    Reject,
    ManualReview,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct IdReason {
    pub code: String,
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
    /// In the coordinates of the document turned upright by `portrait_rotation_degrees`.
    pub portrait: Option<FaceBox>,
    /// The clockwise turn (0, 90, 180, 270) that made the document upright
    /// (documents photographed sideways are tried in every orientation).
    pub portrait_rotation_degrees: Option<u32>,
    pub portrait_sharpness: Option<f32>,
    pub portrait_glare: Option<f32>,
    pub moire_peak: Option<f32>,
    pub selfie: FaceAnalysis,
    pub reasons: Vec<IdReason>,
}

#[uniffi::export]
impl FaceVerifier {
    /// Passive liveness of the main face of one picture.
    pub fn check_liveness(&self, image: ImageInput) -> Result<LivenessResult, FaceError> {
        let model = self
            .liveness
            .as_ref()
            .ok_or_else(|| FaceError::ModelMissing { detail: "no liveness model installed".into() })?;
        let (frame, a) = self.analyze_frame(&image)?;
        let face =
            a.main.map(|i| a.faces[i]).ok_or_else(|| FaceError::NoFace { detail: "no face in the picture".into() })?;
        Ok(liveness_result(&model.assess(&frame, &face)?))
    }

    /// Starts a challenge of `actions` random actions (1 to 4).
    pub fn start_challenge(&self, actions: u32) -> Result<Arc<ChallengeSession>, LivenessError> {
        let config = identity::ChallengeConfig { actions: actions as usize, ..Default::default() };
        let session = identity::ChallengeSession::new(self.engine.clone(), config)?;
        Ok(Arc::new(ChallengeSession { engine_limits: self.engine.config().limits, inner: Mutex::new(session) }))
    }

    /// Starts a screen colour-flash session (a fresh random sequence).
    pub fn start_flash_challenge(&self) -> Result<Arc<crate::flash::FlashChallenge>, LivenessError> {
        Ok(Arc::new(crate::flash::FlashChallenge::start(self.engine.clone())?))
    }

    /// Is the seller on `selfie` the person on the ID `document`?
    pub fn verify_id(&self, document: ImageInput, selfie: ImageInput) -> Result<IdResult, FaceError> {
        let document = self.frame(&document)?;
        let (selfie_frame, selfie) = self.analyze_frame(&selfie)?;
        let v = identity::verify_id(
            &self.engine,
            self.liveness.as_ref(),
            &DocumentConfig::default(),
            &document,
            &selfie_frame,
            &selfie,
        )?;
        Ok(IdResult {
            decision: match v.decision {
                IdDecision::Approve => IdVerdict::Approve,
                IdDecision::Reject => IdVerdict::Reject,
                IdDecision::ManualReview => IdVerdict::ManualReview,
            },
            face_match: v.face_match,
            approve_threshold: v.approve_threshold,
            reject_threshold: v.reject_threshold,
            liveness: v.liveness.as_ref().map(liveness_result),
            portrait: v.portrait.map(|p| FaceBox {
                x: p.face.bbox.x,
                y: p.face.bbox.y,
                width: p.face.bbox.w,
                height: p.face.bbox.h,
            }),
            portrait_rotation_degrees: v.portrait.map(|p| p.orientation.degrees()),
            portrait_sharpness: v.portrait.map(|p| p.sharpness),
            portrait_glare: v.portrait.map(|p| p.glare),
            moire_peak: v.portrait.map(|p| p.moire_peak),
            selfie: analysis(&selfie),
            reasons: v
                .reasons
                .iter()
                .map(|r| IdReason { code: r.code.clone(), measured: r.measured, threshold: r.threshold })
                .collect(),
        })
    }
}
