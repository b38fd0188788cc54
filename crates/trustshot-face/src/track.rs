//! Following one face through camera frames (challenge and colour-flash
//! sessions run the detector on every frame): between whole-frame
//! detections, a frame is searched only around the face of the previous
//! frame ([`crate::detect::Detector::detect_near`], the smallest canvas).
//!
//! The whole frame is still searched at least every [`FULL_EVERY_MS`], when
//! the last face is older than [`MAX_AGE_MS`], and whenever the search near it
//! finds nothing: a second face stepping into view is seen within half a
//! second, and a lost face is looked for everywhere at once. While a face is
//! followed, its own box and landmarks always come from the search near it,
//! also on the frames where the whole frame is searched for others: the two
//! searches place landmarks a few pixels apart, and a held-up photo must keep
//! exactly still landmarks (the challenge's still-image rule).

use crate::detect::Face;
use crate::engine::FaceEngine;
use crate::geometry::Rect;
use crate::Frame;
use crate::Result;

/// The whole frame is searched at least this often, ms (a stated choice).
pub const FULL_EVERY_MS: u64 = 500;
/// A face seen longer ago than this is not followed, ms.
pub(crate) const MAX_AGE_MS: u64 = 250;

#[derive(Debug, Clone, Copy, Default)]
pub struct Tracker {
    /// The largest face of the last frame and its timestamp.
    last: Option<(Rect, u64)>,
    /// When the whole frame was last searched.
    last_full_ms: Option<u64>,
}

/// How a frame was searched (for benches and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    WholeFrame,
    NearLastFace,
}

impl Tracker {
    /// The faces of `frame`, taken at `now_ms`, and how it was searched.
    pub fn detect(&mut self, engine: &FaceEngine, frame: &Frame, now_ms: u64) -> Result<(Vec<Face>, Search)> {
        let full_due = self.last_full_ms.is_none_or(|t| now_ms < t || now_ms - t >= FULL_EVERY_MS);
        let around = self.last.filter(|&(_, t)| now_ms >= t && now_ms - t <= MAX_AGE_MS).map(|(r, _)| r);
        let near = match around {
            Some(around) => engine.detect_near(frame, &around)?,
            None => Vec::new(),
        };
        let (faces, search) = match (near.is_empty(), full_due) {
            (false, false) => (near, Search::NearLastFace),
            (true, _) => {
                self.last_full_ms = Some(now_ms);
                (engine.detect(frame)?, Search::WholeFrame)
            }
            (false, true) => {
                // The followed face as the search near it found it, and every
                // other face of the whole frame.
                self.last_full_ms = Some(now_ms);
                let main = largest(&near).map(|f| f.bbox);
                let others = engine.detect(frame)?.into_iter().filter(|f| main.is_none_or(|m| f.bbox.iou(&m) < 0.3));
                (near.into_iter().chain(others).collect(), Search::WholeFrame)
            }
        };
        self.last = largest(&faces).map(|f| (f.bbox, now_ms));
        Ok((faces, search))
    }
}

fn largest(faces: &[Face]) -> Option<&Face> {
    faces.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))
}
