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
