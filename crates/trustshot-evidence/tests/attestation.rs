//! Device-key attestation end to end, with certificate chains made here (a
//! root, an intermediate, a leaf that certifies the device key and carries the
//! Android Key Attestation extension): the chain travels in the signed header
//! and the backend's check reports each way it can fail.
#![cfg(all(feature = "open", feature = "attestation"))]

mod common;

use common::*;
use p256::pkcs8::DecodePrivateKey;
use rcgen::{date_time_ymd, BasicConstraints, Certificate, CertificateParams, CustomExtension, DnType, IsCa, KeyPair};
use trustshot_evidence::attestation::{verify, AttestationStatus, Roots, SecurityLevel};
use trustshot_evidence::{cose, open, Identity, Kind, Manifest, Policy, PublicKey, SignatureFormat, Signer};

const CAPTURED_AT: i64 = 1_790_000_000;

/// `KeyDescription` (Android Key Attestation schema, version 300) with the
/// given security level and challenge, and empty authorisation lists.
fn key_description(level: u8, challenge: &[u8]) -> Vec<u8> {
    let mut body = vec![0x02, 0x02, 0x01, 0x2c, 0x0a, 0x01, level, 0x02, 0x02, 0x01, 0x2c, 0x0a, 0x01, level];
    body.extend_from_slice(&[0x04, challenge.len() as u8]);
    body.extend_from_slice(challenge);
    body.extend_from_slice(&[0x04, 0x00, 0x30, 0x00, 0x30, 0x00]);
    [vec![0x30, body.len() as u8], body].concat()
}

fn ca(name: &str, issuer: Option<(&Certificate, &KeyPair)>) -> (Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = match issuer {
        Some((cert, signer)) => params.signed_by(&key, cert, signer).unwrap(),
        None => params.self_signed(&key).unwrap(),
    };
    (cert, key)
}

struct Leaf<'a> {
    key_pem: &'a str,
    level: u8,
    not_after_year: i32,
}

fn leaf(spec: Leaf, issuer: &Certificate, issuer_key: &KeyPair) -> Certificate {
    let key = KeyPair::from_pem(spec.key_pem).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, "Android Keystore Key");
    params.not_after = date_time_ymd(spec.not_after_year, 1, 1);
    params.custom_extensions.push(CustomExtension::from_oid_content(
        &[1, 3, 6, 1, 4, 1, 11129, 2, 1, 17],
        key_description(spec.level, b"operator-nonce-42"),
    ));
    params.signed_by(&key, issuer, issuer_key).unwrap()
}

/// A device key, its public key and a software signer that hands over a chain.
struct ChainSigner {
    key: p256::SecretKey,
    chain: Vec<Vec<u8>>,
}

impl Signer for ChainSigner {
    fn public_key(&self) -> trustshot_evidence::Result<PublicKey> {
        Ok(public_of(&self.key))
    }
    fn sign(&self, message: &[u8]) -> trustshot_evidence::Result<Vec<u8>> {
        DeterministicSigner { key: self.key.clone(), format: SignatureFormat::Raw }.sign(message)
    }
    fn signature_format(&self) -> SignatureFormat {
        SignatureFormat::Raw
    }
    fn attestation_chain(&self) -> trustshot_evidence::Result<Vec<Vec<u8>>> {
        Ok(self.chain.clone())
    }
}

/// Seals a receipt signed by `device` with `chain`, opens it, returns the chain it carried.
fn round_trip(device: &p256::SecretKey, chain: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let operator = repeated(0x51);
    let mut package = Vec::new();
    let signer = ChainSigner { key: device.clone(), chain };
    trustshot_evidence::seal(
        Manifest::new(Kind::IdentityCheck, "receipt-1", CAPTURED_AT),
        None,
        Policy::default(),
        &[public_of(&operator)],
        &signer,
        &mut package,
    )
    .unwrap();
    let identity = Identity::from_pkcs8_pem(&private_pem(&operator)).unwrap();
    open(&mut &package[..], &identity, &public_of(device), &mut std::io::sink()).unwrap().attestation_chain
}

struct World {
    device: p256::SecretKey,
    root: Certificate,
    intermediate: Certificate,
    intermediate_key: KeyPair,
}

fn world() -> World {
    let (root, root_key) = ca("Test Attestation Root", None);
    let (intermediate, intermediate_key) = ca("Test Attestation Intermediate", Some((&root, &root_key)));
    World { device: repeated(0x61), root, intermediate, intermediate_key }
}

fn roots(certs: &[&Certificate]) -> Roots {
    Roots::parse(certs.iter().map(|c| c.pem()).collect::<String>().as_bytes()).unwrap()
}

#[test]
fn a_strongbox_chain_travels_signed_and_verifies_to_the_operators_root() {
    let w = world();
    let device_pem = private_pem(&w.device);
    let leaf =
        leaf(Leaf { key_pem: &device_pem, level: 2, not_after_year: 2048 }, &w.intermediate, &w.intermediate_key);
    let chain = vec![leaf.der().to_vec(), w.intermediate.der().to_vec(), w.root.der().to_vec()];
    assert_eq!(round_trip(&w.device, chain.clone()), chain, "the opened package carries the chain as sealed");

    let report = verify(&chain, &public_of(&w.device), &roots(&[&w.root]), CAPTURED_AT);
    assert_eq!(report.status, AttestationStatus::Verified);
    assert_eq!(report.security_level, Some(SecurityLevel::StrongBox));
    assert_eq!(report.challenge.as_deref(), Some(&b"operator-nonce-42"[..]));
    assert_eq!(report.certificates, 3);
    // A chain that stops below the root verifies too (the root is the operator's).
    let short = verify(&chain[..2], &public_of(&w.device), &roots(&[&w.root]), CAPTURED_AT);
    assert_eq!(short.status, AttestationStatus::Verified);
    // A root given as DER reads the same as PEM.
    let der_root = Roots::parse(w.root.der()).unwrap();
    assert_eq!(verify(&chain, &public_of(&w.device), &der_root, CAPTURED_AT).status, AttestationStatus::Verified);
}

#[test]
fn tee_and_software_levels_are_reported_as_stated() {
    let w = world();
    let device_pem = private_pem(&w.device);
    for (level, expected) in [(0, SecurityLevel::Software), (1, SecurityLevel::TrustedEnvironment)] {
        let leaf =
            leaf(Leaf { key_pem: &device_pem, level, not_after_year: 2048 }, &w.intermediate, &w.intermediate_key);
        let chain = vec![leaf.der().to_vec(), w.intermediate.der().to_vec()];
        let report = verify(&chain, &public_of(&w.device), &roots(&[&w.root]), CAPTURED_AT);
        assert_eq!((report.status, report.security_level), (AttestationStatus::Verified, Some(expected)));
    }
}

#[test]
fn every_way_a_chain_can_fail_is_reported() {
    let w = world();
    let device_pem = private_pem(&w.device);
    let good_leaf =
        leaf(Leaf { key_pem: &device_pem, level: 2, not_after_year: 2048 }, &w.intermediate, &w.intermediate_key);
    let good = vec![good_leaf.der().to_vec(), w.intermediate.der().to_vec(), w.root.der().to_vec()];
    let device = public_of(&w.device);
    let trusted = roots(&[&w.root]);
    let status = |chain: &[Vec<u8>], roots: &Roots| verify(chain, &device, roots, CAPTURED_AT).status;

    // Another operator's root (same name, other key): untrusted.
    let (other_root, _) = ca("Test Attestation Root", None);
    assert_eq!(status(&good, &roots(&[&other_root])), AttestationStatus::UntrustedRoot);

    // A genuine chain, but for another key than the one that signed the package.
    let other_pem = private_pem(&repeated(0x62));
    let other_leaf =
        leaf(Leaf { key_pem: &other_pem, level: 2, not_after_year: 2048 }, &w.intermediate, &w.intermediate_key);
    let for_other_key = vec![other_leaf.der().to_vec(), w.intermediate.der().to_vec(), w.root.der().to_vec()];
    assert_eq!(status(&for_other_key, &trusted), AttestationStatus::KeyMismatch);
    // ... and the report still says what the chain claims, which means nothing here.
    assert_eq!(verify(&for_other_key, &device, &trusted, CAPTURED_AT).security_level, Some(SecurityLevel::StrongBox));

    // An intermediate of the same name under another root, spliced in: the link to the root breaks.
    let (impostor_root, impostor_root_key) = ca("Test Attestation Root", None);
    let (impostor, impostor_key) = ca("Test Attestation Intermediate", Some((&impostor_root, &impostor_root_key)));
    let forged_leaf = leaf(Leaf { key_pem: &device_pem, level: 2, not_after_year: 2048 }, &impostor, &impostor_key);
    let spliced = vec![forged_leaf.der().to_vec(), impostor.der().to_vec(), w.root.der().to_vec()];
    assert_eq!(status(&spliced, &trusted), AttestationStatus::BrokenChain);
    // The leaf signed by the impostor, presented with the genuine intermediate: broken too.
    let mixed = vec![forged_leaf.der().to_vec(), w.intermediate.der().to_vec(), w.root.der().to_vec()];
    assert_eq!(status(&mixed, &trusted), AttestationStatus::BrokenChain);

    // The holder of a genuine attested key (another device's: `other_leaf`) signs a "leaf"
    // for this device's software key under its own genuine leaf. That leaf is no CA:
    // the chain is broken, whatever the fake leaf claims.
    let other_keypair = KeyPair::from_pem(&other_pem).unwrap();
    let fake = leaf(Leaf { key_pem: &device_pem, level: 2, not_after_year: 2048 }, &other_leaf, &other_keypair);
    let escalated =
        vec![fake.der().to_vec(), other_leaf.der().to_vec(), w.intermediate.der().to_vec(), w.root.der().to_vec()];
    assert_eq!(status(&escalated, &trusted), AttestationStatus::BrokenChain);

    // A leaf that had expired when the photo was taken.
    let expired =
        leaf(Leaf { key_pem: &device_pem, level: 2, not_after_year: 2020 }, &w.intermediate, &w.intermediate_key);
    let old = vec![expired.der().to_vec(), w.intermediate.der().to_vec()];
    assert_eq!(status(&old, &trusted), AttestationStatus::NotValidAtCapture);

    // Not certificates at all; no chain.
    assert_eq!(status(&[b"not a certificate".to_vec()], &trusted), AttestationStatus::Unreadable);
    assert_eq!(status(&[], &trusted), AttestationStatus::Absent);
    assert!(Roots::parse(b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n").is_err());
    assert!(Roots::parse(b"garbage").is_err());
}

#[test]
fn the_header_carries_no_chain_unless_the_signer_has_one_and_bounds_it() {
    let device = repeated(0x63);
    assert!(round_trip(&device, Vec::new()).is_empty());
    // One certificate is a bare byte string in x5chain (RFC 9360); it reads back the same.
    assert_eq!(round_trip(&device, vec![vec![0x30, 0x00]]), vec![vec![0x30, 0x00]]);
    // Over the bounds: the sealer refuses (and so would every reader).
    let signer = ChainSigner { key: device.clone(), chain: vec![vec![1u8; 16]; cose::MAX_CHAIN_CERTS + 1] };
    assert!(cose::sign1(b"m", &signer).is_err());
    let signer = ChainSigner { key: device, chain: vec![vec![1u8; cose::MAX_CERT_BYTES + 1]] };
    assert!(cose::sign1(b"m", &signer).is_err());
}

fn vectors() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/attestation")
}

/// The committed chain the CLI, the slim opener, the Python opener and the
/// Kotlin tests use (tests/vectors/attestation): a StrongBox leaf for the
/// device key `device.key`, an intermediate and `root.pem`; `other_root.pem`
/// has the same name and another key. Rewritten with TRUSTSHOT_WRITE_VECTORS=1.
#[test]
fn committed_attestation_vectors_verify_as_described() {
    let dir = vectors();
    if std::env::var_os("TRUSTSHOT_WRITE_VECTORS").is_some() {
        let w = world();
        let device_pem = private_pem(&w.device);
        let leaf =
            leaf(Leaf { key_pem: &device_pem, level: 2, not_after_year: 2048 }, &w.intermediate, &w.intermediate_key);
        let (other_root, _) = ca("Test Attestation Root", None);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("device.key"), &device_pem).unwrap();
        std::fs::write(dir.join("device.pub"), public_of(&w.device).to_pem()).unwrap();
        std::fs::write(dir.join("chain.pem"), [leaf.pem(), w.intermediate.pem(), w.root.pem()].concat()).unwrap();
        std::fs::write(dir.join("root.pem"), w.root.pem()).unwrap();
        std::fs::write(dir.join("other_root.pem"), other_root.pem()).unwrap();
    }
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let chain = trustshot_evidence::keys::pem_decode_all(&String::from_utf8(read("chain.pem")).unwrap(), "CERTIFICATE")
        .unwrap();
    let device = PublicKey::from_pem(&String::from_utf8(read("device.pub")).unwrap()).unwrap();
    let report = verify(&chain, &device, &Roots::parse(&read("root.pem")).unwrap(), CAPTURED_AT);
    assert_eq!((report.status, report.security_level), (AttestationStatus::Verified, Some(SecurityLevel::StrongBox)));
    assert_eq!(
        report.json(),
        r#"{"status":"verified","security_level":"strongbox","challenge":"6f70657261746f722d6e6f6e63652d3432","certificates":3}"#
    );
    let other = verify(&chain, &device, &Roots::parse(&read("other_root.pem")).unwrap(), CAPTURED_AT);
    assert_eq!(other.status, AttestationStatus::UntrustedRoot);

    // The same chain in a signed header seeds the `bundle` fuzz target, so that
    // it starts from an x5chain (signed deterministically: the same bytes each time).
    let key = p256::SecretKey::from_pkcs8_pem(&String::from_utf8(read("device.key")).unwrap()).unwrap();
    let signer = ChainSigner { key, chain };
    let manifest = Manifest::new(Kind::IdentityCheck, "attested-1", CAPTURED_AT).to_cbor().unwrap();
    // The leaf alone seeds the target's certificate path (the raw input checked as a chain).
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/bundle");
    let leaf = signer.chain[0].clone();
    let receipt = bundle(&cose::sign1(&manifest, &signer).unwrap(), &[], 1);
    for (name, seed) in [("x5chain_receipt.bin", receipt), ("attestation_leaf.der", leaf)] {
        if std::env::var_os("TRUSTSHOT_WRITE_VECTORS").is_some() {
            std::fs::write(seeds.join(name), &seed).unwrap();
        }
        assert!(std::fs::read(seeds.join(name)).unwrap() == seed, "{name}: the committed fuzz seed differs");
    }
}

/// One committed case per status (tests/vectors/attestation/cases/<name>: the
/// chain, the operator's roots, the expected report), for the device key of
/// `device.pub`, captured at CAPTURED_AT: the Rust opener here and the
/// independent Python opener (opener/test_opener.py) must both give each
/// report exactly. Rewritten with TRUSTSHOT_WRITE_VECTORS=1.
#[test]
fn committed_cases_give_their_reports() {
    let dir = vectors().join("cases");
    if std::env::var_os("TRUSTSHOT_WRITE_VECTORS").is_some() {
        write_cases(&dir);
    }
    let device = PublicKey::from_pem(&std::fs::read_to_string(vectors().join("device.pub")).unwrap()).unwrap();
    let mut names: Vec<_> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    names.sort();
    let mut statuses = Vec::new();
    for case in names {
        let chain = chain_of(&std::fs::read_to_string(case.join("chain.pem")).unwrap());
        let roots = Roots::parse(&std::fs::read(case.join("roots.pem")).unwrap()).unwrap();
        let report = verify(&chain, &device, &roots, CAPTURED_AT);
        let expected = std::fs::read_to_string(case.join("expect.json")).unwrap();
        assert_eq!(report.json(), expected.trim_end(), "{}", case.display());
        statuses.push(report.status.as_str());
    }
    statuses.sort();
    statuses.dedup();
    assert_eq!(statuses.len(), 7, "one case per status at least: {statuses:?}");
}

/// The certificates of a case's chain.pem (none when it is empty: the `absent` case).
fn chain_of(pem: &str) -> Vec<Vec<u8>> {
    if pem.is_empty() {
        return Vec::new();
    }
    trustshot_evidence::keys::pem_decode_all(pem, "CERTIFICATE").unwrap()
}

fn write_cases(dir: &std::path::Path) {
    let w = world();
    let device_pem = private_pem(&w.device);
    let strongbox = Leaf { key_pem: &device_pem, level: 2, not_after_year: 2048 };
    let good = leaf(strongbox, &w.intermediate, &w.intermediate_key);
    let tee = leaf(Leaf { key_pem: &device_pem, level: 1, not_after_year: 2048 }, &w.intermediate, &w.intermediate_key);
    let other_pem = private_pem(&repeated(0x62));
    let other_key =
        leaf(Leaf { key_pem: &other_pem, level: 2, not_after_year: 2048 }, &w.intermediate, &w.intermediate_key);
    let expired =
        leaf(Leaf { key_pem: &device_pem, level: 2, not_after_year: 2020 }, &w.intermediate, &w.intermediate_key);
    let (other_root, _) = ca("Test Attestation Root", None);
    let (impostor_root, impostor_root_key) = ca("Test Attestation Root", None);
    let (impostor, impostor_key) = ca("Test Attestation Intermediate", Some((&impostor_root, &impostor_root_key)));
    let forged = leaf(Leaf { key_pem: &device_pem, level: 2, not_after_year: 2048 }, &impostor, &impostor_key);
    let other_keypair = KeyPair::from_pem(&other_pem).unwrap();
    let fake = leaf(Leaf { key_pem: &device_pem, level: 2, not_after_year: 2048 }, &other_key, &other_keypair);
    let garbage = trustshot_evidence::keys::pem_encode("CERTIFICATE", b"not a certificate");
    let (inter, root) = (w.intermediate.pem(), w.root.pem());
    let cases: [(&str, String, String); 9] = [
        ("verified_strongbox", [good.pem(), inter.clone(), root.clone()].concat(), root.clone()),
        ("verified_tee_without_root", [tee.pem(), inter.clone()].concat(), root.clone()),
        ("untrusted_root", [good.pem(), inter.clone(), root.clone()].concat(), other_root.pem()),
        ("key_mismatch", [other_key.pem(), inter.clone(), root.clone()].concat(), root.clone()),
        ("broken_chain_spliced", [forged.pem(), impostor.pem(), root.clone()].concat(), root.clone()),
        (
            "broken_chain_leaf_as_issuer",
            [fake.pem(), other_key.pem(), inter.clone(), root.clone()].concat(),
            root.clone(),
        ),
        ("not_valid_at_capture", [expired.pem(), inter.clone()].concat(), root.clone()),
        ("unreadable", garbage, root.clone()),
        ("absent", String::new(), root.clone()),
    ];
    let device = public_of(&w.device);
    for (name, chain, roots) in cases {
        let case = dir.join(name);
        std::fs::create_dir_all(&case).unwrap();
        std::fs::write(case.join("chain.pem"), &chain).unwrap();
        std::fs::write(case.join("roots.pem"), &roots).unwrap();
        let report = verify(&chain_of(&chain), &device, &Roots::parse(roots.as_bytes()).unwrap(), CAPTURED_AT);
        std::fs::write(case.join("expect.json"), report.json() + "\n").unwrap();
    }
}
