//! EnrollmentStore: face templates sealed at rest under a key the app holds
//! (Android Keystore, iOS keychain), until the user asks for their removal.

use crate::errors::StoreError;
use crate::face::{FaceVerifier, VerificationResult};
use crate::image::ImageInput;
use std::sync::Arc;
use trustshot::enroll::{Template, TemplateStore};

/// The app's 32-byte store key. Called once, when the store is opened; the key
/// is then held only by the AES-GCM key schedule.
#[uniffi::export(with_foreign)]
pub trait StoreKeyProvider: Send + Sync {
    fn store_key(&self) -> Result<Vec<u8>, StoreError>;
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TemplateInfo {
    pub id: String,
    pub person_id: String,
    pub created_unix: u64,
    pub model: String,
}

#[derive(uniffi::Object)]
pub struct EnrollmentStore {
    store: TemplateStore,
}

fn info(t: &Template) -> TemplateInfo {
    TemplateInfo { id: t.id.clone(), person_id: t.person.clone(), created_unix: t.created_unix, model: t.model.clone() }
}

#[uniffi::export]
impl EnrollmentStore {
    /// Opens (or starts) the store file at `path`.
    #[uniffi::constructor]
    pub fn open(path: String, key: Arc<dyn StoreKeyProvider>) -> Result<Arc<Self>, StoreError> {
        // The key is wiped once the AES-GCM key schedule holds it.
        let key = zeroize::Zeroizing::new(key.store_key()?);
        Ok(Arc::new(EnrollmentStore { store: TemplateStore::open(path, &key)? }))
    }

    /// Enrolls `person_id` from one or more reference pictures; every picture
    /// must pass the capture-quality gate, or nothing is enrolled.
    pub fn enroll(
        &self,
        verifier: Arc<FaceVerifier>,
        person_id: String,
        images: Vec<ImageInput>,
    ) -> Result<Vec<TemplateInfo>, StoreError> {
        let frames = verifier.frames(&images)?;
        Ok(verifier.sdk.enroll(&self.store, &person_id, &frames)?.iter().map(info).collect())
    }

    /// Verifies `probe` against the templates of `person_id`.
    pub fn verify(
        &self,
        verifier: Arc<FaceVerifier>,
        person_id: String,
        probe: ImageInput,
    ) -> Result<VerificationResult, StoreError> {
        let v = verifier.sdk.verify_enrolled(&self.store, &person_id, &verifier.frame(&probe)?)?;
        Ok((&v.verdict).into())
    }

    /// Every template, oldest first (read from the file: what other handles
    /// and processes changed is included).
    pub fn list(&self) -> Result<Vec<TemplateInfo>, StoreError> {
        Ok(self.store.list()?.iter().map(info).collect())
    }

    /// The store's generation as this handle last saw it: keep it where the
    /// store file's attacker cannot write, and pass it to
    /// `expectGenerationAtLeast` after the next open to detect a copied-back file.
    pub fn generation(&self) -> u64 {
        self.store.generation()
    }

    /// Refuse store files older than `generation` from now on (typed `Rollback`).
    pub fn expect_generation_at_least(&self, generation: u64) -> Result<(), StoreError> {
        Ok(self.store.expect_generation_at_least(generation)?)
    }

    pub fn delete_template(&self, template_id: String) -> Result<(), StoreError> {
        Ok(self.store.delete_template(&template_id)?)
    }

    /// Deletes every template of `person_id`; returns how many there were.
    pub fn delete_person(&self, person_id: String) -> Result<u32, StoreError> {
        Ok(self.store.delete_person(&person_id)? as u32)
    }

    /// Deletes everything (the file is removed).
    pub fn delete_all(&self) -> Result<(), StoreError> {
        Ok(self.store.delete_all()?)
    }
}
