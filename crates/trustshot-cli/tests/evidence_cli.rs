//! The `trustshot evidence` command line: refusals exit non-zero, name their
//! kind, and leave nothing behind.

use std::path::{Path, PathBuf};
use std::process::Command;

fn trustshot(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trustshot")).args(args).current_dir(dir).output().unwrap()
}

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trustshot-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

#[test]
fn open_writes_nothing_unless_everything_verifies() {
    let dir = workdir("open");
    for key in ["op", "dev", "other"] {
        assert!(trustshot(&["evidence", "keygen", "--out", key], &dir).status.success());
    }
    assert!(!trustshot(&["evidence", "keygen", "--out", "op"], &dir).status.success(), "keys are never overwritten");
    let sealed = trustshot(
        &["evidence", "seal", "--recipient", "op.pub", "--signer", "dev.key", "--delivery-id", "D-9", "--out", "r.age"],
        &dir,
    );
    assert!(sealed.status.success(), "{}", String::from_utf8_lossy(&sealed.stderr));

    let mut package = std::fs::read(dir.join("r.age")).unwrap();
    let last = package.len() - 1;
    package[last] ^= 1;
    std::fs::write(dir.join("bad.age"), &package).unwrap();
    let before = names(&dir);
    for (pkg, key, signer, kind) in [
        ("bad.age", "op.key", "dev.pub", "PayloadCorrupt"),
        ("r.age", "other.key", "dev.pub", "NoMatchingRecipient"),
        ("r.age", "op.key", "other.pub", "SignerMismatch"),
    ] {
        let out = trustshot(&["evidence", "open", "--key", key, "--signer-pub", signer, "--out", "opened", pkg], &dir);
        assert_eq!(out.status.code(), Some(1), "{pkg} with {key}/{signer}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(kind), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(names(&dir), before, "a failed open leaves no file and no staging directory");
    }
    let ok = trustshot(
        &["evidence", "open", "--key", "op.key", "--signer-pub", "dev.pub", "--out", "opened", "r.age"],
        &dir,
    );
    assert!(ok.status.success());
    assert_eq!(names(&dir.join("opened")), vec!["manifest.json"]);
    // An existing, non-empty output directory is refused rather than mixed into.
    assert!(!trustshot(
        &["evidence", "open", "--key", "op.key", "--signer-pub", "dev.pub", "--out", "opened", "r.age"],
        &dir
    )
    .status
    .success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_refused_photo_writes_no_package() {
    let dir = workdir("policy");
    for key in ["op", "dev"] {
        assert!(trustshot(&["evidence", "keygen", "--out", key], &dir).status.success());
    }
    std::fs::write(dir.join("photo.jpg"), b"not even decoded").unwrap();
    for flag in ["--photo-opt-out", "--confidential-address"] {
        let out = trustshot(
            &[
                "evidence",
                "seal",
                "--photo",
                "photo.jpg",
                flag,
                "--recipient",
                "op.pub",
                "--signer",
                "dev.key",
                "--delivery-id",
                "D",
                "--out",
                "p.age",
            ],
            &dir,
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("PhotoNotAllowed"));
        assert!(!dir.join("p.age").exists());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 15: keys keep the prefix as given, nothing is overwritten without
/// --force, an opened package is owner-only, and a killed `open`'s staging
/// folder (a decrypted photo inside) is removed by the next run.
#[test]
fn nothing_is_overwritten_and_opened_evidence_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = workdir("overwrite");
    assert!(trustshot(&["evidence", "keygen", "--out", "keys.v1"], &dir).status.success());
    assert_eq!(names(&dir), vec!["keys.v1.key", "keys.v1.pub"]);
    let before = std::fs::read(dir.join("keys.v1.key")).unwrap();
    let again = trustshot(&["evidence", "keygen", "--out", "keys.v1"], &dir);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(std::fs::read(dir.join("keys.v1.key")).unwrap(), before, "an existing key was overwritten");
    assert!(trustshot(&["evidence", "keygen", "--out", "keys.v1", "--force"], &dir).status.success());
    assert_ne!(std::fs::read(dir.join("keys.v1.key")).unwrap(), before);

    assert!(trustshot(&["evidence", "keygen", "--out", "dev"], &dir).status.success());
    let seal = |id: &str, force: bool| {
        let mut args =
            vec!["evidence", "seal", "--recipient", "keys.v1.pub", "--signer", "dev.key", "--delivery-id", id];
        args.extend(["--out", "p.age"]);
        if force {
            args.push("--force");
        }
        trustshot(&args, &dir)
    };
    assert!(seal("R-1", false).status.success());
    let first = std::fs::read(dir.join("p.age")).unwrap();
    let refused = seal("R-2", false);
    assert!(!refused.status.success(), "an existing package was overwritten");
    assert_eq!(std::fs::read(dir.join("p.age")).unwrap(), first);
    assert!(seal("R-3", true).status.success());
    assert_ne!(std::fs::read(dir.join("p.age")).unwrap(), first);
    // A confidential address: the receipt may not carry the place either.
    let args = ["evidence", "seal", "--recipient", "keys.v1.pub", "--signer", "dev.key", "--delivery-id", "R-4"];
    let place = ["--confidential-address", "--lat", "52.5", "--lon", "13.4", "--out", "c.age"];
    let confidential = trustshot(&[&args[..], &place[..]].concat(), &dir);
    assert!(String::from_utf8_lossy(&confidential.stderr).contains("LocationNotAllowed"), "{confidential:?}");
    assert!(!dir.join("c.age").exists());

    // A staging folder of a killed open (no such process), holding a "decrypted photo".
    let stale = dir.join(".open-4194300");
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("photo.part"), b"decrypted").unwrap();
    let opened = trustshot(
        &["evidence", "open", "--key", "keys.v1.key", "--signer-pub", "dev.pub", "--out", "opened", "p.age"],
        &dir,
    );
    assert!(opened.status.success(), "{}", String::from_utf8_lossy(&opened.stderr));
    assert!(!stale.exists(), "a stale staging folder was left behind");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.join("opened")), 0o700);
    assert_eq!(mode(&dir.join("opened/manifest.json")), 0o600);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Device-key attestation through the command line: the chain given to `seal`
/// travels in the package; `open` checks it against the roots it is given
/// (the committed test chain of crates/trustshot-evidence/tests/vectors/attestation).
#[test]
fn seal_carries_an_attestation_chain_and_open_reports_its_check() {
    let dir = workdir("attestation");
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../trustshot-evidence/tests/vectors/attestation");
    for name in ["device.key", "device.pub", "chain.pem", "root.pem", "other_root.pem"] {
        std::fs::copy(vectors.join(name), dir.join(name)).unwrap();
    }
    assert!(trustshot(&["evidence", "keygen", "--out", "op"], &dir).status.success());
    let sealed = trustshot(
        &[
            "evidence",
            "seal",
            "--recipient",
            "op.pub",
            "--signer",
            "device.key",
            "--attestation-chain",
            "chain.pem",
            "--delivery-id",
            "D-10",
            "--out",
            "a.age",
        ],
        &dir,
    );
    assert!(sealed.status.success(), "{}", String::from_utf8_lossy(&sealed.stderr));
    let open = |out: &str, roots: Option<&str>| {
        let mut args = vec!["evidence", "open", "a.age", "--key", "op.key", "--signer-pub", "device.pub", "--out", out];
        if let Some(roots) = roots {
            args.extend(["--attestation-roots", roots]);
        }
        let output = trustshot(&args, &dir);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        json["attestation"].clone()
    };
    let verified = open("o1", Some("root.pem"));
    assert_eq!(verified["status"], "verified");
    assert_eq!(verified["security_level"], "strongbox");
    assert_eq!(verified["certificates"], 3);
    assert_eq!(open("o2", Some("other_root.pem"))["status"], "untrusted_root");
    assert_eq!(open("o3", None)["status"], "untrusted_root");
    // A package signed by a key without a chain says so.
    assert!(trustshot(&["evidence", "keygen", "--out", "plain"], &dir).status.success());
    let plain = trustshot(
        &[
            "evidence",
            "seal",
            "--recipient",
            "op.pub",
            "--signer",
            "plain.key",
            "--delivery-id",
            "D-11",
            "--out",
            "p.age",
        ],
        &dir,
    );
    assert!(plain.status.success());
    let output = trustshot(
        &[
            "evidence",
            "open",
            "p.age",
            "--key",
            "op.key",
            "--signer-pub",
            "plain.pub",
            "--out",
            "o4",
            "--attestation-roots",
            "root.pem",
        ],
        &dir,
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["attestation"]["status"], "absent");
}
