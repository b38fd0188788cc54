//! Alignment: a similarity transform takes the five detected landmarks onto
//! the embedder's canonical template, and the face is resampled (bilinear) into
//! a 112x112 crop — the ArcFace convention SFace was trained with.

use crate::detect::Face;
use crate::geometry::{similarity, warp_affine, Affine, Point};
use crate::Frame;

/// Side of the aligned crop.
pub const ALIGNED_SIZE: u32 = 112;

/// Where the five landmarks land in the 112x112 crop (InsightFace / OpenCV
/// `FaceRecognizerSF::alignCrop`), in YuNet's landmark order.
pub(crate) const ARCFACE_TEMPLATE: [Point; 5] = [
    Point::new(38.2946, 51.6963),
    Point::new(73.5318, 51.5014),
    Point::new(56.0252, 71.7366),
    Point::new(41.5493, 92.3655),
    Point::new(70.7299, 92.2041),
];

/// An aligned face crop and the transform that made it (frame -> crop).
#[derive(Debug, Clone)]
pub struct AlignedFace {
    pub crop: Frame,
    pub transform: Affine,
}

/// Aligns `face`; `None` when its landmarks are degenerate (all in one point).
pub fn align(frame: &Frame, face: &Face) -> Option<AlignedFace> {
    let transform = similarity(&face.landmarks, &ARCFACE_TEMPLATE)?;
    let crop = warp_affine(frame, &transform, ALIGNED_SIZE, ALIGNED_SIZE);
    Some(AlignedFace { crop, transform })
}
