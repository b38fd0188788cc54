//! The high-assurance decision on one capture: a challenge answered with
//! real photos of one person turning his head (LFW, Jose Maria Aznar), and a
//! colour-flash session whose light response is SIMULATED (his frontal photo
//! relit by the reflection model of trustshot-testkit/src/flash_sim.rs; no
//! device capture exists here). Every layer is judged and reported; the
//! session passes only when all pass.

use std::sync::OnceLock;
use trustshot::assurance::judge;
use trustshot::{FlashRun, Sdk, SdkConfig};
use trustshot_face::Frame;
use trustshot_identity::challenge::Challenge;
use trustshot_identity::AssuranceLayer;
use trustshot_identity::{Action, SessionState};
use trustshot_testkit::flash_sim::{record, schedule, seeded_sequence, Scene};
use trustshot_testkit::*;

fn sdk() -> &'static Sdk {
    static SDK: OnceLock<Sdk> = OnceLock::new();
    SDK.get_or_init(|| Sdk::load(&model_dir(), SdkConfig::default()).expect("run scripts/setup"))
}

fn aznar(n: u32) -> Option<Frame> {
    let path = shared(&format!("lfw/images/Jose_Maria_Aznar/Jose_Maria_Aznar_{n:04}.jpg"))?;
    Some(sdk().frame(&trustshot::Image::Encoded(&std::fs::read(path).unwrap())).unwrap())
}

/// Front, held; turn left; front, held; turn right (frames 100 ms apart).
fn answered_challenge(front: &Frame, left: &Frame, right: &Frame) -> trustshot::ChallengeRun {
    let challenge = Challenge { actions: vec![Action::TurnLeft, Action::TurnRight], holds_ms: vec![300, 300] };
    let mut run = sdk().start_challenge_with(challenge).unwrap();
    for t in (0..=300).step_by(100) {
        run.push_frame(front, t).unwrap();
    }
    run.push_frame(left, 900).unwrap();
    for t in (1_000..=1_300).step_by(100) {
        run.push_frame(front, t).unwrap();
    }
    assert_eq!(run.push_frame(right, 1_800).unwrap(), SessionState::Passed);
    run
}

/// A flash session fed SIMULATED frames: `photo` relit under `scene`, the
/// sequence seeded so that every run judges the same session.
fn flash_run(photo: &Frame, scene: Scene) -> FlashRun {
    let mut run = sdk().start_flash_with(seeded_sequence(&sdk().config().flash, 21)).unwrap();
    let face = trustshot::liveness::largest_face(&sdk().engine().detect(photo).unwrap()).unwrap();
    let displayed = schedule(run.sequence(), 1_000);
    let frames = record(photo, &face, run.sequence(), &displayed, &scene);
    let mut shown = 0;
    for (t, frame) in &frames {
        while shown < displayed.len() && displayed[shown] <= *t {
            run.displayed(shown, displayed[shown]).unwrap();
            shown += 1;
        }
        run.push_frame(frame, *t).unwrap();
    }
    assert!(run.progress().finished);
    run
}

fn layer(a: &trustshot::assurance::Assurance, l: AssuranceLayer) -> trustshot::assurance::Check {
    *a.checks.iter().find(|c| c.layer == l).unwrap()
}

#[test]
fn every_layer_is_judged_and_all_must_pass() {
    let Some(front) = aznar(14) else { return };
    let (left, right) = (aznar(4).unwrap(), aznar(22).unwrap());
    let fmr = sdk().config().challenge.same_face_fmr;
    let challenge = answered_challenge(&front, &left, &right);

    // The same man under the flash (SIMULATED response): every layer passes.
    let live = judge(&challenge, &flash_run(&front, Scene::live()), fmr);
    assert!(live.passed && live.checks.iter().all(|c| c.passed), "{live:?}");
    let receipt = live.verdict();
    assert_eq!(receipt.decision, "passed");
    assert!(receipt.reasons.is_empty());
    for key in ["flash", "actions", "passive", "same_face"] {
        assert!(receipt.scores.contains_key(key) && receipt.thresholds.contains_key(key), "{receipt:?}");
    }

    // A screen held up (even reflection): the flash fails, so the session does.
    let screen = judge(&challenge, &flash_run(&front, Scene::flat_screen()), fmr);
    assert!(!layer(&screen, AssuranceLayer::Flash).passed && !screen.passed, "{screen:?}");
    assert!(screen.verdict().reasons.contains(&"flash_failed".to_string()));

    // Someone else under the flash: the same-face layer fails.
    let other = sdk().frame(&trustshot::Image::Encoded(&sample_bytes("biden.jpg"))).unwrap();
    let swapped = judge(&challenge, &flash_run(&other, Scene::live()), fmr);
    assert!(!layer(&swapped, AssuranceLayer::SameFace).passed && !swapped.passed, "{swapped:?}");

    // An unfinished challenge fails the actions layer.
    let unfinished = sdk().start_challenge(2).unwrap();
    let early = judge(&unfinished, &flash_run(&front, Scene::live()), fmr);
    assert!(
        !layer(&early, AssuranceLayer::Actions).passed
            && !layer(&early, AssuranceLayer::Passive).passed
            && !early.passed
    );
}
