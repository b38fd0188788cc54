//! Sealed evidence from the app: the device signer (the platform keystore),
//! sealing a proof of delivery or a receipt, opening and inspecting packages,
//! and software keys for tests and platforms without a keystore.

use crate::errors::EvidenceError;
use crate::face::FaceVerifier;
use crate::image::ImageInput;
use std::collections::HashMap;
use std::sync::Arc;
use trustshot::delivery::{self, VerdictDecision};
use trustshot_evidence::{self as ev, Identity, Kind, Policy, PublicKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SignatureFormat {
    /// r || s, 64 bytes.
    Raw,
    /// ASN.1 DER, as Android Keystore and the iOS Secure Enclave return.
    Der,
}

/// The device key, kept by the platform (Android Keystore, Secure Enclave).
/// `sign` is ECDSA P-256 over SHA-256 of `message` (`SHA256withECDSA`;
/// `.ecdsaSignatureMessageX962SHA256`). It may be called from any thread.
#[uniffi::export(with_foreign)]
pub trait DeviceSigner: Send + Sync {
    /// The public key as PEM SubjectPublicKeyInfo (uncompressed point).
    fn public_key_pem(&self) -> Result<String, EvidenceError>;
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, EvidenceError>;
    fn signature_format(&self) -> SignatureFormat;
    /// The key's attestation certificate chain, DER, leaf first (Android:
    /// `KeyStore.getCertificateChain(alias)` of a key made with an attestation
    /// challenge); empty when there is none (iOS: App Attest's slot is
    /// reserved, see docs/evidence-format.md §5). It is signed into the
    /// package for the operator to check.
    fn attestation_chain(&self) -> Result<Vec<Vec<u8>>, EvidenceError>;
}

/// Adapts the app's signer to the evidence crate's `Signer`.
struct ForeignSigner(Arc<dyn DeviceSigner>);

impl ev::Signer for ForeignSigner {
    fn public_key(&self) -> ev::Result<PublicKey> {
        let pem = self.0.public_key_pem().map_err(|e| ev::EvidenceError::Signer(e.to_string()))?;
        PublicKey::from_pem(&pem)
    }

    fn sign(&self, message: &[u8]) -> ev::Result<Vec<u8>> {
        self.0.sign(message.to_vec()).map_err(|e| ev::EvidenceError::Signer(e.to_string()))
    }

    fn signature_format(&self) -> ev::SignatureFormat {
        match self.0.signature_format() {
            SignatureFormat::Raw => ev::SignatureFormat::Raw,
            SignatureFormat::Der => ev::SignatureFormat::Der,
        }
    }

    fn attestation_chain(&self) -> ev::Result<Vec<Vec<u8>>> {
        self.0.attestation_chain().map_err(|e| ev::EvidenceError::Signer(e.to_string()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EvidenceKind {
    ProofOfDelivery,
    IdentityCheck,
    DocumentCheck,
}

#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
    /// The location is rounded to a grid of this many metres before sealing.
    pub precision_m: u32,
}

/// What the customer and the address allow (both off by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Record)]
pub struct DeliveryPolicy {
    /// The customer opted out of delivery photos: a photo is refused.
    #[uniffi(default = false)]
    pub photo_opt_out: bool,
    /// The address is confidential: a photo and a location are refused.
    #[uniffi(default = false)]
    pub confidential_address: bool,
}

impl From<DeliveryPolicy> for Policy {
    fn from(p: DeliveryPolicy) -> Self {
        Policy { photo_opt_out: p.photo_opt_out, confidential_address: p.confidential_address }
    }
}

/// What happens to faces in a delivery photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FaceRedaction {
    /// Pixelate every face the detector finds (bystanders at the door).
    Pixelate,
    /// Keep the photo's faces as they are.
    Keep,
}

/// How to seal a delivery photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct SealOptions {
    pub faces: FaceRedaction,
    pub policy: DeliveryPolicy,
}

/// The decision a receipt records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReceiptDecision {
    Match,
    NoMatch,
    Rejected,
    Approve,
    Reject,
    ManualReview,
    Passed,
    Failed,
}

impl From<ReceiptDecision> for VerdictDecision {
    fn from(d: ReceiptDecision) -> Self {
        match d {
            ReceiptDecision::Match => VerdictDecision::Match,
            ReceiptDecision::NoMatch => VerdictDecision::NoMatch,
            ReceiptDecision::Rejected => VerdictDecision::Rejected,
            ReceiptDecision::Approve => VerdictDecision::Approve,
            ReceiptDecision::Reject => VerdictDecision::Reject,
            ReceiptDecision::ManualReview => VerdictDecision::ManualReview,
            ReceiptDecision::Passed => VerdictDecision::Passed,
            ReceiptDecision::Failed => VerdictDecision::Failed,
        }
    }
}

/// A decision to record in a receipt.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct EvidenceVerdict {
    pub decision: ReceiptDecision,
    pub scores: HashMap<String, f64>,
    pub thresholds: HashMap<String, f64>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct EvidenceRequest {
    pub kind: EvidenceKind,
    /// Delivery id, or the verified subject's id.
    pub subject_id: String,
    pub captured_at_unix: i64,
    pub location: Option<GeoPoint>,
    /// The operator deletes the evidence this many days after capture.
    pub retention_days: u32,
    pub verdict: Option<EvidenceVerdict>,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SealedEvidence {
    pub package: Vec<u8>,
    /// The signed manifest, as the operator will read it.
    pub manifest_json: String,
}

impl From<&EvidenceRequest> for delivery::EvidenceRequest {
    fn from(r: &EvidenceRequest) -> Self {
        delivery::EvidenceRequest {
            kind: match r.kind {
                EvidenceKind::ProofOfDelivery => Kind::ProofOfDelivery,
                EvidenceKind::IdentityCheck => Kind::IdentityCheck,
                EvidenceKind::DocumentCheck => Kind::DocumentCheck,
            },
            subject_id: r.subject_id.clone(),
            captured_at: r.captured_at_unix,
            location: r.location.map(|g| delivery::GeoPoint {
                latitude: g.latitude,
                longitude: g.longitude,
                precision_m: g.precision_m,
            }),
            retention_days: r.retention_days,
            verdict: r.verdict.as_ref().map(|v| ev::Verdict {
                decision: VerdictDecision::from(v.decision).as_str().into(),
                scores: v.scores.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                thresholds: v.thresholds.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                reasons: v.reasons.clone(),
            }),
        }
    }
}

fn recipients(pems: &[String]) -> Result<Vec<PublicKey>, EvidenceError> {
    Ok(pems.iter().map(|p| PublicKey::from_pem(p)).collect::<Result<_, _>>()?)
}

fn sealed(package: Vec<u8>, summary: ev::SealSummary) -> SealedEvidence {
    SealedEvidence { package, manifest_json: summary.manifest.to_json() }
}

#[uniffi::export]
impl FaceVerifier {
    /// Seals a proof of delivery: the policy is checked first, then the photo
    /// is re-encoded without metadata (faces pixelated unless `options.faces`
    /// keeps them), then signed by `signer` and encrypted to every recipient
    /// (PEM public keys). The manifest names the loaded models.
    pub fn seal_delivery(
        &self,
        request: EvidenceRequest,
        photo: ImageInput,
        options: SealOptions,
        recipients_pem: Vec<String>,
        signer: Arc<dyn DeviceSigner>,
    ) -> Result<SealedEvidence, EvidenceError> {
        let options = delivery::SealOptions {
            faces: match options.faces {
                FaceRedaction::Pixelate => delivery::FaceRedaction::Pixelate,
                FaceRedaction::Keep => delivery::FaceRedaction::Keep,
            },
            policy: options.policy.into(),
        };
        let mut package = Vec::new();
        let summary = self.sdk.seal_delivery(
            &(&request).into(),
            &photo.image(),
            options,
            &recipients(&recipients_pem)?,
            &ForeignSigner(signer),
            &mut package,
        )?;
        Ok(sealed(package, summary))
    }
}

/// Seals a receipt without a photo (a verification verdict, or a delivery
/// whose policy forbids a photo).
#[uniffi::export]
pub fn seal_receipt(
    request: EvidenceRequest,
    policy: DeliveryPolicy,
    recipients_pem: Vec<String>,
    signer: Arc<dyn DeviceSigner>,
) -> Result<SealedEvidence, EvidenceError> {
    let mut package = Vec::new();
    let summary = delivery::seal_receipt(
        &(&request).into(),
        policy.into(),
        &recipients(&recipients_pem)?,
        &ForeignSigner(signer),
        &mut package,
    )?;
    Ok(sealed(package, summary))
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct OpenedEvidence {
    pub manifest_json: String,
    pub photo: Option<Vec<u8>>,
    pub media_type: Option<String>,
    pub signer_key_id: String,
    /// The signer's attestation chain as sealed (DER, leaf first; empty if none).
    pub attestation_chain: Vec<Vec<u8>>,
}

/// Verifies and decrypts a package (operator side; on a phone only for tests
/// and support tools). Nothing is returned unless every check passes.
#[uniffi::export]
pub fn open_package(
    package: Vec<u8>,
    recipient_private_key_pem: String,
    signer_public_key_pem: String,
) -> Result<OpenedEvidence, EvidenceError> {
    let identity = Identity::from_pkcs8_pem(&recipient_private_key_pem)?;
    let signer = PublicKey::from_pem(&signer_public_key_pem)?;
    let mut photo = Vec::new();
    let opened = ev::open(&mut package.as_slice(), &identity, &signer, &mut photo)?;
    let media_type = opened.manifest.photo.as_ref().map(|p| p.media_type.clone());
    Ok(OpenedEvidence {
        manifest_json: opened.manifest.to_json(),
        photo: media_type.is_some().then_some(photo),
        media_type,
        signer_key_id: opened.signer_key_id,
        attestation_chain: opened.attestation_chain,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RecipientInfo {
    pub stanza_type: String,
    pub tag: Option<String>,
    /// Key id of the matching known recipient, if any.
    pub key_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PackageInfo {
    pub version: String,
    pub recipients: Vec<RecipientInfo>,
    pub header_bytes: u64,
    pub payload_bytes: u64,
    pub chunks: u64,
}

/// The header of a package, without any key. Stanzas addressed to one of
/// `known_recipients_pem` carry its key id.
#[uniffi::export]
pub fn inspect_package(package: Vec<u8>, known_recipients_pem: Vec<String>) -> Result<PackageInfo, EvidenceError> {
    let info = ev::inspect(&mut package.as_slice(), &recipients(&known_recipients_pem)?)?;
    Ok(PackageInfo {
        version: info.version,
        recipients: info
            .stanzas
            .into_iter()
            .map(|s| RecipientInfo { stanza_type: s.kind, tag: s.tag, key_id: s.key_id })
            .collect(),
        header_bytes: info.header_bytes as u64,
        payload_bytes: info.payload_bytes,
        chunks: info.chunks,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KeyPair {
    pub private_key_pem: String,
    pub public_key_pem: String,
    pub key_id: String,
    pub age_recipient: String,
}

/// A software P-256 key pair (tests, backends, platforms without a keystore).
#[uniffi::export]
pub fn generate_key_pair() -> Result<KeyPair, EvidenceError> {
    let pair = ev::keys::generate()?;
    Ok(KeyPair {
        public_key_pem: pair.public.to_pem(),
        key_id: pair.public.key_id(),
        age_recipient: pair.public.age_recipient(),
        private_key_pem: pair.private_pem,
    })
}

/// Converts a DER ECDSA signature to raw r || s (what COSE carries).
#[uniffi::export]
pub fn der_signature_to_raw(der: Vec<u8>) -> Result<Vec<u8>, EvidenceError> {
    Ok(ev::cose::der_to_raw(&der)?.to_vec())
}
