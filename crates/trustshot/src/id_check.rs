//! "Is this seller the person on the ID?": the selfie analysed and checked
//! for liveness, the portrait found on the document (any orientation) and
//! checked, the two compared, and approve / reject / manual review decided
//! with every score and reason (`trustshot_identity::document`).
//!
//! The high-assurance flow (`verify_id_session`, the default an app should
//! use) takes the selfie from a finished challenge and colour-flash session
//! of the same capture: the session's sharpest frontal frame is compared with
//! the ID, and every layer of `crate::assurance` must pass, else the check is
//! rejected with one `<layer>_failed` reason per failed layer. The selfie's
//! own passive score still gates as in the one-picture flow (a stated
//! choice: the frame compared with the ID must itself look live).

use crate::assurance::Assurance;
use crate::liveness::{ChallengeRun, FlashRun};
use crate::sdk::Sdk;
use trustshot_face::{Analysis, FaceError, Frame};
use trustshot_identity::{IdDecision, IdReason, IdReasonCode, IdVerification};

/// An ID check and the selfie analysis behind it.
#[derive(Debug, Clone)]
pub struct IdCheck {
    pub verdict: IdVerification,
    pub selfie: Analysis,
    /// The high-assurance session's layers (None in the one-picture flow).
    pub assurance: Option<Assurance>,
}

#[derive(Debug, thiserror::Error)]
pub enum IdCheckError {
    #[error(transparent)]
    Face(#[from] FaceError),
    /// The session never saw a sharp frontal face to compare with the ID.
    #[error("the liveness session has no frontal frame to compare with the ID: run a new session")]
    NoSessionSelfie,
}

impl Sdk {
    /// The portrait search on the document (four orientations) and the
    /// selfie's analysis are independent: with two threads configured they
    /// run side by side.
    pub fn verify_id(&self, document: &Frame, selfie: &Frame) -> Result<IdCheck, FaceError> {
        let config = &self.config().document;
        let (analysis, found) = self.join(
            || self.analyze(selfie),
            || trustshot_identity::document::find_portrait(self.engine(), document, config),
        );
        let analysis = analysis?;
        let verdict = trustshot_identity::decide_id(self.engine(), self.liveness(), config, found?, selfie, &analysis)?;
        Ok(IdCheck { verdict, selfie: analysis, assurance: None })
    }

    /// The high-assurance ID check: the selfie is the best frame of the
    /// finished `challenge`, and `challenge` with `flash` (the colour flash of
    /// the same capture) must pass every layer of `crate::assurance::judge`.
    pub fn verify_id_session(
        &self,
        document: &Frame,
        challenge: &ChallengeRun,
        flash: &FlashRun,
    ) -> Result<IdCheck, IdCheckError> {
        let selfie = challenge.best_frame().ok_or(IdCheckError::NoSessionSelfie)?;
        let mut check = self.verify_id(document, selfie)?;
        let assurance = crate::assurance::judge(challenge, flash, self.config().challenge.same_face_fmr);
        let v = &mut check.verdict;
        for c in assurance.checks.iter().filter(|c| !c.passed) {
            let code = IdReasonCode::AssuranceFailed(c.layer);
            v.reasons.push(IdReason { code, measured: c.score.unwrap_or(0.0), threshold: c.threshold });
            v.decision = IdDecision::Reject;
        }
        check.assurance = Some(assurance);
        Ok(check)
    }
}
