//! P-256 keys and their encodings.
//!
//! - Public keys travel as PEM `PUBLIC KEY` (SubjectPublicKeyInfo, uncompressed
//!   point): what OpenSSL, Java (`X509EncodedKeySpec`), Python `cryptography`
//!   and iOS export, and what ring reads (it takes only uncompressed points).
//! - Private keys as PEM `PRIVATE KEY` (PKCS#8 v1 with the public key inside,
//!   as ring generates it).
//! - A key id is the first 8 bytes of SHA-256 of the compressed point, in hex.
//!   Its first 4 bytes are what an age `p256tag` stanza tag commits to.
//! - The age recipient string is `age1tag1…` (Bech32 of the compressed point).

use crate::error::{EvidenceError, Result};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

/// DER prefix of a SubjectPublicKeyInfo holding an uncompressed P-256 point
/// (id-ecPublicKey, prime256v1, BIT STRING of 66 bytes).
const SPKI_P256_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// A P-256 public key: the 65-byte uncompressed SEC1 point.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey([u8; 65]);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.key_id())
    }
}

impl PublicKey {
    /// From the 65-byte uncompressed point (`04 || X || Y`). The point itself is
    /// checked by ring when it is used.
    pub fn from_sec1(bytes: &[u8]) -> Result<PublicKey> {
        let point: [u8; 65] =
            bytes.try_into().map_err(|_| EvidenceError::Key("public key must be a 65-byte uncompressed point"))?;
        if point[0] != 0x04 {
            return Err(EvidenceError::Key("public key must be an uncompressed point (04 || X || Y)"));
        }
        Ok(PublicKey(point))
    }

    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey> {
        match der.strip_prefix(&SPKI_P256_PREFIX[..]) {
            Some(point) => PublicKey::from_sec1(point),
            None => Err(EvidenceError::Key("not a P-256 SubjectPublicKeyInfo with an uncompressed point")),
        }
    }

    pub fn from_pem(text: &str) -> Result<PublicKey> {
        PublicKey::from_spki_der(&pem_decode(text, "PUBLIC KEY")?)
    }

    pub fn to_spki_der(&self) -> Vec<u8> {
        [&SPKI_P256_PREFIX[..], &self.0[..]].concat()
    }

    pub fn to_pem(&self) -> String {
        pem_encode("PUBLIC KEY", &self.to_spki_der())
    }

    pub fn sec1(&self) -> &[u8; 65] {
        &self.0
    }

    /// The 33-byte compressed point (`02/03 || X`).
    pub fn compressed(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = 0x02 | (self.0[64] & 1);
        out[1..].copy_from_slice(&self.0[1..33]);
        out
    }

    /// First 8 bytes of SHA-256(compressed point), hex.
    pub fn key_id(&self) -> String {
        hex(&ring::digest::digest(&ring::digest::SHA256, &self.compressed()).as_ref()[..8])
    }

    /// The age recipient string, `age1tag1…`.
    pub fn age_recipient(&self) -> String {
        bech32("age1tag", &self.compressed())
    }
}

/// A generated key pair: PKCS#8 private key and its public key.
pub struct KeyPairPem {
    pub private_pem: String,
    pub public: PublicKey,
}

/// Generates a P-256 key pair usable as recipient (operator) or signer (device) key.
pub fn generate() -> Result<KeyPairPem> {
    let rng = SystemRandom::new();
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(|_| EvidenceError::Random)?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| EvidenceError::Key("generated key does not parse"))?;
    Ok(KeyPairPem {
        private_pem: pem_encode("PRIVATE KEY", pkcs8.as_ref()),
        public: PublicKey::from_sec1(pair.public_key().as_ref())?,
    })
}

/// The DER inside the one PEM block labelled `label` (text around it is ignored).
pub fn pem_decode(text: &str, label: &str) -> Result<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin).ok_or(EvidenceError::Key("PEM block not found"))? + begin.len();
    let stop = text[start..].find(&end).ok_or(EvidenceError::Key("PEM block is not terminated"))? + start;
    let b64: String = text[start..stop].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| EvidenceError::Key("PEM body is not base64"))
}

/// The DER of every PEM block labelled `label`, in order (e.g. a certificate
/// chain, leaf first); none is an error.
pub fn pem_decode_all(text: &str, label: &str) -> Result<Vec<Vec<u8>>> {
    let end = format!("-----END {label}-----");
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&format!("-----BEGIN {label}-----")) {
        let stop =
            rest[start..].find(&end).ok_or(EvidenceError::Key("PEM block is not terminated"))? + start + end.len();
        blocks.push(pem_decode(&rest[start..stop], label)?);
        rest = &rest[stop..];
    }
    if blocks.is_empty() {
        return Err(EvidenceError::Key("PEM block not found"));
    }
    Ok(blocks)
}

pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bech32 (BIP 173, no length limit), lower case.
fn bech32(hrp: &str, data: &[u8]) -> String {
    const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    // 8-bit bytes regrouped into 5-bit words, zero-padded.
    let mut words = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in data {
        acc = (acc << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            words.push(((acc >> bits) & 31) as u8);
        }
    }
    if bits > 0 {
        words.push(((acc << (5 - bits)) & 31) as u8);
    }
    let polymod = |values: &[u8]| {
        const GEN: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
        let mut chk = 1u32;
        for &v in values {
            let top = chk >> 25;
            chk = ((chk & 0x1ff_ffff) << 5) ^ v as u32;
            for (i, g) in GEN.iter().enumerate() {
                if (top >> i) & 1 == 1 {
                    chk ^= g;
                }
            }
        }
        chk
    };
    let mut values: Vec<u8> = hrp.bytes().map(|c| c >> 5).collect();
    values.push(0);
    values.extend(hrp.bytes().map(|c| c & 31));
    values.extend(&words);
    values.extend([0u8; 6]);
    let checksum = polymod(&values) ^ 1;
    let mut out = format!("{hrp}1");
    for w in words.iter().copied().chain((0..6).map(|i| ((checksum >> (5 * (5 - i))) & 31) as u8)) {
        out.push(CHARSET[w as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bech32_matches_the_age_spec_example() {
        // c2sp.org/age: the tagged recipient example, whose compressed point is
        // recovered here from its Bech32 data part.
        let example = "age1tag1qt8lw0ual6avlwmwatk888yqnmdamm7xfd0wak53ut6elz5c4swx2yqdj4e";
        let data = &example["age1tag1".len()..example.len() - 6];
        let charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
        let mut bytes = Vec::new();
        let (mut acc, mut bits) = (0u32, 0u32);
        for c in data.chars() {
            acc = (acc << 5) | charset.find(c).unwrap() as u32;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                bytes.push((acc >> bits) as u8);
            }
        }
        assert_eq!(bytes.len(), 33);
        assert_eq!(bech32("age1tag", &bytes), example);
    }

    #[test]
    fn pem_round_trip_and_key_ids() {
        let pair = generate().unwrap();
        let pem = pair.public.to_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert_eq!(PublicKey::from_pem(&format!("comment\n{pem}")).unwrap(), pair.public);
        assert_eq!(pair.public.key_id().len(), 16);
        assert!(pair.public.age_recipient().starts_with("age1tag1"));
        assert!(pem_decode(&pair.private_pem, "PRIVATE KEY").is_ok());
        assert!(PublicKey::from_pem(&pair.private_pem).is_err());
        assert!(PublicKey::from_sec1(&[4u8; 64]).is_err());
        let mut compressed_form = pair.public.sec1().to_vec();
        compressed_form[0] = 0x02;
        assert!(PublicKey::from_sec1(&compressed_form).is_err());
    }
}
