//! trustshot-face: the on-device face pipeline.
//!
//! ```text
//! bytes / camera buffer --frame--> Frame --detect (+ face_check)--> faces --align--> 112x112 crop
//!     --quality--> reasons (or pass) --embed--> Embedding --matcher--> decision
//! face --eyes--> eye openness (blink challenge)
//! faces --guidance--> what a capture screen tells the person (too far, off centre, ...)
//! camera frames --track--> faces, searched near the last one between whole-frame detections
//! ```
//! [`FaceEngine`] ties the stages together. The stage modules are private;
//! the surface below names the types and functions other crates use.
//! Where templates are kept is not this crate's business: the engine compares
//! embeddings (the SDK's `trustshot::enroll` keeps them sealed on the device).

#![warn(unreachable_pub)]

// The stages are private: the crate's surface is the types and functions
// re-exported below, grouped by what a caller does with them.
mod align;
mod compact;
mod detect;
mod embed;
mod engine;
mod eyes;
mod face_check;
mod geometry;
mod guidance;
#[cfg(target_arch = "x86_64")]
mod kernels;
mod matcher;
mod models;
mod pose;
mod quality;
mod track;

// The engine: the whole pipeline, loaded once.
pub use engine::{Analysis, EngineConfig, FaceEngine, Rejection, StageTimings, Subject, Verification};

// Pictures in (crate trustshot-frame): encoded images (size limits,
// whole-JPEG check, EXIF orientation) and camera buffers, to one RGB frame;
// the pipeline's error type.
pub use trustshot_frame::{
    decode, CameraBuffer, FaceError, Frame, JpegDefect, Limits, PixelFormat, PlaneView, Result, Rotation, YuvMatrix,
    YuvPlanes, YuvRange,
};

// Crops: geometry on frames.
pub use align::{align, AlignedFace, ALIGNED_SIZE};
pub use geometry::{resize, square_crop, warp_affine, Affine, Point, Rect};

// Faces and what is measured on them.
pub use detect::{landmark, DetectorConfig, Face};
pub use eyes::{eye_crops, EyeOpenness};
pub use guidance::{guidance, Guidance, GuidanceConfig};
pub use pose::Pose;
pub use quality::{luma_stats, QualityConfig, QualityMeasures, QualityReport, Reason, ReasonCode};
pub use track::{Search, Tracker, FULL_EVERY_MS};

// Embeddings and decisions.
pub use embed::{Embedding, EMBEDDING_DIM, TEMPLATE_KIND};
pub use matcher::{operating_point, Decision, OperatingPoint, DEFAULT_FMR, OPERATING_POINTS};

// Models: what each network is (file, pin, input contract), loading one
// alone (other crates' networks, benchmarks), and the detector's canvases.
pub use detect::{detector_canvas, letterbox, YUNET_BUNDLE, YUNET_SPECS};
pub use embed::SFACE_SPEC;
pub use eyes::IRIS_SPEC;
pub use face_check::{FaceCheck, ONET_SPEC};
pub use models::{hex, Channels, Model, ModelFiles, ModelInfo, ModelSpec, NodeTime};

/// Every model file the face pipeline loads (for the converter and packaging).
pub fn model_specs() -> Vec<ModelSpec> {
    detect::YUNET_SPECS.iter().copied().chain([face_check::ONET_SPEC, embed::SFACE_SPEC, eyes::IRIS_SPEC]).collect()
}
