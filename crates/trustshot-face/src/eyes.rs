//! Eye openness: how far the lids are apart, from MediaPipe Iris's eye
//! contour, for the blink challenge.
//!
//! YuNet gives one point per eye, which says nothing about the lids. MediaPipe
//! Iris takes a 64x64 crop of one eye and returns 71 contour points; the
//! openness of an eye is the mean distance between the upper and the lower lid
//! (seven point pairs) over the distance between the corners. Open eyes in the
//! developer data measure 0.15-0.35 (it depends on the person and the pose),
//! closed ones 0.03-0.14; models/README.md ("Eye openness") has the numbers.
//! A blink is judged relative to the same face's own open level, never
//! against an absolute value.

use crate::detect::{landmark, Face};
use crate::geometry::{warp_affine, Affine, Point};
use crate::models::ModelFiles;
use crate::models::{Channels, Model, ModelInfo, ModelSpec};
use crate::Frame;
use crate::{FaceError, Result};

/// Input `[1, 3, 64, 64]`, RGB 0..255 (models/build.py `tflite_nchw` put the
/// network's x / 255 into the graph); output 0 `[1, 213]`: 71 points (x, y, z)
/// in crop pixels.
pub const IRIS_SPEC: ModelSpec = ModelSpec {
    id: "mediapipe-iris",
    onnx: "iris.onnx",
    nnef: "iris.nnef.tar",
    bundle: None,
    nnef_sha256: "f46bd530b701cace58c5ad864b6dc1800f92c259a9e2a1b4880e88e4e3f219e6",
    input_shape: &[1, 3, 64, 64],
    channels: Channels::Rgb,
};

/// Side of the eye crop, in interocular distances. MediaPipe crops 2.3 eye
/// widths around the eye corners; an eye is about 0.47 interocular distances
/// wide, so this is the same crop, centred on the eye point YuNet gives.
const CROP_SIDE: f32 = 1.08;

/// Contour points: 0 and 8 are the corners, 1-7 the lower lid between them,
/// 9-15 the upper lid, each above the lower point with the same rank.
const CORNERS: (usize, usize) = (0, 8);
const LOWER_LID: std::ops::Range<usize> = 1..8;
const UPPER_LID: std::ops::Range<usize> = 9..16;

/// Openness of both eyes of one face: lid distance over eye width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EyeOpenness {
    /// The eye on the image's left (the subject's right in an unmirrored picture).
    pub image_left: f32,
    pub image_right: f32,
}

impl EyeOpenness {
    pub fn mean(&self) -> f32 {
        (self.image_left + self.image_right) / 2.0
    }
}

pub(crate) struct EyeModel {
    model: Model,
}

impl EyeModel {
    pub(crate) fn load(files: &ModelFiles) -> Result<EyeModel> {
        Ok(EyeModel { model: Model::load(files, &IRIS_SPEC)? })
    }

    pub(crate) fn info(&self) -> ModelInfo {
        self.model.info()
    }

    /// Openness of both eyes of `face` (found in `frame`).
    pub(crate) fn openness(&self, frame: &Frame, face: &Face) -> Result<EyeOpenness> {
        let [left, right] = eye_crops(frame, face)?;
        Ok(EyeOpenness { image_left: self.one_eye(&left)?, image_right: self.one_eye(&right)? })
    }

    fn one_eye(&self, crop: &Frame) -> Result<f32> {
        let out = self.model.run_one(IRIS_SPEC.input(crop.rgb()), 0)?;
        if out.len() != 213 || out.iter().any(|v| !v.is_finite()) {
            return Err(FaceError::Inference {
                model: IRIS_SPEC.id,
                detail: format!("expected 213 finite values, got {}", out.len()),
            });
        }
        let point = |i: usize| Point::new(out[3 * i], out[3 * i + 1]);
        let width = point(CORNERS.0).distance(point(CORNERS.1));
        if width < 1.0 {
            return Err(FaceError::Inference { model: IRIS_SPEC.id, detail: "eye corners coincide".into() });
        }
        let lids: f32 = UPPER_LID.zip(LOWER_LID).map(|(u, l)| point(u).distance(point(l))).sum();
        Ok(lids / LOWER_LID.len() as f32 / width)
    }
}

/// The network's input crops of both eyes of `face`: the image-left eye as
/// is, the image-right one mirrored (the network was trained on one side).
pub fn eye_crops(frame: &Frame, face: &Face) -> Result<[Frame; 2]> {
    let left = face.landmarks[landmark::EYE_IMAGE_LEFT];
    let right = face.landmarks[landmark::EYE_IMAGE_RIGHT];
    let iod = face.interocular();
    if !(iod.is_finite() && iod >= 1.0) {
        return Err(FaceError::Inference { model: IRIS_SPEC.id, detail: "degenerate eye landmarks".into() });
    }
    let angle = (right.y - left.y).atan2(right.x - left.x);
    let size = IRIS_SPEC.input_shape[3] as f32;
    let crop = |eye, mirror| {
        warp_affine(frame, &eye_crop(eye, angle, CROP_SIDE * iod, size, mirror), size as u32, size as u32)
    };
    Ok([crop(left, false), crop(right, true)])
}

/// The map from frame to crop pixels: `eye` to the crop's centre, the eye
/// line horizontal, `side` frame pixels across `size` crop pixels, mirrored
/// left-right when asked.
fn eye_crop(eye: Point, angle: f32, side: f32, size: f32, mirror: bool) -> Affine {
    let (s, c) = angle.sin_cos();
    let k = size / side;
    let fx = if mirror { -1.0 } else { 1.0 };
    let (a, b) = (fx * c * k, fx * s * k);
    let (cc, d) = (-s * k, c * k);
    let half = size / 2.0;
    Affine { m: [[a, b, half - (a * eye.x + b * eye.y)], [cc, d, half - (cc * eye.x + d * eye.y)]] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crop_centres_the_eye_levels_the_eye_line_and_mirrors() {
        let eye = Point::new(100.0, 50.0);
        let angle = 0.3f32;
        let m = eye_crop(eye, angle, 32.0, 64.0, false);
        let centre = m.apply(eye);
        assert!((centre.x - 32.0).abs() < 1e-4 && (centre.y - 32.0).abs() < 1e-4);
        // A point further along the eye line lands to the right, on the same row, at twice the distance.
        let along = m.apply(Point::new(100.0 + 10.0 * angle.cos(), 50.0 + 10.0 * angle.sin()));
        assert!((along.x - 52.0).abs() < 1e-3 && (along.y - 32.0).abs() < 1e-3);
        let mirrored = eye_crop(eye, angle, 32.0, 64.0, true)
            .apply(Point::new(100.0 + 10.0 * angle.cos(), 50.0 + 10.0 * angle.sin()));
        assert!((mirrored.x - 12.0).abs() < 1e-3 && (mirrored.y - 32.0).abs() < 1e-3);
    }
}
