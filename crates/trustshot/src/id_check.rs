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
    pub fn verify_id(&self, document: &Frame, selfie: &Frame) -> Result<IdCheck, FaceError> {
        let analysis = self.analyze(selfie)?;
        let verdict = trustshot_identity::verify_id(
            self.engine(),
            self.liveness(),
            &self.config().document,
            document,
            selfie,
            &analysis,
        )?;
        Ok(IdCheck { verdict, selfie: analysis })
    }
}
