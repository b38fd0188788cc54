//! [`TemplateStore`]: one handle on a store file.
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

use crate::format::{self, Contents, Template};
use crate::StoreError;
use ring::aead::{LessSafeKey, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use zeroize::Zeroizing;

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
        let key = UnboundKey::new(&AES_256_GCM, key).map_err(|_| StoreError::KeyLength(key.len()))?;
        let mut lock_name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        lock_name.push(".lock");
        let lock_path = path.with_file_name(lock_name);
        let store = TemplateStore {
            path,
            lock_path,
            key: LessSafeKey::new(key),
            rng: SystemRandom::new(),
            seen: AtomicU64::new(0),
        };
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

    /// The vectors of one person, all made by `model`; templates of another
    /// model are refused rather than scored against thresholds that do not fit them.
    pub fn embeddings_of(&self, person: &str, model: &str) -> Result<Vec<Zeroizing<Vec<f32>>>, StoreError> {
        let templates = self.templates_of(person)?;
        if let Some(t) = templates.iter().find(|t| t.model != model) {
            return Err(StoreError::ModelMismatch { stored: t.model.clone(), current: model.into() });
        }
        Ok(templates.into_iter().map(|t| t.embedding).collect())
    }

    /// Adds one template per vector (each of unit length) for `person`, made
    /// by `model`; returns the new templates. Nothing is added if one is refused.
    pub fn enroll(&self, person: &str, model: &str, embeddings: Vec<Vec<f32>>) -> Result<Vec<Template>, StoreError> {
        let created_unix =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let mut added = Vec::new();
        for embedding in embeddings {
            let template = Template {
                id: format!("{:016x}", u64::from_le_bytes(self.random()?)),
                person: person.into(),
                created_unix,
                model: model.into(),
                embedding: Zeroizing::new(embedding),
            };
            format::check(&template)?;
            added.push(template);
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

    fn random<const N: usize>(&self) -> Result<[u8; N], StoreError> {
        let mut bytes = [0u8; N];
        self.rng.fill(&mut bytes).map_err(|_| StoreError::Random)?;
        Ok(bytes)
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
            Ok(bytes) => format::unseal(&self.key, &bytes)?,
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
        let bytes = format::seal(&self.key, &contents, self.random::<NONCE_LEN>()?)?;
        self.write_atomically(&bytes)?;
        self.seen.fetch_max(contents.generation, Ordering::SeqCst);
        Ok(())
    }

    /// Writes `bytes` to a temporary sibling (owner-only), syncs it, renames it
    /// over the store and syncs the directory.
    fn write_atomically(&self, bytes: &[u8]) -> Result<(), StoreError> {
        let dir = parent_dir(&self.path);
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dir.join(format!(".{name}.{:08x}.tmp", u32::from_le_bytes(self.random()?)));
        let result = (|| {
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            sync_dir(&self.path);
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(StoreError::Io)
    }
}

fn parent_dir(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

fn sync_dir(path: &Path) {
    if let Ok(d) = File::open(parent_dir(path)) {
        let _ = d.sync_all();
    }
}
