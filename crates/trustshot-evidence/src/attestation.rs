//! Device-key attestation (feature `attestation`, backend only): does the
//! certificate chain a package carries (COSE header x5chain, docs/evidence-format.md §5)
//! show that the key which signed the package lives in a phone's secure
//! hardware, as vouched for by a root the operator trusts?
//!
//! An Android Keystore key generated with an attestation challenge has a chain
//! `leaf, intermediates..., root` (`KeyStore.getCertificateChain`). The leaf
//! certifies the key and carries the Key Attestation extension
//! (OID 1.3.6.1.4.1.11129.2.1.17, `KeyDescription`), whose
//! `attestationSecurityLevel` says where the key lives: software, a trusted
//! execution environment, or StrongBox.
//!
//! [`verify`] checks, in this order: every certificate parses (DER, X.509 v3);
//! the leaf certifies the device key that signed the package; each certificate
//! names the next as issuer, the next may issue certificates (basicConstraints
//! cA, keyCertSign if keyUsage is present), and it verifies with that key (ECDSA P-256/P-384 with
//! SHA-256/384, RSA PKCS#1 v1.5 with SHA-256/384/512, all by ring); the last
//! certificate is one of the operator's roots or is signed by one; every
//! certificate is valid at the package's capture time. The security level and
//! challenge are read from the leaf whatever the outcome, but mean something
//! only when the status is [`AttestationStatus::Verified`].
//!
//! Not checked here, and left to the operator's backend: revocation (Google's
//! attestation status list), the challenge's value (it is reported), the
//! authorisation lists (purpose, origin, the app's package name and signature).
//! iOS App Attest statements are not X.509 chains of the signing key: their
//! slot is reserved in the format and not read by this version.

use crate::keys::PublicKey;
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::oid::AssociatedOid;
use x509_cert::der::{AnyRef, Decode, Encode, Reader, SliceReader, Tag, Tagged};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::Certificate;

/// Android Key Attestation extension.
const KEY_DESCRIPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.1.17");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const RSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const RSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");

/// Where the attested key lives, as the leaf states it (`attestationSecurityLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityLevel {
    Software,
    TrustedEnvironment,
    StrongBox,
}

impl SecurityLevel {
    /// The name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityLevel::Software => "software",
            SecurityLevel::TrustedEnvironment => "tee",
            SecurityLevel::StrongBox => "strongbox",
        }
    }
}

/// The verdict on a package's attestation chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttestationStatus {
    /// The package carries no chain.
    Absent,
    /// The chain links the signing key to one of the operator's roots.
    Verified,
    /// A certificate is not DER X.509 (or uses an algorithm not listed above).
    Unreadable,
    /// The leaf certifies another key than the one that signed the package.
    KeyMismatch,
    /// A certificate does not name the next as its issuer, the next is not a
    /// CA, or the signature does not verify with the next one's key.
    BrokenChain,
    /// The chain holds together but ends at none of the operator's roots.
    UntrustedRoot,
    /// A certificate was not valid at the package's capture time.
    NotValidAtCapture,
}

impl AttestationStatus {
    /// The name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            AttestationStatus::Absent => "absent",
            AttestationStatus::Verified => "verified",
            AttestationStatus::Unreadable => "unreadable",
            AttestationStatus::KeyMismatch => "key_mismatch",
            AttestationStatus::BrokenChain => "broken_chain",
            AttestationStatus::UntrustedRoot => "untrusted_root",
            AttestationStatus::NotValidAtCapture => "not_valid_at_capture",
        }
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationReport {
    pub status: AttestationStatus,
    /// From the leaf's Key Attestation extension (None without one).
    pub security_level: Option<SecurityLevel>,
    /// The attestation challenge the app set when it made the key.
    pub challenge: Option<Vec<u8>>,
    pub certificates: usize,
}

impl AttestationReport {
    /// The report as a JSON object (the openers' `attestation` field):
    /// `{"status", "security_level", "challenge" (hex), "certificates"}`.
    pub fn json(&self) -> String {
        let or_null = |v: Option<String>| v.map_or("null".into(), |s| crate::manifest::json_string(&s));
        format!(
            "{{\"status\":\"{}\",\"security_level\":{},\"challenge\":{},\"certificates\":{}}}",
            self.status.as_str(),
            or_null(self.security_level.map(|l| l.as_str().to_string())),
            or_null(self.challenge.as_deref().map(crate::keys::hex)),
            self.certificates
        )
    }
}

/// The roots an operator trusts (for Android: Google's hardware attestation
/// roots, or the operator's own for test devices).
pub struct Roots(Vec<Certificate>);

impl Roots {
    /// No trusted root: every chain reads as [`AttestationStatus::UntrustedRoot`]
    /// (an opener not configured with roots still reports what a chain states).
    pub fn none() -> Roots {
        Roots(Vec::new())
    }

    /// Reads roots from a DER certificate or PEM text of `CERTIFICATE` blocks.
    pub fn parse(bytes: &[u8]) -> Result<Roots, &'static str> {
        let ders = match std::str::from_utf8(bytes) {
            Ok(text) if text.contains("-----BEGIN") => {
                crate::keys::pem_decode_all(text, "CERTIFICATE").map_err(|_| "PEM CERTIFICATE blocks do not decode")?
            }
            _ => vec![bytes.to_vec()],
        };
        let roots = ders.iter().map(|d| Certificate::from_der(d)).collect::<Result<Vec<_>, _>>();
        roots.map(Roots).map_err(|_| "not an X.509 certificate (DER, or PEM CERTIFICATE blocks)")
    }

    /// The operator's roots file for the openers (`--attestation-roots`), or
    /// no root without one; the error names the file.
    pub fn read(path: Option<&std::path::Path>) -> Result<Roots, String> {
        let Some(path) = path else { return Ok(Roots::none()) };
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Roots::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Checks `chain` (DER, leaf first, as in the package) for `device`, the key
/// that signed the package, against `roots`, at `captured_at` (Unix seconds).
pub fn verify(chain: &[Vec<u8>], device: &PublicKey, roots: &Roots, captured_at: i64) -> AttestationReport {
    let mut report = AttestationReport {
        status: AttestationStatus::Absent,
        security_level: None,
        challenge: None,
        certificates: chain.len(),
    };
    if chain.is_empty() {
        return report;
    }
    let Ok(certs) = chain.iter().map(|d| Certificate::from_der(d)).collect::<Result<Vec<_>, _>>() else {
        report.status = AttestationStatus::Unreadable;
        return report;
    };
    let leaf = &certs[0];
    if let Some(description) = key_description(leaf) {
        (report.security_level, report.challenge) = description;
    }
    report.status = judge(&certs, device, roots, captured_at);
    report
}

fn judge(certs: &[Certificate], device: &PublicKey, roots: &Roots, captured_at: i64) -> AttestationStatus {
    let leaf_key = &certs[0].tbs_certificate.subject_public_key_info;
    if leaf_key.algorithm.oid != EC_PUBLIC_KEY
        || leaf_key.subject_public_key.as_bytes() != Some(device.sec1().as_slice())
    {
        return AttestationStatus::KeyMismatch;
    }
    for pair in certs.windows(2) {
        // An issuer must be a CA: otherwise the holder of a genuine attested
        // key could sign a "leaf" for any key (a software one) under its own
        // genuine certificate, claiming any security level.
        if !may_issue(&pair[1]) {
            return AttestationStatus::BrokenChain;
        }
        match signed_by(&pair[0], &pair[1]) {
            Ok(true) => {}
            Ok(false) => return AttestationStatus::BrokenChain,
            Err(()) => return AttestationStatus::Unreadable,
        }
    }
    let last = certs.last().expect("chain is not empty");
    let anchored = roots.0.iter().any(|root| root == last || signed_by(last, root) == Ok(true));
    if !anchored {
        return AttestationStatus::UntrustedRoot;
    }
    if !certs.iter().all(|c| valid_at(c, captured_at)) {
        return AttestationStatus::NotValidAtCapture;
    }
    AttestationStatus::Verified
}

/// Whether `cert` may issue certificates: basicConstraints with cA true, and
/// keyUsage, when present, with keyCertSign.
fn may_issue(cert: &Certificate) -> bool {
    let extensions = cert.tbs_certificate.extensions.as_deref().unwrap_or_default();
    let find = |oid| extensions.iter().find(|e| e.extn_id == oid).map(|e| e.extn_value.as_bytes());
    let ca = find(BasicConstraints::OID).and_then(|v| BasicConstraints::from_der(v).ok()).is_some_and(|b| b.ca);
    let signs_certificates = match find(KeyUsage::OID) {
        Some(v) => KeyUsage::from_der(v).is_ok_and(|k| k.key_cert_sign()),
        None => true,
    };
    ca && signs_certificates
}

/// Whether `cert` names `issuer` as its issuer and its signature verifies with
/// `issuer`'s key; `Err` for an algorithm this module does not know.
fn signed_by(cert: &Certificate, issuer: &Certificate) -> Result<bool, ()> {
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject
        || cert.signature_algorithm != cert.tbs_certificate.signature
    {
        return Ok(false);
    }
    let spki = &issuer.tbs_certificate.subject_public_key_info;
    let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    let algorithm: &dyn VerificationAlgorithm = match (spki.algorithm.oid, curve, cert.signature_algorithm.oid) {
        (EC_PUBLIC_KEY, Some(P256), ECDSA_SHA256) => &signature::ECDSA_P256_SHA256_ASN1,
        (EC_PUBLIC_KEY, Some(P256), ECDSA_SHA384) => &signature::ECDSA_P256_SHA384_ASN1,
        (EC_PUBLIC_KEY, Some(P384), ECDSA_SHA256) => &signature::ECDSA_P384_SHA256_ASN1,
        (EC_PUBLIC_KEY, Some(P384), ECDSA_SHA384) => &signature::ECDSA_P384_SHA384_ASN1,
        (RSA, _, RSA_SHA256) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (RSA, _, RSA_SHA384) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (RSA, _, RSA_SHA512) => &signature::RSA_PKCS1_2048_8192_SHA512,
        _ => return Err(()),
    };
    let (Some(key), Some(sig), Ok(tbs)) =
        (spki.subject_public_key.as_bytes(), cert.signature.as_bytes(), cert.tbs_certificate.to_der())
    else {
        return Err(());
    };
    Ok(UnparsedPublicKey::new(algorithm, key).verify(&tbs, sig).is_ok())
}

fn valid_at(cert: &Certificate, unix: i64) -> bool {
    let validity = &cert.tbs_certificate.validity;
    let (from, until) =
        (validity.not_before.to_unix_duration().as_secs(), validity.not_after.to_unix_duration().as_secs());
    u64::try_from(unix).is_ok_and(|t| from <= t && t <= until)
}

/// The security level and challenge of the leaf's `KeyDescription`:
/// `SEQUENCE { attestationVersion INTEGER, attestationSecurityLevel ENUMERATED,
/// keyMintVersion INTEGER, keyMintSecurityLevel ENUMERATED,
/// attestationChallenge OCTET STRING, ... }`. None if absent or malformed.
fn key_description(leaf: &Certificate) -> Option<(Option<SecurityLevel>, Option<Vec<u8>>)> {
    let extension = leaf.tbs_certificate.extensions.as_ref()?.iter().find(|e| e.extn_id == KEY_DESCRIPTION)?;
    let sequence = AnyRef::from_der(extension.extn_value.as_bytes()).ok()?;
    if sequence.tag() != Tag::Sequence {
        return None;
    }
    let mut fields = SliceReader::new(sequence.value()).ok()?;
    let mut next = |tag: Tag| -> Option<Vec<u8>> {
        let any: AnyRef<'_> = fields.decode().ok()?;
        (any.tag() == tag).then(|| any.value().to_vec())
    };
    next(Tag::Integer)?;
    let level = match next(Tag::Enumerated)?.as_slice() {
        [0] => Some(SecurityLevel::Software),
        [1] => Some(SecurityLevel::TrustedEnvironment),
        [2] => Some(SecurityLevel::StrongBox),
        _ => None,
    };
    next(Tag::Integer)?;
    next(Tag::Enumerated)?;
    let challenge = next(Tag::OctetString);
    Some((level, challenge))
}
