//! The face crate's error type: rich, typed, and free of personal data
//! (no pixel values, no embeddings, no names in messages).

use crate::frame::PixelFormat;

#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error("input is empty (0 bytes)")]
    EmptyInput,
    #[error("encoded image is {size} bytes, over the limit of {max} bytes")]
    EncodedTooLarge { size: usize, max: usize },
    #[error("unsupported image format: only JPEG and PNG are accepted")]
    UnsupportedFormat,
    #[error("image could not be decoded: {0}")]
    Decode(String),
    #[error("image could not be decoded: {0}")]
    CorruptJpeg(crate::jpeg_check::JpegDefect),
    #[error("image is {width}x{height}: over the limit of {max_side} px per side or {max_pixels} pixels")]
    ImageTooLarge { width: u32, height: u32, max_side: u32, max_pixels: u64 },
    #[error("image is {width}x{height}: under the minimum of {min_side} px per side")]
    ImageTooSmall { width: u32, height: u32, min_side: u32 },
    #[error("camera buffer is {actual} bytes, but {format:?} {width}x{height} with row stride {row_stride} needs {min} to {max} bytes")]
    BufferLength {
        format: PixelFormat,
        width: u32,
        height: u32,
        row_stride: u32,
        actual: usize,
        min: usize,
        max: usize,
    },
    #[error("camera buffer geometry is invalid: {0}")]
    BufferGeometry(&'static str),
    #[error("camera frame plane {plane}: {what}")]
    PlaneGeometry { plane: &'static str, what: &'static str },
    #[error("rotation must be 0, 90, 180 or 270 degrees, got {0}")]
    Rotation(u32),
    #[error("model file missing: {0}")]
    ModelMissing(String),
    #[error("model file {file} ({model}) is not the pinned one: its SHA-256 differs from models/*.toml; refused")]
    ModelMismatch { model: &'static str, file: &'static str },
    #[error("model {model} could not be loaded: {detail}")]
    ModelLoad { model: &'static str, detail: String },
    #[error("inference failed in {model}: {detail}")]
    Inference { model: &'static str, detail: String },
    #[error("no reference face to compare with (nothing enrolled or no reference given)")]
    NoReference,
    #[error("configuration is invalid: {0}")]
    Config(String),
}

impl FaceError {
    /// A stable snake_case code for logs and JSON reports (the message may change; this does not).
    pub fn code(&self) -> &'static str {
        match self {
            FaceError::EmptyInput => "empty_input",
            FaceError::EncodedTooLarge { .. } => "encoded_too_large",
            FaceError::UnsupportedFormat => "unsupported_format",
            FaceError::Decode(_) => "decode_failed",
            FaceError::CorruptJpeg(defect) => defect.code(),
            FaceError::ImageTooLarge { .. } => "image_too_large",
            FaceError::ImageTooSmall { .. } => "image_too_small",
            FaceError::BufferLength { .. } => "buffer_length",
            FaceError::BufferGeometry(_) => "buffer_geometry",
            FaceError::PlaneGeometry { .. } => "plane_geometry",
            FaceError::Rotation(_) => "rotation",
            FaceError::ModelMissing(_) => "model_missing",
            FaceError::ModelMismatch { .. } => "model_mismatch",
            FaceError::ModelLoad { .. } => "model_load",
            FaceError::Inference { .. } => "inference",
            FaceError::NoReference => "no_reference",
            FaceError::Config(_) => "config",
        }
    }
}

pub type Result<T, E = FaceError> = std::result::Result<T, E>;
