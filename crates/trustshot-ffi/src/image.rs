//! How pictures cross the boundary: encoded bytes (JPEG/PNG, EXIF orientation
//! applied) or a raw camera buffer with its geometry and rotation.

use trustshot::Image;
use trustshot_face::frame::{self, CameraBuffer};

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

/// The clockwise turn that makes a picture upright (CameraX
/// `imageInfo.rotationDegrees`; on iOS from the capture connection's orientation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Rotation {
    Deg0,
    Deg90,
    Deg180,
    Deg270,
}

impl From<Rotation> for frame::Rotation {
    fn from(r: Rotation) -> Self {
        match r {
            Rotation::Deg0 => frame::Rotation::R0,
            Rotation::Deg90 => frame::Rotation::R90,
            Rotation::Deg180 => frame::Rotation::R180,
            Rotation::Deg270 => frame::Rotation::R270,
        }
    }
}

impl From<frame::Rotation> for Rotation {
    fn from(r: frame::Rotation) -> Self {
        match r {
            frame::Rotation::R0 => Rotation::Deg0,
            frame::Rotation::R90 => Rotation::Deg90,
            frame::Rotation::R180 => Rotation::Deg180,
            frame::Rotation::R270 => Rotation::Deg270,
        }
    }
}

#[derive(Debug, Clone, uniffi::Enum)]
pub enum ImageInput {
    /// JPEG or PNG file bytes.
    Encoded { bytes: Vec<u8> },
    /// A camera frame. `row_stride` is the byte pitch of the first plane.
    Camera { bytes: Vec<u8>, width: u32, height: u32, row_stride: u32, format: PixelFormat, rotation: Rotation },
}

impl ImageInput {
    /// The SDK's view of this input (borrowed, not copied).
    pub(crate) fn image(&self) -> Image<'_> {
        match self {
            ImageInput::Encoded { bytes } => Image::Encoded(bytes),
            ImageInput::Camera { bytes, width, height, row_stride, format, rotation } => Image::Camera(CameraBuffer {
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
                rotation: (*rotation).into(),
            }),
        }
    }
}
