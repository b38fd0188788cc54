//! Issue 17: one unreadable file never stops an evaluation. Each `eval`
//! subcommand, given real sample photos mixed with a cut JPEG (an end marker
//! appended, as the hardening issue describes), a file that is not an image
//! and a missing file, lists those under `unreadable` with a stable code and
//! reports on the rest.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn trustshot(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_trustshot")).args(args).arg("--json").output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A folder with good photos (`good/`), bad files (`bad/`) and a manifest per evaluation.
fn fixture() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trustshot-eval-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["good", "bad", "lfw/obama", "lfw/biden"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let sample = |n: &str| std::fs::read(workspace().join("samples").join(n)).expect("run scripts/setup for samples");
    for n in ["obama.jpg", "obama2.jpg", "biden.jpg"] {
        std::fs::write(dir.join("good").join(n), sample(n)).unwrap();
    }
    let photo = sample("obama3.jpg");
    let cut = [&photo[..photo.len() / 2], &[0xFF, 0xD9][..]].concat();
    std::fs::write(dir.join("bad/cut.jpg"), &cut).unwrap();
    std::fs::write(dir.join("bad/notes.png"), b"not a picture at all").unwrap();
    // LFW layout: <name>/<name>_<nnnn>.jpg; obama_0003 is the cut file.
    std::fs::write(dir.join("lfw/obama/obama_0001.jpg"), sample("obama.jpg")).unwrap();
    std::fs::write(dir.join("lfw/obama/obama_0002.jpg"), sample("obama2.jpg")).unwrap();
    std::fs::write(dir.join("lfw/obama/obama_0003.jpg"), &cut).unwrap();
    std::fs::write(dir.join("lfw/biden/biden_0001.jpg"), sample("biden.jpg")).unwrap();
    std::fs::write(dir.join("pairs.txt"), "2\nobama 1 2\nobama 1 3\nobama 1 biden 1\nobama 3 biden 1\n").unwrap();
    // One manifest serves every evaluation: path, label (liveness), n_faces and source (detection).
    let manifest = "path,label,n_faces,source\n\
        good/obama.jpg,live,1,s\n\
        good/biden.jpg,live,1,s\n\
        bad/cut.jpg,live,1,s\n\
        bad/notes.png,print_photo,1,s\n\
        bad/missing.jpg,live,1,s\n";
    std::fs::write(dir.join("manifest.csv"), manifest).unwrap();
    std::fs::write(dir.join("boxes.json"), "{}").unwrap();
    dir
}

fn codes(report: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = report["unreadable"]
        .as_array()
        .expect("an unreadable list")
        .iter()
        .map(|u| {
            assert!(u["error"].as_str().is_some_and(|e| !e.is_empty() && e.len() < 400), "{u}");
            (
                u["path"].as_str().unwrap().rsplit('/').next().unwrap().to_string(),
                u["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn every_evaluation_lists_unreadable_files_and_goes_on() {
    let dir = fixture();
    let manifest = dir.join("manifest.csv");
    let expected = vec![
        ("cut.jpg".to_string(), "jpeg_truncated".to_string()),
        ("missing.jpg".into(), "io".into()),
        ("notes.png".into(), "unsupported_format".into()),
    ];

    let docs = trustshot(&["eval", "documents", "--manifest", s(&manifest), "--root", s(&dir)]);
    assert_eq!(codes(&docs), expected);
    assert_eq!(docs["documents"].as_array().unwrap().len(), 2, "the two readable photos are reported");
    assert_eq!(docs["portraits_found"], 2);
    // Unreadable files count as misses in the rate over documents with a portrait.
    assert_eq!(docs["documents_with_portrait"], 5);
    assert_eq!(docs["portraits_found_on_documents_with_portrait"], 2);

    let detection = trustshot(&["eval", "detection", "--data", s(&dir)]);
    assert_eq!(codes(&detection), expected);
    assert_eq!(detection["sources"]["s"]["images"], 2);

    let quality = trustshot(&["eval", "quality", "--images", s(&dir.join("bad"))]);
    assert_eq!(codes(&quality), expected[..1].iter().chain(&expected[2..]).cloned().collect::<Vec<_>>());
    let quality = trustshot(&["eval", "quality", "--images", s(&dir.join("good"))]);
    assert_eq!((quality["images"].as_u64(), quality["passed"].as_u64()), (Some(3), Some(3)));

    let lfw = trustshot(&["eval", "lfw", "--pairs", s(&dir.join("pairs.txt")), "--images", s(&dir.join("lfw"))]);
    assert_eq!(codes(&lfw), vec![("obama_0003.jpg".to_string(), "jpeg_truncated".to_string())]);
    assert_eq!(lfw["pairs"], 4);
    // The two pairs with the cut file fail like detect failures; the other two are right.
    assert_eq!(lfw["detect_failures"], 2);
    assert_eq!(lfw["accuracy"], 0.5);

    // The liveness model comes from a mirror (models/README.md, Liveness); CI has it.
    if workspace().join("models/dist/minifasnet_v1se_4.0.nnef.tar").exists() {
        let live = trustshot(&["eval", "liveness", "--manifest", s(&manifest), "--root", s(&dir)]);
        assert_eq!(codes(&live), expected);
        assert_eq!(live["bona_fide"]["frames"], 2);
        // Per subject (no subject column here: one unnamed subject) and per window.
        assert_eq!(live["by_subject"][""]["live"]["frames"], 2);
        let windows = trustshot(&["eval", "liveness", "--manifest", s(&manifest), "--root", s(&dir), "--window", "2"]);
        assert_eq!(windows["windows"]["window_frames"], 2);
        assert_eq!(windows["windows"]["bona_fide_windows"], 1, "{}", windows["windows"]);
    } else {
        eprintln!("SKIPPED: eval liveness (no liveness model installed; models/README.md, Liveness)");
    }
}
