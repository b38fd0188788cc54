//! `trustshot eval challenge`: how often a replayed recording of a real live
//! person passes a random challenge by chance (issue 13, §4).
//!
//! The attacker's footage is each subject's live frames (label `live`) in
//! manifest order, timed from their source frame index (the `frame_index`
//! column, else the last number in the file name) at `--frame-ms` per index.
//! The attacker may start it at any frame: for every start frame and
//! `--draws` fresh random challenges (actions, order and holds from the OS
//! CSPRNG, as the SDK draws them), the footage from that frame on is judged
//! by a challenge session exactly as camera frames would be. A pass is a
//! chance pass. Each frame is observed once (faces, eye openness, embedding)
//! and judged against every challenge, so the figures cost one pipeline run
//! per frame.
//!
//! What this cannot measure: how often a real person who follows the prompts
//! passes (there is no footage of people answering prompts here); that needs
//! device sessions.

use super::{par_map, unreadable, Report};
use crate::face::{load_sdk, read_frame, ReadError};
use clap::Args;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use trustshot::SdkConfig;
use trustshot_csv::Table;
use trustshot_face::{Embedding, Face, FaceEngine, FaceError};
use trustshot_identity::challenge::{Challenge, Observe};
use trustshot_identity::{Action, ChallengeConfig, ChallengeSession, SessionState};

#[derive(Args)]
pub struct ChallengeArgs {
    /// CSV with path (or file), label and subject (or subject_guess) columns.
    #[arg(long)]
    manifest: PathBuf,
    #[arg(long)]
    root: PathBuf,
    /// Milliseconds per source frame index (e.g. 50 for a 20 fps recording).
    #[arg(long)]
    frame_ms: u64,
    /// Random challenges drawn per start frame and per challenge length.
    #[arg(long, default_value_t = 40)]
    draws: usize,
    /// Judge with the timing of the SDK before issue 13 instead (no hold
    /// before a prompt, no reaction or action window, one 20 s timeout), for
    /// comparison.
    #[arg(long)]
    untimed: bool,
    #[arg(long)]
    json: bool,
}

/// One frame, observed once: what any challenge session may ask of it.
#[derive(Clone)]
struct Observed {
    faces: Vec<Face>,
    /// Eye openness and embedding of the largest face.
    eyes: Option<f32>,
    embedding: Option<Embedding>,
}

impl Observe for Observed {
    fn faces(&mut self) -> Result<&[Face], FaceError> {
        Ok(&self.faces)
    }

    fn eye_openness(&mut self, _: &Face) -> Result<f32, FaceError> {
        self.eyes.ok_or(FaceError::Inference { model: "eyes", detail: "not measured".into() })
    }

    fn embedding(&mut self, _: &Face) -> Result<Embedding, FaceError> {
        self.embedding.clone().ok_or(FaceError::Inference { model: "embed", detail: "not measured".into() })
    }
}

fn observe(engine: &FaceEngine, path: &Path) -> Result<Observed, ReadError> {
    let frame = read_frame(engine, path)?;
    let face_error = |e| ReadError::face(path, e);
    let faces = engine.detect(&frame).map_err(face_error)?;
    let main = trustshot::liveness::largest_face(&faces);
    let (eyes, embedding) = match main {
        Some(f) => (
            Some(engine.eye_openness(&frame, &f).map_err(face_error)?.mean()),
            Some(engine.embed_face(&frame, &f).map_err(face_error)?),
        ),
        None => (None, None),
    };
    Ok(Observed { faces, eyes, embedding })
}

/// Which recording a row belongs to and its source frame index: the
/// `frame_index` column, else the last number in the file name (the rest of
/// the name and the folder name the recording, as in NUAA's
/// `0001_00_00_01_156.jpg`).
fn recording_and_index(t: &Table, row: &[String], subject: &str, path: &str) -> Result<(String, u64), String> {
    let p = Path::new(path);
    let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    let digits: &str = stem.rsplit(|c: char| !c.is_ascii_digit()).next().unwrap_or_default();
    let prefix = format!(
        "{}/{}",
        p.parent().map(|d| d.display().to_string()).unwrap_or_default(),
        &stem[..stem.len() - digits.len()]
    );
    let subject = if subject.is_empty() { "unnamed" } else { subject };
    if let Ok(c) = t.column("frame_index") {
        let index = t.cell(row, c).parse().map_err(|_| format!("{path}: frame_index is not a number"))?;
        return Ok((subject.to_string(), index));
    }
    let index = digits.parse().map_err(|_| format!("{path}: no frame number in the file name"))?;
    Ok((format!("{subject} {prefix}"), index))
}

/// Whether `footage[start..]` passes `challenge`.
fn passes(
    engine: &Arc<FaceEngine>,
    config: ChallengeConfig,
    challenge: Challenge,
    footage: &[(u64, Observed)],
) -> bool {
    let Ok(mut session) = ChallengeSession::with_challenge(engine.clone(), config, challenge) else { return false };
    for (t, observed) in footage {
        match session.push_observed(&mut observed.clone(), *t) {
            Ok(SessionState::Passed) => return true,
            Ok(state) if state.is_final() => return false,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

pub fn run(models: &Path, args: &ChallengeArgs) -> Result<Report, String> {
    let sdk = load_sdk(models, SdkConfig::default())?;
    let engine = sdk.engine();
    let config = match args.untimed {
        false => sdk.config().challenge,
        true => ChallengeConfig {
            hold_min_ms: 0,
            hold_max_ms: 0,
            min_reaction_ms: 0,
            action_window_ms: 20_000,
            timeout_ms: 20_000,
            ..sdk.config().challenge
        },
    };
    let t = Table::read(&args.manifest)?;
    let (c_path, c_label) = (t.column("path").or_else(|_| t.column("file"))?, t.column("label")?);
    let c_subject = t.column("subject").or_else(|_| t.column("subject_guess"))?;
    let mut rows = Vec::new();
    for r in t.rows.iter().filter(|r| t.cell(r, c_label) == "live") {
        let path = t.cell(r, c_path).to_string();
        let (recording, index) = recording_and_index(&t, r, t.cell(r, c_subject), &path)?;
        rows.push((recording, index, path));
    }
    let observed = par_map(&rows, |(_, _, path)| observe(engine, &args.root.join(path)));
    // Each recording's frames in time order (manifests need not list them so).
    let mut footage: BTreeMap<&str, Vec<(u64, Observed)>> = BTreeMap::new();
    let mut failures = Vec::new();
    for ((recording, index, path), o) in rows.iter().zip(observed) {
        match o {
            Ok(o) => footage.entry(recording).or_default().push((index * args.frame_ms, o)),
            Err(e) => failures.push((path.clone(), e)),
        }
    }
    for frames in footage.values_mut() {
        frames.sort_by_key(|(t, _)| *t);
        frames.dedup_by_key(|(t, _)| *t);
    }
    // Every challenge length, and each action alone (which actions footage passes by chance).
    let mut by_length = BTreeMap::new();
    let kinds: Vec<(String, ChallengeConfig, Option<Action>)> = (1..=Action::ALL.len())
        .map(|n| (n.to_string(), ChallengeConfig { actions: n, ..config }, None))
        .chain(Action::ALL.iter().map(|&a| (a.as_str().to_string(), ChallengeConfig { actions: 1, ..config }, Some(a))))
        .collect();
    for (name, config, only) in kinds {
        by_length.insert(name, chance_passes(engine, config, only, &footage, args.draws)?);
    }
    let out: Value = json!({
        "what": "chance passes of random challenges by replayed live footage started at any frame",
        "frame_ms": args.frame_ms,
        "timing": if args.untimed { "untimed (before issue 13)" } else { "the SDK's" },
        "draws_per_start": args.draws,
        "config": {
            "hold_min_ms": config.hold_min_ms,
            "hold_max_ms": config.hold_max_ms,
            "min_reaction_ms": config.min_reaction_ms,
            "action_window_ms": config.action_window_ms,
            "turn_degrees": config.turn_degrees,
            "closer_ratio": config.closer_ratio,
            "default_actions": config.actions,
        },
        "by_actions": by_length,
        "note": "by_actions: keys 1-4 are random challenges of that many actions; the action names are one-action challenges of that action",
        "unreadable": unreadable(&failures),
    });
    Ok(Report { out, json: args.json })
}

/// Replays every recording from each of its frames, `draws` random challenges
/// per start (of `only` when given): how often footage passes by chance.
fn chance_passes(
    engine: &Arc<FaceEngine>,
    config: ChallengeConfig,
    only: Option<Action>,
    footage: &BTreeMap<&str, Vec<(u64, Observed)>>,
    draws: usize,
) -> Result<Value, String> {
    let mut per_subject = BTreeMap::new();
    let (mut passed, mut total) = (0usize, 0usize);
    for (subject, frames) in footage {
        let starts: Vec<usize> = (0..frames.len()).collect();
        let counts = par_map(&starts, |&start| -> Result<usize, String> {
            let mut hits = 0;
            for _ in 0..draws {
                let mut challenge = Challenge::draw(&config).map_err(|e| e.to_string())?;
                if let Some(action) = only {
                    challenge.actions = vec![action];
                }
                hits += usize::from(passes(engine, config, challenge, &frames[start..]));
            }
            Ok(hits)
        });
        let p = counts.into_iter().sum::<Result<usize, String>>()?;
        let n = draws * frames.len();
        per_subject.insert(
            subject.to_string(),
            json!({"frames": frames.len(), "sessions": n, "passed": p, "rate": p as f64 / n.max(1) as f64}),
        );
        passed += p;
        total += n;
    }
    Ok(
        json!({"sessions": total, "passed": passed, "rate": passed as f64 / total.max(1) as f64, "by_subject": per_subject}),
    )
}
