//! How pictures cross the boundary: encoded bytes (JPEG/PNG, EXIF orientation
//! applied) or a raw camera buffer with its geometry and rotation.

use trustshot::Image;
use trustshot_face as face;
use trustshot_face::{CameraBuffer, PlaneView, YuvPlanes};

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

impl From<Rotation> for face::Rotation {
    fn from(r: Rotation) -> Self {
        match r {
            Rotation::Deg0 => face::Rotation::R0,
            Rotation::Deg90 => face::Rotation::R90,
            Rotation::Deg180 => face::Rotation::R180,
            Rotation::Deg270 => face::Rotation::R270,
        }
    }
}

impl From<face::Rotation> for Rotation {
    fn from(r: face::Rotation) -> Self {
        match r {
            face::Rotation::R0 => Rotation::Deg0,
            face::Rotation::R90 => Rotation::Deg90,
            face::Rotation::R180 => Rotation::Deg180,
            face::Rotation::R270 => Rotation::Deg270,
        }
    }
}

/// How YUV codes map to light: full range (Android `YUV_420_888`, iOS
/// `...FullRange`) or limited "video" range (iOS `...VideoRange`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum YuvRange {
    Full,
    Limited,
}

/// The YCbCr matrix: BT.601 (Android cameras, JPEG) or BT.709 (HD video,
/// iOS cameras at 720p and above: `kCVImageBufferYCbCrMatrix_ITU_R_709_2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum YuvMatrix {
    Bt601,
    Bt709,
}

/// One plane of a camera frame: its bytes, the bytes from one row to the
/// next, and from one sample to the next (1, or 2 for interleaved chroma).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImagePlane {
    pub bytes: Vec<u8>,
    pub row_stride: u32,
    pub pixel_stride: u32,
}

#[derive(Debug, Clone, uniffi::Enum)]
pub enum ImageInput {
    /// JPEG or PNG file bytes.
    Encoded { bytes: Vec<u8> },
    /// A camera frame in one buffer. `row_stride` is the byte pitch of the
    /// first plane; YUV layouts are full-range BT.601.
    Camera { bytes: Vec<u8>, width: u32, height: u32, row_stride: u32, format: PixelFormat, rotation: Rotation },
    /// A YUV 4:2:0 camera frame in three planes, each with its own strides
    /// (Android `ImageProxy` / `android.media.Image` `YUV_420_888`; iOS
    /// bi-planar `CVPixelBuffer`s: the CbCr plane as `u`, and from its second
    /// byte as `v`, pixel stride 2).
    Planes {
        y: ImagePlane,
        u: ImagePlane,
        v: ImagePlane,
        width: u32,
        height: u32,
        range: YuvRange,
        matrix: YuvMatrix,
        rotation: Rotation,
    },
}

fn plane(p: &ImagePlane) -> PlaneView<'_> {
    PlaneView { data: &p.bytes, row_stride: p.row_stride, pixel_stride: p.pixel_stride }
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
                    PixelFormat::Rgb888 => face::PixelFormat::Rgb888,
                    PixelFormat::Rgba8888 => face::PixelFormat::Rgba8888,
                    PixelFormat::Bgra8888 => face::PixelFormat::Bgra8888,
                    PixelFormat::Nv21 => face::PixelFormat::Nv21,
                    PixelFormat::Nv12 => face::PixelFormat::Nv12,
                    PixelFormat::I420 => face::PixelFormat::I420,
                },
                rotation: (*rotation).into(),
            }),
            ImageInput::Planes { y, u, v, width, height, range, matrix, rotation } => Image::Planes(YuvPlanes {
                y: plane(y),
                u: plane(u),
                v: plane(v),
                width: *width,
                height: *height,
                range: match range {
                    YuvRange::Full => face::YuvRange::Full,
                    YuvRange::Limited => face::YuvRange::Limited,
                },
                matrix: match matrix {
                    YuvMatrix::Bt601 => face::YuvMatrix::Bt601,
                    YuvMatrix::Bt709 => face::YuvMatrix::Bt709,
                },
                rotation: (*rotation).into(),
            }),
        }
    }
}
