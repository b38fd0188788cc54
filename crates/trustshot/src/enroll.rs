//! The enrollment store, from its own crate (`trustshot-store`: no inference,
//! so its file decoder is fuzzed on its own): templates sealed at rest,
//! locked across handles and processes, rollback-checked. [`Sdk::enroll`] and
//! [`Sdk::verify_enrolled`] turn its plain vectors into face embeddings and back.
//!
//! [`Sdk::enroll`]: crate::Sdk::enroll
//! [`Sdk::verify_enrolled`]: crate::Sdk::verify_enrolled

pub use trustshot_store::{StoreError, Template, TemplateStore, MAX_PERSON_ID};
