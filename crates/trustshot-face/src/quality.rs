//! The capture-quality gate: reasons a user can act on, each with the measured
//! value and the threshold it broke.
//!
//! Brightness and sharpness are measured on the aligned 112x112 crop (inner
//! face region), so they do not depend on how large the face is in the picture;
//! size, framing and pose are measured on the detection.

use crate::align::{AlignedFace, ALIGNED_SIZE};
use crate::detect::Face;
use crate::geometry::{Affine, Point};
use crate::pose::Pose;
use crate::Frame;

/// Why a capture is refused. The string codes are a public contract (JSON, FFI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReasonCode {
    NoFace,
    SeveralFaces,
    FaceTooSmall,
    TooDark,
    TooBright,
    Blurry,
    HeadTurned,
    HeadTilted,
    FaceCutOff,
}

impl ReasonCode {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReasonCode::NoFace => "no_face",
            ReasonCode::SeveralFaces => "several_faces",
            ReasonCode::FaceTooSmall => "face_too_small",
            ReasonCode::TooDark => "too_dark",
            ReasonCode::TooBright => "too_bright",
            ReasonCode::Blurry => "blurry",
            ReasonCode::HeadTurned => "head_turned",
            ReasonCode::HeadTilted => "head_tilted",
            ReasonCode::FaceCutOff => "face_cut_off",
        }
    }

    /// What the user should do, in plain words.
    pub fn advice(&self) -> &'static str {
        match self {
            ReasonCode::NoFace => "No face was found: face the camera.",
            ReasonCode::SeveralFaces => "More than one face is in the picture: only one person should be in view.",
            ReasonCode::FaceTooSmall => "The face is too small: move closer to the camera.",
            ReasonCode::TooDark => "The picture is too dark: find more light.",
            ReasonCode::TooBright => "The picture is too bright: avoid direct light on the face.",
            ReasonCode::Blurry => "The picture is blurry: hold the phone still and clean the lens.",
            ReasonCode::HeadTurned => "The head is turned: look straight at the camera.",
            ReasonCode::HeadTilted => "The head is tilted up or down: hold the phone at eye level.",
            ReasonCode::FaceCutOff => "The face is cut off by the edge of the picture: centre it.",
        }
    }
}

/// One failed check: the measured value and the limit it crossed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reason {
    pub code: ReasonCode,
    pub measured: f32,
    pub threshold: f32,
}

/// Thresholds of the gate. Defaults and how they were chosen: models/README.md.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityConfig {
    /// Minimum face box width, in pixels of the original picture.
    pub min_face_px: f32,
    /// Minimum and maximum mean luma (0..255) of the inner face.
    pub min_brightness: f32,
    pub max_brightness: f32,
    /// Minimum variance of the Laplacian of the inner face luma.
    pub min_sharpness: f32,
    /// Maximum absolute yaw and pitch, degrees.
    pub max_yaw: f32,
    pub max_pitch: f32,
    /// Maximum fraction of the inner face outside the picture.
    pub max_cut_off: f32,
    /// Another face at least this fraction of the main face's width makes the capture ambiguous.
    pub second_face_ratio: f32,
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig {
            min_face_px: 60.0,
            min_brightness: 45.0,
            max_brightness: 215.0,
            min_sharpness: 40.0,
            max_yaw: 30.0,
            max_pitch: 25.0,
            max_cut_off: 0.10,
            second_face_ratio: 0.5,
        }
    }
}

/// Every measure the gate looked at.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct QualityMeasures {
    pub face_count: usize,
    pub face_width: f32,
    pub brightness: f32,
    pub sharpness: f32,
    pub pose: Pose,
    pub cut_off: f32,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct QualityReport {
    pub measures: QualityMeasures,
    /// Empty when the capture is good.
    pub reasons: Vec<Reason>,
}

impl QualityReport {
    pub fn passed(&self) -> bool {
        self.reasons.is_empty()
    }

    /// The report for a picture with no face.
    pub fn no_face() -> QualityReport {
        QualityReport {
            measures: QualityMeasures::default(),
            reasons: vec![Reason { code: ReasonCode::NoFace, measured: 0.0, threshold: 1.0 }],
        }
    }
}

/// Runs every check on the main face (`faces[main]`) of `frame`, aligned as `aligned`.
pub(crate) fn assess(
    config: &QualityConfig,
    frame: &Frame,
    faces: &[Face],
    main: usize,
    aligned: &AlignedFace,
    pose: Pose,
) -> QualityReport {
    let face = &faces[main];
    let (brightness, sharpness) = luma_stats(&aligned.crop);
    let cut_off = outside_fraction(frame, &aligned.transform);
    let competing = faces
        .iter()
        .filter(|f| f.bbox.w >= config.second_face_ratio * face.bbox.w && f.bbox.w >= config.min_face_px)
        .count();
    let measures =
        QualityMeasures { face_count: competing.max(1), face_width: face.bbox.w, brightness, sharpness, pose, cut_off };
    let mut reasons = Vec::new();
    let mut check = |failed: bool, code, measured, threshold| {
        if failed {
            reasons.push(Reason { code, measured, threshold });
        }
    };
    check(measures.face_count > 1, ReasonCode::SeveralFaces, measures.face_count as f32, 1.0);
    check(face.bbox.w < config.min_face_px, ReasonCode::FaceTooSmall, face.bbox.w, config.min_face_px);
    check(brightness < config.min_brightness, ReasonCode::TooDark, brightness, config.min_brightness);
    check(brightness > config.max_brightness, ReasonCode::TooBright, brightness, config.max_brightness);
    check(sharpness < config.min_sharpness, ReasonCode::Blurry, sharpness, config.min_sharpness);
    check(pose.yaw.abs() > config.max_yaw, ReasonCode::HeadTurned, pose.yaw.abs(), config.max_yaw);
    check(pose.pitch.abs() > config.max_pitch, ReasonCode::HeadTilted, pose.pitch.abs(), config.max_pitch);
    check(cut_off > config.max_cut_off, ReasonCode::FaceCutOff, cut_off, config.max_cut_off);
    QualityReport { measures, reasons }
}

/// Inner face of the aligned crop: between the brows and the chin, cheek to cheek.
const INNER: (u32, u32, u32, u32) = (24, 36, 88, 104);

/// Fraction of the inner face (placed by the landmarks, which the detector
/// predicts even beyond the picture) that lies outside the picture. The
/// detector's box is no measure of this: it shrinks to the visible part.
pub(crate) fn outside_fraction(frame: &Frame, to_crop: &Affine) -> f32 {
    let Some(to_frame) = to_crop.invert() else { return 1.0 };
    let (x0, y0, x1, y1) = INNER;
    let (w, h) = (frame.width() as f32, frame.height() as f32);
    let mut outside = 0usize;
    for y in y0..y1 {
        for x in x0..x1 {
            let p = to_frame.apply(Point::new(x as f32, y as f32));
            if !(p.x >= 0.0 && p.y >= 0.0 && p.x <= w - 1.0 && p.y <= h - 1.0) {
                outside += 1;
            }
        }
    }
    outside as f32 / ((x1 - x0) * (y1 - y0)) as f32
}

/// Mean luma and variance of the Laplacian over the inner face of an aligned crop.
pub fn luma_stats(crop: &Frame) -> (f32, f32) {
    debug_assert_eq!(crop.width(), ALIGNED_SIZE);
    let luma = |x: u32, y: u32| {
        let [r, g, b] = crop.pixel(x, y);
        0.299 * r as f32 + 0.587 * g as f32 + 0.114 * b as f32
    };
    let (x0, y0, x1, y1) = INNER;
    let (mut sum, mut n) = (0.0f64, 0.0f64);
    let (mut lsum, mut lsq) = (0.0f64, 0.0f64);
    for y in y0..y1 {
        for x in x0..x1 {
            let c = luma(x, y);
            sum += c as f64;
            n += 1.0;
            let lap = luma(x - 1, y) + luma(x + 1, y) + luma(x, y - 1) + luma(x, y + 1) - 4.0 * c;
            lsum += lap as f64;
            lsq += (lap as f64).powi(2);
        }
    }
    let mean = sum / n;
    let lmean = lsum / n;
    (mean as f32, (lsq / n - lmean * lmean).max(0.0) as f32)
}
