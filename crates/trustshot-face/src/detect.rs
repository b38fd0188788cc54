//! Face detection with YuNet (OpenCV zoo, 2023mar): every face with its box,
//! five landmarks and a score, after non-maximum suppression.
//!
//! YuNet runs on a fixed canvas whose sides are multiples of 32. The frame is
//! scaled (never up, at most down to `max_side`) and placed at the top-left of the
//! smallest canvas from [`YUNET_SPECS`] that holds it; the rest is black, as in
//! OpenCV's `FaceDetectorYN`. Each canvas is its own NNEF plan, because tract
//! cannot serialize YuNet with symbolic height and width (see models/README.md).
//!
//! Portrait canvases run the *transposed* network (`yunet_2023mar_t.onnx`, made
//! by models/build.py: every kernel transposed, the heads transposing back) on
//! the transposed canvas, so that tract always convolves landscape tensors: it
//! walks depthwise convolutions along the longer axis, which is the strided one
//! when a tensor is taller than wide (3-4x slower). The outputs are the
//! original network's, in the original order.
//!
//! Every face YuNet reports then gets a second look ([`crate::face_check`]):
//! boxes that MTCNN's O-Net does not take for a face are dropped by
//! [`Detector::detect`]; [`Detector::candidates`] keeps them, with the
//! probability, for callers that must err the other way (blurring bystanders).

use crate::face_check::{self, FaceCheck};
use crate::geometry::{resize, Point, Rect};
use crate::models::ModelFiles;
use crate::models::{output_vec, tensor_of_planes, Bundle, Channels, Model, ModelInfo, ModelSpec};
use crate::Frame;
use crate::{FaceError, Result};
use std::sync::OnceLock;
use tract_core::prelude::Tensor;

/// One NNEF plan per canvas (named width x height), BGR 0..255: landscape and
/// portrait 16:9 and 4:3 frames, squares, and a small square for crops. Input
/// `[1, 3, height, width]`, or `[1, 3, width, height]` for the transposed plans.
pub const YUNET_SPECS: [ModelSpec; 8] = [
    yunet("yunet_2023mar_256x256.nnef.tar", &[1, 3, 256, 256]),
    yunet("yunet_2023mar_384x384.nnef.tar", &[1, 3, 384, 384]),
    yunet("yunet_2023mar_512x512.nnef.tar", &[1, 3, 512, 512]),
    yunet("yunet_2023mar_640x640.nnef.tar", &[1, 3, 640, 640]),
    yunet("yunet_2023mar_640x480.nnef.tar", &[1, 3, 480, 640]),
    yunet_transposed("yunet_2023mar_480x640.nnef.tar", &[1, 3, 480, 640]),
    yunet("yunet_2023mar_640x384.nnef.tar", &[1, 3, 384, 640]),
    yunet_transposed("yunet_2023mar_384x640.nnef.tar", &[1, 3, 384, 640]),
];

/// The network with height and width swapped (models/build.py `transpose_hw`).
const YUNET_TRANSPOSED_ONNX: &str = "yunet_2023mar_t.onnx";

/// The one archive holding every canvas's graph and YuNet's tensors once
/// (see [`crate::models::Bundle`]).
pub const YUNET_BUNDLE: &str = "yunet_2023mar.nnef.tar";
/// Its pin (`models/yunet.toml`, `[nnef]`).
const YUNET_BUNDLE_SHA256: &str = "c53ace19d16ca4f2152da1751df2bfd46236be10443632351a01e7418d617404";

const fn yunet(nnef: &'static str, input_shape: &'static [usize]) -> ModelSpec {
    ModelSpec {
        id: "yunet-2023mar",
        onnx: "yunet_2023mar.onnx",
        nnef,
        bundle: Some(YUNET_BUNDLE),
        nnef_sha256: YUNET_BUNDLE_SHA256,
        input_shape,
        channels: Channels::Bgr,
    }
}

const fn yunet_transposed(nnef: &'static str, input_shape: &'static [usize]) -> ModelSpec {
    ModelSpec {
        id: "yunet-2023mar",
        onnx: YUNET_TRANSPOSED_ONNX,
        nnef,
        bundle: Some(YUNET_BUNDLE),
        nnef_sha256: YUNET_BUNDLE_SHA256,
        input_shape,
        channels: Channels::Bgr,
    }
}

fn is_transposed(spec: &ModelSpec) -> bool {
    spec.onnx == YUNET_TRANSPOSED_ONNX
}

/// (width, height) of the frame canvas a detector plan takes.
pub fn detector_canvas(spec: &ModelSpec) -> (usize, usize) {
    let shape = spec.input_shape;
    if is_transposed(spec) {
        (shape[2], shape[3])
    } else {
        (shape[3], shape[2])
    }
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
    /// YuNet's sqrt(class * objectness), in 0..1.
    pub score: f32,
    /// O-Net's probability that the box holds a face, in 0..1 (the second look).
    pub face_probability: f32,
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
    /// Faces whose O-Net face probability is below this are dropped.
    pub face_threshold: f32,
    /// Boxes overlapping a better one by more than this IoU are dropped.
    pub nms_iou: f32,
    /// Longest canvas side; larger frames are scaled down to it.
    pub max_side: usize,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            score_threshold: 0.6,
            face_threshold: face_check::DEFAULT_THRESHOLD,
            nms_iou: 0.3,
            max_side: 640,
        }
    }
}

pub(crate) struct Detector {
    config: DetectorConfig,
    /// Every canvas's graph and YuNet's tensors, read (and checked against
    /// its pin) at load: 0.6 MB.
    bundle: Bundle,
    /// One plan per canvas of [`YUNET_SPECS`], built when a frame first needs
    /// it: a selfie app uses one or two of the eight, and building all eight
    /// was most of the engine's start-up (issue 14).
    plans: [OnceLock<Model>; YUNET_SPECS.len()],
    check: FaceCheck,
}

impl Detector {
    /// Loads the face check and the YuNet bundle from `dir`; each canvas
    /// plan is built from the bundle on first use.
    pub(crate) fn load(files: &ModelFiles, config: DetectorConfig) -> Result<Detector> {
        let unit = 0.0..=1.0;
        if ![config.score_threshold, config.face_threshold, config.nms_iou].iter().all(|v| unit.contains(v)) {
            return Err(FaceError::Config("detector thresholds must lie in 0..1".into()));
        }
        if !(32..=640).contains(&config.max_side) {
            return Err(FaceError::Config("detector max_side must lie in 32..640".into()));
        }
        let bundle = Bundle::load(files, &YUNET_SPECS[0], YUNET_BUNDLE)?;
        let check = FaceCheck::load(files)?;
        Ok(Detector { config, bundle, plans: Default::default(), check })
    }

    /// Canvas plan `i`, built on first use (two threads may both build it; one is kept).
    fn plan(&self, i: usize) -> Result<&Model> {
        if let Some(model) = self.plans[i].get() {
            return Ok(model);
        }
        let built = self.bundle.model(&YUNET_SPECS[i])?;
        Ok(self.plans[i].get_or_init(|| built))
    }

    /// The detector's models: YuNet (the bundle of every canvas plan, whose
    /// digest the load checked) and the face check.
    pub(crate) fn info(&self) -> Vec<ModelInfo> {
        let spec = &YUNET_SPECS[0];
        let yunet = ModelInfo { id: spec.id.into(), file: YUNET_BUNDLE.into(), sha256: spec.nnef_sha256.into() };
        vec![yunet, self.check.info()]
    }

    /// The plan for a `width` x `height` frame and the size the frame is scaled to.
    fn plan_for(&self, width: u32, height: u32) -> Result<(&Model, u32, u32)> {
        let scale = (self.config.max_side as f32 / width.max(height) as f32).min(1.0);
        let fit = |side: u32| ((side as f32 * scale).round() as u32).clamp(1, self.config.max_side as u32);
        let (rw, rh) = (fit(width), fit(height));
        let index = (0..YUNET_SPECS.len())
            .filter(|&i| {
                detector_canvas(&YUNET_SPECS[i]).0 >= rw as usize && detector_canvas(&YUNET_SPECS[i]).1 >= rh as usize
            })
            .min_by_key(|&i| detector_canvas(&YUNET_SPECS[i]).0 * detector_canvas(&YUNET_SPECS[i]).1)
            .expect("max_side <= 640: the 640x640 canvas holds every scaled frame");
        Ok((self.plan(index)?, rw, rh))
    }

    /// Every face in `frame` that passed the second look, best first.
    pub(crate) fn detect(&self, frame: &Frame) -> Result<Vec<Face>> {
        let mut faces = self.candidates(frame)?;
        faces.retain(|f| f.face_probability >= self.config.face_threshold);
        Ok(faces)
    }

    /// Every box YuNet takes for a face, best first, each with its face
    /// probability but none dropped for it.
    pub(crate) fn candidates(&self, frame: &Frame) -> Result<Vec<Face>> {
        let mut faces = self.yunet(frame)?;
        for face in &mut faces {
            face.face_probability = self.check.probability(frame, &face.bbox)?;
        }
        Ok(faces)
    }

    /// Every candidate of [`Detector::candidates`], plus those a search in
    /// tiles finds: the frame (scaled down to at most [`TILE_SEARCH_SIDE`] px
    /// on its long side, never up) is cut into overlapping canvas-sized tiles,
    /// each detected at its own resolution, so small faces that the
    /// whole-frame pass shrinks below YuNet's smallest anchor are found. For
    /// pixelating bystanders, where a missed face costs more than time.
    pub(crate) fn candidates_everywhere(&self, frame: &Frame) -> Result<Vec<Face>> {
        let mut faces = self.yunet(frame)?;
        let long = frame.width().max(frame.height());
        let tile = self.config.max_side as u32;
        if long > tile {
            let scale = (TILE_SEARCH_SIDE as f32 / long as f32).min(1.0);
            let (w, h) =
                ((frame.width() as f32 * scale).round() as u32, (frame.height() as f32 * scale).round() as u32);
            let scaled = if scale < 1.0 { crate::geometry::resize(frame, w.max(1), h.max(1)) } else { frame.clone() };
            for (x0, y0) in tile_origins(w, h, tile) {
                let part = crate::geometry::crop(&scaled, x0, y0, tile.min(w - x0), tile.min(h - y0))?;
                for mut face in self.yunet(&part)? {
                    let back = |v: f32, origin: u32| (v + origin as f32) / scale;
                    face.bbox = Rect {
                        x: back(face.bbox.x, x0),
                        y: back(face.bbox.y, y0),
                        w: face.bbox.w / scale,
                        h: face.bbox.h / scale,
                    };
                    for p in &mut face.landmarks {
                        *p = Point::new(back(p.x, x0), back(p.y, y0));
                    }
                    faces.push(face);
                }
            }
        }
        let mut faces = nms(faces, self.config.nms_iou);
        for face in &mut faces {
            face.face_probability = self.check.probability(frame, &face.bbox)?;
        }
        Ok(faces)
    }

    /// The faces near `around` (the face of the previous camera frame): only
    /// the square [`TRACK_REGION`] times the box's longer side around its
    /// centre (clipped to the frame) is searched, on the smallest canvas
    /// ([`TRACK_SIDE`]), at the whole frame's scale or, for a large face, at
    /// the scale that fits it there (the face is then still 120 px wide);
    /// faces come back in frame coordinates after the second look. A fraction
    /// of a whole-frame detection: what a camera loop needs between full ones
    /// (see [`crate::track`]).
    pub(crate) fn detect_near(&self, frame: &Frame, around: &Rect) -> Result<Vec<Face>> {
        let c = around.center();
        let half = around.w.max(around.h) * TRACK_REGION / 2.0;
        // The whole frame's scale, or for a large face the first of its
        // powers of 3/4 at which the region fits the smallest canvas even
        // after snapping (below). A few fixed scales: a face whose size
        // changes a little keeps its scale (a still picture stays still).
        let whole = (self.config.max_side as f32 / frame.width().max(frame.height()) as f32).min(1.0);
        let fits = (TRACK_SIDE - 2 * 32) as f32 / (2.0 * half).max(1.0);
        let scale = (0..16).map(|k| whole * 0.75f32.powi(k)).find(|&s| s <= fits).unwrap_or(fits);
        // The region's corners on the grid of YuNet's coarsest stride (32
        // canvas pixels): a face that moves less than a grid step is searched
        // in the very same pixels (a still picture gives exactly still
        // landmarks, for the challenge's still-image rule), and at the whole
        // frame's scale the anchors sit where the whole-frame search puts them.
        let step = (32.0 / scale).round().max(1.0);
        let snap_down = |v: f32, max: u32| (((v / step).floor() * step).max(0.0) as u32).min(max);
        let snap_up = |v: f32, max: u32| (((v / step).ceil() * step).max(0.0) as u32).min(max);
        let (x0, y0) = (snap_down(c.x - half, frame.width()), snap_down(c.y - half, frame.height()));
        let (x1, y1) = (snap_up(c.x + half, frame.width()), snap_up(c.y + half, frame.height()));
        if x1 <= x0 + 16 || y1 <= y0 + 16 {
            return Ok(Vec::new());
        }
        let region = crate::geometry::crop(frame, x0, y0, x1 - x0, y1 - y0)?;
        let region = if scale < 1.0 {
            let (w, h) =
                ((region.width() as f32 * scale).round() as u32, (region.height() as f32 * scale).round() as u32);
            resize(&region, w.max(1), h.max(1))
        } else {
            region
        };
        // The scale actually applied on each axis, back to frame coordinates.
        let (sx, sy) = ((x1 - x0) as f32 / region.width() as f32, (y1 - y0) as f32 / region.height() as f32);
        let mut faces = self.yunet(&region)?;
        for face in &mut faces {
            face.bbox = Rect {
                x: face.bbox.x * sx + x0 as f32,
                y: face.bbox.y * sy + y0 as f32,
                w: face.bbox.w * sx,
                h: face.bbox.h * sy,
            };
            for p in &mut face.landmarks {
                *p = Point::new(p.x * sx + x0 as f32, p.y * sy + y0 as f32);
            }
            face.face_probability = self.check.probability(frame, &face.bbox)?;
        }
        faces.retain(|f| f.face_probability >= self.config.face_threshold);
        Ok(faces)
    }

    /// YuNet's faces after non-maximum suppression (face probability not yet known: 0).
    fn yunet(&self, frame: &Frame) -> Result<Vec<Face>> {
        let (model, rw, rh) = self.plan_for(frame.width(), frame.height())?;
        let (cw, ch) = detector_canvas(model.spec());
        let outputs = model.run(letterbox(frame, rw, rh, model.spec()))?;
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
                if score.is_nan() || score < self.config.score_threshold {
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
                let face = Face { bbox, landmarks, score, face_probability: 0.0 };
                if face_is_finite(&face) {
                    faces.push(face);
                }
            }
        }
        Ok(nms(faces, self.config.nms_iou))
    }
}

/// The region [`Detector::detect_near`] searches: this many times the previous
/// face box's longer side (a stated choice: a margin of 0.3 face widths on
/// every side, where a head moving at a normal pace between two frames 1/15 s
/// apart stays; when the face leaves it, the whole frame is searched).
pub(crate) const TRACK_REGION: f32 = 1.6;

/// The canvas the region is searched on: the smallest (256x256), a sixth of
/// the pixels of the 640x384 canvas a 720p frame gets.
pub(crate) const TRACK_SIDE: u32 = 256;

/// Long side, in pixels, of the frame the tile search runs on (see
/// [`Detector::candidates_everywhere`]): a 4000x3000 photo is searched at
/// 2048x1536 in 12 tiles. The smallest face it finds is measured in
/// crates/trustshot/tests/delivery.rs and stated in models/README.md.
pub(crate) const TILE_SEARCH_SIDE: u32 = 2048;

/// Overlap of neighbouring tiles, in pixels of the searched frame: a face up
/// to this wide lies whole in some tile, and a wider one is found by the
/// whole-frame pass (at 2048 px a 128 px face is 40 px on the 640 canvas).
const TILE_OVERLAP: u32 = 128;

/// Top-left corners of `tile`-sized tiles covering `w` x `h` with [`TILE_OVERLAP`].
fn tile_origins(w: u32, h: u32, tile: u32) -> Vec<(u32, u32)> {
    let starts = |side: u32| -> Vec<u32> {
        if side <= tile {
            return vec![0];
        }
        let step = tile - TILE_OVERLAP;
        let mut v: Vec<u32> = (0..).map(|i| i * step).take_while(|&s| s + tile < side).collect();
        v.push(side - tile);
        v
    };
    let (xs, ys) = (starts(w), starts(h));
    ys.iter().flat_map(|&y| xs.iter().map(move |&x| (x, y))).collect()
}

/// The input of the plan `spec`: `frame` scaled to `rw` x `rh`, placed at the
/// top-left of its black canvas, as a BGR NCHW tensor (of the transposed canvas
/// for a transposed plan).
pub fn letterbox(frame: &Frame, rw: u32, rh: u32, spec: &ModelSpec) -> Tensor {
    let (cw, ch) = detector_canvas(spec);
    let scaled = if (rw, rh) == (frame.width(), frame.height()) { frame.clone() } else { resize(frame, rw, rh) };
    // Straight into the tensor's three planes (no canvas of bytes first).
    let transposed = is_transposed(spec);
    let shape = if transposed { [1, 3, cw, ch] } else { [1, 3, ch, cw] };
    let order = spec.channels.plane_sources();
    tensor_of_planes(shape, |[first, second, third]| {
        for (y, row) in scaled.rgb().chunks_exact(rw as usize * 3).enumerate() {
            for (x, p) in row.chunks_exact(3).enumerate() {
                // Pixel (x, y) of the canvas; of a transposed plan, row x, column y of a canvas `ch` wide.
                let i = if transposed { x * ch + y } else { y * cw + x };
                (first[i], second[i], third[i]) = (p[order[0]] as f32, p[order[1]] as f32, p[order[2]] as f32);
            }
        }
    })
}

fn face_is_finite(f: &Face) -> bool {
    [f.bbox.x, f.bbox.y, f.bbox.w, f.bbox.h, f.score].iter().all(|v| v.is_finite())
        && f.landmarks.iter().all(|p| p.x.is_finite() && p.y.is_finite())
}

/// Greedy non-maximum suppression, best score first.
pub(crate) fn nms(mut faces: Vec<Face>, iou: f32) -> Vec<Face> {
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
        Face {
            bbox: Rect { x, y: 0.0, w: 10.0, h: 10.0 },
            landmarks: [Point::default(); 5],
            score,
            face_probability: 1.0,
        }
    }

    #[test]
    fn tiles_cover_the_frame_with_overlap() {
        assert_eq!(tile_origins(600, 400, 640), vec![(0, 0)]);
        let origins = tile_origins(2048, 1536, 640);
        assert_eq!(origins.len(), 4 * 3);
        for (w, h) in [(2048u32, 1536u32), (1000, 641), (2047, 2048)] {
            let origins = tile_origins(w, h, 640);
            // Every pixel is in a tile, every tile inside the frame, neighbours overlap.
            for (x, y) in [(0, 0), (w - 1, h - 1), (w / 2, h / 3)] {
                assert!(origins.iter().any(|&(x0, y0)| x >= x0 && x < x0 + 640 && y >= y0 && y < y0 + 640));
            }
            assert!(origins.iter().all(|&(x0, y0)| x0 + 640.min(w) <= w && y0 + 640.min(h) <= h));
        }
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

    #[test]
    fn every_plan_convolves_a_landscape_or_square_tensor() {
        for spec in YUNET_SPECS {
            assert!(spec.input_shape[2] <= spec.input_shape[3], "{}", spec.nnef);
            let (w, h) = detector_canvas(&spec);
            assert!(spec.nnef.contains(&format!("_{w}x{h}.")), "{}", spec.nnef);
        }
    }

    #[test]
    fn a_transposed_plan_gets_the_transposed_canvas() {
        // A 2x3 frame (pixel value = 10 y + x) on the 384x640 (portrait) canvas.
        let rgb: Vec<u8> = (0..3u8).flat_map(|y| (0..2u8).flat_map(move |x| [10 * y + x; 3])).collect();
        let frame = Frame::from_rgb(2, 3, rgb).unwrap();
        let spec = YUNET_SPECS.iter().find(|s| s.nnef.contains("384x640")).unwrap();
        let t = letterbox(&frame, 2, 3, spec);
        assert_eq!(t.shape(), &[1, 3, 384, 640]);
        let v = t.to_plain_array_view::<f32>().unwrap();
        // Tensor row = frame column, tensor column = frame row.
        for (y, x) in [(0, 0), (0, 1), (2, 0), (2, 1)] {
            assert_eq!(v[[0, 0, x, y]], (10 * y + x) as f32);
        }
        assert_eq!(v[[0, 0, 0, 3]], 0.0);
    }
}
