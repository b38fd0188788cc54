//! "Is a live person in front of the camera?": passive liveness of one
//! picture, challenge sessions (head movements, blink) and the screen
//! colour-flash challenge, each started from the [`Sdk`] with its configuration.

use crate::flash_recording::{Recorder, RecordingError};
use crate::sdk::Sdk;
use std::path::Path;
use std::sync::Arc;
use trustshot_face::{Face, FaceEngine, FaceError, Frame};
use trustshot_identity::{
    ChallengeConfig, ChallengeSession, FlashError, FlashProgress, FlashSession, FlashStep, FlashVerdict, LivenessScore,
    SessionError,
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

    /// Starts a challenge of `actions` random actions (1 to 4), the rest of
    /// its settings from the configuration.
    pub fn start_challenge(&self, actions: usize) -> Result<ChallengeSession, SessionError> {
        let config = ChallengeConfig { actions, ..self.config().challenge };
        ChallengeSession::new(self.engine().clone(), config)
    }

    /// Starts a screen colour-flash session with a fresh random sequence.
    pub fn start_flash(&self) -> Result<FlashRun, FlashError> {
        let session = FlashSession::new(self.config().flash)?;
        Ok(FlashRun { engine: self.engine().clone(), session, recorder: None })
    }
}

/// The largest face: the person at the phone, not someone behind them.
pub fn largest_face(faces: &[Face]) -> Option<Face> {
    faces.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area())).copied()
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
    session: FlashSession,
    recorder: Option<Recorder>,
}

impl FlashRun {
    /// A run over an existing session (a recorded one judged again).
    pub fn with_session(sdk: &Sdk, session: FlashSession) -> FlashRun {
        FlashRun { engine: sdk.engine().clone(), session, recorder: None }
    }

    pub fn sequence(&self) -> &[FlashStep] {
        self.session.sequence()
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
        let face = largest_face(&self.engine.detect(frame)?);
        let progress = self.session.push_frame(frame, face.as_ref(), timestamp_ms)?;
        if let Some(r) = self.recorder.as_mut() {
            r.frame(frame, timestamp_ms)?;
        }
        Ok(progress)
    }

    pub fn progress(&self) -> FlashProgress {
        self.session.progress()
    }

    /// The judged session; `NotFinished` until every colour was shown and is over.
    pub fn verdict(&self) -> Result<FlashVerdict, FlashError> {
        self.session.verdict()
    }

    /// From now on, saves every frame and the timings to `dir`, for
    /// calibration on a test device. The pictures are faces in the clear:
    /// never in production (`crate::flash_recording`).
    pub fn record_to(&mut self, dir: &Path) -> Result<(), RecordingError> {
        self.recorder = Some(Recorder::create(dir, self.session.sequence())?);
        Ok(())
    }
}
