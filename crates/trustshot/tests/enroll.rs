//! The enrollment store with real templates: enroll from real photos, verify
//! the same person and a stranger, remove on request, refuse another model's
//! templates.

use trustshot::enroll::{StoreError, TemplateStore};
use trustshot_face::TEMPLATE_KIND;
use trustshot_face::{Decision, Embedding, FaceError};
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
    let enrolled: Vec<_> =
        ["obama2.jpg", "obama3.jpg"].iter().map(|n| analyze(n).embedding.unwrap().values().to_vec()).collect();
    let templates = store.enroll("driver-7", TEMPLATE_KIND, enrolled).unwrap();
    real_templates_seed(&templates);
    drop(store);

    let store = TemplateStore::open(&path, &key).unwrap();
    assert_eq!(store.templates_of("driver-7").unwrap(), templates);
    let embeddings = |person: &str| -> Vec<Embedding> {
        let vectors = store.embeddings_of(person, TEMPLATE_KIND).unwrap();
        vectors.iter().map(|v| Embedding::from_normalized(v.to_vec()).unwrap()).collect()
    };
    let mine = embeddings("driver-7");
    let probe = analyze("obama.jpg");
    assert_eq!(engine().verify_enrolled(&probe, &mine).unwrap().decision, Decision::Match);
    let stranger = analyze("biden.jpg");
    assert_eq!(engine().verify_enrolled(&stranger, &mine).unwrap().decision, Decision::NoMatch);

    // Removal on request: one template, then the person, then nothing left.
    store.delete_template(&templates[0].id).unwrap();
    assert_eq!(store.templates_of("driver-7").unwrap().len(), 1);
    store.delete_person("driver-7").unwrap();
    let none = embeddings("driver-7");
    assert!(matches!(engine().verify_enrolled(&probe, &none), Err(FaceError::NoReference)));

    // Templates made under another embedding recipe (here the BGR-era tag) are
    // refused rather than scored against thresholds that do not fit them.
    store.enroll("driver-8", "sface-2021dec", vec![probe.embedding.as_ref().unwrap().values().to_vec()]).unwrap();
    assert!(matches!(store.embeddings_of("driver-8", TEMPLATE_KIND), Err(StoreError::ModelMismatch { .. })));
    store.delete_all().unwrap();
    assert!(!path.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The store fuzz target's seed made of real templates (SFace on two sample
/// photos): written with TRUSTSHOT_WRITE_VECTORS=1, otherwise checked to
/// decode to templates of today's embedder (the same vectors up to float
/// noise, cosine > 0.999: tract's kernels may round differently per CPU).
fn real_templates_seed(templates: &[trustshot_store::Template]) {
    use trustshot_store::format::{decode, encode, Contents};
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../trustshot-store/fuzz/seeds/store/real_templates.bin");
    if std::env::var_os("TRUSTSHOT_WRITE_VECTORS").is_some() {
        let fixed: Vec<_> = templates
            .iter()
            .enumerate()
            .map(|(i, t)| trustshot_store::Template {
                id: format!("{i:016x}"),
                created_unix: 1_780_000_000,
                ..t.clone()
            })
            .collect();
        std::fs::write(&path, encode(&Contents { generation: 1, templates: fixed })).unwrap();
    }
    let seed = decode(&std::fs::read(&path).unwrap(), true).unwrap();
    assert_eq!(seed.templates.len(), templates.len());
    for (stored, now) in seed.templates.iter().zip(templates) {
        assert_eq!(stored.model, TEMPLATE_KIND);
        let cosine: f32 = stored.embedding.iter().zip(now.embedding.iter()).map(|(a, b)| a * b).sum();
        assert!(cosine > 0.999, "seed template differs from today's embedding: cosine {cosine}");
    }
}
