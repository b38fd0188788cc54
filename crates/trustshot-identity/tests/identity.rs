//! Liveness and ID documents on real photos from ../shared/data: a printed
//! photo is refused, a real head-turn sequence and real blinks pass their
//! challenges while a repeated photo and a swapped-in person fail with their
//! reasons (and neither a video without its closed-eye frames nor a printed
//! photo moved by hand passes a blink), and the
//! portrait is found and matched on specimen documents.

use std::sync::{Arc, OnceLock};
use trustshot_face::{EngineConfig, FaceEngine, Frame, Rotation};
use trustshot_identity::challenge::Challenge;
use trustshot_identity::document::find_portrait;
use trustshot_identity::{
    verify_id, Action, ChallengeConfig, ChallengeSession, DocumentConfig, FailReason, IdDecision, IdReasonCode,
    PassiveLiveness, SessionError, SessionState,
};
use trustshot_testkit::*;

fn liveness() -> &'static PassiveLiveness {
    static MODEL: OnceLock<PassiveLiveness> = OnceLock::new();
    MODEL.get_or_init(|| {
        PassiveLiveness::load(&(&model_dir()).into()).unwrap_or_else(|e| {
            panic!("{e}: the MiniFASNet models come from the model mirror (models/README.md, Liveness)")
        })
    })
}

fn shared_engine() -> Arc<FaceEngine> {
    static ENGINE: OnceLock<Arc<FaceEngine>> = OnceLock::new();
    ENGINE.get_or_init(|| Arc::new(FaceEngine::load(&model_dir(), EngineConfig::default()).unwrap())).clone()
}

fn photo(relative: &str) -> Option<Frame> {
    let path = shared(relative)?;
    Some(engine().decode(&std::fs::read(path).unwrap()).unwrap())
}

fn main_face(frame: &Frame) -> trustshot_face::Face {
    let faces = engine().detect(frame).unwrap();
    *faces.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area())).unwrap()
}

#[test]
fn a_printed_photo_is_refused_and_a_live_face_accepted() {
    let Some(live) = photo("anti_spoof/nuaa/ClientRaw/0001/0001_00_00_01_0.jpg") else { return };
    let print = photo("anti_spoof/nuaa/ImposterRaw/0001/0001_00_00_01_0.jpg").unwrap();
    let l = liveness().assess(&live, &main_face(&live)).unwrap();
    let p = liveness().assess(&print, &main_face(&print)).unwrap();
    assert!(l.live, "{l:?}");
    assert!(!p.live, "{p:?}");
    assert!(l.score.is_finite() && p.score.is_finite() && l.score > p.score);
}

/// Real photos of one person with the head turned (LFW), yaw measured by the
/// pose estimate: Jose_Maria_Aznar_0014 frontal (1°), 0004 turned to the
/// image right (+29°), 0022 to the image left (-34°).
fn aznar(n: u32) -> Option<Frame> {
    photo(&format!("lfw/images/Jose_Maria_Aznar/Jose_Maria_Aznar_{n:04}.jpg"))
}

/// A challenge whose holds all take 300 ms (the drawn ones are random).
fn short_holds() -> ChallengeConfig {
    ChallengeConfig { hold_min_ms: 300, hold_max_ms: 300, ..ChallengeConfig::default() }
}

/// Feeds `frame` every 100 ms from `from` to `to` (inclusive); the last state.
fn feed(s: &mut ChallengeSession, frame: &Frame, from: u64, to: u64) -> SessionState {
    let mut state = s.state();
    for t in (from..=to).step_by(100) {
        state = s.push_frame(frame, t).unwrap();
    }
    state
}

#[test]
fn a_real_head_turn_sequence_passes() {
    let Some(front) = aznar(14) else { return };
    let (left, right) = (aznar(4).unwrap(), aznar(22).unwrap());
    let mut s =
        ChallengeSession::with_actions(shared_engine(), short_holds(), vec![Action::TurnLeft, Action::TurnRight])
            .unwrap();
    // The first frontal frame starts the session: hold still until the prompt.
    assert_eq!(s.push_frame(&front, 0).unwrap(), SessionState::Holding { done: 0 });
    assert_eq!(feed(&mut s, &front, 100, 200), SessionState::Holding { done: 0 });
    assert_eq!(s.push_frame(&front, 300).unwrap(), SessionState::InProgress { done: 0, current: Action::TurnLeft });
    // Looking straight on does not count as a turn.
    assert_eq!(s.push_frame(&front, 400).unwrap(), SessionState::InProgress { done: 0, current: Action::TurnLeft });
    assert_eq!(s.push_frame(&left, 900).unwrap(), SessionState::Holding { done: 1 });
    // Back to frontal, held for 300 ms: the next prompt.
    assert_eq!(feed(&mut s, &front, 1_000, 1_200), SessionState::Holding { done: 1 });
    assert_eq!(s.push_frame(&front, 1_300).unwrap(), SessionState::InProgress { done: 1, current: Action::TurnRight });
    assert_eq!(s.push_frame(&right, 1_800).unwrap(), SessionState::Passed);
    assert!(matches!(s.push_frame(&right, 1_900), Err(SessionError::Finished(SessionState::Passed))));
}

#[test]
fn an_action_before_its_prompt_could_be_seen_fails_and_a_late_one_times_out() {
    let Some(front) = aznar(14) else { return };
    let left = aznar(4).unwrap();
    // Turned 100 ms after the prompt: faster than a person reacts, so the
    // turn began before the prompt (a recording playing on).
    let mut s = ChallengeSession::with_actions(shared_engine(), short_holds(), vec![Action::TurnLeft]).unwrap();
    assert_eq!(feed(&mut s, &front, 0, 300), SessionState::InProgress { done: 0, current: Action::TurnLeft });
    assert_eq!(s.push_frame(&left, 400).unwrap(), SessionState::Failed(FailReason::PrematureAction));
    // Turned during the hold: no prompt yet, the hold starts again when the
    // face is back; nothing counts as done.
    let mut s = ChallengeSession::with_actions(shared_engine(), short_holds(), vec![Action::TurnLeft]).unwrap();
    assert_eq!(feed(&mut s, &front, 0, 200), SessionState::Holding { done: 0 });
    assert_eq!(s.push_frame(&left, 300).unwrap(), SessionState::Holding { done: 0 });
    assert_eq!(feed(&mut s, &front, 400, 600), SessionState::Holding { done: 0 });
    assert_eq!(s.push_frame(&front, 700).unwrap(), SessionState::InProgress { done: 0, current: Action::TurnLeft });
    // No turn within the 4 s window after the prompt.
    let config = ChallengeConfig { still_window_ms: u64::MAX, ..short_holds() };
    let mut s = ChallengeSession::with_actions(shared_engine(), config, vec![Action::TurnLeft]).unwrap();
    assert_eq!(feed(&mut s, &front, 0, 4_300), SessionState::InProgress { done: 0, current: Action::TurnLeft });
    assert_eq!(s.push_frame(&front, 4_400).unwrap(), SessionState::TimedOut);
}

#[test]
fn challenges_are_drawn_from_the_csprng_with_random_holds() {
    let config = ChallengeConfig { actions: 4, ..ChallengeConfig::default() };
    let mut orders = std::collections::HashSet::new();
    let mut holds = std::collections::HashSet::new();
    for _ in 0..400 {
        let c = Challenge::draw(&config).unwrap();
        let mut sorted = c.actions.clone();
        sorted.sort_by_key(|a| a.as_str());
        sorted.dedup();
        assert_eq!(sorted.len(), 4, "no action twice: {c:?}");
        for &h in &c.holds_ms {
            assert!((config.hold_min_ms..=config.hold_max_ms).contains(&h) && h % 10 == 0, "{h}");
            holds.insert(h);
        }
        orders.insert(c.actions);
    }
    // 24 orders of 4 actions, 131 hold values: 400 draws see nearly all.
    assert!(orders.len() >= 22, "{} orders", orders.len());
    assert!(holds.len() >= 100, "{} hold values", holds.len());
}

#[test]
fn the_same_photo_repeated_fails_as_a_still_image() {
    let Some(front) = aznar(14) else { return };
    let config = ChallengeConfig { hold_min_ms: 5_000, hold_max_ms: 5_000, ..ChallengeConfig::default() };
    let mut s = ChallengeSession::with_actions(shared_engine(), config, vec![Action::TurnLeft]).unwrap();
    let mut state = SessionState::Starting;
    for i in 0..12 {
        state = s.push_frame(&front, i * 200).unwrap();
        if state.is_final() {
            break;
        }
    }
    assert_eq!(state, SessionState::Failed(FailReason::StillImage));
}

#[test]
fn another_person_swapped_in_fails_as_face_changed() {
    let Some(front) = aznar(14) else { return };
    // Another man, head turned to the image right (+24°): the turn is made, by someone else.
    let other = photo("lfw/images/Moshe_Katsav/Moshe_Katsav_0001.jpg").unwrap();
    let mut s = ChallengeSession::with_actions(shared_engine(), short_holds(), vec![Action::TurnLeft]).unwrap();
    assert_eq!(feed(&mut s, &front, 0, 300), SessionState::InProgress { done: 0, current: Action::TurnLeft });
    assert_eq!(s.push_frame(&other, 800).unwrap(), SessionState::Failed(FailReason::FaceChanged));
}

#[test]
fn frames_out_of_order_after_timeout_or_after_the_end_are_typed_errors() {
    let Some(front) = aznar(14) else { return };
    let config = ChallengeConfig { timeout_ms: 1_000, ..ChallengeConfig::default() };
    let mut s = ChallengeSession::with_actions(shared_engine(), config, vec![Action::MoveCloser]).unwrap();
    s.push_frame(&front, 100).unwrap();
    assert!(matches!(s.push_frame(&front, 100), Err(SessionError::OutOfOrder { last: 100, got: 100 })));
    assert!(matches!(s.push_frame(&front, 50), Err(SessionError::OutOfOrder { .. })));
    assert_eq!(s.push_frame(&front, 1_200).unwrap(), SessionState::TimedOut);
    assert!(matches!(s.push_frame(&front, 1_300), Err(SessionError::Finished(SessionState::TimedOut))));
    assert!(ChallengeSession::with_actions(shared_engine(), ChallengeConfig::default(), vec![]).is_err());
    let inverted = ChallengeConfig { blink_closed_ratio: 0.9, ..ChallengeConfig::default() };
    assert!(matches!(
        ChallengeSession::with_actions(shared_engine(), inverted, vec![Action::Blink]),
        Err(SessionError::Config(_))
    ));
    let random = ChallengeSession::new(shared_engine(), ChallengeConfig::default()).unwrap();
    assert_eq!(random.actions().len(), 2);
    assert_ne!(random.actions()[0], random.actions()[1]);
}

/// The specimens that show a portrait (by eye; the others are card backs or an MRZ crop).
const WITH_PORTRAIT: [&str; 13] = [
    "100_id-rou.jpg",
    "100_pass-chn.jpg",
    "100_pass-cze2.jpg",
    "100_pass-hrv.jpg",
    "100_pass-ltu.jpg",
    "100_pass-polx.jpg",
    "100_pass2-uto.jpg",
    "100_visa-usa.jpg",
    "25_pass-uto.jpg",
    "33_id-usa.jpg",
    "43_pass-twn.jpg",
    "62_pass-aus.png",
    "79_pass-hun.png",
];

#[test]
fn the_portrait_is_found_on_at_least_90_percent_of_specimens() {
    if shared("id_documents/passporteye").is_none() {
        return;
    }
    let mut missed = Vec::new();
    for name in WITH_PORTRAIT {
        let doc = photo(&format!("id_documents/passporteye/{name}")).unwrap();
        if find_portrait(engine(), &doc, &DocumentConfig::default()).unwrap().is_none() {
            missed.push(name);
        }
    }
    eprintln!("portrait missed on {missed:?}");
    assert!(missed.len() * 10 <= WITH_PORTRAIT.len(), "missed {missed:?}");
}

/// Issue 17: a document photographed sideways (or upside down) still gives its
/// portrait, the orientation used is reported, and the portrait is the same
/// face as upright (its embedding within 0.05 cosine of the upright one's).
#[test]
fn a_sideways_or_upside_down_document_gives_its_portrait_and_orientation() {
    if shared("id_documents/passporteye").is_none() {
        return;
    }
    let config = DocumentConfig::default();
    let mut checked = 0;
    for name in WITH_PORTRAIT {
        let upright = photo(&format!("id_documents/passporteye/{name}")).unwrap();
        let Some(reference) = find_portrait(engine(), &upright, &config).unwrap() else { continue };
        let reference_embedding = engine().embed_face(&reference.document, &reference.face).unwrap();
        // Turned as a phone held sideways would take it, then through JPEG like a real capture.
        for (turn, needed) in
            [(Rotation::R90, Rotation::R270), (Rotation::R270, Rotation::R90), (Rotation::R180, Rotation::R180)]
        {
            let sideways = engine().decode(&jpeg(&upright.clone().rotated(turn))).unwrap();
            let found = find_portrait(engine(), &sideways, &config)
                .unwrap()
                .unwrap_or_else(|| panic!("{name} turned {turn:?}: no portrait"));
            assert_eq!(found.orientation, needed, "{name} turned {turn:?}: score {}", found.face.score);
            let cosine = engine().embed_face(&found.document, &found.face).unwrap().cosine(&reference_embedding);
            assert!(cosine > 0.95, "{name} turned {turn:?}: portrait embedding {cosine} from the upright one");
        }
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} specimens checked");
    // And the whole check reports it: the sideways Utopia passport against its own portrait.
    let doc = photo("id_documents/passporteye/25_pass-uto.jpg").unwrap();
    let sideways = engine().decode(&jpeg(&doc.clone().rotated(Rotation::R90))).unwrap();
    let selfie = sample("obama.jpg");
    let v = verify_id(engine(), Some(liveness()), &config, &sideways, &selfie, &engine().analyze(&selfie).unwrap())
        .unwrap();
    let p = v.portrait.expect("portrait found on the sideways passport");
    assert_eq!(p.orientation, Rotation::R270);
    assert!(!v.reasons.iter().any(|r| r.code == IdReasonCode::PortraitNotFound), "{:?}", v.reasons);
}

#[test]
fn same_fictitious_holder_matches_and_different_holders_do_not() {
    let Some(utopia_td2) = photo("id_documents/passporteye/100_pass2-uto.jpg") else { return };
    let utopia_passport = photo("id_documents/passporteye/25_pass-uto.jpg").unwrap();
    let poland = photo("id_documents/passporteye/100_pass-polx.jpg").unwrap();
    // The "selfie" is the other document's portrait cut out and enlarged, so
    // the selfie gate sees a face of usable size; liveness is left out (a
    // scan is not a live capture), which caps the decision at manual review.
    let selfie_of = |doc: &Frame| {
        let found = find_portrait(engine(), doc, &DocumentConfig::default()).unwrap().unwrap();
        assert_eq!(found.orientation, Rotation::R0, "an upright specimen is read upright");
        let (doc, face) = (&found.document, found.face);
        let r = face.bbox.scaled(2.2);
        let (x0, y0) = (r.x.max(0.0) as u32, r.y.max(0.0) as u32);
        let (w, h) = ((r.w as u32).min(doc.width() - x0), (r.h as u32).min(doc.height() - y0));
        let cut = crop(doc, x0, y0, w, h);
        trustshot_face::resize(&cut, w * 3, h * 3)
    };
    let config = DocumentConfig::default();
    let same_selfie = selfie_of(&utopia_passport);
    let same = verify_id(engine(), None, &config, &utopia_td2, &same_selfie, &engine().analyze(&same_selfie).unwrap())
        .unwrap();
    let score = same.face_match.unwrap();
    assert!(score >= same.approve_threshold, "same holder scored {score}");
    assert_eq!(same.decision, IdDecision::ManualReview, "{:?}", same.reasons);
    assert_eq!(same.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(), vec!["liveness_unavailable"]);

    let other_selfie = selfie_of(&poland);
    let other =
        verify_id(engine(), None, &config, &utopia_td2, &other_selfie, &engine().analyze(&other_selfie).unwrap())
            .unwrap();
    assert!(other.face_match.unwrap() < other.reject_threshold, "{:?}", other.face_match);
    assert_eq!(other.decision, IdDecision::Reject);
    assert!(other.reasons.iter().any(|r| r.code == IdReasonCode::FaceMismatch));
}

#[test]
fn a_document_without_a_portrait_is_rejected_with_the_reason() {
    let Some(back) = photo("id_documents/passporteye/100_id-usa.jpg") else { return };
    let selfie = sample("obama.jpg");
    let v = verify_id(
        engine(),
        Some(liveness()),
        &DocumentConfig::default(),
        &back,
        &selfie,
        &engine().analyze(&selfie).unwrap(),
    )
    .unwrap();
    assert_eq!(v.decision, IdDecision::Reject);
    assert!(v.reasons.iter().any(|r| r.code == IdReasonCode::PortraitNotFound));
}

/// Consecutive webcam frames of one person (the replay set's live recording,
/// every second frame, about 15 per second): the eyes are open, close at
/// frame 68 (and again at 204), and open again.
fn live_video(frames: impl Iterator<Item = u32>) -> Option<Vec<(u32, Frame)>> {
    frames.map(|n| Some((n, photo(&format!("anti_spoof/replay/apfol/dataset/real/{n}.png"))?))).collect()
}

/// A blink challenge prompted at its first frame (no hold): the people in
/// these recordings blinked on their own, and what these tests check is that
/// a real blink is seen and a moved print never is. The timing rules are
/// tested above and measured on real footage in models/README.md.
fn blink_at_once() -> ChallengeConfig {
    ChallengeConfig { hold_min_ms: 0, hold_max_ms: 0, ..ChallengeConfig::default() }
}

/// Runs a blink challenge over `frames` of the live video (15 frames a
/// second); the frame at which it passed, if it did before the action
/// window ran out.
fn blink_passes_at(frames: impl Iterator<Item = u32>) -> Option<Option<u32>> {
    let video = live_video(frames)?;
    let mut s = ChallengeSession::with_actions(shared_engine(), blink_at_once(), vec![Action::Blink]).unwrap();
    for (n, frame) in &video {
        match s.push_frame(frame, *n as u64 * 1000 / 30).unwrap() {
            SessionState::Passed => return Some(Some(*n)),
            SessionState::TimedOut => return Some(None),
            SessionState::Starting
            | SessionState::Holding { done: 0 }
            | SessionState::InProgress { done: 0, current: Action::Blink } => {}
            other => panic!("frame {n}: {other:?}"),
        }
    }
    Some(None)
}

#[test]
fn a_real_blink_passes_its_challenge() {
    // Eyes closed at frame 68 (measured openness 0.43 of the open level), open again from 70.
    let Some(first) = blink_passes_at((0..=212).step_by(2)) else { return };
    assert!(matches!(first, Some(70..=76)), "passed at {first:?}");
    // The second blink of the recording: closed at 198, open at 200 (the
    // session starts at 174, the first frontal frame after a head turn).
    let second = blink_passes_at((172..=212).step_by(2)).unwrap();
    assert!(matches!(second, Some(200..=202)), "passed at {second:?}");
}

#[test]
fn the_same_video_without_its_closed_eye_frames_does_not_pass() {
    // Frames 66-70 (closing, closed, reopening) removed; frames 40-42 (a blink
    // with the head turned 27-37 degrees) are not judged. Blurred frames and
    // glances down (92, 104, 134: 0.66-0.68 of the open level) are not blinks.
    let Some(passed) = blink_passes_at((0..=196).step_by(2).filter(|n| !(66..=70).contains(n))) else { return };
    assert_eq!(passed, None);
}

/// Every frame of one NUAA folder (one subject's live webcam recording, or
/// the recordings of their printed photo held and moved by hand), in
/// recording order.
fn nuaa_frames(folder: &str) -> Option<Vec<Frame>> {
    let root = shared(&format!("anti_spoof/nuaa/{folder}"))?;
    let order = |name: &str| -> Vec<u32> {
        name.trim_end_matches(".jpg").split('_').map(|x| x.parse().expect("NUAA names are numbers")).collect()
    };
    let mut names: Vec<String> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort_by_key(|n| order(n));
    names.iter().map(|n| photo(&format!("anti_spoof/nuaa/{folder}/{n}"))).collect()
}

/// A blink challenge over `frames`, 200 ms apart, with the still-image rule
/// off so that only the blink is judged; the state it ended in.
fn blink_judged_on(frames: &[Frame]) -> SessionState {
    let config = ChallengeConfig { still_window_ms: u64::MAX, ..blink_at_once() };
    let mut s = ChallengeSession::with_actions(shared_engine(), config, vec![Action::Blink]).unwrap();
    for (i, frame) in frames.iter().enumerate() {
        if s.push_frame(frame, i as u64 * 200).unwrap().is_final() {
            break;
        }
    }
    s.state()
}

#[test]
fn real_blinks_of_two_more_people_pass() {
    // NUAA 0002 (glasses): eyes closed at frame 221 (0.52 of the open level).
    // NUAA 0008: closed at 159 (0.47), half open at 188 and 216, open at 245.
    for subject in ["0002", "0008"] {
        let Some(frames) = nuaa_frames(&format!("ClientRaw/{subject}")) else { return };
        assert_eq!(blink_judged_on(&frames), SessionState::Passed, "live subject {subject}");
    }
}

#[test]
fn a_printed_photo_moved_by_hand_never_blinks() {
    // All eight NUAA print subjects (15 frames each, the photo bent and
    // moved): the lowest openness measured is 0.66 of the open level
    // (subject 0008, whose photo shows half-closed eyes), above 0.55.
    // Still-image detection is off here: this is the blink judgement alone.
    for subject in ["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008"] {
        let Some(frames) = nuaa_frames(&format!("ImposterRaw/{subject}")) else { return };
        let state = blink_judged_on(&frames);
        // Waiting for a blink still, or failed for another reason (a print
        // held so that a second face is in view ends as several_faces).
        assert!(
            matches!(state, SessionState::InProgress { .. } | SessionState::Failed(_)),
            "print of subject {subject}: {state:?}"
        );
    }
}
