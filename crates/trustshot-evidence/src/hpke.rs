//! HPKE (RFC 9180) base mode for one suite: DHKEM(P-256, HKDF-SHA256),
//! HKDF-SHA256, ChaCha20Poly1305 — what age's `p256tag` stanza uses, with a
//! single message (the file key), so only sequence number 0 is needed.
//!
//! Encapsulation takes the ephemeral DH from a [`Encapsulator`] (ring's
//! ephemeral ECDH on the device; fixed keys in known-answer tests).
//! Decapsulation needs the recipient's static key: ring has no static ECDH, so
//! it lives behind the `open` feature, on RustCrypto `p256`.

use crate::error::{EvidenceError, Result};
use crate::hkdf;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305};

const KEM_ID: [u8; 2] = [0x00, 0x10];
const KDF_ID: [u8; 2] = [0x00, 0x01];
const AEAD_ID: [u8; 2] = [0x00, 0x03];

fn kem_suite() -> Vec<u8> {
    [&b"KEM"[..], &KEM_ID].concat()
}

fn hpke_suite() -> Vec<u8> {
    [&b"HPKE"[..], &KEM_ID, &KDF_ID, &AEAD_ID].concat()
}

fn labeled_extract(suite: &[u8], salt: &[u8], label: &[u8], ikm: &[u8]) -> [u8; 32] {
    hkdf::extract(salt, &[&b"HPKE-v1"[..], suite, label, ikm].concat())
}

fn labeled_expand(suite: &[u8], prk: &[u8], label: &[u8], info: &[u8], len: u16) -> Vec<u8> {
    hkdf::expand(prk, &[&len.to_be_bytes()[..], b"HPKE-v1", suite, label, info].concat(), len as usize)
}

/// DHKEM's ExtractAndExpand: the KEM shared secret from the DH output and
/// `enc || pkR`.
pub fn kem_shared_secret(dh: &[u8; 32], enc: &[u8; 65], pk_r: &[u8; 65]) -> [u8; 32] {
    let suite = kem_suite();
    let eae_prk = labeled_extract(&suite, b"", b"eae_prk", dh);
    let context = [&enc[..], &pk_r[..]].concat();
    labeled_expand(&suite, &eae_prk, b"shared_secret", &context, 32).try_into().expect("32 bytes")
}

/// The base-mode key schedule: (key, base_nonce) from the shared secret and info.
pub fn key_schedule(shared_secret: &[u8; 32], info: &[u8]) -> ([u8; 32], [u8; 12]) {
    let suite = hpke_suite();
    let psk_id_hash = labeled_extract(&suite, b"", b"psk_id_hash", b"");
    let info_hash = labeled_extract(&suite, b"", b"info_hash", info);
    let context = [&[0u8][..], &psk_id_hash, &info_hash].concat();
    let secret = labeled_extract(&suite, shared_secret, b"secret", b"");
    let key = labeled_expand(&suite, &secret, b"key", &context, 32);
    let nonce = labeled_expand(&suite, &secret, b"base_nonce", &context, 12);
    (key.try_into().expect("32 bytes"), nonce.try_into().expect("12 bytes"))
}

/// Produces the ephemeral half of DHKEM: `enc` (the ephemeral public key) and
/// the DH output with the recipient key.
pub trait Encapsulator {
    fn encapsulate(&mut self, pk_r: &[u8; 65]) -> Result<([u8; 65], [u8; 32])>;
}

/// ring's ephemeral ECDH: the private key exists only inside this call.
pub struct EphemeralEcdh(pub ring::rand::SystemRandom);

impl Encapsulator for EphemeralEcdh {
    fn encapsulate(&mut self, pk_r: &[u8; 65]) -> Result<([u8; 65], [u8; 32])> {
        use ring::agreement::{agree_ephemeral, EphemeralPrivateKey, UnparsedPublicKey, ECDH_P256};
        let secret = EphemeralPrivateKey::generate(&ECDH_P256, &self.0).map_err(|_| EvidenceError::Random)?;
        let enc: [u8; 65] = secret
            .compute_public_key()
            .map_err(|_| EvidenceError::Random)?
            .as_ref()
            .try_into()
            .map_err(|_| EvidenceError::Random)?;
        let dh = agree_ephemeral(secret, &UnparsedPublicKey::new(&ECDH_P256, pk_r), |dh| {
            <[u8; 32]>::try_from(dh).expect("P-256 DH output is 32 bytes")
        })
        .map_err(|_| EvidenceError::Key("recipient is not a valid P-256 point"))?;
        Ok((enc, dh))
    }
}

/// SealBase with one message: returns (enc, ciphertext).
pub fn seal_base(
    encapsulator: &mut dyn Encapsulator,
    pk_r: &[u8; 65],
    info: &[u8],
    plaintext: &[u8],
) -> Result<([u8; 65], Vec<u8>)> {
    let (enc, dh) = encapsulator.encapsulate(pk_r)?;
    let (key, nonce) = key_schedule(&kem_shared_secret(&dh, &enc, pk_r), info);
    let mut ct = plaintext.to_vec();
    aead_key(&key)
        .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut ct)
        .map_err(|_| EvidenceError::Random)?;
    Ok((enc, ct))
}

fn aead_key(key: &[u8; 32]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, key).expect("32-byte key"))
}

/// OpenBase with the DH output computed by the caller; `None` if the
/// ciphertext does not authenticate.
pub fn open_base_with_dh(dh: &[u8; 32], enc: &[u8; 65], pk_r: &[u8; 65], info: &[u8], ct: &[u8]) -> Option<Vec<u8>> {
    let (key, nonce) = key_schedule(&kem_shared_secret(dh, enc, pk_r), info);
    let mut buf = ct.to_vec();
    let plain = aead_key(&key).open_in_place(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut buf).ok()?;
    Some(plain.to_vec())
}
