//! COSE_Sign1 (RFC 9052) with ES256, and the device signer behind it.
//!
//! ```text
//! COSE_Sign1 = #6.18([ protected: bstr .cbor {1: -7, 4: kid, ? 33: x5chain},
//!                      unprotected: {}, payload: bstr, signature: bstr (r || s, 64 bytes) ])
//! x5chain    = bstr (one DER certificate) / [2*8 bstr]   (RFC 9360, leaf first)
//! ToBeSigned = ["Signature1", protected, external_aad: h'', payload]  (canonical CBOR)
//! ```
//! The signer signs the ToBeSigned bytes with ECDSA P-256 over SHA-256: what
//! Android Keystore (`SHA256withECDSA`) and the iOS Secure Enclave
//! (`ecdsaSignatureMessageX962SHA256`) do with keys that never leave them. The
//! platforms return DER; COSE wants raw `r || s`, so DER is converted here.
//! A signer may hand over its key's attestation chain (Android Key
//! Attestation); it goes into the protected header, signed with the rest, and
//! the backend checks it (`attestation`, feature `attestation`).

use crate::cbor::{self, Value};
use crate::error::{EvidenceError, Result};
use crate::keys::PublicKey;
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING,
};

/// COSE algorithm ES256.
const ES256: i64 = -7;
const COSE_SIGN1_TAG: u64 = 18;
/// Bound on a COSE_Sign1 read from a package.
pub const MAX_SIGN1_BYTES: usize = 64 * 1024;
/// COSE header parameter x5chain (RFC 9360).
const X5CHAIN: u64 = 33;
/// Bounds on an attestation chain: Android's have 3 to 5 certificates of 0.5 to 2 KB.
pub const MAX_CHAIN_CERTS: usize = 8;
pub const MAX_CERT_BYTES: usize = 6 * 1024;

/// How a signer returns its signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureFormat {
    /// 64 bytes, `r || s`, each 32 bytes big-endian.
    Raw,
    /// ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }` (Android, iOS, Java).
    Der,
}

/// A device key that signs with ECDSA P-256 / SHA-256. On phones this is the
/// platform keystore; [`SoftwareSigner`] serves tests, CLIs and platforms
/// without one.
pub trait Signer: Send + Sync {
    fn public_key(&self) -> Result<PublicKey>;
    /// ECDSA P-256 over SHA-256 of `message` (the signer hashes).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>>;
    fn signature_format(&self) -> SignatureFormat;
    /// The attestation certificate chain of the signing key, DER, leaf first
    /// (Android: `KeyStore.getCertificateChain(alias)`); empty when the
    /// platform has none. iOS App Attest has no X.509 chain for a signing
    /// key: its slot is reserved in docs/evidence-format.md §5.
    fn attestation_chain(&self) -> Result<Vec<Vec<u8>>> {
        Ok(Vec::new())
    }
}

/// A P-256 key held in memory (PKCS#8), signing with ring.
pub struct SoftwareSigner {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
    chain: Vec<Vec<u8>>,
}

impl SoftwareSigner {
    pub fn from_pkcs8_pem(text: &str) -> Result<SoftwareSigner> {
        let der = crate::keys::pem_decode(text, "PRIVATE KEY")?;
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng)
            .map_err(|_| EvidenceError::Key("not a P-256 PKCS#8 private key with its public key"))?;
        Ok(SoftwareSigner { pair, rng, chain: Vec::new() })
    }

    /// The same signer handing over `chain` (DER, leaf first) as its key's
    /// attestation chain: for tests and for keys certified outside a keystore.
    pub fn with_attestation_chain(self, chain: Vec<Vec<u8>>) -> SoftwareSigner {
        SoftwareSigner { chain, ..self }
    }
}

impl Signer for SoftwareSigner {
    fn public_key(&self) -> Result<PublicKey> {
        PublicKey::from_sec1(self.pair.public_key().as_ref())
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        Ok(self
            .pair
            .sign(&self.rng, message)
            .map_err(|_| EvidenceError::Signer("ring signing failed".into()))?
            .as_ref()
            .to_vec())
    }

    fn signature_format(&self) -> SignatureFormat {
        SignatureFormat::Raw
    }

    fn attestation_chain(&self) -> Result<Vec<Vec<u8>>> {
        Ok(self.chain.clone())
    }
}

/// Converts a DER ECDSA P-256 signature to `r || s`, strictly (minimal DER,
/// positive integers that fit 32 bytes, nothing trailing).
pub fn der_to_raw(der: &[u8]) -> Result<[u8; 64]> {
    let bad = EvidenceError::SignatureEncoding;
    let (tag, body, rest) = der_tlv(der).ok_or(bad("not DER"))?;
    if tag != 0x30 || !rest.is_empty() {
        return Err(bad("not a single DER SEQUENCE"));
    }
    let mut out = [0u8; 64];
    let mut remaining = body;
    for half in 0..2 {
        let (tag, int, rest) = der_tlv(remaining).ok_or(bad("truncated INTEGER"))?;
        remaining = rest;
        if tag != 0x02 || int.is_empty() {
            return Err(bad("expected an INTEGER"));
        }
        if int[0] & 0x80 != 0 {
            return Err(bad("negative INTEGER"));
        }
        if int.len() > 1 && int[0] == 0 && int[1] & 0x80 == 0 {
            return Err(bad("INTEGER not minimally encoded"));
        }
        let int = if int[0] == 0 { &int[1..] } else { int };
        if int.len() > 32 {
            return Err(bad("INTEGER longer than 32 bytes"));
        }
        out[half * 32 + 32 - int.len()..half * 32 + 32].copy_from_slice(int);
    }
    if !remaining.is_empty() {
        return Err(bad("data after s"));
    }
    Ok(out)
}

/// Converts `r || s` to DER (for platforms that verify DER).
pub fn raw_to_der(raw: &[u8; 64]) -> Vec<u8> {
    let int = |v: &[u8]| {
        let v = &v[v.iter().position(|&b| b != 0).unwrap_or(31)..];
        let mut out = vec![0x02];
        if v[0] & 0x80 != 0 {
            out.extend_from_slice(&[v.len() as u8 + 1, 0]);
        } else {
            out.push(v.len() as u8);
        }
        out.extend_from_slice(v);
        out
    };
    let body = [int(&raw[..32]), int(&raw[32..])].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

/// One DER TLV with a short-form length: (tag, contents, rest).
fn der_tlv(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = data.split_first()?;
    let (&len, rest) = rest.split_first()?;
    if len & 0x80 != 0 || rest.len() < len as usize {
        return None;
    }
    let (body, rest) = rest.split_at(len as usize);
    Some((tag, body, rest))
}

fn to_be_signed(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    cbor::encode(&Value::Array(vec![
        Value::text("Signature1"),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]))
}

/// Signs `payload` into a tagged COSE_Sign1 (its canonical CBOR encoding).
pub fn sign1(payload: &[u8], signer: &dyn Signer) -> Result<Vec<u8>> {
    let kid = key_id_bytes(&signer.public_key()?);
    let mut header = vec![(Value::Uint(1), Value::int(ES256)), (Value::Uint(4), Value::Bytes(kid))];
    let chain = signer.attestation_chain()?;
    check_chain_bounds(&chain).map_err(EvidenceError::Signer)?;
    match chain.as_slice() {
        [] => {}
        [one] => header.push((Value::Uint(X5CHAIN), Value::Bytes(one.clone()))),
        many => header.push((Value::Uint(X5CHAIN), Value::Array(many.iter().cloned().map(Value::Bytes).collect()))),
    }
    let protected = cbor::encode(&Value::map(header));
    let raw = signer.sign(&to_be_signed(&protected, payload))?;
    let signature = match signer.signature_format() {
        SignatureFormat::Raw => <[u8; 64]>::try_from(raw.as_slice())
            .map_err(|_| EvidenceError::SignatureEncoding("raw signature is not 64 bytes"))?,
        SignatureFormat::Der => der_to_raw(&raw)?,
    };
    // A misconfigured platform keystore (another key under the alias, a wrong
    // curve or hash) would otherwise produce evidence that fails only at the
    // backend: check the signature once against the key the signer claims.
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, signer.public_key()?.sec1())
        .verify(&to_be_signed(&protected, payload), &signature)
        .map_err(|_| EvidenceError::Signer("the signature does not verify with the signer's public key".into()))?;
    Ok(cbor::encode(&Value::Tag(
        COSE_SIGN1_TAG,
        Box::new(Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(Vec::new()),
            Value::Bytes(payload.to_vec()),
            Value::Bytes(signature.to_vec()),
        ])),
    )))
}

fn check_chain_bounds(chain: &[Vec<u8>]) -> std::result::Result<(), String> {
    if chain.len() > MAX_CHAIN_CERTS || chain.iter().any(|c| c.is_empty() || c.len() > MAX_CERT_BYTES) {
        return Err(format!(
            "an attestation chain holds at most {MAX_CHAIN_CERTS} certificates of 1 to {MAX_CERT_BYTES} bytes"
        ));
    }
    Ok(())
}

fn key_id_bytes(key: &PublicKey) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, &key.compressed()).as_ref()[..8].to_vec()
}

/// A parsed COSE_Sign1.
#[derive(Debug, Clone, PartialEq)]
pub struct Sign1 {
    protected: Vec<u8>,
    pub kid: Vec<u8>,
    /// The signer's attestation chain (x5chain), DER, leaf first; empty if none.
    pub x5chain: Vec<Vec<u8>>,
    pub payload: Vec<u8>,
    signature: Vec<u8>,
}

pub fn parse_sign1(bytes: &[u8]) -> Result<Sign1> {
    let bad = EvidenceError::MalformedBundle;
    if bytes.len() > MAX_SIGN1_BYTES {
        return Err(bad("COSE_Sign1 too large"));
    }
    let Ok(Value::Tag(COSE_SIGN1_TAG, inner)) = cbor::decode(bytes) else {
        return Err(bad("not a canonical tagged COSE_Sign1"));
    };
    let Value::Array(items) = *inner else { return Err(bad("COSE_Sign1 is not an array")) };
    let [Value::Bytes(protected), Value::Map(unprotected), Value::Bytes(payload), Value::Bytes(signature)] =
        items.as_slice()
    else {
        return Err(bad("COSE_Sign1 must be [bstr, {}, bstr, bstr]"));
    };
    if !unprotected.is_empty() || signature.len() != 64 {
        return Err(bad("COSE_Sign1 has unprotected headers or a signature that is not 64 bytes"));
    }
    let header = cbor::decode(protected).map_err(|_| bad("protected header is not canonical CBOR"))?;
    let Value::Map(entries) = &header else { return Err(bad("protected header is not a map")) };
    let alg = entries.iter().find(|(k, _)| *k == Value::Uint(1)).and_then(|(_, v)| v.as_i64());
    let kid = entries.iter().find(|(k, _)| *k == Value::Uint(4)).map(|(_, v)| v);
    let chain = entries.iter().find(|(k, _)| *k == Value::Uint(X5CHAIN)).map(|(_, v)| v);
    let expected_len = 2 + usize::from(chain.is_some());
    let (Some(ES256), Some(Value::Bytes(kid)), true) = (alg, kid, entries.len() == expected_len) else {
        return Err(bad("protected header must be exactly {1: -7 (ES256), 4: kid} and optionally 33: x5chain"));
    };
    let x5chain = match chain {
        None => Vec::new(),
        Some(Value::Bytes(one)) => vec![one.clone()],
        Some(Value::Array(many)) if many.len() >= 2 => many
            .iter()
            .map(|c| match c {
                Value::Bytes(der) => Ok(der.clone()),
                _ => Err(bad("x5chain holds a certificate that is not a byte string")),
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(bad("x5chain must be a byte string or an array of two or more")),
    };
    check_chain_bounds(&x5chain).map_err(|_| bad("x5chain exceeds its bounds (8 certificates of at most 6 KiB)"))?;
    Ok(Sign1 {
        protected: protected.clone(),
        kid: kid.clone(),
        x5chain,
        payload: payload.clone(),
        signature: signature.clone(),
    })
}

impl Sign1 {
    /// Checks the key id, then the signature, against the expected device key.
    pub fn verify(&self, key: &PublicKey) -> Result<()> {
        let expected = key_id_bytes(key);
        if self.kid != expected {
            return Err(EvidenceError::SignerMismatch {
                expected: crate::keys::hex(&expected),
                found: crate::keys::hex(&self.kid),
            });
        }
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key.sec1())
            .verify(&to_be_signed(&self.protected, &self.payload), &self.signature)
            .map_err(|_| EvidenceError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_and_raw_convert_both_ways() {
        let mut raw = [0u8; 64];
        raw[0] = 0x80; // r needs a leading zero in DER
        raw[31] = 1;
        raw[63] = 5; // s is tiny: 31 leading zero bytes dropped
        let der = raw_to_der(&raw);
        assert_eq!(der_to_raw(&der).unwrap(), raw);
        assert!(der_to_raw(&[der.clone(), vec![0]].concat()).is_err());
        let mut non_minimal = der.clone();
        // s = 02 01 05 -> 02 02 00 05 (padded without need).
        non_minimal.truncate(der.len() - 3);
        non_minimal.extend_from_slice(&[0x02, 0x02, 0x00, 0x05]);
        non_minimal[1] += 1;
        assert!(der_to_raw(&non_minimal).is_err());
        assert!(der_to_raw(&[0x30, 0x00]).is_err());
    }

    #[test]
    fn sign_then_verify_and_refuse_others() {
        let pair = crate::keys::generate().unwrap();
        let signer = SoftwareSigner::from_pkcs8_pem(&pair.private_pem).unwrap();
        let sealed = sign1(b"manifest", &signer).unwrap();
        let parsed = parse_sign1(&sealed).unwrap();
        assert_eq!(parsed.payload, b"manifest");
        parsed.verify(&pair.public).unwrap();
        let other = crate::keys::generate().unwrap();
        assert!(matches!(parsed.verify(&other.public), Err(EvidenceError::SignerMismatch { .. })));
        let mut forged = parsed.clone();
        forged.payload = b"manifesT".to_vec();
        assert_eq!(forged.verify(&pair.public), Err(EvidenceError::BadSignature));
    }
}
