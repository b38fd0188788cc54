//! Liveness from the app: passive liveness of one picture, and challenge
//! sessions (head movements, blink) with the prompts a capture screen shows.
//! The colour-flash challenge is in flash.rs.

use crate::errors::{FaceError, LivenessError};
use crate::face::FaceVerifier;
use crate::image::ImageInput;
use std::sync::{Arc, Mutex};
use trustshot::Sdk;
use trustshot_identity::{self as identity, LivenessScore};

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
    Failed {
        reason: ChallengeFailure,
    },
    TimedOut,
}

impl From<identity::SessionState> for ChallengeState {
    fn from(s: identity::SessionState) -> Self {
        match s {
            identity::SessionState::Starting => ChallengeState::Starting,
            identity::SessionState::InProgress { done, current } => {
                ChallengeState::InProgress { done: done as u32, current: current.into() }
            }
            identity::SessionState::Passed => ChallengeState::Passed,
            identity::SessionState::Failed(r) => ChallengeState::Failed {
                reason: match r {
                    identity::FailReason::FaceChanged => ChallengeFailure::FaceChanged,
                    identity::FailReason::SeveralFaces => ChallengeFailure::SeveralFaces,
                    identity::FailReason::StillImage => ChallengeFailure::StillImage,
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

/// An active-liveness session: ask for its actions in order, feed it frames.
#[derive(uniffi::Object)]
pub struct ChallengeSession {
    sdk: Arc<Sdk>,
    inner: Mutex<identity::ChallengeSession>,
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
}

impl ChallengeSession {
    fn lock(&self) -> std::sync::MutexGuard<'_, identity::ChallengeSession> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[uniffi::export]
impl FaceVerifier {
    /// Passive liveness of the main face of one picture.
    pub fn check_liveness(&self, image: ImageInput) -> Result<LivenessResult, FaceError> {
        Ok((&self.sdk.check_liveness(&self.frame(&image)?)?.score).into())
    }

    /// Starts a challenge of `actions` random actions (1 to 4).
    pub fn start_challenge(&self, actions: u32) -> Result<Arc<ChallengeSession>, LivenessError> {
        let session = self.sdk.start_challenge(actions as usize)?;
        Ok(Arc::new(ChallengeSession { sdk: self.sdk.clone(), inner: Mutex::new(session) }))
    }
}
