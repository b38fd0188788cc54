//! Proof of delivery: the privacy steps a photo goes through before it is
//! sealed, and the sealing itself.
//!
//! The photo is decoded (EXIF orientation applied) and re-encoded as a fresh
//! JPEG, which leaves EXIF, GPS and maker notes behind; faces the detector finds
//! (bystanders at the door) can be pixelated first; the location is rounded to
//! a stated precision by `Location::rounded`. The delivery policy is checked
//! before any of it: a refused photo is never decoded.

use crate::face::{FaceEngine, FaceError, Frame};
use trustshot_evidence::{EvidenceError, Manifest, Policy, PublicKey, SealSummary, Signer};

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Photo(#[from] FaceError),
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
    #[error("could not re-encode the photo: {0}")]
    Encode(String),
}

/// What to do to a delivery photo before sealing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoPrivacy {
    /// Pixelate every face the detector finds.
    pub blur_faces: bool,
    /// JPEG quality of the re-encoded photo (1..=100).
    pub jpeg_quality: u8,
}

impl Default for PhotoPrivacy {
    fn default() -> Self {
        PhotoPrivacy { blur_faces: true, jpeg_quality: 90 }
    }
}

/// Pixelates each face box (grown by a quarter on every side) into blocks of
/// a fifth of the face width: nothing of the face survives, the scene does.
/// Every box the detector considered is blurred, also those its face check
/// rejected: for privacy a blurred dog costs nothing, a missed bystander does;
/// and a large photo is also searched in tiles at higher resolution, so that
/// small faces far from the door are found (`FaceEngine::face_candidates_everywhere`).
pub fn pixelate_faces(frame: &Frame, engine: &FaceEngine) -> Result<(Frame, usize), FaceError> {
    let faces = engine.face_candidates_everywhere(frame)?;
    let (w, h) = (frame.width() as i64, frame.height() as i64);
    let mut rgb = frame.rgb().to_vec();
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
    Ok((Frame::from_rgb(frame.width(), frame.height(), rgb)?, faces.len()))
}

/// Encodes a frame as a JPEG with no metadata segments.
pub fn encode_jpeg(frame: &Frame, quality: u8) -> Result<Vec<u8>, DeliveryError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .encode(frame.rgb(), frame.width(), frame.height(), image::ExtendedColorType::Rgb8)
        .map_err(|e| DeliveryError::Encode(e.to_string()))?;
    Ok(out)
}

/// A delivery photo after the privacy steps: fresh JPEG bytes and how many
/// faces were pixelated.
pub struct PreparedPhoto {
    pub jpeg: Vec<u8>,
    pub faces_blurred: usize,
}

/// Decodes, optionally pixelates faces, and re-encodes (metadata dropped).
pub fn prepare_photo(engine: &FaceEngine, bytes: &[u8], privacy: PhotoPrivacy) -> Result<PreparedPhoto, DeliveryError> {
    let frame = engine.decode(bytes)?;
    let (frame, faces_blurred) = if privacy.blur_faces { pixelate_faces(&frame, engine)? } else { (frame, 0) };
    Ok(PreparedPhoto { jpeg: encode_jpeg(&frame, privacy.jpeg_quality)?, faces_blurred })
}

/// Seals a proof of delivery: policy first, then the privacy steps, then the
/// package. With no photo (or a policy that forbids one) pass `photo: None`
/// to seal a receipt.
#[allow(clippy::too_many_arguments)] // each is a separate decision of the caller's
pub fn seal_delivery(
    engine: &FaceEngine,
    manifest: Manifest,
    photo: Option<&[u8]>,
    policy: Policy,
    privacy: PhotoPrivacy,
    recipients: &[PublicKey],
    signer: &dyn Signer,
    out: &mut dyn std::io::Write,
) -> Result<SealSummary, DeliveryError> {
    let prepared = match photo {
        Some(bytes) => {
            policy.check_photo()?;
            Some(prepare_photo(engine, bytes, privacy)?)
        }
        None => None,
    };
    let input = prepared.as_ref().map(|p| trustshot_evidence::PhotoInput {
        media_type: "image/jpeg".into(),
        data: trustshot_evidence::PhotoData::Bytes(&p.jpeg),
    });
    Ok(trustshot_evidence::seal(manifest, input, policy, recipients, signer, out)?)
}
