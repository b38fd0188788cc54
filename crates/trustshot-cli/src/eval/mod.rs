//! `trustshot eval ...`: accuracy on labelled data, printed as JSON. One
//! module per evaluation; this one holds what they share.
//!
//! - `eval lfw`: face verification on the official LFW pairs format.
//! - `eval detection`: detector recall / false positives on a manifest + boxes folder.
//! - `eval quality`: distribution of the capture-quality measures over a folder.
//! - `eval liveness`: passive liveness APCER / BPCER on a labelled manifest.
//! - `eval documents`: portrait found, capture measures, portrait-to-portrait scores.
//! - `eval flash`: a recorded colour-flash session judged again.
//! - `eval challenge`: chance passes of random challenges by replayed live footage.
//!
//! A file that cannot be read or decoded never stops an evaluation: each one
//! reports it under `unreadable` (path, stable error code, message) and goes
//! on with the rest, as `eval lfw` does with pictures where no face is found.

mod challenge;
mod detection;
mod documents;
mod flash;
mod lfw;
mod liveness;
mod quality;

use crate::face::ReadError;
use crate::CliResult;
use clap::Subcommand;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Face verification on LFW pairs (View 1: one split; View 2: 10 folds).
    Lfw(lfw::LfwArgs),
    /// Face detection on a folder laid out like ../shared/data/face_detection.
    Detection(detection::DetectionArgs),
    /// Distribution of the quality measures, and how often each check fails,
    /// over every JPEG/PNG under a folder (for choosing and stating thresholds).
    Quality(quality::QualityArgs),
    /// Passive liveness: APCER per attack type and BPCER on a labelled manifest.
    Liveness(liveness::LivenessArgs),
    /// ID documents: portrait found, capture measures, portrait-to-portrait scores.
    Documents(documents::DocumentsArgs),
    /// A recorded colour-flash session (FlashChallenge.record_to) judged again.
    Flash(flash::FlashArgs),
    /// How often replayed live footage, started anywhere, passes random challenges by chance.
    Challenge(challenge::ChallengeArgs),
}

pub fn run(models: &Path, cmd: EvalCommand) -> CliResult {
    let report = match cmd {
        EvalCommand::Lfw(args) => lfw::run(models, &args)?,
        EvalCommand::Detection(args) => detection::run(models, &args)?,
        EvalCommand::Quality(args) => quality::run(models, &args)?,
        EvalCommand::Liveness(args) => liveness::run(models, &args)?,
        EvalCommand::Documents(args) => documents::run(models, &args)?,
        EvalCommand::Flash(args) => flash::run(models, &args)?,
        EvalCommand::Challenge(args) => challenge::run(models, &args)?,
    };
    report.print();
    Ok(ExitCode::SUCCESS)
}

/// An evaluation's result and how to print it.
pub struct Report {
    pub out: Value,
    /// One line of JSON (`--json`), else indented.
    pub json: bool,
}

impl Report {
    fn print(self) {
        if self.json {
            println!("{}", self.out);
        } else {
            println!("{}", serde_json::to_string_pretty(&self.out).expect("json"));
        }
    }
}

/// The files an evaluation could not use, for its `unreadable` field.
pub fn unreadable(failures: &[(String, ReadError)]) -> Value {
    failures.iter().map(|(path, e)| json!({"path": path, "code": e.code, "error": e.message})).collect()
}

/// Maps `items` on all cores, keeping order.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(items.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, f(item)));
                    }
                    out
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("evaluation worker panicked")).collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Every JPEG/PNG under `dir`, sorted.
pub fn image_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            let ext = path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase());
            if path.is_dir() {
                stack.push(path);
            } else if matches!(ext.as_deref(), Some("jpg" | "jpeg" | "png")) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}
