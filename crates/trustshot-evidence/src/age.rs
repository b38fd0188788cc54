//! The age v1 file format (c2sp.org/age): the textual header with `p256tag`
//! recipient stanzas and its MAC, and the STREAM payload of 64 KiB
//! ChaCha20-Poly1305 chunks. Only what the evidence format uses is here; the
//! parser is strict (canonical base64, exact argument counts and sizes, bounded
//! header) because it reads untrusted files.

use crate::error::{EvidenceError, Result};
use crate::hkdf;
use crate::hpke::{self, Encapsulator};
use crate::keys::PublicKey;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305};
use std::io::{BufRead, Read, Write};

pub const VERSION_LINE: &[u8] = b"age-encryption.org/v1";
const VERSION_PREFIX: &[u8] = b"age-encryption.org/";
pub const P256TAG: &str = "p256tag";
const P256TAG_LABEL: &[u8] = b"age-encryption.org/p256tag";
/// Plaintext bytes per payload chunk.
pub const CHUNK: usize = 64 * 1024;
pub const TAG_LEN: usize = 16;
/// Bounds on untrusted headers.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
pub const MAX_STANZAS: usize = 64;

/// A recipient stanza: its arguments (the first is its type) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stanza {
    pub args: Vec<String>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub stanzas: Vec<Stanza>,
    pub mac: [u8; 32],
}

impl Header {
    /// The header bytes the MAC covers: up to and including `---`.
    pub fn mac_input(stanzas: &[Stanza]) -> Vec<u8> {
        let mut out = VERSION_LINE.to_vec();
        out.push(b'\n');
        for s in stanzas {
            out.extend_from_slice(b"-> ");
            out.extend_from_slice(s.args.join(" ").as_bytes());
            out.push(b'\n');
            let body = B64.encode(&s.body);
            // Full 64-column lines, then a final shorter line (possibly empty).
            let mut rest = body.as_bytes();
            while rest.len() >= 64 {
                out.extend_from_slice(&rest[..64]);
                out.push(b'\n');
                rest = &rest[64..];
            }
            out.extend_from_slice(rest);
            out.push(b'\n');
        }
        out.extend_from_slice(b"---");
        out
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Header::mac_input(&self.stanzas);
        out.push(b' ');
        out.extend_from_slice(B64.encode(self.mac).as_bytes());
        out.push(b'\n');
        out
    }

    /// Reads a header, leaving `reader` at the first payload byte. Returns the
    /// header and its encoded length.
    pub fn read(reader: &mut impl BufRead) -> Result<(Header, usize)> {
        let mut consumed = 0usize;
        let mut line = Vec::new();
        let mut next_line = |line: &mut Vec<u8>, consumed: &mut usize| -> Result<()> {
            line.clear();
            let limit = (MAX_HEADER_BYTES - *consumed) as u64 + 1;
            let n = reader.by_ref().take(limit).read_until(b'\n', line)?;
            *consumed += n;
            if *consumed > MAX_HEADER_BYTES {
                return Err(EvidenceError::MalformedHeader("header is larger than 64 KiB"));
            }
            if line.last() != Some(&b'\n') {
                return Err(EvidenceError::MalformedHeader("header ends before its MAC line"));
            }
            line.pop();
            Ok(())
        };

        next_line(&mut line, &mut consumed).map_err(|e| match e {
            EvidenceError::MalformedHeader(_) => EvidenceError::NotAge,
            other => other,
        })?;
        if line != VERSION_LINE {
            return Err(if line.starts_with(VERSION_PREFIX) {
                EvidenceError::UnknownVersion(crate::error::excerpt(&line[VERSION_PREFIX.len()..]))
            } else {
                EvidenceError::NotAge
            });
        }
        let mut stanzas = Vec::new();
        next_line(&mut line, &mut consumed)?;
        loop {
            if let Some(args) = line.strip_prefix(b"-> ") {
                if stanzas.len() == MAX_STANZAS {
                    return Err(EvidenceError::MalformedHeader("too many recipient stanzas"));
                }
                let args = std::str::from_utf8(args)
                    .map_err(|_| EvidenceError::MalformedHeader("stanza arguments are not text"))?;
                let args: Vec<String> = args.split(' ').map(str::to_owned).collect();
                if args.iter().any(|a| a.is_empty() || !a.bytes().all(|b| b.is_ascii_graphic())) {
                    return Err(EvidenceError::MalformedHeader("stanza argument is empty or not printable"));
                }
                let mut body_b64 = Vec::new();
                loop {
                    next_line(&mut line, &mut consumed)?;
                    if line.len() > 64 {
                        return Err(EvidenceError::MalformedHeader("stanza body line is longer than 64 columns"));
                    }
                    body_b64.extend_from_slice(&line);
                    if line.len() < 64 {
                        break;
                    }
                }
                let body = B64
                    .decode(&body_b64)
                    .map_err(|_| EvidenceError::MalformedHeader("stanza body is not canonical base64"))?;
                stanzas.push(Stanza { args, body });
                next_line(&mut line, &mut consumed)?;
            } else if let Some(mac) = line.strip_prefix(b"--- ") {
                if stanzas.is_empty() {
                    return Err(EvidenceError::MalformedHeader("header has no recipient stanza"));
                }
                let mac: [u8; 32] = decode_exact(mac)
                    .ok_or(EvidenceError::MalformedHeader("MAC is not 32 bytes of canonical base64"))?;
                return Ok((Header { stanzas, mac }, consumed));
            } else {
                return Err(EvidenceError::MalformedHeader("expected a stanza or the MAC line"));
            }
        }
    }
}

/// Canonical unpadded base64 of exactly N bytes.
fn decode_exact<const N: usize>(b64: &[u8]) -> Option<[u8; N]> {
    B64.decode(b64).ok()?.try_into().ok()
}

fn header_key(file_key: &[u8; 16]) -> ring::hmac::Key {
    let key = zeroize::Zeroizing::new(hkdf::derive32(file_key, b"", b"header"));
    ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &*key)
}

/// The MAC of a header whose stanzas wrap `file_key`.
pub fn header_mac(file_key: &[u8; 16], stanzas: &[Stanza]) -> [u8; 32] {
    let tag = ring::hmac::sign(&header_key(file_key), &Header::mac_input(stanzas));
    tag.as_ref().try_into().expect("32 bytes")
}

/// Checks `header`'s MAC under `file_key` in constant time (ring's verify).
pub fn verify_header_mac(file_key: &[u8; 16], header: &Header) -> Result<()> {
    ring::hmac::verify(&header_key(file_key), &Header::mac_input(&header.stanzas), &header.mac)
        .map_err(|_| EvidenceError::HeaderMac)
}

/// The 4-byte tag of a p256tag stanza: HKDF-Extract(salt = label,
/// ikm = enc || SHA-256(compressed recipient)[:4])[:4].
fn p256tag_tag(enc: &[u8; 65], recipient: &PublicKey) -> [u8; 4] {
    let hash = ring::digest::digest(&ring::digest::SHA256, &recipient.compressed());
    let prk = hkdf::extract(P256TAG_LABEL, &[&enc[..], &hash.as_ref()[..4]].concat());
    prk[..4].try_into().expect("4 bytes")
}

/// Wraps the file key for one recipient: `-> p256tag <tag> <enc>` + HPKE ciphertext.
pub fn wrap_p256tag(encapsulator: &mut dyn Encapsulator, recipient: &PublicKey, file_key: &[u8; 16]) -> Result<Stanza> {
    let (enc, body) = hpke::seal_base(encapsulator, recipient.sec1(), P256TAG_LABEL, file_key)?;
    let tag = p256tag_tag(&enc, recipient);
    Ok(Stanza { args: vec![P256TAG.into(), B64.encode(tag), B64.encode(enc)], body })
}

/// A p256tag stanza's parts, checked as the spec requires (three arguments,
/// a 4-byte tag, a 65-byte enc, a 32-byte body).
pub struct P256TagStanza {
    pub tag: [u8; 4],
    pub enc: [u8; 65],
    pub body: [u8; 32],
}

impl P256TagStanza {
    /// `Ok(None)` for stanzas of other types (which are ignored).
    pub fn parse(s: &Stanza) -> Result<Option<P256TagStanza>> {
        if s.args.first().map(String::as_str) != Some(P256TAG) {
            return Ok(None);
        }
        if s.args.len() != 3 {
            return Err(EvidenceError::MalformedHeader("p256tag stanza must have three arguments"));
        }
        let tag =
            decode_exact(s.args[1].as_bytes()).ok_or(EvidenceError::MalformedHeader("p256tag tag is not 4 bytes"))?;
        let enc =
            decode_exact(s.args[2].as_bytes()).ok_or(EvidenceError::MalformedHeader("p256tag enc is not 65 bytes"))?;
        let body =
            s.body.as_slice().try_into().map_err(|_| EvidenceError::MalformedHeader("p256tag body is not 32 bytes"))?;
        Ok(Some(P256TagStanza { tag, enc, body }))
    }

    /// Whether this stanza is addressed to `recipient` (no private key needed).
    pub fn is_for(&self, recipient: &PublicKey) -> bool {
        p256tag_tag(&self.enc, recipient) == self.tag
    }
}

/// An operator's private key, for opening (backend only).
#[cfg(feature = "open")]
pub struct Identity {
    secret: p256::SecretKey,
    public: PublicKey,
}

#[cfg(feature = "open")]
impl Identity {
    pub fn from_pkcs8_pem(text: &str) -> Result<Identity> {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        use p256::pkcs8::DecodePrivateKey;
        let der = crate::keys::pem_decode(text, "PRIVATE KEY")?;
        let secret =
            p256::SecretKey::from_pkcs8_der(&der).map_err(|_| EvidenceError::Key("not a P-256 PKCS#8 private key"))?;
        let public = PublicKey::from_sec1(secret.public_key().to_encoded_point(false).as_bytes())?;
        Ok(Identity { secret, public })
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// Finds the stanza addressed to this key and unwraps the file key.
    pub fn unwrap(&self, stanzas: &[Stanza]) -> Result<[u8; 16]> {
        for s in stanzas {
            let Some(p) = P256TagStanza::parse(s)? else { continue };
            if !p.is_for(&self.public) {
                continue;
            }
            let enc_point = p256::PublicKey::from_sec1_bytes(&p.enc)
                .map_err(|_| EvidenceError::MalformedHeader("p256tag enc is not a P-256 point"))?;
            let dh = p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), enc_point.as_affine());
            let dh: [u8; 32] = (*dh.raw_secret_bytes()).into();
            let key = hpke::open_base_with_dh(&dh, &p.enc, self.public.sec1(), P256TAG_LABEL, &p.body)
                .ok_or(EvidenceError::MalformedHeader("the stanza addressed to this key does not decrypt"))?;
            return Ok(key.try_into().expect("16-byte file key"));
        }
        Err(EvidenceError::NoMatchingRecipient)
    }
}

fn payload_key(file_key: &[u8; 16], nonce: &[u8; 16]) -> LessSafeKey {
    let key = zeroize::Zeroizing::new(hkdf::derive32(file_key, nonce, b"payload"));
    LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &*key).expect("32-byte key"))
}

fn chunk_nonce(counter: u64, last: bool) -> Nonce {
    let mut n = [0u8; 12];
    n[3..11].copy_from_slice(&counter.to_be_bytes());
    n[11] = last as u8;
    Nonce::assume_unique_for_key(n)
}

/// Encrypts a payload as it is written: a full chunk is only sealed once the
/// next byte arrives, because the final chunk is marked. Memory: one chunk.
pub struct StreamWriter<W: Write> {
    key: LessSafeKey,
    out: W,
    buf: Vec<u8>,
    counter: u64,
}

impl<W: Write> StreamWriter<W> {
    /// Writes the payload nonce and returns the writer.
    pub fn new(file_key: &[u8; 16], nonce: &[u8; 16], mut out: W) -> Result<StreamWriter<W>> {
        out.write_all(nonce)?;
        Ok(StreamWriter {
            key: payload_key(file_key, nonce),
            out,
            buf: Vec::with_capacity(CHUNK + TAG_LEN),
            counter: 0,
        })
    }

    pub fn write_all(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            if self.buf.len() == CHUNK {
                self.seal_chunk(false)?;
            }
            let take = (CHUNK - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(())
    }

    fn seal_chunk(&mut self, last: bool) -> Result<()> {
        self.key
            .seal_in_place_append_tag(chunk_nonce(self.counter, last), Aad::empty(), &mut self.buf)
            .map_err(|_| EvidenceError::Io("payload too large".into()))?;
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.counter += 1;
        Ok(())
    }

    /// Seals the final chunk and returns the sink.
    pub fn finish(mut self) -> Result<W> {
        self.seal_chunk(true)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Decrypts a payload chunk by chunk, telling truncation, reordering and
/// appended data apart. Memory: one chunk plus one byte of look-ahead.
pub struct StreamReader<R: Read> {
    key: LessSafeKey,
    input: R,
    counter: u64,
    lookahead: Option<u8>,
    done: bool,
    /// A failure found after the chunk just released (data after a final
    /// chunk): reported on the next call, as age's reference reader does.
    pending: Option<EvidenceError>,
}

impl<R: Read> StreamReader<R> {
    /// Reads the payload nonce.
    pub fn new(file_key: &[u8; 16], mut input: R) -> Result<StreamReader<R>> {
        let mut nonce = [0u8; 16];
        read_full(&mut input, &mut nonce, None).and_then(|n| {
            if n == 16 {
                Ok(())
            } else {
                Err(EvidenceError::Truncated { chunk: 0 })
            }
        })?;
        Ok(StreamReader {
            key: payload_key(file_key, &nonce),
            input,
            counter: 0,
            lookahead: None,
            done: false,
            pending: None,
        })
    }

    /// The next plaintext chunk, or `None` after the final one. A chunk that
    /// authenticates is released even when what follows it is wrong (cut
    /// after a non-final chunk, data after the final one); the error comes on
    /// the next call. Callers act on the plaintext only once this returns
    /// `None` (the package opener then checks the signature over all of it).
    pub fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        if let Some(error) = self.pending.take() {
            return Err(error);
        }
        if self.done {
            return Ok(None);
        }
        let mut buf = vec![0u8; CHUNK + TAG_LEN];
        let n = read_full(&mut self.input, &mut buf, self.lookahead.take())?;
        buf.truncate(n);
        let chunk = self.counter;
        let more = if n == CHUNK + TAG_LEN {
            let mut one = [0u8; 1];
            let got = read_full(&mut self.input, &mut one, None)?;
            self.lookahead = (got == 1).then_some(one[0]);
            got == 1
        } else {
            false
        };
        if n < TAG_LEN {
            // Nothing (or less than a tag) where a chunk should be.
            return Err(if n == 0 {
                EvidenceError::Truncated { chunk: chunk.saturating_sub(1) }
            } else {
                EvidenceError::PayloadCorrupt { chunk }
            });
        }
        let open = |key: &LessSafeKey, last: bool, mut data: Vec<u8>| -> Option<Vec<u8>> {
            let len = key.open_in_place(chunk_nonce(chunk, last), Aad::empty(), &mut data).ok()?.len();
            data.truncate(len);
            Some(data)
        };
        let plain = if more {
            match open(&self.key, false, buf.clone()) {
                Some(p) => p,
                None => match open(&self.key, true, buf) {
                    Some(p) => {
                        self.pending = Some(EvidenceError::TrailingData);
                        p
                    }
                    None => return Err(EvidenceError::PayloadCorrupt { chunk }),
                },
            }
        } else {
            match open(&self.key, true, buf.clone()) {
                Some(p) if p.is_empty() && chunk > 0 => return Err(EvidenceError::PayloadCorrupt { chunk }),
                Some(p) => {
                    self.done = true;
                    p
                }
                // A full chunk sealed as non-final, with nothing after it: cut
                // at a chunk boundary (the next call finds nothing: Truncated).
                None if n == CHUNK + TAG_LEN => match open(&self.key, false, buf) {
                    Some(p) => p,
                    None => return Err(EvidenceError::PayloadCorrupt { chunk }),
                },
                None => return Err(EvidenceError::PayloadCorrupt { chunk }),
            }
        };
        self.counter += 1;
        Ok(Some(plain))
    }
}

/// Fills `buf` from `input` (after `first`, if any) until full or end of file;
/// returns how many bytes were placed.
fn read_full(input: &mut impl Read, buf: &mut [u8], first: Option<u8>) -> Result<usize> {
    let mut n = 0;
    if let Some(b) = first {
        buf[0] = b;
        n = 1;
    }
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(data: &[u8]) -> Vec<u8> {
        let mut w = StreamWriter::new(&[7; 16], &[9; 16], Vec::new()).unwrap();
        // Uneven writes must not change the result.
        for piece in data.chunks(1000) {
            w.write_all(piece).unwrap();
        }
        w.finish().unwrap()
    }

    fn open_all(sealed: &[u8]) -> Result<Vec<u8>> {
        let mut r = StreamReader::new(&[7; 16], sealed)?;
        let mut out = Vec::new();
        while let Some(c) = r.next_chunk()? {
            out.extend(c);
        }
        Ok(out)
    }

    #[test]
    fn stream_round_trips_at_chunk_edges() {
        for len in [1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 5] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let sealed = seal(&data);
            assert_eq!(sealed.len(), 16 + len + len.div_ceil(CHUNK) * TAG_LEN, "{len}");
            assert_eq!(open_all(&sealed).unwrap(), data, "{len}");
        }
    }

    #[test]
    fn truncation_reordering_and_appending_are_told_apart() {
        let data: Vec<u8> = (0..3 * CHUNK + 100).map(|i| (i % 253) as u8).collect();
        let sealed = seal(&data);
        let full = CHUNK + TAG_LEN;
        for k in 1..=3 {
            assert_eq!(open_all(&sealed[..16 + k * full]), Err(EvidenceError::Truncated { chunk: k as u64 - 1 }));
        }
        assert_eq!(open_all(&sealed[..16]), Err(EvidenceError::Truncated { chunk: 0 }));
        let mut swapped = sealed.clone();
        let (a, b) = (16..16 + full, 16 + full..16 + 2 * full);
        let first = sealed[a.clone()].to_vec();
        swapped.copy_within(b.clone(), a.start);
        swapped[b].copy_from_slice(&first);
        assert_eq!(open_all(&swapped), Err(EvidenceError::PayloadCorrupt { chunk: 0 }));
        // Appending after a full-size final chunk.
        let exact = seal(&data[..2 * CHUNK]);
        assert_eq!(open_all(&[exact.clone(), vec![0]].concat()), Err(EvidenceError::TrailingData));
        assert_eq!(open_all(&exact).unwrap(), data[..2 * CHUNK]);
    }
}
