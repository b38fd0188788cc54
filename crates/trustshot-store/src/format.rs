//! The sealed store file, without the file: [`seal`] turns the contents into
//! the bytes written to disk, [`unseal`] checks and decodes them. Pure
//! functions, so that the decoder behind the AEAD tag can be fuzzed
//! (fuzz/fuzz_targets/store.rs seals fuzzed plaintexts with a test key).
//!
//! File format (all integers little-endian):
//! ```text
//! "TSENROL2"            8 bytes magic, also the AEAD associated data
//! nonce                 12 bytes, fresh random per write
//! ciphertext || tag     AES-256-GCM of the plaintext below, 16-byte tag
//!
//! plaintext  := generation:u64 count:u32 template*
//! template   := str(id) str(person) created_unix:u64 str(model) dim:u16 f32[dim]
//! str        := len:u16 utf8[len]
//! ```
//! Files written before the generation counter ("TSENROL1", plaintext
//! without `generation`) are read as generation 0 and rewritten as
//! "TSENROL2" by the next change.
//!
//! The writer and the reader apply the same rules ([`check`]): template ids of 1 to
//! [`MAX_TEMPLATE_ID`] bytes, person ids of 1 to [`MAX_PERSON_ID`] bytes, model
//! names of 1 to [`MAX_MODEL_NAME`] bytes,
//! vectors of 1 to [`MAX_DIM`] finite values of unit length. Nothing is
//! written that the reader would refuse.

use crate::{StoreError, MAX_DIM, MAX_PERSON_ID};
use ring::aead::{Aad, LessSafeKey, Nonce, NONCE_LEN};
use zeroize::Zeroizing;

pub const MAGIC: &[u8; 8] = b"TSENROL2";
pub const MAGIC_V1: &[u8; 8] = b"TSENROL1";
const TAG_LEN: usize = 16;
/// Longest model name, in bytes.
pub const MAX_MODEL_NAME: usize = 256;
/// Longest template id, in bytes (the store makes 16 hex digits).
pub const MAX_TEMPLATE_ID: usize = 64;
/// How far a template's length may be from 1 (f32 rounding of a normalised vector).
const UNIT_TOLERANCE: f32 = 1e-3;

/// One enrolled face template. Biometric: `Debug` omits the vector, and the
/// vector is wiped from memory when the template is dropped.
#[derive(Clone, PartialEq)]
pub struct Template {
    pub id: String,
    pub person: String,
    pub created_unix: u64,
    pub model: String,
    /// Unit length (see the module header).
    pub embedding: Zeroizing<Vec<f32>>,
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template").field("id", &self.id).field("model", &self.model).finish_non_exhaustive()
    }
}

/// What a store file holds.
#[derive(Debug, Default, PartialEq)]
pub struct Contents {
    pub generation: u64,
    pub templates: Vec<Template>,
}

/// The rules every template meets, on writing and on reading.
pub fn check(template: &Template) -> Result<(), StoreError> {
    if template.person.is_empty() || template.person.len() > MAX_PERSON_ID {
        return Err(StoreError::PersonId);
    }
    if template.model.is_empty() || template.model.len() > MAX_MODEL_NAME {
        return Err(StoreError::ModelName);
    }
    if template.id.is_empty() || template.id.len() > MAX_TEMPLATE_ID {
        return Err(StoreError::Malformed("template id must be 1 to 64 bytes"));
    }
    let values = template.embedding.as_slice();
    let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
    if values.is_empty() || values.len() > MAX_DIM || (norm - 1.0).abs() >= UNIT_TOLERANCE || !norm.is_finite() {
        return Err(StoreError::NotATemplate);
    }
    Ok(())
}

/// The file's bytes for `contents`, sealed under `key` with `nonce` (fresh
/// random for every write: the caller draws it).
pub fn seal(key: &LessSafeKey, contents: &Contents, nonce: [u8; NONCE_LEN]) -> Result<Vec<u8>, StoreError> {
    contents.templates.iter().try_for_each(check)?;
    // Sealed in place: the plaintext is overwritten by the ciphertext.
    let mut sealed = encode(contents);
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(MAGIC), &mut sealed)
        .map_err(|_| StoreError::Unauthentic)?;
    Ok([MAGIC.as_slice(), &nonce, &sealed].concat())
}

/// Checks the file's magic and tag under `key` and decodes what it holds.
pub fn unseal(key: &LessSafeKey, bytes: &[u8]) -> Result<Contents, StoreError> {
    if bytes.len() < MAGIC.len() + NONCE_LEN + TAG_LEN {
        return Err(StoreError::NotAStore);
    }
    let (magic, rest) = bytes.split_at(MAGIC.len());
    if magic != MAGIC && magic != MAGIC_V1 {
        return Err(StoreError::NotAStore);
    }
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| StoreError::NotAStore)?;
    // Decrypted in place: the plaintext (templates) is wiped when this drops.
    let mut sealed = Zeroizing::new(ciphertext.to_vec());
    let plain = key.open_in_place(nonce, Aad::from(magic), &mut sealed).map_err(|_| StoreError::Unauthentic)?;
    decode(plain, magic == MAGIC)
}

/// The plaintext of `contents` (with the generation: the current format).
pub fn encode(contents: &Contents) -> Vec<u8> {
    let mut out = Vec::new();
    // Lengths fit their fields: `check` bounds every string and vector.
    let put_str = |out: &mut Vec<u8>, s: &str| {
        out.extend_from_slice(&(s.len() as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    };
    out.extend_from_slice(&contents.generation.to_le_bytes());
    out.extend_from_slice(&(contents.templates.len() as u32).to_le_bytes());
    for t in &contents.templates {
        put_str(&mut out, &t.id);
        put_str(&mut out, &t.person);
        out.extend_from_slice(&t.created_unix.to_le_bytes());
        put_str(&mut out, &t.model);
        out.extend_from_slice(&(t.embedding.len() as u16).to_le_bytes());
        for v in t.embedding.iter() {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// Decodes a plaintext; `with_generation` is false for "TSENROL1" files.
pub fn decode(plain: &[u8], with_generation: bool) -> Result<Contents, StoreError> {
    let mut r = Reader(plain);
    let generation = if with_generation { u64::from_le_bytes(r.take()?) } else { 0 };
    let count = u32::from_le_bytes(r.take()?) as usize;
    // Each template takes at least 16 bytes: a count beyond that is corrupt.
    if count > r.0.len() / 16 {
        return Err(StoreError::Malformed("template count exceeds the file"));
    }
    let mut templates = Vec::with_capacity(count);
    for _ in 0..count {
        let id = r.string()?;
        let person = r.string()?;
        let created_unix = u64::from_le_bytes(r.take()?);
        let model = r.string()?;
        let dim = u16::from_le_bytes(r.take()?) as usize;
        let values = (0..dim).map(|_| r.take().map(f32::from_le_bytes)).collect::<Result<Vec<_>, _>>()?;
        let template = Template { id, person, created_unix, model, embedding: Zeroizing::new(values) };
        check(&template).map_err(|_| StoreError::Malformed("a template breaks the store's rules"))?;
        templates.push(template);
    }
    if !r.0.is_empty() {
        return Err(StoreError::Malformed("trailing bytes"));
    }
    Ok(Contents { generation, templates })
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], StoreError> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or(StoreError::Malformed("truncated record"))?;
        self.0 = rest;
        Ok(*head)
    }

    fn string(&mut self) -> Result<String, StoreError> {
        let len = u16::from_le_bytes(self.take()?) as usize;
        let (head, rest) = self.0.split_at_checked(len).ok_or(StoreError::Malformed("truncated string"))?;
        self.0 = rest;
        String::from_utf8(head.to_vec()).map_err(|_| StoreError::Malformed("string is not UTF-8"))
    }
}
