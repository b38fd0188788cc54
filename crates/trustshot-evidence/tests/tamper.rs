//! Altered, truncated, reordered and misaddressed packages: every one is
//! refused, each way with its own typed error.

mod common;

use common::*;
use std::io::Cursor;
use trustshot_evidence::age::{Header, CHUNK, TAG_LEN};
use trustshot_evidence::package::{seal_with, PhotoData, PhotoInput};
use trustshot_evidence::{inspect, open, EvidenceError, Identity, Kind, Manifest, Policy, SignatureFormat};

struct Fixture {
    operator: p256::SecretKey,
    device: p256::SecretKey,
}

fn fixture() -> Fixture {
    Fixture { operator: repeated(0x21), device: repeated(0x22) }
}

fn manifest() -> Manifest {
    Manifest::new(Kind::ProofOfDelivery, "delivery-77", 1_790_000_000)
}

fn random() -> FixedRandom {
    FixedRandom { file_key: [5; 16], nonce: [6; 16], ephemerals: [repeated(0x31), repeated(0x32)].into() }
}

fn seal_photo(f: &Fixture, photo: &[u8], signer_key: &p256::SecretKey) -> Vec<u8> {
    let mut out = Vec::new();
    let signer = DeterministicSigner { key: signer_key.clone(), format: SignatureFormat::Raw };
    seal_with(
        manifest(),
        Some(PhotoInput { media_type: "image/jpeg".into(), data: PhotoData::Reader(&mut Cursor::new(photo.to_vec())) }),
        Policy::default(),
        &[public_of(&f.operator)],
        &signer,
        &mut out,
        &mut random(),
    )
    .unwrap();
    out
}

fn open_with(f: &Fixture, package: &[u8]) -> Result<(Manifest, Vec<u8>), EvidenceError> {
    let identity = Identity::from_pkcs8_pem(&private_pem(&f.operator)).unwrap();
    let mut photo = Vec::new();
    let opened = open(&mut &package[..], &identity, &public_of(&f.device), &mut photo)?;
    Ok((opened.manifest, photo))
}

#[test]
fn every_single_bit_flip_is_refused() {
    let f = fixture();
    let photo: Vec<u8> = (0..100u8).collect();
    let package = seal_photo(&f, &photo, &f.device);
    assert_eq!(open_with(&f, &package).unwrap().1, photo);
    let mut kinds = std::collections::BTreeMap::new();
    for bit in 0..package.len() * 8 {
        let mut bad = package.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        match open_with(&f, &bad) {
            Ok(_) => panic!("flipping bit {bit} (byte {}) went unnoticed", bit / 8),
            Err(e) => {
                *kinds.entry(format!("{e:?}").split([' ', '(', '{']).next().unwrap().to_string()).or_insert(0) += 1
            }
        }
    }
    eprintln!("{} bit flips of a {}-byte package, all refused: {kinds:?}", package.len() * 8, package.len());
}

#[test]
fn truncation_at_every_chunk_boundary_is_truncated() {
    let f = fixture();
    let photo: Vec<u8> = (0..3 * CHUNK + 1000).map(|i| (i % 241) as u8).collect();
    let package = seal_photo(&f, &photo, &f.device);
    let (_, header_len) = Header::read(&mut &package[..]).unwrap();
    let chunks_start = header_len + 16;
    let full = CHUNK + TAG_LEN;
    let mut boundaries = 0;
    for k in 0.. {
        let cut = chunks_start + k * full;
        if cut >= package.len() {
            break;
        }
        let expected = if k == 0 {
            EvidenceError::Truncated { chunk: 0 }
        } else {
            EvidenceError::Truncated { chunk: k as u64 - 1 }
        };
        assert_eq!(open_with(&f, &package[..cut]).unwrap_err(), expected, "cut after {k} chunks");
        boundaries += 1;
    }
    assert_eq!(boundaries, 4);
    // Cut inside a chunk: that chunk cannot authenticate.
    assert!(matches!(open_with(&f, &package[..package.len() - 1]), Err(EvidenceError::PayloadCorrupt { .. })));
    // Cut inside the header.
    assert!(matches!(open_with(&f, &package[..header_len - 5]), Err(EvidenceError::MalformedHeader(_))));
}

#[test]
fn swapped_chunks_and_appended_data_are_refused() {
    let f = fixture();
    let photo: Vec<u8> = (0..2 * CHUNK + 10).map(|i| (i % 239) as u8).collect();
    let package = seal_photo(&f, &photo, &f.device);
    let (_, header_len) = Header::read(&mut &package[..]).unwrap();
    let (a, full) = (header_len + 16, CHUNK + TAG_LEN);
    let mut swapped = package.clone();
    swapped[a..a + full].copy_from_slice(&package[a + full..a + 2 * full]);
    swapped[a + full..a + 2 * full].copy_from_slice(&package[a..a + full]);
    assert_eq!(open_with(&f, &swapped).unwrap_err(), EvidenceError::PayloadCorrupt { chunk: 0 });
    let appended = [package.clone(), b"more".to_vec()].concat();
    assert!(matches!(
        open_with(&f, &appended),
        Err(EvidenceError::PayloadCorrupt { .. } | EvidenceError::TrailingData)
    ));
}

#[test]
fn wrong_recipient_and_other_device_are_distinct_errors() {
    let f = fixture();
    let package = seal_photo(&f, b"photo", &f.device);
    // Not addressed to this operator key.
    let stranger = Fixture { operator: repeated(0x41), device: f.device.clone() };
    assert_eq!(open_with(&stranger, &package).unwrap_err(), EvidenceError::NoMatchingRecipient);
    // Signed by another device key (honest about its key id).
    let other = seal_photo(&f, b"photo", &repeated(0x23));
    assert!(matches!(open_with(&f, &other).unwrap_err(), EvidenceError::SignerMismatch { .. }));
    // Signed by another key that claims the expected device's key id.
    struct Impostor(DeterministicSigner, trustshot_evidence::PublicKey);
    impl trustshot_evidence::Signer for Impostor {
        fn public_key(&self) -> trustshot_evidence::Result<trustshot_evidence::PublicKey> {
            Ok(self.1)
        }
        fn sign(&self, m: &[u8]) -> trustshot_evidence::Result<Vec<u8>> {
            self.0.sign(m)
        }
        fn signature_format(&self) -> SignatureFormat {
            SignatureFormat::Raw
        }
    }
    let impostor =
        Impostor(DeterministicSigner { key: repeated(0x23), format: SignatureFormat::Raw }, public_of(&f.device));
    // The sealer checks its signer's signature once (issue 15): a keystore
    // that signs with another key than it claims is refused at the phone.
    let mut out = Vec::new();
    let refused =
        seal_with(manifest(), None, Policy::default(), &[public_of(&f.operator)], &impostor, &mut out, &mut random());
    assert!(matches!(refused, Err(EvidenceError::Signer(_))), "{refused:?}");
    // A package forged by hand that way is refused by the reader.
    use trustshot_evidence::cbor::{encode, Value};
    let kid = ring::digest::digest(&ring::digest::SHA256, &public_of(&f.device).compressed()).as_ref()[..8].to_vec();
    let protected = encode(&Value::map(vec![(Value::Uint(1), Value::int(-7)), (Value::Uint(4), Value::Bytes(kid))]));
    let payload = manifest().to_cbor().unwrap();
    let to_be_signed = encode(&Value::Array(vec![
        Value::text("Signature1"),
        Value::Bytes(protected.clone()),
        Value::Bytes(vec![]),
        Value::Bytes(payload.clone()),
    ]));
    let signature = trustshot_evidence::Signer::sign(&impostor.0, &to_be_signed).unwrap();
    let sign1 = encode(&Value::Tag(
        18,
        Box::new(Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(vec![]),
            Value::Bytes(payload),
            Value::Bytes(signature),
        ])),
    ));
    let forged = seal_sign1(&sign1, &f.operator, &mut random());
    assert_eq!(open_with(&f, &forged).unwrap_err(), EvidenceError::BadSignature);
}

#[test]
fn unknown_versions_are_named() {
    let f = fixture();
    let package = seal_photo(&f, b"photo", &f.device);
    let v2 = [b"age-encryption.org/v2".to_vec(), package[b"age-encryption.org/v1".len()..].to_vec()].concat();
    assert_eq!(open_with(&f, &v2).unwrap_err(), EvidenceError::UnknownVersion("v2".into()));
    assert_eq!(open_with(&f, b"PK\x03\x04 not age\n").unwrap_err(), EvidenceError::NotAge);

    // A well-sealed age file whose bundle claims version 2.
    let out = seal_raw(&manifest().to_cbor().unwrap(), b"", 2, &f.operator, &f.device, &mut random());
    assert_eq!(open_with(&f, &out).unwrap_err(), EvidenceError::UnknownVersion("bundle 2".into()));
}

/// Issue 15, defect 6: an unknown version line of 60 KiB is quoted in the
/// error (and so in logs and the FFI detail) as 64 characters at most.
#[test]
fn an_unknown_version_quotes_a_bounded_excerpt_of_the_input() {
    let f = fixture();
    let package = seal_photo(&f, b"photo", &f.device);
    let long =
        [b"age-encryption.org/v2".to_vec(), vec![b'x'; 60 << 10], package[b"age-encryption.org/v1".len()..].to_vec()]
            .concat();
    match open_with(&f, &long).unwrap_err() {
        EvidenceError::UnknownVersion(quoted) => {
            assert_eq!(quoted, format!("v2{}...", "x".repeat(62)));
            assert!(EvidenceError::UnknownVersion(quoted).to_string().len() < 200);
        }
        other => panic!("expected UnknownVersion, got {other:?}"),
    }
    // Control characters are escaped, not echoed.
    let control = [
        b"age-encryption.org/".to_vec(),
        vec![0x1b, b'[', b'2', b'J'],
        package[b"age-encryption.org/v1".len()..].to_vec(),
    ]
    .concat();
    match open_with(&f, &control).unwrap_err() {
        EvidenceError::UnknownVersion(quoted) => assert_eq!(quoted, "\\u{1b}[2J"),
        other => panic!("expected UnknownVersion, got {other:?}"),
    }
}

#[test]
fn policy_refuses_photos_but_not_receipts() {
    let f = fixture();
    let signer = DeterministicSigner { key: f.device.clone(), format: SignatureFormat::Raw };
    for policy in [
        Policy { photo_opt_out: true, ..Policy::default() },
        Policy { confidential_address: true, ..Policy::default() },
    ] {
        let mut out = Vec::new();
        let err = seal_with(
            manifest(),
            Some(PhotoInput { media_type: "image/jpeg".into(), data: PhotoData::Bytes(b"photo") }),
            policy,
            &[public_of(&f.operator)],
            &signer,
            &mut out,
            &mut random(),
        )
        .unwrap_err();
        assert!(matches!(err, EvidenceError::PhotoNotAllowed(_)), "{err:?}");
        assert!(out.is_empty(), "nothing is written when the policy refuses");
        let mut receipt = Vec::new();
        seal_with(manifest(), None, policy, &[public_of(&f.operator)], &signer, &mut receipt, &mut random()).unwrap();
        let (m, photo) = open_with(&f, &receipt).unwrap();
        assert!(m.photo.is_none() && photo.is_empty());
    }
}

#[test]
fn der_signatures_from_platform_keystores_are_converted_and_bad_ones_refused() {
    let f = fixture();
    let der = DeterministicSigner { key: f.device.clone(), format: SignatureFormat::Der };
    let mut out = Vec::new();
    seal_with(manifest(), None, Policy::default(), &[public_of(&f.operator)], &der, &mut out, &mut random()).unwrap();
    assert!(open_with(&f, &out).is_ok());
    struct Garbage;
    impl trustshot_evidence::Signer for Garbage {
        fn public_key(&self) -> trustshot_evidence::Result<trustshot_evidence::PublicKey> {
            Ok(public_of(&repeated(0x22)))
        }
        fn sign(&self, _: &[u8]) -> trustshot_evidence::Result<Vec<u8>> {
            Ok(vec![0x30, 0x03, 0x02, 0x01])
        }
        fn signature_format(&self) -> SignatureFormat {
            SignatureFormat::Der
        }
    }
    let mut out = Vec::new();
    let err =
        seal_with(manifest(), None, Policy::default(), &[public_of(&f.operator)], &Garbage, &mut out, &mut random())
            .unwrap_err();
    assert!(matches!(err, EvidenceError::SignatureEncoding(_)), "{err:?}");
}

#[test]
fn inspect_needs_no_key_and_names_known_recipients() {
    let f = fixture();
    let photo = vec![9u8; 100_000];
    let package = seal_photo(&f, &photo, &f.device);
    let info = inspect(&mut &package[..], &[public_of(&f.operator)]).unwrap();
    assert_eq!(info.version, "age-encryption.org/v1");
    assert_eq!(info.stanzas.len(), 1);
    assert_eq!(info.stanzas[0].kind, "p256tag");
    assert_eq!(info.stanzas[0].key_id.as_deref(), Some(public_of(&f.operator).key_id().as_str()));
    assert_eq!(info.chunks, 2);
    assert!(info.plaintext_bytes > photo.len() as u64);
    let anonymous = inspect(&mut &package[..], &[]).unwrap();
    assert!(anonymous.stanzas[0].key_id.is_none() && anonymous.stanzas[0].tag.is_some());
    assert!(inspect(&mut &b"garbage"[..], &[]).is_err());
}
