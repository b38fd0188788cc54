//! "Is this the enrolled driver?": a selfie analysed (detect, second look,
//! align, quality gate, embed) and compared with reference photos or with the
//! templates enrolled in a [`TemplateStore`].

use crate::enroll::{StoreError, Template, TemplateStore};
use crate::sdk::Sdk;
use trustshot_face::TEMPLATE_KIND;
use trustshot_face::{Analysis, Embedding, FaceError, Frame, Reason, Verification};

/// A photo-against-photos verification, with the analyses it was made from.
#[derive(Debug, Clone)]
pub struct PhotoVerification {
    pub verdict: Verification,
    pub probe: Analysis,
    pub references: Vec<Analysis>,
}

/// A probe against the templates enrolled for one person.
#[derive(Debug, Clone)]
pub struct EnrolledVerification {
    pub verdict: Verification,
    pub probe: Analysis,
}

#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Face(#[from] FaceError),
    /// Reference picture `image` failed the capture-quality gate: nothing was enrolled.
    #[error("reference picture {image} failed the capture-quality gate")]
    CaptureRejected { image: usize, reasons: Vec<Reason> },
    #[error("no reference picture given")]
    NoReference,
    #[error("nothing is enrolled for this person")]
    NotEnrolled,
}

impl Sdk {
    /// Faces and capture quality of one picture (and its embedding when the
    /// capture passes the quality gate).
    pub fn analyze(&self, frame: &Frame) -> Result<Analysis, FaceError> {
        self.engine().analyze(frame)
    }

    /// Is the person on `probe` the person on `references` (averaged into one template)?
    pub fn verify_photos(&self, probe: &Frame, references: &[Frame]) -> Result<PhotoVerification, FaceError> {
        let probe = self.analyze(probe)?;
        let references = self.map_parallel(references, |r| self.analyze(r))?;
        let verdict = self.engine().verify(&probe, &references)?;
        Ok(PhotoVerification { verdict, probe, references })
    }

    /// Enrolls `person` from one or more reference pictures; every picture
    /// must pass the capture-quality gate, or nothing is enrolled.
    pub fn enroll(
        &self,
        store: &TemplateStore,
        person: &str,
        references: &[Frame],
    ) -> Result<Vec<Template>, EnrollError> {
        if references.is_empty() {
            return Err(EnrollError::NoReference);
        }
        let analyses = self.map_parallel(references, |r| self.analyze(r))?;
        let mut embeddings = Vec::with_capacity(references.len());
        for (image, analysis) in analyses.into_iter().enumerate() {
            match analysis.embedding {
                Some(e) => embeddings.push(e),
                None => return Err(EnrollError::CaptureRejected { image, reasons: analysis.quality.reasons }),
            }
        }
        let vectors = embeddings.iter().map(|e| e.values().to_vec()).collect();
        Ok(store.enroll(person, TEMPLATE_KIND, vectors)?)
    }

    /// Verifies `probe` against the templates enrolled for `person`.
    pub fn verify_enrolled(
        &self,
        store: &TemplateStore,
        person: &str,
        probe: &Frame,
    ) -> Result<EnrolledVerification, EnrollError> {
        // Same model tag, so the same length; a vector that still does not fit
        // the embedder is refused, not scored.
        let enrolled = store
            .embeddings_of(person, TEMPLATE_KIND)?
            .into_iter()
            .map(|v| Embedding::from_normalized(v.to_vec()))
            .collect::<Option<Vec<_>>>()
            .ok_or(StoreError::NotATemplate)?;
        if enrolled.is_empty() {
            return Err(EnrollError::NotEnrolled);
        }
        let probe = self.analyze(probe)?;
        let verdict = self.engine().verify_enrolled(&probe, &enrolled)?;
        Ok(EnrolledVerification { verdict, probe })
    }
}
