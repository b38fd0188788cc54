//! "Was the parcel delivered here?": the proof-of-delivery photo goes
//! through the privacy steps, then is sealed with its manifest, signed by the
//! device key and encrypted to the operator (`trustshot_evidence`).
//!
//! The delivery policy is checked first: a refused photo is never decoded.
//! The photo is then decoded (EXIF orientation applied) and re-encoded as a
//! fresh JPEG, which leaves EXIF, GPS and maker notes behind; faces the
//! detector finds (bystanders at the door) are pixelated unless the caller
//! keeps them; the location is rounded to the requested grid
//! (`Location::rounded`), and refused for a confidential address.

use crate::face::{FaceEngine, FaceError, Frame};
use crate::sdk::{Image, Sdk};
use trustshot_evidence::{
    EvidenceError, Kind, Location, Manifest, ModelRef, PhotoData, PhotoInput, Policy, PublicKey, SealSummary, Signer,
    Verdict,
};

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Photo(#[from] FaceError),
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
    #[error("could not re-encode the photo: {0}")]
    Encode(String),
}

/// What a package says: the manifest fields the caller decides.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceRequest {
    pub kind: Kind,
    /// Delivery id, or the verified subject's id (opaque to the SDK).
    pub subject_id: String,
    /// Capture time, Unix seconds.
    pub captured_at: i64,
    pub location: Option<GeoPoint>,
    /// The operator deletes the evidence this many days after capture (1 to 36500).
    pub retention_days: u32,
    pub verdict: Option<Verdict>,
}

/// The decision a receipt records (`Verdict::decision` holds `as_str`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictDecision {
    Match,
    NoMatch,
    Rejected,
    Approve,
    Reject,
    ManualReview,
    Passed,
    Failed,
}

impl VerdictDecision {
    pub fn as_str(&self) -> &'static str {
        match self {
            VerdictDecision::Match => "match",
            VerdictDecision::NoMatch => "no_match",
            VerdictDecision::Rejected => "rejected",
            VerdictDecision::Approve => "approve",
            VerdictDecision::Reject => "reject",
            VerdictDecision::ManualReview => "manual_review",
            VerdictDecision::Passed => "passed",
            VerdictDecision::Failed => "failed",
        }
    }
}

/// Where the photo was taken, before rounding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
    /// Rounded to a grid of this many metres before sealing.
    pub precision_m: u32,
}

impl EvidenceRequest {
    /// The manifest, with the expiry computed (checked, no wrap) and the
    /// location rounded; `models` name the networks behind the verdicts.
    pub fn manifest(&self, models: Vec<ModelRef>) -> Result<Manifest, EvidenceError> {
        let mut m = Manifest::new(self.kind, self.subject_id.clone(), self.captured_at);
        m.expires_at = Some(trustshot_evidence::manifest::expiry(self.captured_at, self.retention_days)?);
        if let Some(g) = self.location {
            m.location = Some(Location::rounded(g.latitude, g.longitude, g.precision_m)?);
        }
        m.verdict = self.verdict.clone();
        m.models = models;
        Ok(m)
    }
}

/// What happens to faces in a delivery photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaceRedaction {
    /// Pixelate every face the detector finds (bystanders at the door).
    #[default]
    Pixelate,
    /// Keep the photo's faces as they are (the operator's own policy allows it).
    Keep,
}

/// How to seal a delivery photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SealOptions {
    pub faces: FaceRedaction,
    /// What the customer and the address allow.
    pub policy: Policy,
}

impl Sdk {
    /// Seals a proof-of-delivery photo: policy first, then the privacy steps,
    /// then the package, written to `out`. The manifest names the loaded models.
    pub fn seal_delivery(
        &self,
        request: &EvidenceRequest,
        photo: &Image,
        options: SealOptions,
        recipients: &[PublicKey],
        signer: &dyn Signer,
        out: &mut dyn std::io::Write,
    ) -> Result<SealSummary, DeliveryError> {
        // The evidence crate enforces the whole policy when sealing; asking
        // here too means a refused photo is never even decoded.
        options.policy.check_photo()?;
        let manifest = request.manifest(self.model_refs())?;
        let frame = self.frame(photo)?;
        let jpeg = self.prepare_photo(frame, options.faces)?;
        let input = PhotoInput { media_type: "image/jpeg".into(), data: PhotoData::Bytes(&jpeg) };
        Ok(trustshot_evidence::seal(manifest, Some(input), options.policy, recipients, signer, out)?)
    }

    /// The photo as it is sealed: faces pixelated (unless kept) and
    /// re-encoded without metadata.
    pub fn prepare_photo(&self, frame: Frame, faces: FaceRedaction) -> Result<Vec<u8>, DeliveryError> {
        let jpeg_quality = self.config().delivery.jpeg_quality;
        match faces {
            FaceRedaction::Pixelate => encode_jpeg(&pixelate_faces(frame, self.engine())?.0, jpeg_quality),
            FaceRedaction::Keep => encode_jpeg(&frame, jpeg_quality),
        }
    }

    fn model_refs(&self) -> Vec<ModelRef> {
        self.models().into_iter().map(|m| ModelRef { id: m.id, sha256: m.sha256 }).collect()
    }
}

/// Seals a receipt without a photo (a verification verdict, or a delivery
/// whose policy forbids a photo); needs no model.
pub fn seal_receipt(
    request: &EvidenceRequest,
    policy: Policy,
    recipients: &[PublicKey],
    signer: &dyn Signer,
    out: &mut dyn std::io::Write,
) -> Result<SealSummary, EvidenceError> {
    let manifest = request.manifest(Vec::new())?;
    trustshot_evidence::seal(manifest, None, policy, recipients, signer, out)
}

/// Pixelates each face box (grown by a quarter on every side) into blocks of
/// a fifth of the face width: nothing of the face survives, the scene does.
/// Every box the detector considered is blurred, also those its face check
/// rejected: for privacy a blurred dog costs nothing, a missed bystander does;
/// and a large photo is also searched in tiles at higher resolution, so that
/// small faces far from the door are found (`FaceEngine::face_candidates_everywhere`).
///
/// The frame is changed in place (a 4000x3000 photo is 36 MB: no copy).
pub fn pixelate_faces(frame: Frame, engine: &FaceEngine) -> Result<(Frame, usize), FaceError> {
    let faces = engine.face_candidates_everywhere(&frame)?;
    let (width, height) = (frame.width(), frame.height());
    let (w, h) = (width as i64, height as i64);
    let mut rgb = frame.into_rgb();
    for face in &faces {
        let grown = face.bbox.scaled(1.5);
        let (x0, y0) = ((grown.x.floor() as i64).clamp(0, w), (grown.y.floor() as i64).clamp(0, h));
        let (x1, y1) =
            (((grown.x + grown.w).ceil() as i64).clamp(0, w), ((grown.y + grown.h).ceil() as i64).clamp(0, h));
        let block = ((face.bbox.w / 5.0).round() as i64).max(4);
        for by in (y0..y1).step_by(block as usize) {
            for bx in (x0..x1).step_by(block as usize) {
                let (ex, ey) = ((bx + block).min(x1), (by + block).min(y1));
                let mut sum = [0u64; 3];
                for y in by..ey {
                    for x in bx..ex {
                        let i = ((y * w + x) * 3) as usize;
                        (0..3).for_each(|c| sum[c] += rgb[i + c] as u64);
                    }
                }
                let n = ((ex - bx) * (ey - by)).max(1) as u64;
                for y in by..ey {
                    for x in bx..ex {
                        let i = ((y * w + x) * 3) as usize;
                        (0..3).for_each(|c| rgb[i + c] = (sum[c] / n) as u8);
                    }
                }
            }
        }
    }
    Ok((Frame::from_rgb(width, height, rgb)?, faces.len()))
}

/// Encodes a frame as a JPEG with no metadata segments.
pub fn encode_jpeg(frame: &Frame, quality: u8) -> Result<Vec<u8>, DeliveryError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .encode(frame.rgb(), frame.width(), frame.height(), image::ExtendedColorType::Rgb8)
        .map_err(|e| DeliveryError::Encode(e.to_string()))?;
    Ok(out)
}
