//! Test support: fixed randomness and deterministic signers, for known-answer
//! vectors. Never used outside tests: the SDK seals with OS randomness.
#![allow(dead_code)]

use p256::ecdsa::signature::Signer as _;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use std::collections::VecDeque;
use trustshot_evidence::hpke::Encapsulator;
use trustshot_evidence::package::SealRandomness;
use trustshot_evidence::{EvidenceError, PublicKey, SignatureFormat, Signer};

pub fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

pub fn secret(bytes: &[u8]) -> p256::SecretKey {
    p256::SecretKey::from_slice(bytes).unwrap()
}

/// A scalar made of one repeated byte (valid for 0x01..=0x7f).
pub fn repeated(byte: u8) -> p256::SecretKey {
    secret(&[byte; 32])
}

pub fn public_of(key: &p256::SecretKey) -> PublicKey {
    PublicKey::from_sec1(key.public_key().to_encoded_point(false).as_bytes()).unwrap()
}

pub fn private_pem(key: &p256::SecretKey) -> String {
    key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
}

/// File key, payload nonce and ephemeral scalars, all fixed.
pub struct FixedRandom {
    pub file_key: [u8; 16],
    pub nonce: [u8; 16],
    pub ephemerals: VecDeque<p256::SecretKey>,
}

impl Encapsulator for FixedRandom {
    fn encapsulate(&mut self, pk_r: &[u8; 65]) -> trustshot_evidence::Result<([u8; 65], [u8; 32])> {
        let e = self.ephemerals.pop_front().expect("one ephemeral scalar per recipient");
        let enc: [u8; 65] = e.public_key().to_encoded_point(false).as_bytes().try_into().unwrap();
        let pk = p256::PublicKey::from_sec1_bytes(pk_r).map_err(|_| EvidenceError::Key("bad point"))?;
        let dh = p256::ecdh::diffie_hellman(e.to_nonzero_scalar(), pk.as_affine());
        Ok((enc, (*dh.raw_secret_bytes()).into()))
    }
}

impl SealRandomness for FixedRandom {
    fn file_key(&mut self) -> trustshot_evidence::Result<[u8; 16]> {
        Ok(self.file_key)
    }

    fn payload_nonce(&mut self) -> trustshot_evidence::Result<[u8; 16]> {
        Ok(self.nonce)
    }
}

/// RFC 6979 deterministic ECDSA, returning raw `r || s` or DER (as phones do).
pub struct DeterministicSigner {
    pub key: p256::SecretKey,
    pub format: SignatureFormat,
}

impl Signer for DeterministicSigner {
    fn public_key(&self) -> trustshot_evidence::Result<PublicKey> {
        Ok(public_of(&self.key))
    }

    fn sign(&self, message: &[u8]) -> trustshot_evidence::Result<Vec<u8>> {
        let sig: p256::ecdsa::Signature = p256::ecdsa::SigningKey::from(&self.key).sign(message);
        Ok(match self.format {
            SignatureFormat::Raw => sig.to_bytes().to_vec(),
            SignatureFormat::Der => sig.to_der().as_bytes().to_vec(),
        })
    }

    fn signature_format(&self) -> SignatureFormat {
        self.format
    }
}

/// The KAT photo: byte i = (i * 31 + 7) mod 251, 70,000 bytes (two chunks).
pub fn kat_photo() -> Vec<u8> {
    (0..70_000u32).map(|i| ((i * 31 + 7) % 251) as u8).collect()
}

/// A test-only sealer: an age package for `recipient` whose bundle carries
/// `manifest_cbor` exactly as given (signed by `device`) and then `photo`,
/// with the bundle version byte `version`. The SDK's writer refuses to sign
/// a manifest that breaks the rules; this does not, so that the readers'
/// checks behind the MAC and the signature can be reached.
pub fn seal_raw(
    manifest_cbor: &[u8],
    photo: &[u8],
    version: u8,
    recipient: &p256::SecretKey,
    device: &p256::SecretKey,
    random: &mut FixedRandom,
) -> Vec<u8> {
    let signer = DeterministicSigner { key: device.clone(), format: SignatureFormat::Raw };
    let signed = trustshot_evidence::cose::sign1(manifest_cbor, &signer).unwrap();
    seal_bundle(&signed, photo, version, recipient, random)
}

/// A package for `recipient` whose bundle carries the COSE_Sign1 `sign1`
/// exactly as given (version 1, no photo).
pub fn seal_sign1(sign1: &[u8], recipient: &p256::SecretKey, random: &mut FixedRandom) -> Vec<u8> {
    seal_bundle(sign1, b"", 1, recipient, random)
}

fn seal_bundle(
    signed: &[u8],
    photo: &[u8],
    version: u8,
    recipient: &p256::SecretKey,
    random: &mut FixedRandom,
) -> Vec<u8> {
    use trustshot_evidence::age::{self, Header, StreamWriter};
    let file_key = random.file_key().unwrap();
    let stanzas = vec![age::wrap_p256tag(random, &public_of(recipient), &file_key).unwrap()];
    let header = Header { mac: age::header_mac(&file_key, &stanzas), stanzas };
    let mut out = header.encode();
    let nonce = random.payload_nonce().unwrap();
    let mut stream = StreamWriter::new(&file_key, &nonce, &mut out).unwrap();
    stream.write_all(&bundle(signed, photo, version)).unwrap();
    stream.finish().unwrap();
    out
}

/// A bundle (docs/evidence-format.md section 4): magic, version, the
/// COSE_Sign1's length and bytes, the photo. What the age payload decrypts to.
pub fn bundle(signed: &[u8], photo: &[u8], version: u8) -> Vec<u8> {
    let mut out = trustshot_evidence::package::BUNDLE_MAGIC.to_vec();
    out.push(version);
    out.extend_from_slice(&(signed.len() as u32).to_be_bytes());
    out.extend_from_slice(signed);
    out.extend_from_slice(photo);
    out
}
