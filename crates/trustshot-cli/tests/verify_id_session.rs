//! `trustshot verify-id --session DIR` on high-assurance captures recorded the
//! way the SDK records them on a device (`ChallengeRun::record_to`,
//! `FlashRun::record_to`). The challenge is answered by real photos of one
//! man turning his head (LFW, Jose Maria Aznar); the colour flash's light
//! response is SIMULATED (his frontal photo relit by the reflection model of
//! trustshot-testkit/src/flash_sim.rs; no device capture exists here). The
//! "ID" is another photo of him.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use trustshot::recording::{CHALLENGE_DIR, CHALLENGE_FILE, FLASH_DIR};
use trustshot::{Image, Sdk, SdkConfig};
use trustshot_face::Frame;
use trustshot_identity::challenge::Challenge;
use trustshot_identity::{Action, SessionState};
use trustshot_testkit::flash_sim::{record, schedule, seeded_sequence, Scene};
use trustshot_testkit::{model_dir, shared};

fn aznar(sdk: &Sdk, n: u32) -> Option<(PathBuf, Frame)> {
    let path = shared(&format!("lfw/images/Jose_Maria_Aznar/Jose_Maria_Aznar_{n:04}.jpg"))?;
    let frame = sdk.frame(&Image::Encoded(&std::fs::read(&path).unwrap())).unwrap();
    Some((path, frame))
}

/// Records a capture into `dir`: the challenge answered (front, held; turn
/// left; front, held; turn right), then the flash under `scene`.
fn record_capture(sdk: &Sdk, dir: &Path, front: &Frame, left: &Frame, right: &Frame, scene: Scene) {
    let challenge = Challenge { actions: vec![Action::TurnLeft, Action::TurnRight], holds_ms: vec![300, 300] };
    let mut run = sdk.start_challenge_with(challenge).unwrap();
    run.record_to(&dir.join(CHALLENGE_DIR)).unwrap();
    let mut frames: Vec<(u64, &Frame)> = (0..=300).step_by(100).map(|t| (t, front)).collect();
    frames.push((900, left));
    frames.extend((1_000..=1_300).step_by(100).map(|t| (t, front)));
    frames.push((1_800, right));
    for (t, frame) in frames {
        run.push_frame(frame, t).unwrap();
    }
    assert_eq!(run.state(), SessionState::Passed);

    let mut flash = sdk.start_flash_with(seeded_sequence(&sdk.config().flash, 21)).unwrap();
    flash.record_to(&dir.join(FLASH_DIR)).unwrap();
    let face = trustshot::liveness::largest_face(&sdk.engine().detect(front).unwrap()).unwrap();
    let displayed = schedule(flash.sequence(), 3_000);
    let mut shown = 0;
    for (t, frame) in record(front, &face, flash.sequence(), &displayed, &scene) {
        while shown < displayed.len() && displayed[shown] <= t {
            flash.displayed(shown, displayed[shown]).unwrap();
            shown += 1;
        }
        flash.push_frame(&frame, t).unwrap();
    }
}

fn verify_id(document: &Path, session: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trustshot"))
        .args(["verify-id", "--json", "--document"])
        .arg(document)
        .arg("--session")
        .arg(session)
        .output()
        .unwrap()
}

fn layer<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["high_assurance"]["checks"].as_array().unwrap().iter().find(|c| c["layer"] == name).unwrap()
}

#[test]
fn recorded_captures_are_judged_with_every_layer() {
    let sdk = Sdk::load(&model_dir(), SdkConfig::default()).expect("run scripts/setup");
    let Some((_, front)) = aznar(&sdk, 14) else { return };
    let (document, _) = aznar(&sdk, 18).unwrap();
    let (left, right) = (aznar(&sdk, 4).unwrap().1, aznar(&sdk, 22).unwrap().1);
    let root = std::env::temp_dir().join(format!("trustshot-capture-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);

    // The same man answers the challenge and the flash: every layer passes.
    let live = root.join("live");
    record_capture(&sdk, &live, &front, &left, &right, Scene::live());
    let out = verify_id(&document, &live);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{out:?}"));
    let assurance = &v["high_assurance"];
    assert_eq!(assurance["passed"], true, "SIMULATED flash, real challenge: {v}");
    for name in ["flash", "actions", "passive", "same_face"] {
        let c = layer(&v, name);
        assert!(c["passed"] == true && c["score"].is_number() && c["threshold"].is_number(), "{c}");
    }
    assert_eq!(assurance["challenge"]["state"], "passed");
    assert_eq!(assurance["challenge"]["actions"], serde_json::json!(["turn_left", "turn_right"]));
    assert!(assurance["challenge"]["frames"] == 10 && assurance["flash"]["frames"].as_u64().unwrap() > 40, "{v}");
    let reasons: Vec<&str> = v["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert!(!reasons.iter().any(|r| r.ends_with("_failed")), "{reasons:?}");
    assert!(v["scores"]["face_match"].as_f64().unwrap() > v["thresholds"]["reject_face_match"].as_f64().unwrap());
    assert_eq!(v["decision"], "approve", "{v}");

    // A screen held up under the flash (even reflection): rejected, with the
    // flash layer's score and threshold as the reason.
    let screen = root.join("screen");
    record_capture(&sdk, &screen, &front, &left, &right, Scene::flat_screen());
    let out = verify_id(&document, &screen);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((&v["decision"], &v["high_assurance"]["passed"]), (&"reject".into(), &false.into()), "{v}");
    assert_eq!(layer(&v, "flash")["passed"], false);
    let flash_reason = v["reasons"].as_array().unwrap().iter().find(|r| r["code"] == "flash_failed").unwrap();
    assert_eq!(flash_reason["threshold"], layer(&v, "flash")["threshold"]);

    // The one-picture flow reports no session.
    let out = Command::new(env!("CARGO_BIN_EXE_trustshot"))
        .args(["verify-id", "--json", "--document"])
        .arg(&document)
        .arg("--selfie")
        .arg(shared("lfw/images/Jose_Maria_Aznar/Jose_Maria_Aznar_0014.jpg").unwrap())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["high_assurance"].is_null() && v["decision"].is_string(), "{v}");

    // A damaged challenge file: refused by file and line, none of it echoed back.
    let challenge_file = screen.join(CHALLENGE_DIR).join(CHALLENGE_FILE);
    let text = std::fs::read_to_string(&challenge_file).unwrap();
    std::fs::write(&challenge_file, text.replacen("turn_left", &"wink".repeat(2_000), 1)).unwrap();
    let out = verify_id(&document, &screen);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("challenge.tsv line 2") && stderr.len() < 400, "{stderr}");
    let _ = std::fs::remove_dir_all(&root);
}
