//! `trustshot-open`, the backend's opener that links this crate only: opens a
//! sealed photo into a folder, owner-only; a wrong key or a tampered package
//! is refused with its kind and leaves nothing behind.
#![cfg(all(feature = "open", feature = "attestation"))]

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use trustshot_evidence::{keys, seal, Kind, Manifest, PhotoData, PhotoInput, Policy, SoftwareSigner};

fn opener(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trustshot-open")).args(args).output().unwrap()
}

#[test]
fn opens_a_package_into_an_owner_only_folder_and_refuses_a_wrong_key() {
    let dir = std::env::temp_dir().join(format!("trustshot-open-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (operator, device, stranger) =
        (keys::generate().unwrap(), keys::generate().unwrap(), keys::generate().unwrap());
    let signer = SoftwareSigner::from_pkcs8_pem(&device.private_pem).unwrap();
    let photo = b"\xff\xd8 a photo \xff\xd9".to_vec();
    let mut package = Vec::new();
    let input = PhotoInput { media_type: "image/jpeg".into(), data: PhotoData::Bytes(&photo) };
    seal(
        Manifest::new(Kind::ProofOfDelivery, "D-1", 1_790_000_000),
        Some(input),
        Policy::default(),
        &[operator.public],
        &signer,
        &mut package,
    )
    .unwrap();
    let write = |name: &str, data: &[u8]| {
        std::fs::write(dir.join(name), data).unwrap();
        dir.join(name)
    };
    let (pkg, key, wrong, signer_pub) = (
        write("p.age", &package),
        write("op.key", operator.private_pem.as_bytes()),
        write("other.key", stranger.private_pem.as_bytes()),
        write("dev.pub", device.public.to_pem().as_bytes()),
    );
    let out = dir.join("opened");
    let run = |key: &std::path::Path| {
        opener(&[
            pkg.as_os_str(),
            "--key".as_ref(),
            key.as_os_str(),
            "--signer-pub".as_ref(),
            signer_pub.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ])
    };
    let refused = run(&wrong);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("NoMatchingRecipient"), "{refused:?}");
    assert!(
        !out.exists()
            && std::fs::read_dir(&dir).unwrap().all(|e| !e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".open-"))
    );
    let ok = run(&key);
    assert!(ok.status.success(), "{ok:?}");
    assert!(String::from_utf8_lossy(&ok.stdout).contains("\"photo\":true"));
    assert_eq!(std::fs::read(out.join("photo.jpg")).unwrap(), photo);
    for f in ["photo.jpg", "manifest.json"] {
        assert_eq!(std::fs::metadata(out.join(f)).unwrap().permissions().mode() & 0o777, 0o600, "{f}");
    }
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(opener(&["--key".as_ref()]).status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reports_the_device_key_attestation_against_the_roots_it_is_given() {
    let dir = std::env::temp_dir().join(format!("trustshot-open-attest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let vectors = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/attestation");
    let text = |name: &str| std::fs::read_to_string(vectors.join(name)).unwrap();
    let chain = keys::pem_decode_all(&text("chain.pem"), "CERTIFICATE").unwrap();
    let signer = SoftwareSigner::from_pkcs8_pem(&text("device.key")).unwrap().with_attestation_chain(chain);
    let operator = keys::generate().unwrap();
    let mut package = Vec::new();
    seal(
        Manifest::new(Kind::IdentityCheck, "S-1", 1_790_000_000),
        None,
        Policy::default(),
        &[operator.public],
        &signer,
        &mut package,
    )
    .unwrap();
    std::fs::write(dir.join("p.age"), &package).unwrap();
    std::fs::write(dir.join("op.key"), &operator.private_pem).unwrap();
    for (out, roots, expected) in [("a", "root.pem", "verified"), ("b", "other_root.pem", "untrusted_root")] {
        let o = opener(&[
            dir.join("p.age").as_os_str(),
            "--key".as_ref(),
            dir.join("op.key").as_os_str(),
            "--signer-pub".as_ref(),
            vectors.join("device.pub").as_os_str(),
            "--out".as_ref(),
            dir.join(out).as_os_str(),
            "--attestation-roots".as_ref(),
            vectors.join(roots).as_os_str(),
        ]);
        assert!(o.status.success(), "{o:?}");
        let line = String::from_utf8(o.stdout).unwrap();
        assert!(
            line.contains(&format!("\"attestation\":{{\"status\":\"{expected}\",\"security_level\":\"strongbox\"")),
            "{line}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
