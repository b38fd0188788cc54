//! The callback interfaces (the app's device signer and store key), called from
//! several threads at once, as phones do; and their failures mapped to errors.

use crate::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A signer as an app would write it, here over the SDK's software keys.
struct CountingSigner {
    inner: trustshot_evidence::SoftwareSigner,
    public_pem: String,
    calls: AtomicUsize,
}

impl DeviceSigner for CountingSigner {
    fn public_key_pem(&self) -> Result<String, EvidenceError> {
        Ok(self.public_pem.clone())
    }

    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, EvidenceError> {
        use trustshot_evidence::Signer;
        self.calls.fetch_add(1, Ordering::SeqCst);
        // Hand back DER, as Android and iOS keystores do.
        let raw: [u8; 64] = self.inner.sign(&message).unwrap().try_into().unwrap();
        Ok(trustshot_evidence::cose::raw_to_der(&raw))
    }

    fn signature_format(&self) -> SignatureFormat {
        SignatureFormat::Der
    }

    fn attestation_chain(&self) -> Result<Vec<Vec<u8>>, EvidenceError> {
        Ok(Vec::new())
    }
}

fn request(id: String) -> EvidenceRequest {
    EvidenceRequest {
        kind: EvidenceKind::ProofOfDelivery,
        subject_id: id,
        captured_at_unix: 1_790_000_000,
        location: None,
        retention_days: 30,
        verdict: None,
    }
}

#[test]
fn one_signer_serves_eight_threads() {
    let device = generate_key_pair().unwrap();
    let operator = generate_key_pair().unwrap();
    let signer = Arc::new(CountingSigner {
        inner: trustshot_evidence::SoftwareSigner::from_pkcs8_pem(&device.private_key_pem).unwrap(),
        public_pem: device.public_key_pem.clone(),
        calls: AtomicUsize::new(0),
    });
    std::thread::scope(|s| {
        for t in 0..8 {
            let (signer, operator, device) = (signer.clone(), operator.clone(), device.clone());
            s.spawn(move || {
                for i in 0..5 {
                    let id = format!("D-{t}-{i}");
                    let sealed = seal_receipt(
                        request(id.clone()),
                        DeliveryPolicy::default(),
                        vec![operator.public_key_pem.clone()],
                        signer.clone(),
                    )
                    .unwrap();
                    let opened =
                        open_package(sealed.package, operator.private_key_pem.clone(), device.public_key_pem.clone())
                            .unwrap();
                    assert!(opened.manifest_json.contains(&format!("\"subject\":\"{id}\"")));
                }
            });
        }
    });
    assert_eq!(signer.calls.load(Ordering::SeqCst), 40);
}

struct FailingSigner;

impl DeviceSigner for FailingSigner {
    fn public_key_pem(&self) -> Result<String, EvidenceError> {
        Ok(generate_key_pair().unwrap().public_key_pem)
    }

    fn sign(&self, _: Vec<u8>) -> Result<Vec<u8>, EvidenceError> {
        Err(EvidenceError::Signer { detail: "user cancelled the biometric prompt".into() })
    }

    fn signature_format(&self) -> SignatureFormat {
        SignatureFormat::Der
    }

    fn attestation_chain(&self) -> Result<Vec<Vec<u8>>, EvidenceError> {
        Ok(Vec::new())
    }
}

#[test]
fn a_failing_signer_is_a_signer_error() {
    let operator = generate_key_pair().unwrap();
    let err = seal_receipt(
        request("D".into()),
        DeliveryPolicy::default(),
        vec![operator.public_key_pem],
        Arc::new(FailingSigner),
    )
    .unwrap_err();
    assert!(matches!(err, EvidenceError::Signer { .. }), "{err:?}");
}

struct Key(Vec<u8>);

impl StoreKeyProvider for Key {
    fn store_key(&self) -> Result<Vec<u8>, StoreError> {
        Ok(self.0.clone())
    }
}

#[test]
fn store_keys_are_checked_and_stores_open_from_many_threads() {
    let dir = std::env::temp_dir().join(format!("trustshot-ffi-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    assert!(matches!(
        EnrollmentStore::open(dir.join("a").display().to_string(), Arc::new(Key(vec![1; 16]))),
        Err(StoreError::Key { .. })
    ));
    std::thread::scope(|s| {
        for t in 0..8 {
            let path = dir.join(format!("store-{t}")).display().to_string();
            s.spawn(move || {
                let store = EnrollmentStore::open(path, Arc::new(Key(vec![t as u8; 32]))).unwrap();
                assert!(store.list().unwrap().is_empty());
                store.delete_all().unwrap();
            });
        }
    });
    std::fs::remove_dir_all(&dir).unwrap();
}
