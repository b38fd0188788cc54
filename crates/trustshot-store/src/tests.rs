//! The store's own tests: round trip, tampering, failed writes, and the
//! concurrency and rollback defects of issue 15 (two handles, two processes,
//! delete-then-stale-write, a copied-back older file), each of which lost or
//! resurrected templates before the store locked and re-read its file.

use crate::format::{encode, Contents, MAGIC, MAGIC_V1};
use crate::{StoreError, Template, TemplateStore, MAX_PERSON_ID};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use std::path::PathBuf;
use zeroize::Zeroizing;

/// A unit vector of 128 values (the length of SFace's embeddings).
fn emb(seed: f32) -> Vec<f32> {
    let values: Vec<f32> = (0..128).map(|i| (i as f32 * seed).sin()).collect();
    let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
    values.into_iter().map(|v| v / norm).collect()
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trustshot-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("enrollment.bin")
}

fn people(store: &TemplateStore) -> Vec<String> {
    let mut p: Vec<String> = store.list().unwrap().into_iter().map(|t| t.person).collect();
    p.sort();
    p.dedup();
    p
}

const KEY: [u8; 32] = [7u8; 32];

#[test]
fn enroll_list_delete_round_trip() {
    let path = temp_path("roundtrip");
    let store = TemplateStore::open(&path, &KEY).unwrap();
    assert_eq!(store.generation(), 0);
    let a = store.enroll("driver-1", "sface-2021dec", vec![emb(0.1), emb(0.2)]).unwrap();
    store.enroll("driver-2", "sface-2021dec", vec![emb(0.3)]).unwrap();
    assert_eq!(store.generation(), 2);
    drop(store);

    let store = TemplateStore::open(&path, &KEY).unwrap();
    assert_eq!(store.generation(), 2);
    assert_eq!(store.list().unwrap().len(), 3);
    assert_eq!(store.templates_of("driver-1").unwrap(), a);
    store.delete_template(&a[0].id).unwrap();
    assert!(matches!(store.delete_template(&a[0].id), Err(StoreError::UnknownTemplate)));
    assert_eq!(store.delete_person("driver-1").unwrap(), 1);
    assert_eq!(TemplateStore::open(&path, &KEY).unwrap().list().unwrap().len(), 1);
    store.delete_all().unwrap();
    assert!(!path.exists());
    assert!(TemplateStore::open(&path, &KEY).unwrap().list().unwrap().is_empty());
    // Only the (empty) lock file is left: no temporary files, no template data.
    let left: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(left, vec![path.with_file_name("enrollment.bin.lock")]);
    assert_eq!(std::fs::metadata(&left[0]).unwrap().len(), 0);
}

#[test]
fn templates_of_another_model_are_refused() {
    let path = temp_path("model");
    let store = TemplateStore::open(&path, &KEY).unwrap();
    store.enroll("p", "old-model", vec![emb(0.4)]).unwrap();
    assert!(matches!(store.embeddings_of("p", "new-model"), Err(StoreError::ModelMismatch { .. })));
    assert_eq!(store.embeddings_of("p", "old-model").unwrap().len(), 1);
    assert!(store.embeddings_of("nobody", "new-model").unwrap().is_empty());
    assert!(matches!(store.enroll("", "m", vec![emb(0.1)]), Err(StoreError::PersonId)));
    assert!(matches!(store.enroll(&"x".repeat(MAX_PERSON_ID + 1), "m", vec![emb(0.1)]), Err(StoreError::PersonId)));
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
        // A handle that was already open refuses the altered file too, and writes nothing.
        assert!(store.enroll("q", "m", vec![emb(0.6)]).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), bad);
    }
    std::fs::write(&path, &original[..20]).unwrap();
    assert!(matches!(TemplateStore::open(&path, &[1u8; 32]), Err(StoreError::NotAStore)));
}

#[test]
fn an_unreadable_store_path_is_an_io_error_and_leaves_no_temporary_file() {
    let path = temp_path("failed-write");
    let store = TemplateStore::open(&path, &[3u8; 32]).unwrap();
    store.enroll("p", "m", vec![emb(0.7)]).unwrap();
    // A non-empty directory where the file was: reading and renaming over it
    // fail (even for root).
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("keep"), b"x").unwrap();
    assert!(matches!(store.enroll("q", "m", vec![emb(0.9)]), Err(StoreError::Io(_))));
    assert!(matches!(store.delete_person("p"), Err(StoreError::Io(_))));
    let mut names: Vec<_> =
        std::fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names, vec!["enrollment.bin", "enrollment.bin.lock"], "no temporary file may remain");
}

#[test]
fn two_handles_on_one_file_lose_nothing_and_resurrect_nothing() {
    let path = temp_path("two-handles");
    let a = TemplateStore::open(&path, &KEY).unwrap();
    let b = TemplateStore::open(&path, &KEY).unwrap();
    a.enroll("alice", "m", vec![emb(0.1)]).unwrap();
    b.enroll("bob", "m", vec![emb(0.2)]).unwrap();
    assert_eq!(people(&a), vec!["alice", "bob"], "B's write kept A's enrollment");
    a.delete_person("alice").unwrap();
    // B last saw alice; its next change must not bring her back.
    b.enroll("carol", "m", vec![emb(0.3)]).unwrap();
    assert_eq!(people(&TemplateStore::open(&path, &KEY).unwrap()), vec!["bob", "carol"]);
    // B reads what A deleted as deleted.
    assert!(b.templates_of("alice").unwrap().is_empty());
}

#[test]
fn a_stale_handle_after_delete_all_writes_only_what_it_adds() {
    let path = temp_path("delete-all");
    let a = TemplateStore::open(&path, &KEY).unwrap();
    let stale = TemplateStore::open(&path, &KEY).unwrap();
    a.enroll("alice", "m", vec![emb(0.1), emb(0.2)]).unwrap();
    assert_eq!(people(&stale), vec!["alice"]);
    a.delete_all().unwrap();
    stale.enroll("dave", "m", vec![emb(0.4)]).unwrap();
    let fresh = TemplateStore::open(&path, &KEY).unwrap();
    assert_eq!(people(&fresh), vec!["dave"], "deleted templates came back");
    // The counter went on through the deletion.
    assert!(fresh.generation() > 1, "{}", fresh.generation());
}

#[test]
fn an_older_copy_put_back_is_refused() {
    let path = temp_path("rollback");
    let store = TemplateStore::open(&path, &KEY).unwrap();
    store.enroll("alice", "m", vec![emb(0.1)]).unwrap();
    let with_alice = std::fs::read(&path).unwrap();
    let remembered = store.generation();
    store.delete_person("alice").unwrap();
    let after_deletion = store.generation();
    // A thief (or a backup restore) puts the file with alice back.
    std::fs::write(&path, &with_alice).unwrap();
    assert!(
        matches!(store.list(), Err(StoreError::Rollback { found, expected }) if found == remembered && expected == after_deletion)
    );
    assert!(matches!(store.enroll("eve", "m", vec![emb(0.5)]), Err(StoreError::Rollback { .. })));
    assert_eq!(std::fs::read(&path).unwrap(), with_alice, "nothing written over the refused file");
    // A handle opened afresh cannot tell, unless the app passes the generation it kept.
    let fresh = TemplateStore::open(&path, &KEY).unwrap();
    assert_eq!(fresh.generation(), remembered);
    assert!(matches!(fresh.expect_generation_at_least(after_deletion), Err(StoreError::Rollback { .. })));
    assert!(matches!(fresh.templates_of("alice"), Err(StoreError::Rollback { .. })));
}

#[test]
fn a_store_written_before_the_generation_counter_is_read_and_upgraded() {
    let path = temp_path("v1");
    // A v1 file: magic TSENROL1, plaintext `count:u32 template*` (no generation).
    let t = Template {
        id: "00".into(),
        person: "old".into(),
        created_unix: 1,
        model: "m".into(),
        embedding: Zeroizing::new(emb(0.3)),
    };
    let mut plain = encode(&Contents { generation: 0, templates: vec![t.clone()] })[8..].to_vec();
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &KEY).unwrap());
    let nonce = [9u8; NONCE_LEN];
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(MAGIC_V1), &mut plain).unwrap();
    std::fs::write(&path, [MAGIC_V1.as_slice(), &nonce, &plain].concat()).unwrap();

    let store = TemplateStore::open(&path, &KEY).unwrap();
    assert_eq!(store.generation(), 0);
    assert_eq!(store.list().unwrap(), vec![t]);
    store.enroll("new", "m", vec![emb(0.8)]).unwrap();
    assert_eq!(&std::fs::read(&path).unwrap()[..8], MAGIC);
    assert_eq!(people(&TemplateStore::open(&path, &KEY).unwrap()), vec!["new", "old"]);
}

#[test]
fn threads_with_their_own_handles_lose_no_enrollment() {
    let path = temp_path("threads");
    std::thread::scope(|s| {
        for t in 0..4 {
            let path = &path;
            s.spawn(move || {
                let store = TemplateStore::open(path, &KEY).unwrap();
                for i in 0..20 {
                    store.enroll(&format!("t{t}-{i}"), "m", vec![emb(0.01 * (i + 1) as f32)]).unwrap();
                }
            });
        }
    });
    assert_eq!(people(&TemplateStore::open(&path, &KEY).unwrap()).len(), 80);
}

/// Run as a child process by the next test: enrolls 40 people in the store
/// named by the environment, then exits. Does nothing in a normal test run.
#[test]
fn child_process_enroller() {
    let (Some(path), Some(tag)) = (std::env::var_os("TRUSTSHOT_STORE_CHILD"), std::env::var_os("TRUSTSHOT_STORE_TAG"))
    else {
        return;
    };
    let store = TemplateStore::open(PathBuf::from(path), &KEY).unwrap();
    for i in 0..40 {
        store.enroll(&format!("{}-{i}", tag.to_string_lossy()), "m", vec![emb(0.01 * (i + 1) as f32)]).unwrap();
    }
}

#[test]
fn two_processes_enrolling_at_once_lose_no_enrollment() {
    let path = temp_path("processes");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["a", "b"]
        .iter()
        .map(|tag| {
            std::process::Command::new(&exe)
                .args(["--exact", "tests::child_process_enroller", "--test-threads=1", "--quiet"])
                .env("TRUSTSHOT_STORE_CHILD", &path)
                .env("TRUSTSHOT_STORE_TAG", tag)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let store = TemplateStore::open(&path, &KEY).unwrap();
    let all = people(&store);
    assert_eq!(all.len(), 80, "both processes' enrollments must be there");
    assert_eq!(store.generation(), 80);
}

#[test]
fn the_writer_refuses_what_the_reader_would_refuse_and_writes_nothing() {
    let path = temp_path("writer-rules");
    let store = TemplateStore::open(&path, &KEY).unwrap();
    store.enroll("p", "m", vec![emb(0.1)]).unwrap();
    let before = std::fs::read(&path).unwrap();
    let not_unit: Vec<f32> = emb(0.2).iter().map(|v| v * 2.0).collect();
    let cases: [(&str, &str, Vec<Vec<f32>>); 5] = [
        ("p", "m", vec![emb(0.3), not_unit]),
        ("p", "m", vec![vec![]]),
        ("p", "m", vec![vec![f32::NAN; 4]]),
        // Before the rules, a name over 65,535 bytes had its length cut to 16
        // bits on writing: the file could no longer be read, every template lost.
        ("p", &"m".repeat(70_000), vec![emb(0.4)]),
        ("p", "", vec![emb(0.4)]),
    ];
    for (person, model, embeddings) in cases {
        let err = store.enroll(person, model, embeddings).unwrap_err();
        assert!(matches!(err, StoreError::NotATemplate | StoreError::ModelName), "{err:?}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "nothing may be written");
    }
    assert_eq!(store.list().unwrap().len(), 1);
}

#[test]
fn a_sealed_plaintext_that_breaks_the_rules_is_malformed() {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &KEY).unwrap());
    let seal = |plain: &[u8]| {
        let mut sealed = plain.to_vec();
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key([5; NONCE_LEN]), Aad::from(MAGIC), &mut sealed)
            .unwrap();
        [MAGIC.as_slice(), &[5; NONCE_LEN], &sealed].concat()
    };
    let template = |embedding: Vec<f32>| Template {
        id: "0123456789abcdef".into(),
        person: "p".into(),
        created_unix: 1,
        model: "m".into(),
        embedding: Zeroizing::new(embedding),
    };
    let good = Contents { generation: 3, templates: vec![template(emb(0.5))] };
    assert_eq!(crate::format::unseal(&key, &seal(&encode(&good))).unwrap(), good);
    let twice: Vec<f32> = emb(0.5).iter().map(|v| v * 2.0).collect();
    let bad = encode(&Contents { generation: 3, templates: vec![template(twice)] });
    assert!(matches!(crate::format::unseal(&key, &seal(&bad)), Err(StoreError::Malformed(_))));
    let mut trailing = encode(&good);
    trailing.push(0);
    assert!(matches!(crate::format::unseal(&key, &seal(&trailing)), Err(StoreError::Malformed("trailing bytes"))));
    let mut huge_count = encode(&good);
    huge_count[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(crate::format::unseal(&key, &seal(&huge_count)), Err(StoreError::Malformed(_))));
}

/// A unit vector computed exactly (signs of a fixed magnitude), so that the
/// committed seeds are the same bytes on every machine.
fn exact_unit(dim: usize, pattern: usize) -> Vec<f32> {
    let a = (dim as f32).sqrt().recip();
    (0..dim).map(|i| if (i * pattern).is_multiple_of(3) { -a } else { a }).collect()
}

/// The fuzz target's seeds (fuzz/seeds/store): plaintexts of store files, in
/// the current and the v1 format. Rewritten with TRUSTSHOT_WRITE_VECTORS=1;
/// otherwise the committed files must be what this test makes.
#[test]
fn committed_fuzz_seeds_are_store_plaintexts() {
    let template = |n: usize, person: &str, dim: usize| Template {
        id: format!("{n:016x}"),
        person: person.into(),
        created_unix: 1_780_000_000 + n as u64,
        model: "sface-2021dec-rgb".into(),
        embedding: Zeroizing::new(exact_unit(dim, n + 1)),
    };
    let seeds = [
        ("empty.bin", Contents::default(), true),
        ("one_template.bin", Contents { generation: 1, templates: vec![template(1, "driver-1", 128)] }, true),
        (
            "three_templates_two_people.bin",
            Contents {
                generation: 7,
                templates: vec![
                    template(1, "driver-1", 128),
                    template(2, "driver-1", 128),
                    template(3, "seller-9", 128),
                ],
            },
            true,
        ),
        ("short_vector.bin", Contents { generation: 2, templates: vec![template(4, "p", 3)] }, true),
        ("v1_one_template.bin", Contents { generation: 0, templates: vec![template(5, "old", 128)] }, false),
    ];
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/store");
    let write = std::env::var_os("TRUSTSHOT_WRITE_VECTORS").is_some();
    for (name, contents, current) in seeds {
        let mut plain = encode(&contents);
        if !current {
            plain.drain(..8);
        }
        assert_eq!(crate::format::decode(&plain, current).unwrap(), contents, "{name}");
        if write {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(name), &plain).unwrap();
        }
        assert!(std::fs::read(dir.join(name)).unwrap() == plain, "{name}: the committed fuzz seed differs");
    }
}
