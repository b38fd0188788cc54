//! HKDF-SHA-256 (RFC 5869) on ring's HMAC. ring's own `hkdf` hides the
//! pseudorandom key, but HPKE puts extracted values into its key-schedule
//! context and age's tag is an extracted value, so both halves are exposed.

use ring::hmac;
use zeroize::Zeroize;

/// HKDF-Extract: HMAC-SHA-256(key = salt, message = ikm).
pub fn extract(salt: &[u8], ikm: &[u8]) -> [u8; 32] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, salt), ikm);
    tag.as_ref().try_into().expect("SHA-256 output is 32 bytes")
}

/// HKDF-Expand to `len` bytes (at most 255 * 32).
pub fn expand(prk: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    assert!(len <= 255 * 32, "HKDF-Expand length out of range");
    let key = hmac::Key::new(hmac::HMAC_SHA256, prk);
    let mut out = Vec::with_capacity(len);
    let mut previous: Vec<u8> = Vec::new();
    for counter in 1..=len.div_ceil(32) as u8 {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(&previous);
        ctx.update(info);
        ctx.update(&[counter]);
        previous.zeroize();
        previous = ctx.sign().as_ref().to_vec();
        out.extend_from_slice(&previous);
    }
    previous.zeroize();
    out.truncate(len);
    out
}

/// Extract then expand to 32 bytes: the "HKDF-SHA-256(ikm, salt, info)" of age.
/// The intermediate key is wiped; the caller wipes the result once used.
pub fn derive32(ikm: &[u8], salt: &[u8], info: &[u8]) -> [u8; 32] {
    let prk = zeroize::Zeroizing::new(extract(salt, ikm));
    let okm = zeroize::Zeroizing::new(expand(&*prk, info, 32));
    okm.as_slice().try_into().expect("32 bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn rfc5869_test_case_1() {
        let ikm = unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
        let salt = unhex("000102030405060708090a0b0c");
        let info = unhex("f0f1f2f3f4f5f6f7f8f9");
        let prk = extract(&salt, &ikm);
        assert_eq!(prk.to_vec(), unhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"));
        let okm = expand(&prk, &info, 42);
        assert_eq!(okm, unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"));
    }
}
