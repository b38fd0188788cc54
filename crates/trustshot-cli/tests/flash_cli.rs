//! `trustshot eval flash --session DIR` on recordings written the way a
//! device writes them (`trustshot::recording::Recorder`). The frames
//! are SIMULATED (a real sample photo relit by the model in
//! trustshot-testkit/src/flash_sim.rs): a live recording passes, the same
//! frames relabelled with another sequence (a replay) do not, and a damaged
//! session file is refused with its line number.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use trustshot::recording::{FlashRecording, Recorder, SessionFile, SESSION_FILE};
use trustshot_face::resize;
use trustshot_face::{EngineConfig, FaceEngine};
use trustshot_identity::{FlashConfig, FlashSession};
use trustshot_testkit::flash_sim::{record, schedule, seeded_sequence, Scene};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn eval_flash(dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trustshot"))
        .args(["eval", "flash", "--json", "--session"])
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn recorded_sessions_are_judged_again() {
    let engine =
        FaceEngine::load(&workspace().join("models/dist"), EngineConfig::default()).expect("run scripts/setup");
    let bytes = std::fs::read(workspace().join("samples/obama.jpg")).expect("run scripts/setup for samples");
    let photo = engine.decode(&bytes).unwrap();
    let photo = resize(&photo, 640, photo.height() * 640 / photo.width());
    let face = engine.detect(&photo).unwrap()[0];

    let root = std::env::temp_dir().join(format!("trustshot-flash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    // Seeded sequences: every run judges the same two sessions.
    let config = FlashConfig::default();
    let session = FlashSession::with_sequence(config, seeded_sequence(&config, 31)).unwrap();
    let displayed = schedule(session.sequence(), 2_000);
    let frames = record(&photo, &face, session.sequence(), &displayed, &Scene::live());
    let live = root.join("live");
    let mut recorder = Recorder::flash(&live, session.sequence()).unwrap();
    let mut shown = 0;
    for (t, frame) in &frames {
        while shown < displayed.len() && displayed[shown] <= *t {
            recorder.displayed(displayed[shown]).unwrap();
            shown += 1;
        }
        recorder.frame(frame, *t).unwrap();
    }
    let out = eval_flash(&live);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["passed"], true, "SIMULATED live recording: {v}");
    assert_eq!(v["frames"], frames.len());
    assert!(v["lag_ms"].as_u64().unwrap().abs_diff(120) <= 60, "{v}");
    assert!(v["thresholds"]["min_correlation"].as_f64().unwrap() > 0.0);

    // A replay: the same frames, under a sequence drawn afterwards.
    let replay = root.join("replay");
    std::fs::create_dir_all(&replay).unwrap();
    let mut recording = FlashRecording::read(&live).unwrap();
    let other = FlashSession::with_sequence(config, seeded_sequence(&config, 32)).unwrap();
    recording.sequence = other.sequence().to_vec();
    recording.displayed_ms = schedule(other.sequence(), 2_000);
    for (file, _) in &recording.frames {
        std::fs::copy(live.join(file), replay.join(file)).unwrap();
    }
    std::fs::write(replay.join(SESSION_FILE), recording.to_tsv()).unwrap();
    let v: Value = serde_json::from_slice(&eval_flash(&replay).stdout).unwrap();
    assert_eq!(v["passed"], false, "{v}");
    assert!(v["failure"].is_string(), "{v}");

    // A damaged session file: refused by line, none of it echoed back.
    let text = std::fs::read_to_string(live.join(SESSION_FILE)).unwrap();
    let damaged = text.replacen("frame\tframe-00003.jpg", &format!("frame\t{}", "x/".repeat(2_000)), 1);
    std::fs::write(replay.join(SESSION_FILE), damaged).unwrap();
    let out = eval_flash(&replay);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("line") && stderr.len() < 400, "{stderr}");
    let _ = std::fs::remove_dir_all(&root);
}
