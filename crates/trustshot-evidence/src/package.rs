//! Evidence packages: seal (device), open (backend, `open` feature) and
//! inspect (anyone, no key).
//!
//! A package is an age v1 file whose recipients are `p256tag` stanzas and whose
//! plaintext is a bundle:
//!
//! ```text
//! "TSEV" | version (1 byte, = 1) | n (u32 big-endian) | COSE_Sign1 (n bytes) | photo (manifest.photo.length bytes)
//! ```
//! The COSE_Sign1 signs the manifest, which holds the photo's SHA-256 and
//! length, so the signature binds the picture. The signature is checked before
//! the photo is read; the photo's hash and length after its last byte. Sealing
//! and opening stream: memory is one 64 KiB chunk whatever the photo size.

#[cfg(feature = "open")]
use crate::age::StreamReader;
use crate::age::{self, Header, StreamWriter};
use crate::cose::{self, Signer};
use crate::error::{EvidenceError, Result};
use crate::hpke::{Encapsulator, EphemeralEcdh};
use crate::keys::{hex, PublicKey};
use crate::manifest::{Manifest, PhotoRef, Policy, MAX_PHOTO_BYTES};
use ring::digest::{Context, SHA256};
use ring::rand::{SecureRandom, SystemRandom};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};

pub const BUNDLE_MAGIC: &[u8; 4] = b"TSEV";
pub const BUNDLE_VERSION: u8 = 1;
pub const MAX_RECIPIENTS: usize = 16;
/// Magic, version and the COSE_Sign1 length.
#[cfg(feature = "open")]
const PREFIX_LEN: usize = 4 + 1 + 4;

/// Everything random in a seal. The system implementation draws from the OS;
/// known-answer tests inject fixed values.
pub trait SealRandomness: Encapsulator {
    fn file_key(&mut self) -> Result<[u8; 16]>;
    fn payload_nonce(&mut self) -> Result<[u8; 16]>;
}

impl SealRandomness for EphemeralEcdh {
    fn file_key(&mut self) -> Result<[u8; 16]> {
        let mut k = [0u8; 16];
        self.0.fill(&mut k).map_err(|_| EvidenceError::Random)?;
        Ok(k)
    }

    fn payload_nonce(&mut self) -> Result<[u8; 16]> {
        self.file_key()
    }
}

/// A readable, rewindable photo source (a file).
pub trait PhotoSource: Read + Seek {}
impl<T: Read + Seek> PhotoSource for T {}

/// Where the photo's bytes are.
pub enum PhotoData<'a> {
    /// In memory: hashed once, encrypted once.
    Bytes(&'a [u8]),
    /// Streamed: read twice (hash, then encrypt), and sealing fails if the
    /// second read differs from the first. Memory stays at one chunk.
    Reader(&'a mut dyn PhotoSource),
}

pub struct PhotoInput<'a> {
    pub media_type: String,
    pub data: PhotoData<'a>,
}

/// What a seal produced.
#[derive(Debug, Clone, PartialEq)]
pub struct SealSummary {
    pub header_bytes: usize,
    pub total_bytes: u64,
    pub manifest: Manifest,
}

/// Counts what passes through.
struct Counted<'a> {
    inner: &'a mut dyn Write,
    count: u64,
}

impl Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Seals `manifest` (and the photo, if any and if `policy` allows it) for
/// `recipients`, signed by `signer`, into `out`.
pub fn seal(
    manifest: Manifest,
    photo: Option<PhotoInput>,
    policy: Policy,
    recipients: &[PublicKey],
    signer: &dyn Signer,
    out: &mut dyn Write,
) -> Result<SealSummary> {
    seal_with(manifest, photo, policy, recipients, signer, out, &mut EphemeralEcdh(SystemRandom::new()))
}

/// [`seal`] with the randomness supplied (tests and known-answer vectors only).
pub fn seal_with(
    mut manifest: Manifest,
    photo: Option<PhotoInput>,
    policy: Policy,
    recipients: &[PublicKey],
    signer: &dyn Signer,
    out: &mut dyn Write,
    random: &mut dyn SealRandomness,
) -> Result<SealSummary> {
    if photo.is_some() {
        policy.check_photo()?;
    }
    policy.check_location(manifest.location.as_ref())?;
    if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
        return Err(EvidenceError::Recipients { max: MAX_RECIPIENTS });
    }
    let mut photo = photo;
    manifest.photo = match &mut photo {
        Some(p) => {
            // Sizes and the media type are checked with the rest of the manifest (Manifest::check).
            let (sha256, length) = match &mut p.data {
                PhotoData::Bytes(bytes) => (digest(bytes), bytes.len() as u64),
                PhotoData::Reader(source) => hash_source(*source)?,
            };
            Some(PhotoRef { sha256, length, media_type: p.media_type.clone() })
        }
        None => None,
    };
    let signed = cose::sign1(&manifest.to_cbor()?, signer)?;

    // Wiped when sealing ends: the device keeps nothing that decrypts what it sealed.
    let file_key = zeroize::Zeroizing::new(random.file_key()?);
    let stanzas = recipients.iter().map(|r| age::wrap_p256tag(random, r, &file_key)).collect::<Result<Vec<_>>>()?;
    let header = Header { mac: age::header_mac(&file_key, &stanzas), stanzas };
    let header_bytes = header.encode();
    let mut counted = Counted { inner: out, count: 0 };
    counted.write_all(&header_bytes)?;
    let nonce = random.payload_nonce()?;
    let mut stream = StreamWriter::new(&file_key, &nonce, &mut counted)?;
    stream.write_all(BUNDLE_MAGIC)?;
    stream.write_all(&[BUNDLE_VERSION])?;
    stream.write_all(&(signed.len() as u32).to_be_bytes())?;
    stream.write_all(&signed)?;
    if let (Some(p), Some(expected)) = (&mut photo, &manifest.photo) {
        match &mut p.data {
            PhotoData::Bytes(bytes) => stream.write_all(bytes)?,
            PhotoData::Reader(source) => {
                source.seek(SeekFrom::Start(0))?;
                let mut hash = Context::new(&SHA256);
                let mut length = 0u64;
                let mut buf = vec![0u8; age::CHUNK];
                loop {
                    let n = source.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    hash.update(&buf[..n]);
                    length += n as u64;
                    stream.write_all(&buf[..n])?;
                }
                if length != expected.length || hash.finish().as_ref() != expected.sha256 {
                    return Err(EvidenceError::Io("the photo changed while it was being sealed".into()));
                }
            }
        }
    }
    stream.finish()?;
    Ok(SealSummary { header_bytes: header_bytes.len(), total_bytes: counted.count, manifest })
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    ring::digest::digest(&SHA256, bytes).as_ref().try_into().expect("32 bytes")
}

/// SHA-256 and length of a streamed photo, stopping past the size limit.
fn hash_source(source: &mut dyn PhotoSource) -> Result<([u8; 32], u64)> {
    source.seek(SeekFrom::Start(0))?;
    let mut hash = Context::new(&SHA256);
    let mut length = 0u64;
    let mut buf = vec![0u8; age::CHUNK];
    loop {
        let n = source.read(&mut buf)?;
        if n == 0 || length > MAX_PHOTO_BYTES {
            break;
        }
        hash.update(&buf[..n]);
        length += n as u64;
    }
    Ok((hash.finish().as_ref().try_into().expect("32 bytes"), length))
}

/// What opening showed.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    pub manifest: Manifest,
    /// Key id of the device key that signed.
    pub signer_key_id: String,
    /// The signing key's attestation chain from the signed header (DER, leaf
    /// first; empty if the device sent none). Opening does not judge it: the
    /// operator checks it against its roots with `attestation::verify`.
    pub attestation_chain: Vec<Vec<u8>>,
}

/// Opens a package: finds the stanza for `identity`, checks the header MAC,
/// decrypts every chunk, verifies the signature with `signer`, and streams the
/// photo into `photo_sink`. Only an `Ok` means the bytes written to the sink
/// are the authentic photo: callers stage them and discard them on error.
#[cfg(feature = "open")]
pub fn open(
    input: &mut dyn Read,
    identity: &age::Identity,
    signer: &PublicKey,
    photo_sink: &mut dyn Write,
) -> Result<Opened> {
    let mut reader = BufReader::new(input);
    let (header, _) = Header::read(&mut reader)?;
    let file_key = zeroize::Zeroizing::new(identity.unwrap(&header.stanzas)?);
    age::verify_header_mac(&file_key, &header)?;
    let mut stream = StreamReader::new(&file_key, reader)?;

    // The bundle prefix and COSE_Sign1 may span chunks: gather them first.
    let mut pending: Vec<u8> = Vec::new();
    let fill = |pending: &mut Vec<u8>, want: usize, stream: &mut StreamReader<_>| -> Result<()> {
        while pending.len() < want {
            match stream.next_chunk()? {
                Some(c) => pending.extend(c),
                None => return Err(EvidenceError::MalformedBundle("bundle ends inside its signed manifest")),
            }
        }
        Ok(())
    };
    fill(&mut pending, PREFIX_LEN, &mut stream)?;
    if &pending[..4] != BUNDLE_MAGIC {
        return Err(EvidenceError::MalformedBundle("bundle magic is not TSEV"));
    }
    if pending[4] != BUNDLE_VERSION {
        return Err(EvidenceError::UnknownVersion(format!("bundle {}", pending[4])));
    }
    let sign1_len = u32::from_be_bytes(pending[5..9].try_into().expect("4 bytes")) as usize;
    if sign1_len > cose::MAX_SIGN1_BYTES {
        return Err(EvidenceError::MalformedBundle("signed manifest is larger than 64 KiB"));
    }
    fill(&mut pending, PREFIX_LEN + sign1_len, &mut stream)?;
    let sign1 = cose::parse_sign1(&pending[PREFIX_LEN..PREFIX_LEN + sign1_len])?;
    sign1.verify(signer)?;
    let manifest = Manifest::from_cbor(&sign1.payload)?;

    let mut rest = pending.split_off(PREFIX_LEN + sign1_len);
    let expected = manifest.photo.clone();
    let mut hash = Context::new(&SHA256);
    let mut length = 0u64;
    loop {
        if !rest.is_empty() {
            length += rest.len() as u64;
            let Some(p) = &expected else {
                return Err(EvidenceError::MalformedBundle("a receipt without a photo carries extra data"));
            };
            if length > p.length {
                return Err(EvidenceError::PhotoMismatch);
            }
            hash.update(&rest);
            photo_sink.write_all(&rest)?;
        }
        match stream.next_chunk()? {
            Some(c) => rest = c,
            None => break,
        }
    }
    if let Some(p) = &expected {
        if length != p.length || hash.finish().as_ref() != p.sha256 {
            return Err(EvidenceError::PhotoMismatch);
        }
    }
    photo_sink.flush()?;
    Ok(Opened { manifest, signer_key_id: hex(&sign1.kid), attestation_chain: sign1.x5chain })
}

/// One recipient stanza as seen without a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanzaInfo {
    pub kind: String,
    /// The 4-byte p256tag tag, hex.
    pub tag: Option<String>,
    /// Key id of the known public key this stanza is addressed to, if any.
    pub key_id: Option<String>,
    pub body_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub version: String,
    pub stanzas: Vec<StanzaInfo>,
    pub header_bytes: usize,
    pub payload_bytes: u64,
    pub chunks: u64,
    /// Bundle size (signed manifest + photo) implied by the payload size.
    pub plaintext_bytes: u64,
}

/// Reads the header and measures the payload, with no key. Stanzas addressed
/// to one of the `known` public keys are labelled with its key id.
pub fn inspect(input: &mut dyn Read, known: &[PublicKey]) -> Result<Inspection> {
    let mut reader = BufReader::new(input);
    let (header, header_bytes) = Header::read(&mut reader)?;
    let mut stanzas = Vec::new();
    for s in &header.stanzas {
        let parsed = age::P256TagStanza::parse(s)?;
        stanzas.push(StanzaInfo {
            kind: s.args[0].clone(),
            tag: parsed.as_ref().map(|p| hex(&p.tag)),
            key_id: parsed.as_ref().and_then(|p| known.iter().find(|k| p.is_for(k)).map(|k| k.key_id())),
            body_bytes: s.body.len(),
        });
    }
    let payload_bytes = std::io::copy(&mut reader, &mut std::io::sink())?;
    let sealed = payload_bytes.saturating_sub(16);
    let chunks = sealed.div_ceil((age::CHUNK + age::TAG_LEN) as u64);
    Ok(Inspection {
        version: "age-encryption.org/v1".into(),
        stanzas,
        header_bytes,
        payload_bytes,
        chunks,
        plaintext_bytes: sealed.saturating_sub(chunks * age::TAG_LEN as u64),
    })
}
