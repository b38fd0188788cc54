//! The enrollment store with real templates: enroll from real photos, verify
//! the same person and a stranger, remove on request, refuse another model's
//! templates.

use trustshot::enroll::{StoreError, TemplateStore};
use trustshot_face::TEMPLATE_KIND;
use trustshot_face::{Decision, FaceError};
use trustshot_testkit::*;

#[test]
fn enrollment_store_round_trip_with_real_templates() {
    let dir = std::env::temp_dir().join(format!("trustshot-enroll-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("templates.bin");
    let key = [42u8; 32];
    let analyze = |name: &str| engine().analyze(&sample(name)).unwrap();
    let store = TemplateStore::open(&path, &key).unwrap();
    let enrolled: Vec<_> = ["obama2.jpg", "obama3.jpg"].iter().map(|n| analyze(n).embedding.unwrap()).collect();
    let templates = store.enroll("driver-7", TEMPLATE_KIND, enrolled).unwrap();
    drop(store);

    let store = TemplateStore::open(&path, &key).unwrap();
    assert_eq!(store.templates_of("driver-7").unwrap(), templates);
    let mine = store.embeddings_of("driver-7", TEMPLATE_KIND).unwrap();
    let probe = analyze("obama.jpg");
    assert_eq!(engine().verify_enrolled(&probe, &mine).unwrap().decision, Decision::Match);
    let stranger = analyze("biden.jpg");
    assert_eq!(engine().verify_enrolled(&stranger, &mine).unwrap().decision, Decision::NoMatch);

    // Removal on request: one template, then the person, then nothing left.
    store.delete_template(&templates[0].id).unwrap();
    assert_eq!(store.templates_of("driver-7").unwrap().len(), 1);
    store.delete_person("driver-7").unwrap();
    let none = store.embeddings_of("driver-7", TEMPLATE_KIND).unwrap();
    assert!(matches!(engine().verify_enrolled(&probe, &none), Err(FaceError::NoReference)));

    // Templates made under another embedding recipe (here the BGR-era tag) are
    // refused rather than scored against thresholds that do not fit them.
    store.enroll("driver-8", "sface-2021dec", vec![probe.embedding.clone().unwrap()]).unwrap();
    assert!(matches!(store.embeddings_of("driver-8", TEMPLATE_KIND), Err(StoreError::ModelMismatch { .. })));
    store.delete_all().unwrap();
    assert!(!path.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
