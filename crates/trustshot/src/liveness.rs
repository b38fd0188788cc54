//! "Is a live person in front of the camera?": passive liveness of one
//! picture, challenge sessions (head movements, blink) and the screen
//! colour-flash challenge, each started from the [`Sdk`] with its configuration.

use crate::recording::{ChallengeRecording, FlashRecording, Recorder, RecordingError};
use crate::sdk::Sdk;
use std::path::Path;
use std::sync::Arc;
use trustshot_face::align;
use trustshot_face::luma_stats;
use trustshot_face::Tracker;
use trustshot_face::{Embedding, Face, FaceEngine, FaceError, Frame, Guidance, GuidanceConfig};
use trustshot_identity::challenge::{Challenge, LiveFrame, Observe};
use trustshot_identity::{
    Action, ChallengeConfig, ChallengeSession, FlashError, FlashProgress, FlashSession, FlashStep, FlashVerdict,
    LivenessScore, PassiveLiveness, PassiveSession, SessionError, SessionLiveness, SessionState,
};

#[derive(Debug, thiserror::Error)]
pub enum LivenessError {
    #[error("no liveness model is installed")]
    Unavailable,
    #[error("no face in the picture")]
    NoFace,
    #[error(transparent)]
    Face(#[from] FaceError),
}

/// Passive liveness of the main face of one picture.
#[derive(Debug, Clone, Copy)]
pub struct LivenessCheck {
    pub face: Face,
    pub score: LivenessScore,
}

impl Sdk {
    /// Passive liveness of the main (largest) face of `frame`.
    pub fn check_liveness(&self, frame: &Frame) -> Result<LivenessCheck, LivenessError> {
        let model = self.liveness().ok_or(LivenessError::Unavailable)?;
        let face = largest_face(&self.engine().detect(frame)?).ok_or(LivenessError::NoFace)?;
        Ok(LivenessCheck { face, score: model.assess(frame, &face)? })
    }

    /// Starts a challenge of `actions` random actions (1 to 4) at random
    /// moments, the rest of its settings from the configuration.
    pub fn start_challenge(&self, actions: usize) -> Result<ChallengeRun, SessionError> {
        let config = ChallengeConfig { actions, ..self.config().challenge };
        Ok(ChallengeRun::over(self, ChallengeSession::new(self.engine().clone(), config)?))
    }

    /// Starts a challenge of exactly `challenge` (drawn elsewhere, e.g. by the
    /// operator's server: it must come from a CSPRNG too).
    pub fn start_challenge_with(&self, challenge: Challenge) -> Result<ChallengeRun, SessionError> {
        let session = ChallengeSession::with_challenge(self.engine().clone(), self.config().challenge, challenge)?;
        Ok(ChallengeRun::over(self, session))
    }

    /// Starts a passive-liveness session: frames in, one session verdict out.
    pub fn start_liveness_session(&self) -> Result<LivenessSession, LivenessError> {
        let model = self.liveness_model().ok_or(LivenessError::Unavailable)?;
        Ok(LivenessSession { engine: self.engine().clone(), model, session: PassiveSession::default() })
    }

    /// What a capture screen should tell the person about `frame`.
    pub fn guidance(&self, frame: &Frame) -> Result<Vec<Guidance>, FaceError> {
        Ok(trustshot_face::guidance(frame, &self.engine().detect(frame)?, &GuidanceConfig::default()))
    }

    /// Starts a screen colour-flash session with a fresh random sequence.
    pub fn start_flash(&self) -> Result<FlashRun, FlashError> {
        self.flash_run(FlashSession::new(self.config().flash)?)
    }

    /// Starts a colour-flash session showing exactly `sequence` (drawn
    /// elsewhere, e.g. by the operator's server: it must come from a CSPRNG too).
    pub fn start_flash_with(&self, sequence: Vec<FlashStep>) -> Result<FlashRun, FlashError> {
        self.flash_run(FlashSession::with_sequence(self.config().flash, sequence)?)
    }

    fn flash_run(&self, session: FlashSession) -> Result<FlashRun, FlashError> {
        Ok(FlashRun {
            engine: self.engine().clone(),
            tracker: Tracker::default(),
            session,
            recorder: None,
            embedding: None,
        })
    }
}

/// Passive liveness over the frames of a capture session (the median of
/// their scores; `trustshot_identity::passive::PassiveSession`).
pub struct LivenessSession {
    engine: Arc<FaceEngine>,
    model: Arc<PassiveLiveness>,
    session: PassiveSession,
}

impl LivenessSession {
    /// Scores the largest face of `frame` (a frame without a face adds nothing).
    pub fn push_frame(&mut self, frame: &Frame) -> Result<Option<LivenessScore>, FaceError> {
        let Some(face) = largest_face(&self.engine.detect(frame)?) else { return Ok(None) };
        let score = self.model.assess(frame, &face)?;
        self.session.push(&score);
        Ok(Some(score))
    }

    /// None until a frame with a face was scored.
    pub fn verdict(&self) -> Option<SessionLiveness> {
        self.session.verdict()
    }
}

/// A challenge session as an app runs it: the actions judged
/// (`trustshot_identity::challenge`), and on the same frames the passive
/// session score (when the liveness model is installed), the guidance for
/// the capture screen, and the sharpest frontal frame for the audit receipt.
pub struct ChallengeRun {
    session: ChallengeSession,
    engine: Arc<FaceEngine>,
    tracker: Tracker,
    passive_model: Option<Arc<PassiveLiveness>>,
    passive: PassiveSession,
    /// When a frame was last scored for passive liveness.
    passive_at: Option<u64>,
    guidance: Vec<Guidance>,
    best: Option<(f32, Frame)>,
    recorder: Option<Recorder<ChallengeRecording>>,
}

/// A frame counts as frontal for the best frame within this many degrees of
/// yaw and pitch (a stated choice: the portrait a reviewer expects).
const BEST_FRAME_MAX_ANGLE: f32 = 10.0;

/// At most one frame per this many ms is scored for passive liveness: five a
/// second are plenty for the session's median, and the frame loop keeps its
/// budget (a stated choice).
const PASSIVE_EVERY_MS: u64 = 200;

impl ChallengeRun {
    /// A run over `session` (one the SDK started, or a bench's own).
    pub fn over(sdk: &Sdk, session: ChallengeSession) -> ChallengeRun {
        ChallengeRun {
            session,
            engine: sdk.engine().clone(),
            tracker: Tracker::default(),
            passive_model: sdk.liveness_model(),
            passive: PassiveSession::default(),
            passive_at: None,
            guidance: Vec::new(),
            best: None,
            recorder: None,
        }
    }

    pub fn actions(&self) -> &[Action] {
        self.session.actions()
    }

    pub fn state(&self) -> SessionState {
        self.session.state()
    }

    /// Feeds one camera frame taken at `timestamp_ms` (monotonic, increasing).
    pub fn push_frame(&mut self, frame: &Frame, timestamp_ms: u64) -> Result<SessionState, ChallengeRunError> {
        let engine = self.engine.clone();
        let mut live = LiveFrame::new(&engine, frame, &mut self.tracker, timestamp_ms);
        let state = self.session.push_observed(&mut live, timestamp_ms)?;
        // The same detections serve the passive score, the guidance and the best frame.
        let faces = live.faces()?.to_vec();
        self.guidance = trustshot_face::guidance(frame, &faces, &GuidanceConfig::default());
        if let Some(face) = largest_face(&faces) {
            let due = self.passive_at.is_none_or(|t| timestamp_ms >= t + PASSIVE_EVERY_MS);
            if let (Some(model), true) = (&self.passive_model, due) {
                self.passive.push(&model.assess(frame, &face)?);
                self.passive_at = Some(timestamp_ms);
            }
            self.consider_best(frame, &face);
        }
        if let Some(r) = self.recorder.as_mut() {
            r.frame(frame, timestamp_ms)?;
        }
        Ok(state)
    }

    /// From now on, saves every frame (after the session took it) and the
    /// challenge to `dir`, for calibration on a test device. The pictures are
    /// faces in the clear: never in production (`crate::recording`).
    pub fn record_to(&mut self, dir: &Path) -> Result<(), RecordingError> {
        self.recorder = Some(Recorder::challenge(dir, self.session.challenge())?);
        Ok(())
    }

    /// Keeps `frame` if it is frontal and sharper than the best so far.
    fn consider_best(&mut self, frame: &Frame, face: &Face) {
        let frontal =
            face.pose().is_some_and(|p| p.yaw.abs() <= BEST_FRAME_MAX_ANGLE && p.pitch.abs() <= BEST_FRAME_MAX_ANGLE);
        let Some(aligned) = align(frame, face).filter(|_| frontal) else { return };
        let sharpness = luma_stats(&aligned.crop).1;
        if self.best.as_ref().is_none_or(|(s, _)| sharpness > *s) {
            self.best = Some((sharpness, frame.clone()));
        }
    }

    /// What the capture screen should tell the person about the last frame.
    pub fn guidance(&self) -> &[Guidance] {
        &self.guidance
    }

    /// The passive verdict over the session's frames (None without the
    /// liveness model or before a face was seen).
    pub fn passive(&self) -> Option<SessionLiveness> {
        self.passive.verdict()
    }

    /// The sharpest frontal frame seen so far (for the audit receipt).
    pub fn best_frame(&self) -> Option<&Frame> {
        self.best.as_ref().map(|(_, f)| f)
    }

    /// The embedding of the face the session started with.
    pub fn baseline_embedding(&self) -> Option<&Embedding> {
        self.session.baseline_embedding()
    }
}

/// The largest face: the person at the phone, not someone behind them.
pub fn largest_face(faces: &[Face]) -> Option<Face> {
    faces.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area())).copied()
}

#[derive(Debug, thiserror::Error)]
pub enum ChallengeRunError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Recording(#[from] RecordingError),
}

impl From<FaceError> for ChallengeRunError {
    fn from(e: FaceError) -> Self {
        ChallengeRunError::Session(e.into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FlashRunError {
    #[error(transparent)]
    Session(#[from] FlashError),
    #[error(transparent)]
    Face(#[from] FaceError),
    #[error(transparent)]
    Recording(#[from] RecordingError),
}

/// A colour-flash session fed camera frames: each frame's largest face is
/// found and the light it returns measured (`trustshot_identity::flash`).
pub struct FlashRun {
    engine: Arc<FaceEngine>,
    tracker: Tracker,
    session: FlashSession,
    recorder: Option<Recorder<FlashRecording>>,
    /// The embedding of the first face measured: whose light response this
    /// is, for the same-face check of a high-assurance session.
    embedding: Option<Embedding>,
}

impl FlashRun {
    /// A run over an existing session (a recorded one judged again).
    pub fn with_session(sdk: &Sdk, session: FlashSession) -> FlashRun {
        FlashRun { engine: sdk.engine().clone(), tracker: Tracker::default(), session, recorder: None, embedding: None }
    }

    pub fn sequence(&self) -> &[FlashStep] {
        self.session.sequence()
    }

    pub fn config(&self) -> &trustshot_identity::FlashConfig {
        self.session.config()
    }

    /// Colour `step` appeared on the display at `timestamp_ms` (the frames' clock).
    pub fn displayed(&mut self, step: usize, timestamp_ms: u64) -> Result<FlashProgress, FlashRunError> {
        let progress = self.session.displayed(step, timestamp_ms)?;
        if let Some(r) = self.recorder.as_mut() {
            r.displayed(timestamp_ms)?;
        }
        Ok(progress)
    }

    /// Feeds one camera frame taken at `timestamp_ms`.
    pub fn push_frame(&mut self, frame: &Frame, timestamp_ms: u64) -> Result<FlashProgress, FlashRunError> {
        let face = largest_face(&self.tracker.detect(&self.engine, frame, timestamp_ms)?.0);
        let progress = self.session.push_frame(frame, face.as_ref(), timestamp_ms)?;
        if let (None, Some(face)) = (&self.embedding, face) {
            self.embedding = Some(self.engine.embed_face(frame, &face)?);
        }
        if let Some(r) = self.recorder.as_mut() {
            r.frame(frame, timestamp_ms)?;
        }
        Ok(progress)
    }

    pub fn progress(&self) -> FlashProgress {
        self.session.progress()
    }

    /// The camera stopped (a recording ended): see `FlashSession::close`.
    pub fn close(&mut self) -> Result<FlashProgress, FlashError> {
        self.session.close()
    }

    /// The judged session; `NotFinished` until every colour was shown and is over.
    pub fn verdict(&self) -> Result<FlashVerdict, FlashError> {
        self.session.verdict()
    }

    /// The embedding of the first face measured in this session.
    pub fn embedding(&self) -> Option<&Embedding> {
        self.embedding.as_ref()
    }

    /// From now on, saves every frame and the timings to `dir`, for
    /// calibration on a test device. The pictures are faces in the clear:
    /// never in production (`crate::recording`).
    pub fn record_to(&mut self, dir: &Path) -> Result<(), RecordingError> {
        self.recorder = Some(Recorder::flash(dir, self.session.sequence())?);
        Ok(())
    }
}
