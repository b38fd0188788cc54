//! trustshot-frame: how pictures enter trustshot.
//!
//! Encoded images (JPEG or PNG: size limits, the whole-JPEG check, EXIF
//! orientation) and camera buffers (packed RGBA/BGRA/NV21/NV12/I420, or YUV
//! planes with their own strides, range and matrix) become one upright RGB
//! [`Frame`]. The face pipeline's error type, [`FaceError`], lives here too so
//! that a decoding error needs no mapping on its way up.
//!
//! This crate runs no inference and links no tract: its parsers of untrusted
//! bytes are fuzzed on their own (`fuzz/`), in a build that fits the suite.
#![warn(unreachable_pub)]

mod error;
mod frame;
mod jpeg_check;

pub use error::{FaceError, Result};
pub use frame::{
    decode, CameraBuffer, Frame, Limits, PixelFormat, PlaneView, Rotation, YuvMatrix, YuvPlanes, YuvRange,
};
pub use jpeg_check::JpegDefect;
