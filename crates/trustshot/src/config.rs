//! One configuration for the whole SDK: every tuning knob, grouped by the
//! stage it tunes. Each field's unit and where its default comes from (a
//! published value, a calibration on named data, or a stated choice) is
//! documented on the core type that owns it; `SdkConfig` gathers them so
//! that an app (through the FFI's `TrustshotConfig`) and the CLI set them in
//! one place, and `check` refuses a bad value before any model is loaded.

use trustshot_face::{EngineConfig, FaceError};
use trustshot_identity::{ChallengeConfig, DocumentConfig, FlashConfig};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SdkConfig {
    /// Input limits, detector, capture-quality gate and match threshold
    /// (`trustshot_face::EngineConfig`).
    pub engine: EngineConfig,
    /// ID document checks and the approve / review / reject band.
    pub document: DocumentConfig,
    /// Head-movement and blink challenges.
    pub challenge: ChallengeConfig,
    /// Screen colour-flash challenge (thresholds from SIMULATED captures only).
    pub flash: FlashConfig,
    pub delivery: DeliveryConfig,
    /// Threads one call may use for its independent stages (reference
    /// pictures analysed side by side; an ID check's document and selfie), 1
    /// to 8. Each inference itself runs on one thread. Default 1, a stated
    /// choice: safe for an app's UI budget; phones with 4-8 cores can give 2.
    pub threads: usize,
}

/// How a delivery photo is re-encoded before sealing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryConfig {
    /// JPEG quality, 1..=100 (a stated choice: 90 keeps a doorstep legible
    /// at about a tenth of the raw size).
    pub jpeg_quality: u8,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig { jpeg_quality: 90 }
    }
}

impl Default for SdkConfig {
    fn default() -> Self {
        SdkConfig {
            engine: EngineConfig::default(),
            document: DocumentConfig::default(),
            challenge: ChallengeConfig::default(),
            flash: FlashConfig::default(),
            delivery: DeliveryConfig::default(),
            threads: 1,
        }
    }
}

impl SdkConfig {
    /// Refuses values no stage can work with; the message names the field.
    pub fn check(&self) -> Result<(), FaceError> {
        let bad = |what: &str| Err(FaceError::Config(what.into()));
        if !(1..=8).contains(&self.threads) {
            return bad("threads must be 1 to 8");
        }
        if !(1..=100).contains(&self.delivery.jpeg_quality) {
            return bad("delivery.jpeg_quality must be 1 to 100");
        }
        if !(1..=4).contains(&self.challenge.actions) {
            return bad("challenge.actions must be 1 to 4");
        }
        self.challenge.check().map_err(|e| FaceError::Config(format!("challenge: {e}")))?;
        self.flash.check().map_err(|e| FaceError::Config(format!("flash: {e}")))?;
        Ok(())
    }
}
