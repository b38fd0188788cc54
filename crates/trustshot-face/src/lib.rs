//! trustshot-face: the on-device face pipeline.
//!
//! ```text
//! bytes / camera buffer --frame--> Frame --detect (+ face_check)--> faces --align--> 112x112 crop
//!     --quality--> reasons (or pass) --embed--> Embedding --matcher--> decision
//! face --eyes--> eye openness (blink challenge)
//! faces --guidance--> what a capture screen tells the person (too far, off centre, ...)
//! camera frames --track--> faces, searched near the last one between whole-frame detections
//! ```
//! [`FaceEngine`] ties the stages together; each module can be used alone.
//! Where templates are kept is not this crate's business: the engine compares
//! embeddings (the SDK's `trustshot::enroll` keeps them sealed on the device).

pub mod align;
pub mod compact;
pub mod detect;
pub mod embed;
pub mod engine;
pub mod error;
pub mod eyes;
pub mod face_check;
pub mod frame;
pub mod geometry;
pub mod guidance;
mod jpeg_check;
pub mod matcher;
pub mod models;
pub mod pose;
pub mod quality;
pub mod track;

pub use detect::Face;
pub use embed::Embedding;
pub use engine::{Analysis, EngineConfig, FaceEngine, Rejection, Subject, Verification};
pub use error::{FaceError, Result};
pub use eyes::EyeOpenness;
pub use frame::{CameraBuffer, Frame, Limits, PixelFormat, PlaneView, Rotation, YuvMatrix, YuvPlanes, YuvRange};
pub use guidance::{Guidance, GuidanceConfig};
pub use jpeg_check::JpegDefect;
pub use matcher::Decision;
pub use models::{ModelInfo, ModelSpec};
pub use quality::{Reason, ReasonCode};

/// Every model file the face pipeline loads (for the converter and packaging).
pub fn model_specs() -> Vec<ModelSpec> {
    detect::YUNET_SPECS.iter().copied().chain([face_check::ONET_SPEC, embed::SFACE_SPEC, eyes::IRIS_SPEC]).collect()
}
