//! The enrollment store: face templates kept on the device, sealed at rest with
//! AES-256-GCM under a key the host app supplies (from Android Keystore or the
//! iOS keychain), until the user asks for their removal.
//!
//! File format (all integers little-endian):
//! ```text
//! "TSENROL1"            8 bytes magic, also the AEAD associated data
//! nonce                 12 bytes, fresh random per write
//! ciphertext || tag     AES-256-GCM of the plaintext below, 16-byte tag
//!
//! plaintext := count:u32 template*
//! template  := str(id) str(person) created_unix:u64 str(model) dim:u16 f32[dim]
//! str       := len:u16 utf8[len]
//! ```
//! Every change rewrites the whole file: written to a temporary file in the
//! same directory, synced, then renamed over the old one, so a crash or a full
//! disk leaves either the old store or the new one, never half of one. The
//! in-memory copy only changes once the new file is in place.

use crate::embed::Embedding;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const MAGIC: &[u8; 8] = b"TSENROL1";
const TAG_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store key must be 32 bytes, got {0}")]
    KeyLength(usize),
    #[error("store file is not a trustshot enrollment store (bad magic or too short)")]
    NotAStore,
    #[error("store could not be opened: wrong key, or the file was altered")]
    Unauthentic,
    #[error("store contents are malformed after decryption: {0}")]
    Malformed(&'static str),
    #[error("store I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("randomness unavailable")]
    Random,
    #[error("no template with that id")]
    UnknownTemplate,
    #[error("person id must be 1 to 256 bytes")]
    PersonId,
    #[error("templates were made by model {stored}, not by {current}: re-enroll")]
    ModelMismatch { stored: String, current: String },
}

/// One enrolled face template. Biometric: `Debug` omits the embedding.
#[derive(Clone, PartialEq)]
pub struct Template {
    pub id: String,
    pub person: String,
    pub created_unix: u64,
    pub model: String,
    pub embedding: Embedding,
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template").field("id", &self.id).field("model", &self.model).finish_non_exhaustive()
    }
}

pub struct TemplateStore {
    path: PathBuf,
    key: LessSafeKey,
    rng: SystemRandom,
    templates: Mutex<Vec<Template>>,
}

impl TemplateStore {
    /// Opens the store at `path` (an absent file is an empty store).
    pub fn open(path: impl Into<PathBuf>, key: &[u8]) -> Result<TemplateStore, StoreError> {
        let path = path.into();
        if key.len() != 32 {
            return Err(StoreError::KeyLength(key.len()));
        }
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| StoreError::KeyLength(key.len()))?);
        let templates = match std::fs::read(&path) {
            Ok(bytes) => decode(&open_sealed(&key, &bytes)?)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        Ok(TemplateStore { path, key, rng: SystemRandom::new(), templates: Mutex::new(templates) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All templates, oldest first.
    pub fn list(&self) -> Vec<Template> {
        self.lock().clone()
    }

    /// The templates of one person.
    pub fn templates_of(&self, person: &str) -> Vec<Template> {
        self.lock().iter().filter(|t| t.person == person).cloned().collect()
    }

    /// Adds one template per embedding for `person`; returns the new templates.
    pub fn enroll(&self, person: &str, model: &str, embeddings: Vec<Embedding>) -> Result<Vec<Template>, StoreError> {
        if person.is_empty() || person.len() > 256 {
            return Err(StoreError::PersonId);
        }
        let created_unix =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let mut added = Vec::new();
        for embedding in embeddings {
            let mut id = [0u8; 8];
            self.rng.fill(&mut id).map_err(|_| StoreError::Random)?;
            added.push(Template {
                id: crate::models::hex(&id),
                person: person.into(),
                created_unix,
                model: model.into(),
                embedding,
            });
        }
        self.update(|all| {
            all.extend(added.iter().cloned());
            Ok(())
        })?;
        Ok(added)
    }

    /// Deletes one template.
    pub fn delete_template(&self, id: &str) -> Result<(), StoreError> {
        self.update(|all| {
            let before = all.len();
            all.retain(|t| t.id != id);
            if all.len() == before {
                Err(StoreError::UnknownTemplate)
            } else {
                Ok(())
            }
        })
    }

    /// Deletes every template of `person`; returns how many there were.
    pub fn delete_person(&self, person: &str) -> Result<usize, StoreError> {
        let mut removed = 0;
        self.update(|all| {
            let before = all.len();
            all.retain(|t| t.person != person);
            removed = before - all.len();
            Ok(())
        })?;
        Ok(removed)
    }

    /// Deletes everything: the file is removed.
    pub fn delete_all(&self) -> Result<(), StoreError> {
        let mut templates = self.lock();
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        templates.clear();
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Template>> {
        // A panic while holding the lock cannot leave the list half-changed:
        // it is only ever replaced whole, after the file is written.
        self.templates.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies `change` to a copy, writes the copy, then keeps it.
    fn update(&self, change: impl FnOnce(&mut Vec<Template>) -> Result<(), StoreError>) -> Result<(), StoreError> {
        let mut templates = self.lock();
        let mut next = templates.clone();
        change(&mut next)?;
        self.write(&next)?;
        *templates = next;
        Ok(())
    }

    fn write(&self, templates: &[Template]) -> Result<(), StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| StoreError::Random)?;
        let mut sealed = encode(templates);
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(MAGIC), &mut sealed)
            .map_err(|_| StoreError::Unauthentic)?;
        let mut bytes = Vec::with_capacity(MAGIC.len() + NONCE_LEN + sealed.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        write_atomically(&self.path, &bytes, &self.rng)
    }
}

/// Writes `bytes` to a temporary sibling, syncs it, renames it over `path` and
/// syncs the directory.
fn write_atomically(path: &Path, bytes: &[u8], rng: &SystemRandom) -> Result<(), StoreError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut suffix = [0u8; 6];
    rng.fill(&mut suffix).map_err(|_| StoreError::Random)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", crate::models::hex(&suffix)));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(StoreError::Io)
}

fn open_sealed(key: &LessSafeKey, bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
    if bytes.len() < MAGIC.len() + NONCE_LEN + TAG_LEN || &bytes[..MAGIC.len()] != MAGIC {
        return Err(StoreError::NotAStore);
    }
    let nonce: [u8; NONCE_LEN] = bytes[MAGIC.len()..MAGIC.len() + NONCE_LEN].try_into().expect("length checked");
    let mut sealed = bytes[MAGIC.len() + NONCE_LEN..].to_vec();
    let plain = key
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(MAGIC), &mut sealed)
        .map_err(|_| StoreError::Unauthentic)?;
    Ok(plain.to_vec())
}

fn encode(templates: &[Template]) -> Vec<u8> {
    let mut out = Vec::new();
    let put_str = |out: &mut Vec<u8>, s: &str| {
        out.extend_from_slice(&(s.len() as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    };
    out.extend_from_slice(&(templates.len() as u32).to_le_bytes());
    for t in templates {
        put_str(&mut out, &t.id);
        put_str(&mut out, &t.person);
        out.extend_from_slice(&t.created_unix.to_le_bytes());
        put_str(&mut out, &t.model);
        out.extend_from_slice(&(t.embedding.values().len() as u16).to_le_bytes());
        for v in t.embedding.values() {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

fn decode(bytes: &[u8]) -> Result<Vec<Template>, StoreError> {
    let mut r = Reader(bytes);
    let count = u32::from_le_bytes(r.take()?) as usize;
    // Each template takes at least 16 bytes: a count beyond that is corrupt.
    if count > bytes.len() / 16 {
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
        let embedding =
            Embedding::from_normalized(values).ok_or(StoreError::Malformed("embedding is not a valid template"))?;
        templates.push(Template { id, person, created_unix, model, embedding });
    }
    if !r.0.is_empty() {
        return Err(StoreError::Malformed("trailing bytes"));
    }
    Ok(templates)
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], StoreError> {
        if self.0.len() < N {
            return Err(StoreError::Malformed("truncated record"));
        }
        let (head, rest) = self.0.split_at(N);
        self.0 = rest;
        Ok(head.try_into().expect("split at N"))
    }

    fn string(&mut self) -> Result<String, StoreError> {
        let len = u16::from_le_bytes(self.take()?) as usize;
        if self.0.len() < len {
            return Err(StoreError::Malformed("truncated string"));
        }
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        String::from_utf8(head.to_vec()).map_err(|_| StoreError::Malformed("string is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emb(seed: f32) -> Embedding {
        Embedding::from_values((0..128).map(|i| (i as f32 * seed).sin()).collect()).unwrap()
    }

    fn temp_path(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("trustshot-store-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("enrollment.bin")
    }

    #[test]
    fn enroll_list_delete_round_trip() {
        let path = temp_path("roundtrip");
        let key = [7u8; 32];
        let store = TemplateStore::open(&path, &key).unwrap();
        let a = store.enroll("driver-1", "sface-2021dec", vec![emb(0.1), emb(0.2)]).unwrap();
        store.enroll("driver-2", "sface-2021dec", vec![emb(0.3)]).unwrap();
        drop(store);

        let store = TemplateStore::open(&path, &key).unwrap();
        assert_eq!(store.list().len(), 3);
        assert_eq!(store.templates_of("driver-1"), a);
        store.delete_template(&a[0].id).unwrap();
        assert!(matches!(store.delete_template(&a[0].id), Err(StoreError::UnknownTemplate)));
        assert_eq!(store.delete_person("driver-1").unwrap(), 1);
        assert_eq!(TemplateStore::open(&path, &key).unwrap().list().len(), 1);
        store.delete_all().unwrap();
        assert!(!path.exists());
        assert!(TemplateStore::open(&path, &key).unwrap().list().is_empty());
        // No temporary files are left behind.
        assert_eq!(std::fs::read_dir(path.parent().unwrap()).unwrap().count(), 0);
    }

    #[test]
    fn wrong_key_and_tampering_are_refused_and_change_nothing() {
        let path = temp_path("tamper");
        let store = TemplateStore::open(&path, &[1u8; 32]).unwrap();
        store.enroll("p", "m", vec![emb(0.5)]).unwrap();
        let original = std::fs::read(&path).unwrap();
        assert!(matches!(TemplateStore::open(&path, &[2u8; 32]), Err(StoreError::Unauthentic)));
        assert!(matches!(TemplateStore::open(&path, &[1u8; 31]), Err(StoreError::KeyLength(31))));
        for i in [0, 9, 25, original.len() - 1] {
            let mut bad = original.clone();
            bad[i] ^= 0x01;
            std::fs::write(&path, &bad).unwrap();
            let err = TemplateStore::open(&path, &[1u8; 32]).err().unwrap();
            assert!(matches!(err, StoreError::Unauthentic | StoreError::NotAStore), "byte {i}: {err:?}");
        }
        std::fs::write(&path, &original[..20]).unwrap();
        assert!(matches!(TemplateStore::open(&path, &[1u8; 32]), Err(StoreError::NotAStore)));
    }

    #[test]
    fn a_failed_write_changes_nothing_and_leaves_no_temporary_file() {
        let path = temp_path("failed-write");
        let store = TemplateStore::open(&path, &[3u8; 32]).unwrap();
        store.enroll("p", "m", vec![emb(0.7)]).unwrap();
        // Put a non-empty directory where the file was: the final rename fails
        // (even for root), after the temporary file was written.
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("keep"), b"x").unwrap();
        assert!(matches!(store.enroll("q", "m", vec![emb(0.9)]), Err(StoreError::Io(_))));
        assert!(matches!(store.delete_person("p"), Err(StoreError::Io(_))));
        assert_eq!(store.list().len(), 1, "the in-memory store must not change when the write fails");
        let names: Vec<_> =
            std::fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![path.file_name().unwrap().to_owned()], "no temporary file may remain");
    }
}
