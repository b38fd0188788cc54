//! Camera buffers as a buggy app or a hostile caller could describe them:
//! arbitrary sizes, strides, pixel strides, formats, ranges and rotations over
//! arbitrary bytes, through `CameraBuffer::to_frame` and `YuvPlanes::to_frame`.
//! Any panic (an unchecked multiplication, a slice past a plane's end) is a
//! bug; a frame must have the upright size the rotation implies.
//!
//! Input layout (all little-endian), then the pixel bytes:
//! - byte 0: 0..=5 a packed format (RGB888, RGBA8888, BGRA8888, NV21, NV12,
//!   I420), otherwise three planes;
//! - byte 1: bits 0-1 rotation, bit 2 limited range, bit 3 BT.709;
//! - bytes 2-3 width, 4-5 height, 6-7 row stride (the Y plane's for planes);
//! - planes only: bytes 8-9 the U and V row stride, 10 U pixel stride, 11 V
//!   pixel stride, 12-13 Y length, 14-15 U length; then Y, U, V bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustshot_frame::{CameraBuffer, Frame, Limits, PixelFormat, PlaneView, Rotation, YuvMatrix, YuvPlanes, YuvRange};

const FORMATS: [PixelFormat; 6] = [
    PixelFormat::Rgb888,
    PixelFormat::Rgba8888,
    PixelFormat::Bgra8888,
    PixelFormat::Nv21,
    PixelFormat::Nv12,
    PixelFormat::I420,
];

fn u16_at(data: &[u8], at: usize) -> u32 {
    u16::from_le_bytes([data[at], data[at + 1]]) as u32
}

fn check(frame: Frame, width: u32, height: u32, rotation: Rotation) {
    let (w, h) = match rotation {
        Rotation::R90 | Rotation::R270 => (height, width),
        _ => (width, height),
    };
    assert_eq!((frame.width(), frame.height()), (w, h));
    assert_eq!(frame.rgb().len(), w as usize * h as usize * 3);
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 {
        return;
    }
    let rotation = [Rotation::R0, Rotation::R90, Rotation::R180, Rotation::R270][(data[1] & 3) as usize];
    let range = if data[1] & 4 == 0 { YuvRange::Full } else { YuvRange::Limited };
    let matrix = if data[1] & 8 == 0 { YuvMatrix::Bt601 } else { YuvMatrix::Bt709 };
    let (width, height, stride) = (u16_at(data, 2), u16_at(data, 4), u16_at(data, 6));
    let limits = Limits::default();
    if let Some(&format) = FORMATS.get(data[0] as usize) {
        let buffer = CameraBuffer { data: &data[8..], width, height, row_stride: stride, format, rotation };
        if let Ok(frame) = buffer.to_frame(&limits) {
            check(frame, width, height, rotation);
        }
        return;
    }
    let pixels = &data[16..];
    let y_len = (u16_at(data, 12) as usize).min(pixels.len());
    let u_len = (u16_at(data, 14) as usize).min(pixels.len() - y_len);
    let (y, rest) = pixels.split_at(y_len);
    let (u, v) = rest.split_at(u_len);
    let chroma_stride = u16_at(data, 8);
    let planes = YuvPlanes {
        y: PlaneView { data: y, row_stride: stride, pixel_stride: 1 },
        u: PlaneView { data: u, row_stride: chroma_stride, pixel_stride: data[10] as u32 },
        v: PlaneView { data: v, row_stride: chroma_stride, pixel_stride: data[11] as u32 },
        width,
        height,
        range,
        matrix,
        rotation,
    };
    if let Ok(frame) = planes.to_frame(&limits) {
        check(frame, width, height, rotation);
    }
});
