//! Issue 15, defects 4 and 5: the writer and the reader apply the same
//! manifest rules (docs/evidence-format.md §6), and retention arithmetic never
//! wraps. Crafted manifests, signed with the test device key by a test-only
//! sealer, are committed as packages (tests/vectors/crafted/, listed in
//! crafted.json) so that the independent Python opener is held to the same
//! rules (opener/test_opener.py). Set TRUSTSHOT_WRITE_VECTORS=1 to rewrite them.

mod common;

use common::*;
use trustshot_evidence::cbor::{self, Value};
use trustshot_evidence::manifest::{expiry, MAX_TIME};
use trustshot_evidence::{open, EvidenceError, Identity, Kind, Location, Manifest, PhotoRef};

/// The KAT keys (tests/vectors/kat.json): operator 0x01.., device 0x02...
fn operator() -> p256::SecretKey {
    repeated(0x01)
}

fn device() -> p256::SecretKey {
    repeated(0x02)
}

/// A manifest with every optional field, all within the rules.
fn valid() -> Manifest {
    let mut m = Manifest::new(Kind::ProofOfDelivery, "delivery-0001", 1_790_000_000);
    m.sdk = "trustshot/0.1.0".into();
    m.location = Some(Location { lat_e7: 525_200_000, lon_e7: 134_050_000, precision_m: 100 });
    m.expires_at = Some(1_797_776_000);
    m.models = vec![trustshot_evidence::ModelRef { id: "sface".into(), sha256: "00".repeat(32) }];
    m.verdict = Some(trustshot_evidence::Verdict {
        decision: "approve".into(),
        scores: [("face_match".to_string(), 0.7)].into_iter().collect(),
        thresholds: [("face_match".to_string(), 0.4)].into_iter().collect(),
        reasons: vec![],
    });
    m
}

/// `valid()` as CBOR, with `edit` applied to its top-level map.
fn crafted(edit: impl FnOnce(&mut Vec<(Value, Value)>)) -> Vec<u8> {
    let Value::Map(mut entries) = cbor::decode(&valid().to_cbor().unwrap()).unwrap() else { unreachable!() };
    edit(&mut entries);
    cbor::encode(&Value::map(entries))
}

fn set(entries: &mut Vec<(Value, Value)>, key: &str, value: Value) {
    entries.retain(|(k, _)| k.as_text() != Some(key));
    entries.push((Value::text(key), value));
}

/// Edits the nested map (or the first map of the array) under `key`.
fn nested(entries: &mut [(Value, Value)], key: &str, edit: impl FnOnce(&mut Vec<(Value, Value)>)) {
    let (_, v) = entries.iter_mut().find(|(k, _)| k.as_text() == Some(key)).expect("key present");
    let map = match v {
        Value::Array(items) => &mut items[0],
        other => other,
    };
    let Value::Map(inner) = map else { panic!("{key} is not a map") };
    let mut owned = std::mem::take(inner);
    edit(&mut owned);
    *map = Value::map(owned);
}

type Case = (&'static str, &'static str, Vec<u8>, Vec<u8>);

/// (name, what it breaks ("" for a valid edge case), manifest CBOR, photo bytes)
fn cases() -> Vec<Case> {
    let extra = |e: &mut Vec<(Value, Value)>| e.push((Value::text("street"), Value::text("Main St 1")));
    let photo_ref = |length: u64| {
        Value::map(vec![
            (Value::text("sha256"), Value::Bytes(vec![7; 32])),
            (Value::text("length"), Value::Uint(length)),
            (Value::text("media_type"), Value::text("image/jpeg")),
        ])
    };
    vec![
        ("unknown_key_in_location", "location keys", crafted(|e| nested(e, "location", extra)), vec![]),
        ("unknown_key_in_verdict", "verdict keys", crafted(|e| nested(e, "verdict", extra)), vec![]),
        ("unknown_key_in_model", "model keys", crafted(|e| nested(e, "models", extra)), vec![]),
        (
            "unknown_key_in_photo",
            "photo keys",
            crafted(|e| {
                set(e, "photo", photo_ref(1));
                nested(e, "photo", extra)
            }),
            vec![1],
        ),
        ("subject_empty", "subject 1-256 bytes", crafted(|e| set(e, "subject", Value::text(""))), vec![]),
        (
            "subject_257_bytes",
            "subject 1-256 bytes",
            crafted(|e| set(e, "subject", Value::text("s".repeat(257)))),
            vec![],
        ),
        (
            "latitude_out_of_range",
            "latitude",
            crafted(|e| nested(e, "location", |l| set(l, "lat_e7", Value::int(900_000_001)))),
            vec![],
        ),
        (
            "longitude_out_of_range",
            "longitude",
            crafted(|e| nested(e, "location", |l| set(l, "lon_e7", Value::int(-1_800_000_001)))),
            vec![],
        ),
        (
            "precision_zero",
            "precision 1 m to 100 km",
            crafted(|e| nested(e, "location", |l| set(l, "precision_m", Value::Uint(0)))),
            vec![],
        ),
        ("photo_empty", "photo 1 byte to 512 MiB", crafted(|e| set(e, "photo", photo_ref(0))), vec![]),
        ("expires_at_float", "expires_at integer", crafted(|e| set(e, "expires_at", Value::Float(1.8e9))), vec![]),
        (
            "expires_at_before_capture",
            "expires_at >= captured_at",
            crafted(|e| set(e, "expires_at", Value::int(1_789_999_999))),
            vec![],
        ),
        // What the unchecked arithmetic of issue 15 sealed: captured 1000, retention i64::MAX days.
        (
            "expires_at_wrapped",
            "expires_at >= captured_at",
            crafted(|e| {
                set(e, "captured_at", Value::int(1000));
                set(e, "expires_at", Value::int(-85_400))
            }),
            vec![],
        ),
        (
            "captured_at_negative",
            "captured_at 0 to year 9999",
            crafted(|e| set(e, "captured_at", Value::int(-1))),
            vec![],
        ),
        (
            "expires_after_year_9999",
            "expires_at to year 9999",
            crafted(|e| set(e, "expires_at", Value::int(MAX_TIME + 1))),
            vec![],
        ),
        // Valid edges: each reader must open these.
        ("edge_subject_256_bytes", "", crafted(|e| set(e, "subject", Value::text("s".repeat(256)))), vec![]),
        ("edge_expires_at_capture", "", crafted(|e| set(e, "expires_at", Value::int(1_790_000_000))), vec![]),
        (
            "edge_precision_1_at_the_pole",
            "",
            crafted(|e| {
                nested(e, "location", |l| {
                    set(l, "precision_m", Value::Uint(1));
                    set(l, "lat_e7", Value::int(900_000_000))
                })
            }),
            vec![],
        ),
    ]
}

fn vector_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/crafted")
}

fn seal(manifest_cbor: &[u8], photo: &[u8]) -> Vec<u8> {
    let mut random = FixedRandom { file_key: [0x44; 16], nonce: [0x45; 16], ephemerals: [repeated(0x15)].into() };
    seal_raw(manifest_cbor, photo, 1, &operator(), &device(), &mut random)
}

#[test]
fn crafted_manifests_are_refused_by_the_reader_and_edges_open() {
    let identity = Identity::from_pkcs8_pem(&private_pem(&operator())).unwrap();
    let write = std::env::var_os("TRUSTSHOT_WRITE_VECTORS").is_some();
    let mut listing = Vec::new();
    for (name, rule, manifest, photo) in cases() {
        let package = seal(&manifest, &photo);
        let file = vector_dir().join(format!("{name}.age"));
        if write {
            std::fs::create_dir_all(vector_dir()).unwrap();
            std::fs::write(&file, &package).unwrap();
        }
        assert!(std::fs::read(&file).unwrap() == package, "{name}: the committed package differs from its inputs");
        let result = open(&mut &package[..], &identity, &public_of(&device()), &mut Vec::new());
        if rule.is_empty() {
            let opened = result.unwrap_or_else(|e| panic!("{name}: a valid edge was refused: {e}"));
            // What the reader accepts, the writer writes back byte for byte.
            assert_eq!(opened.manifest.to_cbor().unwrap(), manifest, "{name}");
        } else {
            assert!(matches!(result, Err(EvidenceError::MalformedBundle(_))), "{name} ({rule}): {result:?}");
        }
        // The bundle itself seeds the fuzz target behind the MAC (fuzz/fuzz_targets/bundle.rs).
        let signer = DeterministicSigner { key: device(), format: trustshot_evidence::SignatureFormat::Raw };
        let plaintext = bundle(&trustshot_evidence::cose::sign1(&manifest, &signer).unwrap(), &photo, 1);
        let seed = vector_dir().join("../../../fuzz/seeds/bundle").join(format!("{name}.bin"));
        if write {
            std::fs::create_dir_all(seed.parent().unwrap()).unwrap();
            std::fs::write(&seed, &plaintext).unwrap();
        }
        assert!(std::fs::read(&seed).unwrap() == plaintext, "{name}: the committed fuzz seed differs");
        let expect = if rule.is_empty() { "ok" } else { "MalformedBundle" };
        listing
            .push(format!("  {{\"file\": \"crafted/{name}.age\", \"breaks\": \"{rule}\", \"expect\": \"{expect}\"}}"));
    }
    let json = format!(
        "{{\n \"description\": \"Packages whose signed manifests break one rule of docs/evidence-format.md section 6 each (or sit on a valid edge), sealed for the KAT operator key and signed by the KAT device key (kat.json) by a test-only sealer. Every reader must refuse the first kind as MalformedBundle and open the second. Written by crates/trustshot-evidence/tests/manifest_rules.rs.\",\n \"packages\": [\n{}\n ]\n}}\n",
        listing.join(",\n")
    );
    let path = vector_dir().with_file_name("crafted.json");
    if write {
        std::fs::write(&path, &json).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        json,
        "crafted.json is stale: rerun with TRUSTSHOT_WRITE_VECTORS=1"
    );
}

#[test]
fn the_writer_refuses_what_the_reader_refuses() {
    type Edit = fn(&mut Manifest);
    let refused = |edit: Edit| {
        let mut m = valid();
        edit(&mut m);
        m.to_cbor()
    };
    let cases: [(&str, Edit); 8] = [
        ("empty subject", |m| m.subject.clear()),
        ("long subject", |m| m.subject = "s".repeat(257)),
        ("latitude", |m| m.location.as_mut().unwrap().lat_e7 = 900_000_001),
        ("longitude", |m| m.location.as_mut().unwrap().lon_e7 = 1_800_000_001),
        ("precision", |m| m.location.as_mut().unwrap().precision_m = 0),
        ("expiry before capture", |m| m.expires_at = Some(m.captured_at - 1)),
        ("negative capture", |m| m.captured_at = -5),
        ("empty photo", |m| m.photo = Some(PhotoRef { sha256: [0; 32], length: 0, media_type: "image/jpeg".into() })),
    ];
    for (what, edit) in cases {
        assert!(matches!(refused(edit), Err(EvidenceError::Manifest(_))), "{what}");
    }
    assert!(valid().to_cbor().is_ok());
}

#[test]
fn retention_arithmetic_is_checked() {
    assert_eq!(expiry(1000, 1).unwrap(), 1000 + 86_400);
    assert_eq!(expiry(1_790_000_000, 90).unwrap(), 1_790_000_000 + 90 * 86_400);
    for (captured, days) in [(1000, 0), (1000, u32::MAX), (i64::MAX - 10, 1), (MAX_TIME, 1)] {
        assert!(matches!(expiry(captured, days), Err(EvidenceError::Manifest(_))), "{captured} + {days} days");
    }
}
