//! Frames: how pixels enter the SDK.
//!
//! Everything downstream works on one type, [`Frame`]: an upright 8-bit RGB image
//! with no row padding. Two doors lead to it, and both check sizes before they
//! allocate:
//! - [`decode`]: JPEG or PNG bytes, with the EXIF orientation applied;
//! - [`CameraBuffer::to_frame`]: raw buffers as phone cameras deliver them
//!   (RGBA, BGRA, NV21, NV12, I420 with a row stride) plus the rotation that makes
//!   them upright.

use crate::error::{FaceError, Result};
use std::io::Cursor;

/// An upright RGB8 image, rows packed (`width * 3` bytes per row).
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl std::fmt::Debug for Frame {
    // Never print pixels: they are biometric data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Frame({}x{})", self.width, self.height)
    }
}

impl Frame {
    /// Wraps packed RGB8 pixels; the length must be exactly `width * height * 3`.
    pub fn from_rgb(width: u32, height: u32, rgb: Vec<u8>) -> Result<Frame> {
        if width == 0 || height == 0 {
            return Err(FaceError::BufferGeometry("width and height must be non-zero"));
        }
        let expected = width as usize * height as usize * 3;
        if rgb.len() != expected {
            return Err(FaceError::BufferLength {
                format: PixelFormat::Rgb888,
                width,
                height,
                row_stride: width * 3,
                actual: rgb.len(),
                min: expected,
                max: expected,
            });
        }
        Ok(Frame { width, height, rgb })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Packed RGB8 pixels, row-major.
    pub fn rgb(&self) -> &[u8] {
        &self.rgb
    }

    /// The pixels, taken out of the frame (to change them without a copy).
    pub fn into_rgb(self) -> Vec<u8> {
        self.rgb
    }

    /// The pixel at (x, y); callers keep x < width and y < height.
    #[inline]
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Rotates clockwise by `rotation` (the rotation that makes the picture upright).
    pub fn rotated(self, rotation: Rotation) -> Frame {
        let (w, h) = (self.width as usize, self.height as usize);
        let (nw, nh) = match rotation {
            Rotation::R0 => return self,
            Rotation::R180 => (w, h),
            Rotation::R90 | Rotation::R270 => (h, w),
        };
        let mut out = vec![0u8; self.rgb.len()];
        for y in 0..h {
            for x in 0..w {
                let (nx, ny) = match rotation {
                    Rotation::R90 => (h - 1 - y, x),
                    Rotation::R180 => (w - 1 - x, h - 1 - y),
                    Rotation::R270 => (y, w - 1 - x),
                    Rotation::R0 => unreachable!(),
                };
                let src = (y * w + x) * 3;
                let dst = (ny * nw + nx) * 3;
                out[dst..dst + 3].copy_from_slice(&self.rgb[src..src + 3]);
            }
        }
        Frame { width: nw as u32, height: nh as u32, rgb: out }
    }
}

/// Size limits checked before any pixel buffer is allocated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Largest accepted encoded (JPEG/PNG) input.
    pub max_encoded_bytes: usize,
    /// Largest accepted width or height.
    pub max_side: u32,
    /// Largest accepted width * height.
    pub max_pixels: u64,
    /// Smallest accepted width or height: below this no face can be found.
    pub min_side: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_encoded_bytes: 64 << 20, max_side: 8192, max_pixels: 40_000_000, min_side: 16 }
    }
}

impl Limits {
    /// Checks decoded dimensions against the limits.
    pub fn check(&self, width: u32, height: u32) -> Result<()> {
        if width > self.max_side || height > self.max_side || width as u64 * height as u64 > self.max_pixels {
            return Err(FaceError::ImageTooLarge {
                width,
                height,
                max_side: self.max_side,
                max_pixels: self.max_pixels,
            });
        }
        if width < self.min_side || height < self.min_side {
            return Err(FaceError::ImageTooSmall { width, height, min_side: self.min_side });
        }
        Ok(())
    }
}

/// Decodes JPEG or PNG bytes into an upright [`Frame`] (EXIF orientation applied).
///
/// The header is read first and checked against `limits`, so a file that claims
/// 50000x50000 pixels is refused before anything is allocated. A truncated or
/// damaged JPEG is a [`FaceError::CorruptJpeg`] (see [`crate::jpeg_check`]),
/// other undecodable data a [`FaceError::Decode`]: never a partially grey picture.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Frame> {
    use image::{ImageDecoder, ImageFormat, ImageReader};
    if bytes.is_empty() {
        return Err(FaceError::EmptyInput);
    }
    if bytes.len() > limits.max_encoded_bytes {
        return Err(FaceError::EncodedTooLarge { size: bytes.len(), max: limits.max_encoded_bytes });
    }
    let format = match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Jpeg | ImageFormat::Png)) => f,
        _ => return Err(FaceError::UnsupportedFormat),
    };
    let decode_err = |e: image::ImageError| FaceError::Decode(e.to_string());
    let (mut image, orientation) = match format {
        ImageFormat::Png => decode_png(bytes, limits)?,
        _ => {
            let (width, height) =
                ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(decode_err)?;
            limits.check(width, height)?;
            // The decoder would fill missing or damaged blocks with grey or garbage: refuse instead.
            crate::jpeg_check::check_complete(bytes).map_err(FaceError::CorruptJpeg)?;
            let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
            let mut image_limits = image::Limits::default();
            image_limits.max_image_width = Some(limits.max_side);
            image_limits.max_image_height = Some(limits.max_side);
            // JPEG decodes to 8-bit RGB at most.
            image_limits.max_alloc = Some(limits.max_pixels * 3 + (1 << 20));
            reader.limits(image_limits);
            let mut decoder = reader.into_decoder().map_err(decode_err)?;
            let orientation = decoder.orientation().map_err(decode_err)?;
            (image::DynamicImage::from_decoder(decoder).map_err(decode_err)?, orientation)
        }
    };
    image.apply_orientation(orientation);
    let rgb = image.into_rgb8();
    let (width, height) = rgb.dimensions();
    Frame::from_rgb(width, height, rgb.into_raw())
}

/// PNG through the png crate: palette and 16-bit samples become 8-bit while
/// decoding, and the 8-bit buffer is compacted to RGB in place (alpha
/// dropped, as the JPEG path has none), so a picture costs at most 4 bytes per
/// pixel (RGBA) at its peak, 5 for grey with alpha; through image a 16-bit
/// RGBA PNG took 8 bytes per pixel plus the 3 of its RGB copy.
fn decode_png(bytes: &[u8], limits: &Limits) -> Result<(image::DynamicImage, image::metadata::Orientation)> {
    let png_err = |e: png::DecodingError| FaceError::Decode(format!("PNG: {e}"));
    let budget = (limits.max_pixels as usize).saturating_mul(4).saturating_add(1 << 20);
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: budget });
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(png_err)?;
    let (width, height) = reader.info().size();
    limits.check(width, height)?;
    let orientation = reader
        .info()
        .exif_metadata
        .as_deref()
        .and_then(image::metadata::Orientation::from_exif_chunk)
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let size = reader.output_buffer_size().ok_or(FaceError::Decode("PNG: image size overflows".into()))?;
    let mut buf = vec![0u8; size];
    let info = reader.next_frame(&mut buf).map_err(png_err)?;
    let (w, h) = (info.width as usize, info.height as usize);
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err(FaceError::Decode("PNG: palette was not expanded".into())),
    };
    if info.bit_depth != png::BitDepth::Eight || info.line_size < w * channels || buf.len() < info.line_size * h {
        return Err(FaceError::Decode("PNG: unexpected output layout".into()));
    }
    let rgb = if channels >= 3 {
        // In place: write position <= read position, so nothing unread is overwritten.
        for y in 0..h {
            for x in 0..w {
                let (src, dst) = (y * info.line_size + x * channels, (y * w + x) * 3);
                buf.copy_within(src..src + 3, dst);
            }
        }
        buf.truncate(w * h * 3);
        buf
    } else {
        let mut rgb = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            let row = &buf[y * info.line_size..y * info.line_size + w * channels];
            rgb.extend(row.chunks_exact(channels).flat_map(|p| [p[0]; 3]));
        }
        rgb
    };
    let image = image::RgbImage::from_raw(width, height, rgb).ok_or(FaceError::Decode("PNG: size mismatch".into()))?;
    Ok((image::DynamicImage::ImageRgb8(image), orientation))
}

/// Pixel layouts of raw camera buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// Packed R, G, B (3 bytes per pixel).
    Rgb888,
    /// Packed R, G, B, A (Android `Bitmap.Config.ARGB_8888` memory order).
    Rgba8888,
    /// Packed B, G, R, A (iOS `kCVPixelFormatType_32BGRA`).
    Bgra8888,
    /// Y plane, then interleaved V/U at half resolution (Android camera default).
    Nv21,
    /// Y plane, then interleaved U/V at half resolution (iOS 420 bi-planar).
    Nv12,
    /// Y plane, then U plane, then V plane at half resolution; chroma rows are
    /// `(row_stride + 1) / 2` bytes.
    I420,
}

/// Clockwise rotation that makes a camera buffer upright.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rotation {
    R0,
    R90,
    R180,
    R270,
}

impl Rotation {
    pub fn from_degrees(degrees: u32) -> Result<Rotation> {
        match degrees {
            0 => Ok(Rotation::R0),
            90 => Ok(Rotation::R90),
            180 => Ok(Rotation::R180),
            270 => Ok(Rotation::R270),
            other => Err(FaceError::Rotation(other)),
        }
    }

    /// Clockwise degrees: 0, 90, 180 or 270.
    pub fn degrees(self) -> u32 {
        match self {
            Rotation::R0 => 0,
            Rotation::R90 => 90,
            Rotation::R180 => 180,
            Rotation::R270 => 270,
        }
    }
}

/// A raw camera buffer as phones deliver it.
#[derive(Debug, Clone, Copy)]
pub struct CameraBuffer<'a> {
    pub data: &'a [u8],
    pub width: u32,
    pub height: u32,
    /// Bytes per row of the first (or only) plane, padding included.
    pub row_stride: u32,
    pub format: PixelFormat,
    pub rotation: Rotation,
}

/// One plane of a buffer: where it starts, its row pitch, rows and used bytes per row.
struct Plane {
    offset: usize,
    stride: usize,
    rows: usize,
    row_bytes: usize,
}

impl CameraBuffer<'_> {
    /// The planes of this layout, in memory order. Every size is computed
    /// with checked arithmetic: on a 32-bit phone a stated stride times height
    /// can exceed `usize`, which must be an error, never a wrapped length.
    fn planes(&self) -> Result<Vec<Plane>> {
        let (w, h, stride) = (self.width as usize, self.height as usize, self.row_stride as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let overflow = || FaceError::BufferGeometry("buffer size overflows the address space");
        let mul = |a: usize, b: usize| a.checked_mul(b).ok_or_else(overflow);
        let bpp = match self.format {
            PixelFormat::Rgb888 => 3,
            PixelFormat::Rgba8888 | PixelFormat::Bgra8888 => 4,
            PixelFormat::Nv21 | PixelFormat::Nv12 | PixelFormat::I420 => 1,
        };
        let row_bytes = mul(w, bpp)?;
        if stride < row_bytes {
            return Err(FaceError::BufferGeometry("row stride is smaller than one row of pixels"));
        }
        let luma_bytes = mul(stride, h)?;
        let luma = Plane { offset: 0, stride, rows: h, row_bytes };
        let planes = match self.format {
            PixelFormat::Rgb888 | PixelFormat::Rgba8888 | PixelFormat::Bgra8888 => vec![luma],
            PixelFormat::Nv21 | PixelFormat::Nv12 => {
                let chroma = Plane { offset: luma_bytes, stride, rows: ch, row_bytes: mul(cw, 2)? };
                vec![luma, chroma]
            }
            PixelFormat::I420 => {
                let cstride = stride.div_ceil(2);
                let v_offset = luma_bytes.checked_add(mul(cstride, ch)?).ok_or_else(overflow)?;
                let u = Plane { offset: luma_bytes, stride: cstride, rows: ch, row_bytes: cw };
                let v = Plane { offset: v_offset, stride: cstride, rows: ch, row_bytes: cw };
                vec![luma, u, v]
            }
        };
        // The end of the last plane (checked once here; to_frame adds no more).
        let last = planes.last().expect("every layout has a plane");
        mul(last.stride, last.rows)?.checked_add(last.offset).ok_or_else(overflow)?;
        Ok(planes)
    }

    /// Converts to an upright RGB [`Frame`], checking the buffer length against the
    /// stated size and stride. The last row of the last plane may omit its padding
    /// (Android does this); anything shorter, or longer than the padded size, is an error.
    pub fn to_frame(&self, limits: &Limits) -> Result<Frame> {
        if self.width == 0 || self.height == 0 {
            return Err(FaceError::BufferGeometry("width and height must be non-zero"));
        }
        if self.data.is_empty() {
            return Err(FaceError::EmptyInput);
        }
        limits.check(self.width, self.height)?;
        let planes = self.planes()?;
        let last = planes.last().expect("every layout has a plane");
        let max = last.offset + last.stride * last.rows;
        let min = last.offset + last.stride * (last.rows - 1) + last.row_bytes;
        if self.data.len() < min || self.data.len() > max {
            return Err(FaceError::BufferLength {
                format: self.format,
                width: self.width,
                height: self.height,
                row_stride: self.row_stride,
                actual: self.data.len(),
                min,
                max,
            });
        }
        let (w, h) = (self.width as usize, self.height as usize);
        let mut rgb = vec![0u8; w * h * 3];
        let d = self.data;
        let stride = planes[0].stride;
        match self.format {
            PixelFormat::Rgb888 | PixelFormat::Rgba8888 | PixelFormat::Bgra8888 => {
                let (bpp, order) = match self.format {
                    PixelFormat::Rgb888 => (3, [0, 1, 2]),
                    PixelFormat::Rgba8888 => (4, [0, 1, 2]),
                    _ => (4, [2, 1, 0]),
                };
                for y in 0..h {
                    let row = &d[y * stride..y * stride + w * bpp];
                    for (x, px) in row.chunks_exact(bpp).enumerate() {
                        let o = (y * w + x) * 3;
                        rgb[o] = px[order[0]];
                        rgb[o + 1] = px[order[1]];
                        rgb[o + 2] = px[order[2]];
                    }
                }
            }
            PixelFormat::Nv21 | PixelFormat::Nv12 | PixelFormat::I420 => {
                // Full-range BT.601 (JFIF), which both Android and iOS cameras
                // use for "full range" YUV; other ranges and matrices: YuvPlanes.
                let colour = YuvToRgb::new(YuvRange::Full, YuvMatrix::Bt601);
                for y in 0..h {
                    for x in 0..w {
                        let luma = d[y * stride + x];
                        let (cx, cy) = (x / 2, y / 2);
                        let (u, v) = match self.format {
                            PixelFormat::Nv21 => {
                                let p = &planes[1];
                                let i = p.offset + cy * p.stride + cx * 2;
                                (d[i + 1], d[i])
                            }
                            PixelFormat::Nv12 => {
                                let p = &planes[1];
                                let i = p.offset + cy * p.stride + cx * 2;
                                (d[i], d[i + 1])
                            }
                            _ => {
                                let (pu, pv) = (&planes[1], &planes[2]);
                                (d[pu.offset + cy * pu.stride + cx], d[pv.offset + cy * pv.stride + cx])
                            }
                        };
                        let o = (y * w + x) * 3;
                        rgb[o..o + 3].copy_from_slice(&colour.convert(luma, u, v));
                    }
                }
            }
        }
        Ok(Frame { width: self.width, height: self.height, rgb }.rotated(self.rotation))
    }
}

/// How the luma and chroma codes map to light: full range (0-255, JPEG's,
/// Android's `YUV_420_888` and iOS `...FullRange`) or limited "video" range
/// (luma 16-235, chroma 16-240: iOS `...VideoRange`, many video decoders).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum YuvRange {
    Full,
    Limited,
}

/// The YCbCr matrix: BT.601 (SD, JPEG; Android cameras) or BT.709 (HD video;
/// iOS cameras' default at 720p and above).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum YuvMatrix {
    Bt601,
    Bt709,
}

/// YCbCr to RGB in 16.16 fixed point, for one range and matrix.
#[derive(Debug, Clone, Copy)]
struct YuvToRgb {
    y_offset: i32,
    y_gain: i32,
    r_v: i32,
    g_u: i32,
    g_v: i32,
    b_u: i32,
}

impl YuvToRgb {
    fn new(range: YuvRange, matrix: YuvMatrix) -> YuvToRgb {
        // Kr and Kb of the matrix (ITU-R BT.601 / BT.709).
        let (kr, kb) = match matrix {
            YuvMatrix::Bt601 => (0.299f64, 0.114f64),
            YuvMatrix::Bt709 => (0.2126, 0.0722),
        };
        let kg = 1.0 - kr - kb;
        // Limited range: luma 16..235 and chroma 16..240 stretched to full scale.
        let (y_offset, y_gain, c_gain) = match range {
            YuvRange::Full => (0, 1.0, 1.0),
            YuvRange::Limited => (16, 255.0 / 219.0, 255.0 / 224.0),
        };
        let fixed = |x: f64| (x * 65536.0).round() as i32;
        YuvToRgb {
            y_offset,
            y_gain: fixed(y_gain),
            r_v: fixed(2.0 * (1.0 - kr) * c_gain),
            g_u: fixed(2.0 * (1.0 - kb) * kb / kg * c_gain),
            g_v: fixed(2.0 * (1.0 - kr) * kr / kg * c_gain),
            b_u: fixed(2.0 * (1.0 - kb) * c_gain),
        }
    }

    #[inline]
    fn convert(&self, y: u8, u: u8, v: u8) -> [u8; 3] {
        let y = (y as i32 - self.y_offset) * self.y_gain;
        let (u, v) = (u as i32 - 128, v as i32 - 128);
        let clamp = |x: i32| ((x + (1 << 15)) >> 16).clamp(0, 255) as u8;
        [clamp(y + self.r_v * v), clamp(y - self.g_u * u - self.g_v * v), clamp(y + self.b_u * u)]
    }
}

/// One plane of a planar camera frame, as Android's `Image.Plane` and iOS's
/// `CVPixelBuffer` planes describe it: its bytes, the bytes from one row to
/// the next, and from one sample to the next within a row.
#[derive(Debug, Clone, Copy)]
pub struct PlaneView<'a> {
    pub data: &'a [u8],
    pub row_stride: u32,
    /// 1 for a plane of its own, 2 for interleaved chroma (Android's
    /// `YUV_420_888` on most devices; iOS bi-planar: pass the CbCr plane as
    /// `u`, and as `v` from its second byte on).
    pub pixel_stride: u32,
}

/// YUV 4:2:0 in three planes, each with its own strides (Android
/// `ImageProxy`/`android.media.Image` `YUV_420_888`, iOS bi-planar
/// `CVPixelBuffer`s), with its range, matrix and rotation.
#[derive(Debug, Clone, Copy)]
pub struct YuvPlanes<'a> {
    pub y: PlaneView<'a>,
    pub u: PlaneView<'a>,
    pub v: PlaneView<'a>,
    pub width: u32,
    pub height: u32,
    pub range: YuvRange,
    pub matrix: YuvMatrix,
    pub rotation: Rotation,
}

/// Which plane a geometry error is about (in messages).
const PLANE_NAMES: [&str; 3] = ["Y", "U", "V"];

impl YuvPlanes<'_> {
    /// Converts to an upright RGB [`Frame`], after checking every plane's
    /// strides and length against the stated size (checked arithmetic).
    pub fn to_frame(&self, limits: &Limits) -> Result<Frame> {
        if self.width == 0 || self.height == 0 {
            return Err(FaceError::BufferGeometry("width and height must be non-zero"));
        }
        limits.check(self.width, self.height)?;
        let (w, h) = (self.width as usize, self.height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        for (i, (plane, cols, rows)) in [(&self.y, w, h), (&self.u, cw, ch), (&self.v, cw, ch)].into_iter().enumerate()
        {
            plane_fits(plane, cols, rows).map_err(|what| FaceError::PlaneGeometry { plane: PLANE_NAMES[i], what })?;
        }
        let colour = YuvToRgb::new(self.range, self.matrix);
        let (y, u, v) = (&self.y, &self.u, &self.v);
        let (ys, yp) = (y.row_stride as usize, y.pixel_stride as usize);
        let (us, up, vs, vp) =
            (u.row_stride as usize, u.pixel_stride as usize, v.row_stride as usize, v.pixel_stride as usize);
        let mut rgb = vec![0u8; w * h * 3];
        for row in 0..h {
            let (y_row, u_row, v_row) = (row * ys, (row / 2) * us, (row / 2) * vs);
            for col in 0..w {
                let luma = y.data[y_row + col * yp];
                let (cu, cv) = (u.data[u_row + (col / 2) * up], v.data[v_row + (col / 2) * vp]);
                let o = (row * w + col) * 3;
                rgb[o..o + 3].copy_from_slice(&colour.convert(luma, cu, cv));
            }
        }
        Ok(Frame { width: self.width, height: self.height, rgb }.rotated(self.rotation))
    }
}

/// Checks that `plane` holds `cols` x `rows` samples: strides in range and
/// the bytes reaching the last sample (the last row may omit its padding, as
/// Android's do), and no more than `rows` full rows.
fn plane_fits(plane: &PlaneView, cols: usize, rows: usize) -> std::result::Result<(), &'static str> {
    let (stride, step) = (plane.row_stride as usize, plane.pixel_stride as usize);
    if !(1..=4).contains(&step) {
        return Err("pixel stride must be 1 to 4");
    }
    let row_span = (cols - 1).checked_mul(step).and_then(|v| v.checked_add(1)).ok_or("row size overflows")?;
    if stride < row_span {
        return Err("row stride is smaller than one row of samples");
    }
    let min = (rows - 1).checked_mul(stride).and_then(|v| v.checked_add(row_span)).ok_or("plane size overflows")?;
    let max = rows.checked_mul(stride).ok_or("plane size overflows")?;
    if plane.data.len() < min {
        return Err("plane is shorter than its rows and strides need");
    }
    if plane.data.len() > max {
        return Err("plane is longer than its rows and strides allow");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb_frame(w: u32, h: u32) -> Frame {
        let rgb = (0..w * h * 3).map(|i| (i % 251) as u8).collect();
        Frame::from_rgb(w, h, rgb).unwrap()
    }

    #[test]
    fn rotations_compose_to_identity() {
        let f = rgb_frame(5, 3);
        let r = f.clone().rotated(Rotation::R90);
        assert_eq!((r.width(), r.height()), (3, 5));
        // The top-left pixel of the original ends up top-right after 90 degrees clockwise.
        assert_eq!(r.pixel(2, 0), f.pixel(0, 0));
        let back = r.rotated(Rotation::R270);
        assert_eq!(back, f);
        assert_eq!(f.clone().rotated(Rotation::R180).rotated(Rotation::R180), f);
    }

    #[test]
    fn bgra_with_stride_matches_rgb() {
        let f = rgb_frame(4, 2);
        let stride = 4 * 4 + 8;
        let mut buf = vec![0xEEu8; stride * 2];
        for y in 0..2 {
            for x in 0..4 {
                let [r, g, b] = f.pixel(x, y);
                let i = y as usize * stride + x as usize * 4;
                buf[i..i + 4].copy_from_slice(&[b, g, r, 255]);
            }
        }
        let cam = CameraBuffer {
            data: &buf,
            width: 4,
            height: 2,
            row_stride: stride as u32,
            format: PixelFormat::Bgra8888,
            rotation: Rotation::R0,
        };
        let limits = Limits { min_side: 1, ..Limits::default() };
        assert_eq!(cam.to_frame(&limits).unwrap(), f);
        // The last row may omit its padding, as Android does.
        let short = &buf[..stride + 16];
        assert_eq!(CameraBuffer { data: short, ..cam }.to_frame(&limits).unwrap(), f);
        // One byte less, or more than the padded size, is refused with the numbers.
        for bad in [&buf[..stride + 15], &[buf.clone(), vec![0]].concat()[..]] {
            match (CameraBuffer { data: bad, ..cam }).to_frame(&limits) {
                Err(FaceError::BufferLength { min, max, .. }) => assert_eq!((min, max), (stride + 16, stride * 2)),
                other => panic!("expected BufferLength, got {other:?}"),
            }
        }
    }

    #[test]
    fn nv21_grey_and_colour() {
        // 2x2 image: one chroma sample. Y=128, V=U=128 is mid grey.
        let buf = [128u8, 128, 128, 128, 128, 128];
        let cam = CameraBuffer {
            data: &buf,
            width: 2,
            height: 2,
            row_stride: 2,
            format: PixelFormat::Nv21,
            rotation: Rotation::R0,
        };
        let limits = Limits { min_side: 1, ..Limits::default() };
        let f = cam.to_frame(&limits).unwrap();
        assert!(f.rgb().iter().all(|&c| c == 128));
        // Pure red in BT.601 full range: Y=76, U=85, V=255 (NV21 stores V first).
        let red = [76u8, 76, 76, 76, 255, 85];
        let f = CameraBuffer { data: &red, ..cam }.to_frame(&limits).unwrap();
        let [r, g, b] = f.pixel(0, 0);
        assert!(r >= 250 && g <= 5 && b <= 5, "{r} {g} {b}");
        // NV12 stores U first: the same bytes swapped give the same red.
        let red12 = [76u8, 76, 76, 76, 85, 255];
        let cam12 = CameraBuffer { data: &red12, format: PixelFormat::Nv12, ..cam };
        assert_eq!(cam12.to_frame(&limits).unwrap(), f);
        // I420: U plane then V plane.
        let red420 = [76u8, 76, 76, 76, 85, 255];
        let cam420 = CameraBuffer { data: &red420, format: PixelFormat::I420, ..cam };
        assert_eq!(cam420.to_frame(&limits).unwrap(), f);
    }

    #[test]
    fn bad_geometry_is_typed() {
        let limits = Limits::default();
        let cam = |w, h, stride, len: usize| CameraBuffer {
            data: Box::leak(vec![0u8; len].into_boxed_slice()),
            width: w,
            height: h,
            row_stride: stride,
            format: PixelFormat::Rgba8888,
            rotation: Rotation::R0,
        };
        assert!(matches!(cam(0, 10, 0, 1).to_frame(&limits), Err(FaceError::BufferGeometry(_))));
        assert!(matches!(cam(64, 64, 100, 64 * 100).to_frame(&limits), Err(FaceError::BufferGeometry(_))));
        assert!(matches!(cam(64, 64, 256, 0).to_frame(&limits), Err(FaceError::EmptyInput)));
        assert!(matches!(cam(50000, 50000, 200000, 16).to_frame(&limits), Err(FaceError::ImageTooLarge { .. })));
        assert!(matches!(cam(1, 1, 4, 4).to_frame(&limits), Err(FaceError::ImageTooSmall { .. })));
        assert!(matches!(Rotation::from_degrees(45), Err(FaceError::Rotation(45))));
        // A stride near u32::MAX: stride x height overflows a 32-bit usize
        // (BufferGeometry there); on 64 bits the length check refuses it.
        for format in [PixelFormat::Rgba8888, PixelFormat::Nv21, PixelFormat::I420] {
            let huge = CameraBuffer { format, ..cam(4096, 4096, u32::MAX - 1, 64) };
            assert!(
                matches!(huge.to_frame(&limits), Err(FaceError::BufferGeometry(_) | FaceError::BufferLength { .. })),
                "{format:?}"
            );
        }
    }

    #[test]
    fn decode_refuses_bad_bytes() {
        let limits = Limits::default();
        assert!(matches!(decode(&[], &limits), Err(FaceError::EmptyInput)));
        assert!(matches!(decode(b"GIF89a....", &limits), Err(FaceError::UnsupportedFormat)));
        assert!(matches!(decode(&[0xFF, 0xD8, 0xFF], &limits), Err(FaceError::Decode(_))));
        let tiny = Limits { max_encoded_bytes: 2, ..limits };
        assert!(matches!(decode(&[0xFF, 0xD8, 0xFF], &tiny), Err(FaceError::EncodedTooLarge { size: 3, max: 2 })));
    }
}
