//! How pictures cross the boundary: encoded bytes (JPEG/PNG, EXIF orientation
//! applied) or a raw camera buffer with its geometry and rotation.

use crate::errors::FaceError;
use trustshot_face::frame::{self, CameraBuffer, Limits, Rotation};
use trustshot_face::Frame;

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PixelFormat {
    Rgb888,
    /// Android `Bitmap.Config.ARGB_8888` memory order (R, G, B, A).
    Rgba8888,
    /// iOS `kCVPixelFormatType_32BGRA`.
    Bgra8888,
    /// Android camera default (Y plane, then V/U).
    Nv21,
    /// iOS 420 bi-planar (Y plane, then U/V).
    Nv12,
    /// Y, U, V planes; chroma rows are (row_stride + 1) / 2 bytes.
    I420,
}

#[derive(Debug, Clone, uniffi::Enum)]
pub enum ImageInput {
    /// JPEG or PNG file bytes.
    Encoded { bytes: Vec<u8> },
    /// A camera frame. `row_stride` is the byte pitch of the first plane;
    /// `rotation_degrees` (0, 90, 180, 270) turns it upright, clockwise.
    Camera { bytes: Vec<u8>, width: u32, height: u32, row_stride: u32, format: PixelFormat, rotation_degrees: u32 },
}

impl ImageInput {
    pub(crate) fn to_frame(&self, limits: &Limits) -> Result<Frame, FaceError> {
        Ok(match self {
            ImageInput::Encoded { bytes } => frame::decode(bytes, limits)?,
            ImageInput::Camera { bytes, width, height, row_stride, format, rotation_degrees } => CameraBuffer {
                data: bytes,
                width: *width,
                height: *height,
                row_stride: *row_stride,
                format: match format {
                    PixelFormat::Rgb888 => frame::PixelFormat::Rgb888,
                    PixelFormat::Rgba8888 => frame::PixelFormat::Rgba8888,
                    PixelFormat::Bgra8888 => frame::PixelFormat::Bgra8888,
                    PixelFormat::Nv21 => frame::PixelFormat::Nv21,
                    PixelFormat::Nv12 => frame::PixelFormat::Nv12,
                    PixelFormat::I420 => frame::PixelFormat::I420,
                },
                rotation: Rotation::from_degrees(*rotation_degrees)?,
            }
            .to_frame(limits)?,
        })
    }
}
