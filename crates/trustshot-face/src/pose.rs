//! Head pose from the five landmarks: a weak-perspective fit of a mean 3D face.
//!
//! The five points of a mean adult face (millimetres; x to the image right,
//! y down, z towards the camera) are fitted to the detected landmarks with a
//! least-squares affine camera; the camera's rows, made orthonormal, give the
//! head rotation. Five points are few, so angles are estimates (a few degrees),
//! but they move the right way and are stable, which is what quality checks and
//! head-turn challenges need.

use crate::detect::Face;
use crate::geometry::Point;

/// Mean 3D positions of the landmarks, in YuNet's order. Across the face:
/// YuNet's mean landmark layout on the 3,443 LFW View 1 training faces,
/// scaled to eyes 63 mm apart (nose tip 35.6 mm and mouth corners 64 mm below
/// the eyes). Depth: nose tip 35 mm, mouth corners 10 mm in front of the eyes
/// (adult averages, rounded). With these, LFW's median |yaw| is 11 degrees and
/// its median pitch -1 degree.
const MEAN_FACE: [[f64; 3]; 5] =
    [[-31.5, 0.0, 0.0], [31.5, 0.0, 0.0], [0.5, 35.6, 35.0], [-26.4, 63.8, 10.0], [27.5, 64.2, 10.0]];

/// Head rotation in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pose {
    /// Positive when the face turns towards the image's right side (for an
    /// unmirrored camera picture, the subject's left).
    pub yaw: f32,
    /// Positive when the face tilts up.
    pub pitch: f32,
    /// Positive when the eye line rotates clockwise in the image.
    pub roll: f32,
}

impl Face {
    /// The head pose estimated from the landmarks; `None` when they are degenerate.
    pub fn pose(&self) -> Option<Pose> {
        estimate_from_points(&self.landmarks)
    }
}

pub(crate) fn estimate_from_points(points: &[Point; 5]) -> Option<Pose> {
    let n = 5.0;
    let mut mean3 = [0.0f64; 3];
    let mut mean2 = [0.0f64; 2];
    for (m, p) in MEAN_FACE.iter().zip(points) {
        for k in 0..3 {
            mean3[k] += m[k] / n;
        }
        mean2[0] += p.x as f64 / n;
        mean2[1] += p.y as f64 / n;
    }
    // Normal equations of x = P X (centred): P = (sum x X^T) (sum X X^T)^-1.
    let mut xx = [[0.0f64; 3]; 3];
    let mut yx = [[0.0f64; 3]; 2];
    for (m, p) in MEAN_FACE.iter().zip(points) {
        let c = [m[0] - mean3[0], m[1] - mean3[1], m[2] - mean3[2]];
        let q = [p.x as f64 - mean2[0], p.y as f64 - mean2[1]];
        for i in 0..3 {
            for j in 0..3 {
                xx[i][j] += c[i] * c[j];
            }
            for r in 0..2 {
                yx[r][i] += q[r] * c[i];
            }
        }
    }
    let inv = invert3(&xx)?;
    let row = |r: usize| -> [f64; 3] { std::array::from_fn(|j| (0..3).map(|k| yx[r][k] * inv[k][j]).sum()) };
    let (a, b) = (row(0), row(1));
    let (na, nb) = (norm(&a), norm(&b));
    if !(na > 1e-9 && nb > 1e-9 && na.is_finite() && nb.is_finite()) {
        return None;
    }
    // Symmetric Gram-Schmidt: rotate both rows by half the error of their angle.
    let (mut r1, mut r2) = (scale(&a, 1.0 / na), scale(&b, 1.0 / nb));
    let d = dot(&r1, &r2);
    let (r1o, r2o) = (sub(&r1, &scale(&r2, d / 2.0)), sub(&r2, &scale(&r1, d / 2.0)));
    r1 = scale(&r1o, 1.0 / norm(&r1o));
    r2 = scale(&r2o, 1.0 / norm(&r2o));
    let deg = |r: f64| r.to_degrees() as f32;
    Some(Pose {
        yaw: deg(r1[2].clamp(-1.0, 1.0).asin()),
        pitch: deg((-r2[2]).clamp(-1.0, 1.0).asin()),
        roll: deg(r1[1].atan2(r1[0])),
    })
}

fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn norm(a: &[f64; 3]) -> f64 {
    dot(a, a).sqrt()
}

fn scale(a: &[f64; 3], s: f64) -> [f64; 3] {
    [a[0] * s, a[1] * s, a[2] * s]
}

fn sub(a: &[f64; 3], b: &[f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn invert3(m: &[[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let c = |r: usize, k: usize| {
        let (r1, r2) = ((r + 1) % 3, (r + 2) % 3);
        let (k1, k2) = ((k + 1) % 3, (k + 2) % 3);
        m[r1][k1] * m[r2][k2] - m[r1][k2] * m[r2][k1]
    };
    let det = m[0][0] * c(0, 0) + m[0][1] * c(0, 1) + m[0][2] * c(0, 2);
    if det.abs() < 1e-12 {
        return None;
    }
    Some(std::array::from_fn(|i| std::array::from_fn(|j| c(j, i) / det)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Projects the mean face rotated by yaw/pitch (degrees) with scale 2 and an offset.
    fn project(yaw: f64, pitch: f64) -> [Point; 5] {
        let (cy, sy) = (yaw.to_radians().cos(), yaw.to_radians().sin());
        let (cp, sp) = (pitch.to_radians().cos(), pitch.to_radians().sin());
        std::array::from_fn(|i| {
            let [x, y, z] = MEAN_FACE[i];
            // Yaw about the vertical axis, then pitch about the horizontal one.
            let (x1, z1) = (cy * x + sy * z, -sy * x + cy * z);
            let y1 = cp * y - sp * z1;
            Point::new((2.0 * x1 + 100.0) as f32, (2.0 * y1 + 80.0) as f32)
        })
    }

    #[test]
    fn recovers_yaw_and_pitch_of_the_model() {
        let p = estimate_from_points(&project(0.0, 0.0)).unwrap();
        assert!(p.yaw.abs() < 0.5 && p.pitch.abs() < 0.5 && p.roll.abs() < 0.5, "{p:?}");
        for yaw in [-40.0, -20.0, 20.0, 40.0] {
            let p = estimate_from_points(&project(yaw, 0.0)).unwrap();
            assert!((p.yaw as f64 - yaw).abs() < 2.0, "{yaw} -> {p:?}");
        }
        for pitch in [-25.0, 25.0] {
            let p = estimate_from_points(&project(0.0, pitch)).unwrap();
            assert!((p.pitch as f64 - pitch).abs() < 2.0, "{pitch} -> {p:?}");
        }
    }

    #[test]
    fn degenerate_landmarks_give_none() {
        assert!(estimate_from_points(&[Point::new(3.0, 3.0); 5]).is_none());
    }
}
