//! Face detection with YuNet (OpenCV zoo, 2023mar): every face with its box,
//! five landmarks and a score, after non-maximum suppression.
//!
//! YuNet runs on a fixed canvas whose sides are multiples of 32. The frame is
//! scaled (never up, at most down to `max_side`) and placed at the top-left of the
//! smallest canvas from [`YUNET_SPECS`] that holds it; the rest is black, as in
//! OpenCV's `FaceDetectorYN`. Each canvas is its own NNEF plan, because tract
//! cannot serialize YuNet with symbolic height and width (see models/README.md).

use crate::error::{FaceError, Result};
use crate::frame::Frame;
use crate::geometry::{resize, Point, Rect};
use crate::models::{bgr_nchw, output_vec, Model, ModelInfo, ModelSpec};
use std::path::Path;
use tract_core::prelude::Tensor;

/// One NNEF plan per canvas, input `[1, 3, height, width]`, BGR 0..255: landscape
/// and portrait 16:9 and 4:3 frames, squares, and a small square for crops.
pub const YUNET_SPECS: [ModelSpec; 8] = [
    yunet("yunet_2023mar_256x256.nnef.tar", &[1, 3, 256, 256]),
    yunet("yunet_2023mar_384x384.nnef.tar", &[1, 3, 384, 384]),
    yunet("yunet_2023mar_512x512.nnef.tar", &[1, 3, 512, 512]),
    yunet("yunet_2023mar_640x640.nnef.tar", &[1, 3, 640, 640]),
    yunet("yunet_2023mar_640x480.nnef.tar", &[1, 3, 480, 640]),
    yunet("yunet_2023mar_480x640.nnef.tar", &[1, 3, 640, 480]),
    yunet("yunet_2023mar_640x384.nnef.tar", &[1, 3, 384, 640]),
    yunet("yunet_2023mar_384x640.nnef.tar", &[1, 3, 640, 384]),
];

const fn yunet(nnef: &'static str, input_shape: &'static [usize]) -> ModelSpec {
    ModelSpec { id: "yunet-2023mar", onnx: "yunet_2023mar.onnx", nnef, input_shape }
}

/// (width, height) of a detector plan.
fn canvas(model: &Model) -> (usize, usize) {
    let shape = model.spec().input_shape;
    (shape[3], shape[2])
}

/// Landmark indices, in YuNet's order. "Left" and "right" are as seen in the
/// image (the subject's right eye is on the image left).
pub mod landmark {
    pub const EYE_IMAGE_LEFT: usize = 0;
    pub const EYE_IMAGE_RIGHT: usize = 1;
    pub const NOSE: usize = 2;
    pub const MOUTH_IMAGE_LEFT: usize = 3;
    pub const MOUTH_IMAGE_RIGHT: usize = 4;
}

/// One detected face, in the coordinates of the frame it was found in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Face {
    pub bbox: Rect,
    pub landmarks: [Point; 5],
    /// sqrt(class * objectness), in 0..1.
    pub score: f32,
}

impl Face {
    pub fn interocular(&self) -> f32 {
        self.landmarks[landmark::EYE_IMAGE_LEFT].distance(self.landmarks[landmark::EYE_IMAGE_RIGHT])
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// Faces scoring below this are dropped.
    pub score_threshold: f32,
    /// Boxes overlapping a better one by more than this IoU are dropped.
    pub nms_iou: f32,
    /// Longest canvas side; larger frames are scaled down to it.
    pub max_side: usize,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig { score_threshold: 0.6, nms_iou: 0.3, max_side: 640 }
    }
}

pub struct Detector {
    config: DetectorConfig,
    models: Vec<Model>,
}

impl Detector {
    /// Loads every canvas plan from `dir`.
    pub fn load(dir: &Path, config: DetectorConfig) -> Result<Detector> {
        if !(0.0..=1.0).contains(&config.score_threshold) || !(0.0..=1.0).contains(&config.nms_iou) {
            return Err(FaceError::Config("detector thresholds must lie in 0..1".into()));
        }
        if !(32..=640).contains(&config.max_side) {
            return Err(FaceError::Config("detector max_side must lie in 32..640".into()));
        }
        let models = YUNET_SPECS.iter().map(|spec| Model::load(dir, spec)).collect::<Result<_>>()?;
        Ok(Detector { config, models })
    }

    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    pub fn info(&self) -> ModelInfo {
        let mut info = self.models[0].info();
        info.file = "yunet_2023mar_*.nnef.tar".into();
        info
    }

    /// The plan for a `width` x `height` frame and the size the frame is scaled to.
    fn plan_for(&self, width: u32, height: u32) -> (&Model, u32, u32) {
        let scale = (self.config.max_side as f32 / width.max(height) as f32).min(1.0);
        let fit = |side: u32| ((side as f32 * scale).round() as u32).clamp(1, self.config.max_side as u32);
        let (rw, rh) = (fit(width), fit(height));
        let model = self
            .models
            .iter()
            .filter(|m| canvas(m).0 >= rw as usize && canvas(m).1 >= rh as usize)
            .min_by_key(|m| canvas(m).0 * canvas(m).1)
            .expect("max_side <= 640: the 640x640 canvas holds every scaled frame");
        (model, rw, rh)
    }

    /// Every face in `frame`, best first.
    pub fn detect(&self, frame: &Frame) -> Result<Vec<Face>> {
        let (model, rw, rh) = self.plan_for(frame.width(), frame.height());
        let (cw, ch) = canvas(model);
        let outputs = model.run(letterbox(frame, rw, rh, cw, ch))?;
        let id = model.spec().id;
        // Back to frame coordinates: the scale actually applied on each axis.
        let (sx, sy) = (frame.width() as f32 / rw as f32, frame.height() as f32 / rh as f32);
        let mut faces = Vec::new();
        for (level, stride) in [8usize, 16, 32].into_iter().enumerate() {
            let cls = output_vec(id, &outputs, level)?;
            let obj = output_vec(id, &outputs, 3 + level)?;
            let bbox = output_vec(id, &outputs, 6 + level)?;
            let kps = output_vec(id, &outputs, 9 + level)?;
            let cols = cw / stride;
            let cells = cols * (ch / stride);
            if cls.len() != cells || obj.len() != cells || bbox.len() != cells * 4 || kps.len() != cells * 10 {
                return Err(FaceError::Inference {
                    model: id,
                    detail: format!("unexpected output sizes at stride {stride}"),
                });
            }
            let s = stride as f32;
            for i in 0..cells {
                let score = (cls[i].clamp(0.0, 1.0) * obj[i].clamp(0.0, 1.0)).sqrt();
                if !(score >= self.config.score_threshold) {
                    continue;
                }
                let (col, row) = ((i % cols) as f32, (i / cols) as f32);
                let b = &bbox[i * 4..i * 4 + 4];
                let (cx, cy) = ((col + b[0]) * s, (row + b[1]) * s);
                let (w, h) = (b[2].exp() * s, b[3].exp() * s);
                let bbox = Rect { x: (cx - w / 2.0) * sx, y: (cy - h / 2.0) * sy, w: w * sx, h: h * sy };
                let k = &kps[i * 10..i * 10 + 10];
                let landmarks =
                    std::array::from_fn(|j| Point::new((k[2 * j] + col) * s * sx, (k[2 * j + 1] + row) * s * sy));
                let face = Face { bbox, landmarks, score };
                if face_is_finite(&face) {
                    faces.push(face);
                }
            }
        }
        Ok(nms(faces, self.config.nms_iou))
    }
}

/// The detector input: `frame` scaled to `rw` x `rh`, placed at the top-left
/// of a black `cw` x `ch` canvas, as a BGR NCHW tensor.
pub fn letterbox(frame: &Frame, rw: u32, rh: u32, cw: usize, ch: usize) -> Tensor {
    let scaled = if (rw, rh) == (frame.width(), frame.height()) { frame.clone() } else { resize(frame, rw, rh) };
    let mut canvas = vec![0u8; cw * ch * 3];
    for y in 0..rh as usize {
        let src = &scaled.rgb()[y * rw as usize * 3..(y + 1) * rw as usize * 3];
        canvas[y * cw * 3..y * cw * 3 + src.len()].copy_from_slice(src);
    }
    bgr_nchw(cw, ch, &canvas)
}

fn face_is_finite(f: &Face) -> bool {
    [f.bbox.x, f.bbox.y, f.bbox.w, f.bbox.h, f.score].iter().all(|v| v.is_finite())
        && f.landmarks.iter().all(|p| p.x.is_finite() && p.y.is_finite())
}

/// Greedy non-maximum suppression, best score first.
pub fn nms(mut faces: Vec<Face>, iou: f32) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::new();
    for f in faces {
        if kept.iter().all(|k| k.bbox.iou(&f.bbox) <= iou) {
            kept.push(f);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32, score: f32) -> Face {
        Face { bbox: Rect { x, y: 0.0, w: 10.0, h: 10.0 }, landmarks: [Point::default(); 5], score }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let kept = nms(vec![face(0.0, 0.7), face(1.0, 0.9), face(50.0, 0.8)], 0.3);
        assert_eq!(kept.iter().map(|f| f.score).collect::<Vec<_>>(), vec![0.9, 0.8]);
    }

    #[test]
    fn canvases_are_multiples_of_32_and_include_640_square() {
        assert!(YUNET_SPECS.iter().all(|s| s.input_shape[2] % 32 == 0 && s.input_shape[3] % 32 == 0));
        assert!(YUNET_SPECS.iter().any(|s| s.input_shape == [1, 3, 640, 640]));
    }
}
