//! Per-frame guidance for a capture screen: what the person should change so
//! that the next frame is usable (move closer, centre the face, look at the
//! camera, find light). Cheap (no network beyond the detector that already
//! ran): it is meant for every preview frame.
//!
//! Keys are stable (`guidance.<code>`, CHANGELOG.md says how keys may change);
//! apps localise by them and may show the default English text.

use crate::detect::Face;
use crate::Frame;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Guidance {
    NoFace,
    /// More than one face of similar size is in view.
    SeveralFaces,
    TooFar,
    TooClose,
    OffCentre,
    NotFrontal,
    TooDark,
    TooBright,
}

impl Guidance {
    pub fn as_str(&self) -> &'static str {
        match self {
            Guidance::NoFace => "no_face",
            Guidance::SeveralFaces => "several_faces",
            Guidance::TooFar => "too_far",
            Guidance::TooClose => "too_close",
            Guidance::OffCentre => "off_centre",
            Guidance::NotFrontal => "not_frontal",
            Guidance::TooDark => "too_dark",
            Guidance::TooBright => "too_bright",
        }
    }

    /// The stable key a capture screen localises by.
    pub fn key(&self) -> String {
        format!("guidance.{}", self.as_str())
    }

    /// The default English text.
    pub fn text(&self) -> &'static str {
        match self {
            Guidance::NoFace => "Show your face to the camera.",
            Guidance::SeveralFaces => "Only one person should be in view.",
            Guidance::TooFar => "Move closer.",
            Guidance::TooClose => "Move a little further away.",
            Guidance::OffCentre => "Centre your face in the frame.",
            Guidance::NotFrontal => "Look straight at the camera.",
            Guidance::TooDark => "Find more light.",
            Guidance::TooBright => "Avoid direct light on your face.",
        }
    }
}

/// Stated choices for a phone held at arm's length in portrait (not fitted).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GuidanceConfig {
    /// Face box width as a share of the frame's width: below is too far,
    /// above too close.
    pub min_width_share: f32,
    pub max_width_share: f32,
    /// Face centre's distance from the frame centre, as a share of the
    /// frame's width and height.
    pub max_centre_offset: f32,
    /// Largest |yaw| and |pitch| of a frontal face, degrees.
    pub max_angle: f32,
    /// Mean luma (0..255) of the inner face box.
    pub min_brightness: f32,
    pub max_brightness: f32,
    /// A second face at least this share of the main face's width counts.
    pub second_face_ratio: f32,
}

impl Default for GuidanceConfig {
    fn default() -> Self {
        GuidanceConfig {
            min_width_share: 0.25,
            max_width_share: 0.75,
            max_centre_offset: 0.2,
            max_angle: 15.0,
            min_brightness: 45.0,
            max_brightness: 215.0,
            second_face_ratio: 0.5,
        }
    }
}

/// What to tell the person about this frame, most important first (empty
/// when the frame is good). `faces` are the detector's faces in `frame`.
pub fn guidance(frame: &Frame, faces: &[Face], config: &GuidanceConfig) -> Vec<Guidance> {
    let Some(face) = faces.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area())) else {
        return vec![Guidance::NoFace];
    };
    let mut out = Vec::new();
    if faces.iter().filter(|f| f.bbox.w >= config.second_face_ratio * face.bbox.w).count() > 1 {
        out.push(Guidance::SeveralFaces);
    }
    let (w, h) = (frame.width() as f32, frame.height() as f32);
    let share = face.bbox.w / w;
    if share < config.min_width_share {
        out.push(Guidance::TooFar);
    } else if share > config.max_width_share {
        out.push(Guidance::TooClose);
    }
    let c = face.bbox.center();
    if ((c.x - w / 2.0) / w).abs() > config.max_centre_offset || ((c.y - h / 2.0) / h).abs() > config.max_centre_offset
    {
        out.push(Guidance::OffCentre);
    }
    if face.pose().is_none_or(|p| p.yaw.abs() > config.max_angle || p.pitch.abs() > config.max_angle) {
        out.push(Guidance::NotFrontal);
    }
    let luma = inner_luma(frame, face);
    if luma < config.min_brightness {
        out.push(Guidance::TooDark);
    } else if luma > config.max_brightness {
        out.push(Guidance::TooBright);
    }
    out
}

/// Mean luma of the middle half of the face box, on a grid of at most 32 x 32 points.
fn inner_luma(frame: &Frame, face: &Face) -> f32 {
    let b = &face.bbox;
    let clip = |v: f32, max: u32| (v.max(0.0) as u32).min(max.saturating_sub(1));
    let (x0, x1) = (clip(b.x + b.w / 4.0, frame.width()), clip(b.x + 3.0 * b.w / 4.0, frame.width()));
    let (y0, y1) = (clip(b.y + b.h / 4.0, frame.height()), clip(b.y + 3.0 * b.h / 4.0, frame.height()));
    let (sx, sy) = (((x1 - x0) / 32).max(1) as usize, ((y1 - y0) / 32).max(1) as usize);
    let (mut sum, mut n) = (0f32, 0f32);
    for y in (y0..=y1).step_by(sy) {
        for x in (x0..=x1).step_by(sx) {
            let [r, g, b] = frame.pixel(x, y);
            sum += 0.299 * r as f32 + 0.587 * g as f32 + 0.114 * b as f32;
            n += 1.0;
        }
    }
    sum / n.max(1.0)
}
