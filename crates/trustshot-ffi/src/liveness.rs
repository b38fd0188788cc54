//! Liveness from the app: passive liveness of one picture, and challenge
//! sessions (head movements, blink) with the prompts a capture screen shows.
//! The colour-flash challenge is in flash.rs.

use crate::errors::{FaceError, LivenessError};
use crate::face::FaceVerifier;
use crate::image::ImageInput;
use std::sync::{Arc, Mutex};
use trustshot::{ChallengeRun, Sdk};
use trustshot_face::Guidance;
use trustshot_identity::{self as identity, LivenessScore, SessionLiveness};

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

impl From<&LivenessScore> for LivenessResult {
    fn from(s: &LivenessScore) -> Self {
        LivenessResult {
            live: s.live,
            score: s.score,
            threshold: s.threshold,
            model_score: s.cues.model,
            high_freq: s.cues.high_freq,
            glare: s.cues.glare,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChallengeAction {
    TurnLeft,
    TurnRight,
    MoveCloser,
    Blink,
}

impl From<identity::Action> for ChallengeAction {
    fn from(a: identity::Action) -> Self {
        match a {
            identity::Action::TurnLeft => ChallengeAction::TurnLeft,
            identity::Action::TurnRight => ChallengeAction::TurnRight,
            identity::Action::MoveCloser => ChallengeAction::MoveCloser,
            identity::Action::Blink => ChallengeAction::Blink,
        }
    }
}

impl From<ChallengeAction> for identity::Action {
    fn from(a: ChallengeAction) -> Self {
        match a {
            ChallengeAction::TurnLeft => identity::Action::TurnLeft,
            ChallengeAction::TurnRight => identity::Action::TurnRight,
            ChallengeAction::MoveCloser => identity::Action::MoveCloser,
            ChallengeAction::Blink => identity::Action::Blink,
        }
    }
}

/// Why a challenge session failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChallengeFailure {
    /// The face in view is not the one the session started with.
    FaceChanged,
    SeveralFaces,
    /// The face does not move at all: a photo or a frozen screen.
    StillImage,
    /// The action came sooner after its prompt than a person can react: it
    /// began before the prompt (a recording playing on).
    PrematureAction,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ChallengeState {
    /// Waiting for a frontal face to start from.
    Starting,
    /// Hold still and look at the camera (`challengeHoldPrompt()`): the next
    /// prompt comes at a random moment.
    Holding {
        done: u32,
    },
    InProgress {
        done: u32,
        current: ChallengeAction,
    },
    Passed,
    Failed {
        reason: ChallengeFailure,
    },
    /// The session, or the current action's window, ran out of time.
    TimedOut,
}

impl From<identity::SessionState> for ChallengeState {
    fn from(s: identity::SessionState) -> Self {
        match s {
            identity::SessionState::Starting => ChallengeState::Starting,
            identity::SessionState::Holding { done } => ChallengeState::Holding { done: done as u32 },
            identity::SessionState::InProgress { done, current } => {
                ChallengeState::InProgress { done: done as u32, current: current.into() }
            }
            identity::SessionState::Passed => ChallengeState::Passed,
            identity::SessionState::Failed(r) => ChallengeState::Failed {
                reason: match r {
                    identity::FailReason::FaceChanged => ChallengeFailure::FaceChanged,
                    identity::FailReason::SeveralFaces => ChallengeFailure::SeveralFaces,
                    identity::FailReason::StillImage => ChallengeFailure::StillImage,
                    identity::FailReason::PrematureAction => ChallengeFailure::PrematureAction,
                },
            },
            identity::SessionState::TimedOut => ChallengeState::TimedOut,
        }
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
    let core = identity::Action::from(action);
    Prompt { key: core.prompt_key(), text: core.instruction().into() }
}

/// The prompt while a session holds before its next action
/// (`challenge.hold`, "Hold still and look at the camera.").
#[uniffi::export]
pub fn challenge_hold_prompt() -> Prompt {
    let (key, text) = identity::challenge::HOLD_PROMPT;
    Prompt { key: key.into(), text: text.into() }
}

/// What a capture screen should tell the person (apps localise by `code` or `key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum GuidanceCode {
    NoFace,
    SeveralFaces,
    TooFar,
    TooClose,
    OffCentre,
    NotFrontal,
    TooDark,
    TooBright,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GuidanceHint {
    pub code: GuidanceCode,
    /// Stable key, e.g. `guidance.too_far` (CHANGELOG.md states the policy for keys).
    pub key: String,
    /// Default English text.
    pub text: String,
}

pub(crate) fn hints(guidance: &[Guidance]) -> Vec<GuidanceHint> {
    guidance
        .iter()
        .map(|g| GuidanceHint {
            code: match g {
                Guidance::NoFace => GuidanceCode::NoFace,
                Guidance::SeveralFaces => GuidanceCode::SeveralFaces,
                Guidance::TooFar => GuidanceCode::TooFar,
                Guidance::TooClose => GuidanceCode::TooClose,
                Guidance::OffCentre => GuidanceCode::OffCentre,
                Guidance::NotFrontal => GuidanceCode::NotFrontal,
                Guidance::TooDark => GuidanceCode::TooDark,
                Guidance::TooBright => GuidanceCode::TooBright,
            },
            key: g.key(),
            text: g.text().into(),
        })
        .collect()
}

/// The passive verdict over a session's frames (median of their scores).
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct SessionLivenessResult {
    pub live: bool,
    pub score: f32,
    pub threshold: f32,
    pub frames: u32,
}

impl From<SessionLiveness> for SessionLivenessResult {
    fn from(s: SessionLiveness) -> Self {
        SessionLivenessResult { live: s.live, score: s.score, threshold: s.threshold, frames: s.frames as u32 }
    }
}

/// An active-liveness session: show what its state asks, feed it frames.
#[derive(uniffi::Object)]
pub struct ChallengeSession {
    sdk: Arc<Sdk>,
    inner: Mutex<ChallengeRun>,
}

#[uniffi::export]
impl ChallengeSession {
    pub fn actions(&self) -> Vec<ChallengeAction> {
        self.lock().actions().iter().map(|&a| a.into()).collect()
    }

    /// Feeds a frame taken at `timestamp_ms` (monotonic, increasing).
    pub fn push_frame(&self, image: ImageInput, timestamp_ms: u64) -> Result<ChallengeState, LivenessError> {
        let frame = self.sdk.frame(&image.image()).map_err(FaceError::from)?;
        Ok(self.lock().push_frame(&frame, timestamp_ms)?.into())
    }

    /// What to tell the person about the last frame (empty: all good).
    pub fn guidance(&self) -> Vec<GuidanceHint> {
        hints(self.lock().guidance())
    }

    /// The passive verdict over the frames so far (None without the liveness
    /// model, or before a face was seen).
    pub fn passive(&self) -> Option<SessionLivenessResult> {
        self.lock().passive().map(Into::into)
    }

    /// The sharpest frontal frame of the session as a JPEG without metadata
    /// (for the audit receipt), once one was seen.
    pub fn best_frame_jpeg(&self) -> Result<Option<Vec<u8>>, LivenessError> {
        let quality = self.sdk.config().delivery.jpeg_quality;
        let inner = self.lock();
        let Some(frame) = inner.best_frame() else { return Ok(None) };
        let jpeg = trustshot::delivery::encode_jpeg(frame, quality)
            .map_err(|e| LivenessError::Face { detail: e.to_string() })?;
        Ok(Some(jpeg))
    }

    /// From now on, saves every frame and the challenge to the folder `dir`
    /// (`trustshot verify-id --session` judges a capture recorded as
    /// `<capture>/challenge` with its flash in `<capture>/flash`). The
    /// pictures are faces in the clear: for calibration on test devices with
    /// consenting testers, never in production.
    pub fn record_to(&self, dir: String) -> Result<(), LivenessError> {
        Ok(self.lock().record_to(std::path::Path::new(&dir))?)
    }
}

impl ChallengeSession {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, ChallengeRun> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Passive liveness over a capture session's frames.
#[derive(uniffi::Object)]
pub struct LivenessSession {
    sdk: Arc<Sdk>,
    inner: Mutex<trustshot::LivenessSession>,
}

#[uniffi::export]
impl LivenessSession {
    /// Scores the largest face of a frame; None when it has no face.
    pub fn push_frame(&self, image: ImageInput) -> Result<Option<LivenessResult>, FaceError> {
        let frame = self.sdk.frame(&image.image())?;
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        Ok(inner.push_frame(&frame)?.as_ref().map(LivenessResult::from))
    }

    /// The session verdict (median of the frames' scores); None before a face was scored.
    pub fn verdict(&self) -> Option<SessionLivenessResult> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).verdict().map(Into::into)
    }
}

#[uniffi::export]
impl FaceVerifier {
    /// Passive liveness of the main face of one picture.
    pub fn check_liveness(&self, image: ImageInput) -> Result<LivenessResult, FaceError> {
        Ok((&self.sdk.check_liveness(&self.frame(&image)?)?.score).into())
    }

    /// Starts a challenge of `actions` random actions (1 to 4) at random moments.
    pub fn start_challenge(&self, actions: u32) -> Result<Arc<ChallengeSession>, LivenessError> {
        let session = self.sdk.start_challenge(actions as usize)?;
        Ok(Arc::new(ChallengeSession { sdk: self.sdk.clone(), inner: Mutex::new(session) }))
    }

    /// Starts a passive-liveness session (`FaceException.ModelMissing` without the model).
    pub fn start_liveness_session(&self) -> Result<Arc<LivenessSession>, FaceError> {
        let session = self.sdk.start_liveness_session()?;
        Ok(Arc::new(LivenessSession { sdk: self.sdk.clone(), inner: Mutex::new(session) }))
    }

    /// What a capture screen should tell the person about one preview frame.
    pub fn guidance(&self, image: ImageInput) -> Result<Vec<GuidanceHint>, FaceError> {
        Ok(hints(&self.sdk.guidance(&self.frame(&image)?)?))
    }
}

/// A layer of the high-assurance decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AssuranceLayer {
    /// The screen colour flash (thresholds from SIMULATED captures only).
    Flash,
    /// The challenge's actions at random moments.
    Actions,
    /// Passive liveness, the session median.
    Passive,
    /// The same face in the challenge and the flash.
    SameFace,
}

#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct AssuranceCheck {
    pub layer: AssuranceLayer,
    pub passed: bool,
    /// None when the layer could not be measured (which fails it).
    pub score: Option<f32>,
    pub threshold: f32,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AssuranceResult {
    pub passed: bool,
    pub checks: Vec<AssuranceCheck>,
    /// The decision as a receipt records it (pass it in `EvidenceRequest.verdict`).
    pub receipt_verdict: crate::evidence::EvidenceVerdict,
}

#[uniffi::export]
impl FaceVerifier {
    /// The high-assurance decision over a finished challenge and colour-flash
    /// session of one capture: passes only when every layer passes.
    pub fn judge_high_assurance(
        &self,
        challenge: Arc<ChallengeSession>,
        flash: Arc<crate::flash::FlashChallenge>,
    ) -> AssuranceResult {
        assurance_result(&flash.with_run(|run| {
            trustshot::assurance::judge(&challenge.lock(), run, self.sdk.config().challenge.same_face_fmr)
        }))
    }
}

impl From<trustshot_identity::AssuranceLayer> for AssuranceLayer {
    fn from(l: trustshot_identity::AssuranceLayer) -> Self {
        match l {
            trustshot_identity::AssuranceLayer::Flash => AssuranceLayer::Flash,
            trustshot_identity::AssuranceLayer::Actions => AssuranceLayer::Actions,
            trustshot_identity::AssuranceLayer::Passive => AssuranceLayer::Passive,
            trustshot_identity::AssuranceLayer::SameFace => AssuranceLayer::SameFace,
        }
    }
}

pub(crate) fn assurance_result(a: &trustshot::assurance::Assurance) -> AssuranceResult {
    let v = a.verdict();
    AssuranceResult {
        passed: a.passed,
        checks: a
            .checks
            .iter()
            .map(|c| AssuranceCheck { layer: c.layer.into(), passed: c.passed, score: c.score, threshold: c.threshold })
            .collect(),
        receipt_verdict: crate::evidence::EvidenceVerdict {
            decision: if a.passed {
                crate::evidence::ReceiptDecision::Passed
            } else {
                crate::evidence::ReceiptDecision::Failed
            },
            scores: v.scores.into_iter().collect(),
            thresholds: v.thresholds.into_iter().collect(),
            reasons: v.reasons,
        },
    }
}
