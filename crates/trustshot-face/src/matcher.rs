//! Matching: a cosine score against a threshold chosen by its false-match rate.
//!
//! Thresholds are not magic numbers: each is the score that impostor pairs
//! exceed with the stated frequency, measured by `trustshot eval lfw
//! --calibrate` over every different-person pair of the LFW View 1 training
//! images (see models/README.md for the run and its numbers). Several reference
//! photos of one person are averaged into one template first, so a decision is
//! always one comparison at the stated rate.

use crate::embed::Embedding;

/// A threshold and the false-match rate it was calibrated for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OperatingPoint {
    pub fmr: f64,
    pub threshold: f32,
}

/// SFace 2021dec (RGB crops aligned on YuNet landmarks) on the 3,443 LFW View 1
/// training images: 5,923,194 different-person pairs set the thresholds; on
/// the 2,209 same-person pairs the false non-match rates are 0.6%, 1.1% and
/// 2.3% (models/README.md).
pub const OPERATING_POINTS: [OperatingPoint; 3] = [
    OperatingPoint { fmr: 1e-2, threshold: 0.2903 },
    OperatingPoint { fmr: 1e-3, threshold: 0.3578 },
    OperatingPoint { fmr: 1e-4, threshold: 0.4145 },
];

/// The operating point used unless the caller picks another.
pub const DEFAULT_FMR: f64 = 1e-4;

/// The calibrated operating point for `fmr`, if there is one.
pub fn operating_point(fmr: f64) -> Option<OperatingPoint> {
    OPERATING_POINTS.iter().copied().find(|p| (p.fmr - fmr).abs() <= fmr * 1e-6)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Match,
    NoMatch,
    /// A capture failed the quality gate; no score was computed.
    Rejected,
}

impl Decision {
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::Match => "match",
            Decision::NoMatch => "no_match",
            Decision::Rejected => "rejected",
        }
    }
}

/// One template from several reference embeddings: their normalised mean.
pub(crate) fn template(references: &[Embedding]) -> Option<Embedding> {
    let first = references.first()?;
    let mut sum = vec![0f32; first.values().len()];
    for r in references {
        for (s, v) in sum.iter_mut().zip(r.values()) {
            *s += v;
        }
    }
    Embedding::from_values(sum)
}

/// Match when the score reaches the threshold.
pub(crate) fn decide(score: f32, point: OperatingPoint) -> Decision {
    if score >= point.threshold {
        Decision::Match
    } else {
        Decision::NoMatch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_rise_as_the_false_match_rate_falls() {
        for w in OPERATING_POINTS.windows(2) {
            assert!(w[0].fmr > w[1].fmr && w[0].threshold < w[1].threshold, "{w:?}");
        }
        assert!(OPERATING_POINTS.iter().all(|p| p.threshold.is_finite() && p.threshold > 0.0 && p.threshold < 1.0));
        assert!(operating_point(DEFAULT_FMR).is_some());
        assert!(operating_point(0.05).is_none());
    }

    #[test]
    fn template_is_the_normalised_mean() {
        let a = Embedding::from_values((0..128).map(|i| if i == 0 { 1.0 } else { 0.0 }).collect()).unwrap();
        let b = Embedding::from_values((0..128).map(|i| if i == 1 { 1.0 } else { 0.0 }).collect()).unwrap();
        let t = template(&[a.clone(), b.clone()]).unwrap();
        assert!((t.cosine(&a) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert!(template(&[]).is_none());
        let point = OPERATING_POINTS[1];
        assert_eq!(decide(point.threshold, point), Decision::Match);
        assert_eq!(decide(point.threshold - 1e-4, point), Decision::NoMatch);
    }
}
