//! The high-assurance liveness decision (the default for the seller ID check):
//! a session passes only when every layer passes, each with its score and
//! threshold, so that a reviewer and the signed receipt see why.
//!
//! | layer | what it defends against | what it does not |
//! |---|---|---|
//! | colour flash (`flash`) | replayed video and photos on a screen: a recording cannot hold the reflection of a sequence drawn after it was made; a flat screen or print returns the light evenly | a 3-D mask lit by the phone (it reflects like a face); thresholds calibrated on SIMULATED captures only |
//! | actions at random moments (`actions`) | prints and still images (they cannot turn or blink), replays started at a guessed moment (holds and reaction windows) | a live accomplice; an attacker who replays in real time |
//! | passive, session median (`passive`) | prints (0% accepted, leave one person out), many screen replays | on unseen people it accepted 7.3% of replay sessions leave one person out: not a replay defence on its own |
//! | same face (`same_face`) | swapping people between the challenge and the flash | twins |
//!
//! Injected video (a virtual camera or a hooked camera API feeding frames
//! rendered with the right reflections) is not covered by any on-device
//! challenge: it needs platform attestation of the capture path.

use crate::liveness::{ChallengeRun, FlashRun};
use trustshot_evidence::Verdict;
use trustshot_face::operating_point;
use trustshot_identity::{AssuranceLayer, SessionState};

/// One layer's outcome: its score against its threshold (None when the
/// layer could not be measured, which fails it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Check {
    pub layer: AssuranceLayer,
    pub passed: bool,
    pub score: Option<f32>,
    pub threshold: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assurance {
    pub passed: bool,
    pub checks: Vec<Check>,
}

/// Judges a finished challenge run and colour-flash run of one capture.
/// `same_face_fmr` is a calibrated operating point (the challenge's).
pub fn judge(challenge: &ChallengeRun, flash: &FlashRun, same_face_fmr: f64) -> Assurance {
    let flash_check = match flash.verdict() {
        Ok(v) => Check {
            layer: AssuranceLayer::Flash,
            passed: v.passed,
            score: Some(v.correlation),
            threshold: v.config.min_correlation,
        },
        Err(_) => Check { layer: AssuranceLayer::Flash, passed: false, score: None, threshold: flash_threshold(flash) },
    };
    let actions = Check {
        layer: AssuranceLayer::Actions,
        passed: challenge.state() == SessionState::Passed,
        score: Some(if challenge.state() == SessionState::Passed { 1.0 } else { 0.0 }),
        threshold: 1.0,
    };
    let passive = match challenge.passive() {
        Some(p) => {
            Check { layer: AssuranceLayer::Passive, passed: p.live, score: Some(p.score), threshold: p.threshold }
        }
        None => Check {
            layer: AssuranceLayer::Passive,
            passed: false,
            score: None,
            threshold: trustshot_identity::passive::FUSION.threshold,
        },
    };
    let same_threshold = operating_point(same_face_fmr).map_or(1.0, |p| p.threshold);
    let same = challenge.baseline_embedding().zip(flash.embedding()).map(|(a, b)| a.cosine(b));
    let same_face = Check {
        layer: AssuranceLayer::SameFace,
        passed: same.is_some_and(|s| s >= same_threshold),
        score: same,
        threshold: same_threshold,
    };
    let checks = vec![flash_check, actions, passive, same_face];
    Assurance { passed: checks.iter().all(|c| c.passed), checks }
}

fn flash_threshold(flash: &FlashRun) -> f32 {
    flash.config().min_correlation
}

impl Assurance {
    /// The decision as a receipt records it: `passed` / `failed`, every
    /// layer's score and threshold, and the failed layers as reasons.
    pub fn verdict(&self) -> Verdict {
        let mut v = Verdict {
            decision: if self.passed { "passed" } else { "failed" }.into(),
            scores: Default::default(),
            thresholds: Default::default(),
            reasons: Vec::new(),
        };
        for c in &self.checks {
            if let Some(s) = c.score {
                v.scores.insert(c.layer.as_str().into(), f64::from(s));
            }
            v.thresholds.insert(c.layer.as_str().into(), f64::from(c.threshold));
            if !c.passed {
                v.reasons.push(format!("{}_failed", c.layer.as_str()));
            }
        }
        v
    }
}
