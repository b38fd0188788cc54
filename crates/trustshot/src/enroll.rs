//! The enrollment store: face templates kept on the device, sealed at rest with
//! AES-256-GCM under a key the host app supplies (from Android Keystore or the
//! iOS keychain), until the user asks for their removal.
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
//! Concurrency. Every operation takes a lock on the sibling file
//! `<store>.lock` (`flock`: exclusive for changes, shared for reads), which
//! serialises handles in one process and processes on one device alike, and
//! re-reads the store under it: there is no in-memory copy that could be stale,
//! so a change made through one handle is never lost by a write through
//! another, and a deleted template never comes back. A change is written to a
//! temporary sibling, synced, and renamed over the old file, so a crash or a
//! full disk leaves either the old store or the new one, never half of one.
//!
//! Rollback. Each write increments the sealed generation counter. A handle
//! remembers the highest generation it has seen (starting from the one the app
//! passes to [`TemplateStore::expect_generation_at_least`], if any) and refuses
//! a file with a lower one ([`StoreError::Rollback`]): an older copy put back
//! over the store (to bring deleted templates back) is refused, not used. A
//! deleted store (no file) reads as empty; the next write continues the counter.
//! A handle opened afresh cannot know how far the counter had got: an app that
//! must detect a copy-back across restarts keeps [`TemplateStore::generation`]
//! where the file's attacker cannot write (e.g. Keystore-backed preferences)
//! and passes it back after opening.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use trustshot_face::Embedding;

const MAGIC: &[u8; 8] = b"TSENROL2";
const MAGIC_V1: &[u8; 8] = b"TSENROL1";
const TAG_LEN: usize = 16;
/// Longest person id, in bytes.
pub const MAX_PERSON_ID: usize = 256;

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
    #[error("store file is older than one this device already used (generation {found}, expected at least {expected}): an earlier copy was put back; refused")]
    Rollback { found: u64, expected: u64 },
    #[error("store I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("randomness unavailable")]
    Random,
    #[error("no template with that id")]
    UnknownTemplate,
    #[error("person id must be 1 to {MAX_PERSON_ID} bytes")]
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

/// What a store file holds.
#[derive(Default)]
struct Contents {
    generation: u64,
    templates: Vec<Template>,
}

/// A handle on one store file. Handles are cheap; any number of them, in any
/// number of processes, may be open on the same file.
pub struct TemplateStore {
    path: PathBuf,
    lock_path: PathBuf,
    key: LessSafeKey,
    rng: SystemRandom,
    /// The highest generation this handle has seen or was told to expect.
    seen: AtomicU64,
}

#[derive(Clone, Copy)]
enum Lock {
    Shared,
    Exclusive,
}

impl TemplateStore {
    /// Opens the store at `path` (an absent file is an empty store). The file
    /// is read once, so a wrong key or a damaged file is reported here.
    pub fn open(path: impl Into<PathBuf>, key: &[u8]) -> Result<TemplateStore, StoreError> {
        let path = path.into();
        if key.len() != 32 {
            return Err(StoreError::KeyLength(key.len()));
        }
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| StoreError::KeyLength(key.len()))?);
        let mut lock_name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        lock_name.push(".lock");
        let lock_path = path.with_file_name(lock_name);
        let store = TemplateStore { path, lock_path, key, rng: SystemRandom::new(), seen: AtomicU64::new(0) };
        store.read(Lock::Shared)?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The generation of the store as this handle last saw it (0 for a store
    /// never written).
    pub fn generation(&self) -> u64 {
        self.seen.load(Ordering::SeqCst)
    }

    /// From now on, refuse store files older than `generation` (see the module
    /// header: how an app detects a copy-back across restarts).
    pub fn expect_generation_at_least(&self, generation: u64) -> Result<(), StoreError> {
        self.seen.fetch_max(generation, Ordering::SeqCst);
        self.read(Lock::Shared).map(|_| ())
    }

    /// All templates, oldest first.
    pub fn list(&self) -> Result<Vec<Template>, StoreError> {
        Ok(self.read(Lock::Shared)?.templates)
    }

    /// The templates of one person.
    pub fn templates_of(&self, person: &str) -> Result<Vec<Template>, StoreError> {
        Ok(self.list()?.into_iter().filter(|t| t.person == person).collect())
    }

    /// The embeddings of one person, all made by `model`; templates of another
    /// model are refused rather than scored against thresholds that do not fit them.
    pub fn embeddings_of(&self, person: &str, model: &str) -> Result<Vec<Embedding>, StoreError> {
        let templates = self.templates_of(person)?;
        if let Some(t) = templates.iter().find(|t| t.model != model) {
            return Err(StoreError::ModelMismatch { stored: t.model.clone(), current: model.into() });
        }
        Ok(templates.into_iter().map(|t| t.embedding).collect())
    }

    /// Adds one template per embedding for `person`; returns the new templates.
    pub fn enroll(&self, person: &str, model: &str, embeddings: Vec<Embedding>) -> Result<Vec<Template>, StoreError> {
        if person.is_empty() || person.len() > MAX_PERSON_ID {
            return Err(StoreError::PersonId);
        }
        let created_unix =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let mut added = Vec::new();
        for embedding in embeddings {
            let mut id = [0u8; 8];
            self.rng.fill(&mut id).map_err(|_| StoreError::Random)?;
            added.push(Template {
                id: trustshot_face::hex(&id),
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

    /// Deletes everything: the store file is removed (the empty lock file stays,
    /// so that handles elsewhere keep locking the same file).
    pub fn delete_all(&self) -> Result<(), StoreError> {
        let _lock = self.lock(Lock::Exclusive)?;
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        sync_dir(&self.path);
        Ok(())
    }

    /// Takes the store's lock; it is released when the returned file is dropped.
    fn lock(&self, mode: Lock) -> Result<File, StoreError> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&self.lock_path)?;
        match mode {
            Lock::Shared => file.lock_shared()?,
            Lock::Exclusive => file.lock()?,
        }
        Ok(file)
    }

    fn read(&self, mode: Lock) -> Result<Contents, StoreError> {
        let _lock = self.lock(mode)?;
        self.read_locked()
    }

    /// Reads the file (the caller holds the lock) and checks its generation.
    fn read_locked(&self) -> Result<Contents, StoreError> {
        let contents = match std::fs::read(&self.path) {
            Ok(bytes) => open_sealed(&self.key, &bytes)?,
            // Deleted (or never written): empty, and the counter goes on.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Contents { generation: self.generation(), templates: Vec::new() }
            }
            Err(e) => return Err(e.into()),
        };
        let expected = self.generation();
        if contents.generation < expected {
            return Err(StoreError::Rollback { found: contents.generation, expected });
        }
        self.seen.fetch_max(contents.generation, Ordering::SeqCst);
        Ok(contents)
    }

    /// Re-reads the store under the exclusive lock, applies `change`, and writes
    /// the result with the next generation.
    fn update(&self, change: impl FnOnce(&mut Vec<Template>) -> Result<(), StoreError>) -> Result<(), StoreError> {
        let _lock = self.lock(Lock::Exclusive)?;
        let mut contents = self.read_locked()?;
        change(&mut contents.templates)?;
        contents.generation = contents.generation.checked_add(1).ok_or(StoreError::Malformed("generation overflow"))?;
        self.write(&contents)?;
        self.seen.fetch_max(contents.generation, Ordering::SeqCst);
        Ok(())
    }

    fn write(&self, contents: &Contents) -> Result<(), StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| StoreError::Random)?;
        // Sealed in place: the plaintext is overwritten by the ciphertext.
        let mut sealed = encode(contents);
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

fn sync_dir(path: &Path) {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes `bytes` to a temporary sibling (owner-only), syncs it, renames it
/// over `path` and syncs the directory.
fn write_atomically(path: &Path, bytes: &[u8], rng: &SystemRandom) -> Result<(), StoreError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut suffix = [0u8; 6];
    rng.fill(&mut suffix).map_err(|_| StoreError::Random)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", trustshot_face::hex(&suffix)));
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_dir(path);
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(StoreError::Io)
}

fn open_sealed(key: &LessSafeKey, bytes: &[u8]) -> Result<Contents, StoreError> {
    if bytes.len() < MAGIC.len() + NONCE_LEN + TAG_LEN {
        return Err(StoreError::NotAStore);
    }
    let magic = &bytes[..MAGIC.len()];
    if magic != MAGIC && magic != MAGIC_V1 {
        return Err(StoreError::NotAStore);
    }
    let nonce: [u8; NONCE_LEN] = bytes[MAGIC.len()..MAGIC.len() + NONCE_LEN].try_into().expect("length checked");
    // Decrypted in place: the plaintext (templates) is wiped when this drops.
    let mut sealed = zeroize::Zeroizing::new(bytes[MAGIC.len() + NONCE_LEN..].to_vec());
    let plain = key
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(magic), &mut sealed)
        .map_err(|_| StoreError::Unauthentic)?;
    let mut r = Reader(plain);
    let generation = if magic == MAGIC { u64::from_le_bytes(r.take()?) } else { 0 };
    Ok(Contents { generation, templates: decode(r)? })
}

fn encode(contents: &Contents) -> Vec<u8> {
    let mut out = Vec::new();
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
        out.extend_from_slice(&(t.embedding.values().len() as u16).to_le_bytes());
        for v in t.embedding.values() {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

fn decode(mut r: Reader) -> Result<Vec<Template>, StoreError> {
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
mod tests;
