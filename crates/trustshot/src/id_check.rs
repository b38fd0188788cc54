//! "Is this seller the person on the ID?": the selfie analysed and checked
//! for liveness, the portrait found on the document (any orientation) and
//! checked, the two compared, and approve / reject / manual review decided
//! with every score and reason (`trustshot_identity::document`).

use crate::sdk::Sdk;
use trustshot_face::{Analysis, FaceError, Frame};
use trustshot_identity::IdVerification;

/// An ID check and the selfie analysis behind it.
#[derive(Debug, Clone)]
pub struct IdCheck {
    pub verdict: IdVerification,
    pub selfie: Analysis,
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
        Ok(IdCheck { verdict, selfie: analysis })
    }
}
