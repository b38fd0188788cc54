//! FlashChallenge: the screen colour-flash session. The app shows each step's
//! colour full-screen for its duration, reports when it actually appeared
//! (`displayed`, same clock as the frames), feeds camera frames, and asks for
//! the verdict once `progress().finished`.
//!
//! The thresholds are a first setting checked on simulated captures only;
//! `record_to` saves a session for calibrating them on a device.

use crate::errors::{FaceError, LivenessError};
use crate::face::FaceVerifier;
use crate::image::ImageInput;
use std::sync::{Arc, Mutex};
use trustshot::{FlashRun, Sdk};
use trustshot_identity::flash as core;

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FlashColour {
    Red,
    Yellow,
    Green,
    Cyan,
    Blue,
    Magenta,
}

impl From<core::FlashColour> for FlashColour {
    fn from(c: core::FlashColour) -> Self {
        match c {
            core::FlashColour::Red => FlashColour::Red,
            core::FlashColour::Yellow => FlashColour::Yellow,
            core::FlashColour::Green => FlashColour::Green,
            core::FlashColour::Cyan => FlashColour::Cyan,
            core::FlashColour::Blue => FlashColour::Blue,
            core::FlashColour::Magenta => FlashColour::Magenta,
        }
    }
}

/// One colour to fill the screen with (sRGB) and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct FlashStep {
    pub colour: FlashColour,
    pub red: u8,
    pub green: u8,
    pub blue: u8,
    pub duration_ms: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FlashFailure {
    TooFewFrames,
    NoResponse,
    WrongSequence,
    WrongOrder,
    FlatSurface,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct FlashProgress {
    pub shown: u32,
    pub steps: u32,
    pub frames_measured: u32,
    /// Every colour was shown and the last is over: ask for the verdict.
    pub finished: bool,
}

/// Every measured value, next to the threshold it was held to.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FlashVerdict {
    pub passed: bool,
    pub failure: Option<FlashFailure>,
    pub frames_used: u32,
    pub lag_ms: u32,
    pub max_lag_ms: u32,
    pub correlation: f32,
    pub min_correlation: f32,
    pub response: f32,
    pub min_response: f32,
    pub step_agreement: f32,
    pub min_step_agreement: f32,
    pub face_gain: f32,
    pub background_gain: f32,
    pub min_face_to_background: f32,
}

fn progress(p: core::FlashProgress) -> FlashProgress {
    FlashProgress {
        shown: p.shown as u32,
        steps: p.steps as u32,
        frames_measured: p.frames_measured as u32,
        finished: p.finished,
    }
}

fn verdict(v: core::FlashVerdict) -> FlashVerdict {
    FlashVerdict {
        passed: v.passed,
        failure: v.failure.map(|f| match f {
            core::FlashFailure::TooFewFrames => FlashFailure::TooFewFrames,
            core::FlashFailure::NoResponse => FlashFailure::NoResponse,
            core::FlashFailure::WrongSequence => FlashFailure::WrongSequence,
            core::FlashFailure::WrongOrder => FlashFailure::WrongOrder,
            core::FlashFailure::FlatSurface => FlashFailure::FlatSurface,
        }),
        frames_used: v.frames_used as u32,
        lag_ms: v.lag_ms,
        max_lag_ms: v.config.max_lag_ms,
        correlation: v.correlation,
        min_correlation: v.config.min_correlation,
        response: v.response,
        min_response: v.config.min_response,
        step_agreement: v.step_agreement,
        min_step_agreement: v.config.min_step_agreement,
        face_gain: v.face_gain,
        background_gain: v.background_gain,
        min_face_to_background: v.config.min_face_to_background,
    }
}

/// A colour-flash session (start it with `FaceVerifier.startFlashChallenge`).
#[derive(uniffi::Object)]
pub struct FlashChallenge {
    sdk: Arc<Sdk>,
    run: Mutex<FlashRun>,
}

impl FlashChallenge {
    fn lock(&self) -> std::sync::MutexGuard<'_, FlashRun> {
        self.run.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn with_run<R>(&self, f: impl FnOnce(&FlashRun) -> R) -> R {
        f(&self.lock())
    }
}

#[uniffi::export]
impl FaceVerifier {
    /// Starts a screen colour-flash session (a fresh random sequence).
    pub fn start_flash_challenge(&self) -> Result<Arc<FlashChallenge>, LivenessError> {
        let run = self.sdk.start_flash()?;
        Ok(Arc::new(FlashChallenge { sdk: self.sdk.clone(), run: Mutex::new(run) }))
    }
}

#[uniffi::export]
impl FlashChallenge {
    /// The colours to show, in order (drawn from the OS CSPRNG for this session).
    pub fn sequence(&self) -> Vec<FlashStep> {
        self.lock()
            .sequence()
            .iter()
            .map(|s| {
                let [red, green, blue] = s.colour.rgb();
                FlashStep { colour: s.colour.into(), red, green, blue, duration_ms: s.duration_ms }
            })
            .collect()
    }

    /// Step `step` appeared on the display at `timestamp_ms` (the frames' clock).
    pub fn displayed(&self, step: u32, timestamp_ms: u64) -> Result<FlashProgress, LivenessError> {
        Ok(progress(self.lock().displayed(step as usize, timestamp_ms)?))
    }

    /// Feeds a camera frame taken at `timestamp_ms`; the largest face is measured.
    pub fn push_frame(&self, image: ImageInput, timestamp_ms: u64) -> Result<FlashProgress, LivenessError> {
        let frame = self.sdk.frame(&image.image()).map_err(FaceError::from)?;
        Ok(progress(self.lock().push_frame(&frame, timestamp_ms)?))
    }

    pub fn progress(&self) -> FlashProgress {
        progress(self.lock().progress())
    }

    /// The camera stopped: no frame will follow. Once every colour was
    /// reported displayed, the session is finished and can be judged on the
    /// frames it got.
    pub fn camera_stopped(&self) -> Result<FlashProgress, LivenessError> {
        Ok(progress(self.lock().close()?))
    }

    /// The judged session; `NotFinished` until every colour was shown and is over.
    pub fn verdict(&self) -> Result<FlashVerdict, LivenessError> {
        Ok(verdict(self.lock().verdict()?))
    }

    /// From now on, saves every frame (JPEG) and the timings to the folder
    /// `dir`, for calibration on a test device (`trustshot eval flash
    /// --session DIR`). The pictures are faces in the clear: never in production.
    pub fn record_to(&self, dir: String) -> Result<(), LivenessError> {
        Ok(self.lock().record_to(std::path::Path::new(&dir))?)
    }
}
