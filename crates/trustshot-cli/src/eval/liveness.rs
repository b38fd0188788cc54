//! `trustshot eval liveness`: passive liveness APCER per attack type and
//! BPCER on a labelled manifest, at the shipped threshold and at the one that
//! refuses 5% of the bona fide frames; per subject (`by_subject`), and per
//! window of consecutive frames judged by the session score (`windows`), as a
//! short capture session sees them (issue 13).

use super::{par_map, unreadable, Report};
use crate::face::{load_sdk, read_frame, ReadError};
use crate::output;
use clap::Args;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use trustshot::SdkConfig;
use trustshot_csv::Table;
use trustshot_face::Rect;
use trustshot_face::{Face, FaceEngine};
use trustshot_identity::passive::{context_crop, session_score, FUSION};
use trustshot_identity::PassiveLiveness;

#[derive(Args)]
pub struct LivenessArgs {
    /// CSV with a path (or file) column and a label column: live, or an attack type.
    #[arg(long)]
    manifest: PathBuf,
    /// Folder the manifest's paths are relative to.
    #[arg(long)]
    root: PathBuf,
    /// Also write every frame's cues, subject, face box and picture size to
    /// this CSV (input of models/liveness_fusion.py and models/liveness_lopo.py).
    #[arg(long)]
    dump_features: Option<PathBuf>,
    /// Also write, per frame with a face, the crops candidate anti-spoofing
    /// networks take: 80x80 context crops (raw BGR bytes, `<row>_s<scale>.bgr`,
    /// scales 2.7 and 4.0, Silent-Face) and the square face box at 256x256
    /// (raw RGB, `<row>_square256.rgb`, the Deep Tree Network port): to try
    /// them under the same protocol (models/liveness_lopo.py) before any is
    /// built into the SDK.
    #[arg(long)]
    dump_crops: Option<PathBuf>,
    /// Frames per window for `windows`: consecutive frames (with a face) of
    /// one subject and label, in manifest order, judged by their session score.
    #[arg(long, default_value_t = 8)]
    window: usize,
    #[arg(long)]
    json: bool,
}

/// Where a manifest row's image is, its label, and whose face it is.
struct Labelled {
    path: String,
    label: String,
    /// The `subject` column (or `subject_guess`, as in the older replay manifest); "" without one.
    subject: String,
}

fn read_labelled(manifest: &Path) -> Result<Vec<Labelled>, String> {
    let t = Table::read(manifest)?;
    let path = t.column("path").or_else(|_| t.column("file"))?;
    let label = t.column("label")?;
    let subject = t.column("subject").or_else(|_| t.column("subject_guess")).ok();
    Ok(t.rows
        .iter()
        .map(|r| Labelled {
            path: t.cell(r, path).to_string(),
            label: t.cell(r, label).to_string(),
            subject: subject.map(|c| t.cell(r, c).to_string()).unwrap_or_default(),
        })
        .collect())
}

/// How many of `scores` are on the wrong side of `threshold`: accepted
/// attacks, or refused bona fide presentations.
fn wrong_count(scores: &[f32], threshold: f32, label: &str) -> usize {
    scores.iter().filter(|&&s| if label == "live" { s < threshold } else { s >= threshold }).count()
}

/// The share of `scores` on the wrong side of `threshold` (APCER or BPCER).
fn error_rate(scores: &[f32], threshold: f32, label: &str) -> f64 {
    wrong_count(scores, threshold, label) as f64 / scores.len().max(1) as f64
}

/// Per subject and label: frames, frames without a face, and the error rate
/// at the shipped threshold (APCER for attacks, BPCER for live).
fn by_subject(rows: &[&Labelled], scores: &[Option<f32>], threshold: f32) -> Value {
    let mut groups: BTreeMap<(&str, &str), (usize, Vec<f32>)> = BTreeMap::new();
    for (r, s) in rows.iter().zip(scores) {
        let g = groups.entry((r.subject.as_str(), r.label.as_str())).or_default();
        g.0 += 1;
        g.1.extend(*s);
    }
    let mut out: BTreeMap<&str, BTreeMap<&str, Value>> = BTreeMap::new();
    for ((subject, label), (frames, scores)) in &groups {
        let rate = if *label == "live" { "bpcer" } else { "apcer" };
        out.entry(subject).or_default().insert(
            label,
            json!({"frames": frames, "no_face": frames - scores.len(), rate: error_rate(scores, threshold, label)}),
        );
    }
    json!(out)
}

/// Windows of `size` consecutive frames with a face, per subject and label in
/// manifest order (a trailing partial window is left out), each judged by
/// [`session_score`] against the shipped threshold.
fn windows(rows: &[&Labelled], scores: &[Option<f32>], threshold: f32, size: usize) -> Value {
    let mut runs: BTreeMap<(&str, &str), Vec<f32>> = BTreeMap::new();
    for (r, s) in rows.iter().zip(scores) {
        runs.entry((r.subject.as_str(), r.label.as_str())).or_default().extend(*s);
    }
    let (mut attack, mut bona) = ((0usize, 0usize), (0usize, 0usize));
    let mut per_subject: BTreeMap<&str, BTreeMap<&str, Value>> = BTreeMap::new();
    for ((subject, label), frames) in &runs {
        let sessions: Vec<f32> = frames.chunks_exact(size.max(1)).filter_map(session_score).collect();
        let wrong = wrong_count(&sessions, threshold, label);
        let tally = if *label == "live" { &mut bona } else { &mut attack };
        tally.0 += sessions.len();
        tally.1 += wrong;
        let rate = if *label == "live" { "bpcer" } else { "apcer" };
        per_subject.entry(subject).or_default().insert(
            label,
            json!({"windows": sessions.len(), "wrong": wrong, rate: error_rate(&sessions, threshold, label)}),
        );
    }
    json!({
        "window_frames": size,
        "aggregation": "median of the fused per-frame scores of the window (trustshot_identity::passive::session_score)",
        "threshold": threshold,
        "attack_windows": attack.0,
        "attack_windows_accepted": attack.1,
        "apcer": attack.1 as f64 / attack.0.max(1) as f64,
        "bona_fide_windows": bona.0,
        "bona_fide_windows_refused": bona.1,
        "bpcer": bona.1 as f64 / bona.0.max(1) as f64,
        "by_subject": per_subject,
    })
}

/// One frame's outcome: its cues and face, or that no face was found.
struct Scored {
    cues: Option<trustshot_identity::Cues>,
    face: Option<Face>,
    size: (u32, u32),
}

/// Scales of the crops `--dump-crops` writes (MiniFASNetV2 2.7, V1SE 4.0).
const CROP_SCALES: [f32; 2] = [2.7, 4.0];

/// The per-frame cues as CSV (`--dump-features`), for fitting the fusion
/// outside (models/liveness_lopo.py).
fn write_features(out: &Path, rows: &[(usize, &Labelled)], scored: &[Scored]) -> Result<(), String> {
    let mut csv =
        String::from("path,label,face,model,high_freq,glare,row,subject,face_x,face_y,face_w,face_h,image_w,image_h\n");
    for ((i, r), s) in rows.iter().zip(scored) {
        let c = s.cues.unwrap_or_default();
        let b = s.face.map(|f| f.bbox).unwrap_or_default();
        csv.push_str(&format!(
            "{},{},{},{},{},{},{i},{},{},{},{},{},{},{}\n",
            r.path,
            r.label,
            s.cues.is_some() as u8,
            c.model,
            c.high_freq,
            c.glare,
            r.subject,
            b.x,
            b.y,
            b.w,
            b.h,
            s.size.0,
            s.size.1
        ));
    }
    std::fs::write(out, csv).map_err(|e| format!("{}: {e}", out.display()))
}

fn score_frame(
    engine: &FaceEngine,
    liveness: &PassiveLiveness,
    path: &Path,
    crops: Option<(&Path, usize)>,
) -> Result<Scored, ReadError> {
    let frame = read_frame(engine, path)?;
    let size = (frame.width(), frame.height());
    let faces = engine.detect(&frame).map_err(|e| ReadError::face(path, e))?;
    let Some(face) = trustshot::liveness::largest_face(&faces) else {
        return Ok(Scored { cues: None, face: None, size });
    };
    if let Some((dir, row)) = crops {
        for scale in CROP_SCALES {
            let crop = context_crop(&frame, &face.bbox, scale, 80);
            let bgr: Vec<u8> = crop.rgb().chunks_exact(3).flat_map(|p| [p[2], p[1], p[0]]).collect();
            let file = dir.join(format!("{row}_s{scale}.bgr"));
            std::fs::write(&file, bgr)
                .map_err(|e| ReadError { code: "io", message: format!("{}: {e}", file.display()) })?;
        }
        let c = face.bbox.center();
        let side = face.bbox.w.max(face.bbox.h);
        let square = Rect { x: c.x - side / 2.0, y: c.y - side / 2.0, w: side, h: side };
        let file = dir.join(format!("{row}_square256.rgb"));
        std::fs::write(&file, context_crop(&frame, &square, 1.0, 256).rgb())
            .map_err(|e| ReadError { code: "io", message: format!("{}: {e}", file.display()) })?;
    }
    let cues = liveness.cues(&frame, &face).map_err(|e| ReadError::face(path, e))?;
    Ok(Scored { cues: Some(cues), face: Some(face), size })
}

pub fn run(models: &Path, args: &LivenessArgs) -> Result<Report, String> {
    let sdk = load_sdk(models, SdkConfig::default())?;
    let (engine, liveness) = (
        sdk.engine(),
        sdk.liveness().ok_or("no liveness model installed (models/README.md, Liveness): nothing to evaluate")?,
    );
    let all_rows = read_labelled(&args.manifest)?;
    if let Some(dir) = &args.dump_crops {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let indexed: Vec<(usize, &Labelled)> = all_rows.iter().enumerate().collect();
    let results = par_map(&indexed, |(i, r)| {
        score_frame(engine, liveness, &args.root.join(&r.path), args.dump_crops.as_deref().map(|d| (d, *i)))
    });
    // Unreadable frames are listed and left out of every rate.
    let (mut rows, mut scored, mut failures) = (Vec::new(), Vec::new(), Vec::new());
    for ((i, row), result) in indexed.iter().zip(results) {
        match result {
            Ok(s) => {
                rows.push((*i, *row));
                scored.push(s);
            }
            Err(e) => failures.push((row.path.clone(), e)),
        }
    }

    if let Some(out) = &args.dump_features {
        write_features(out, &rows, &scored)?;
    }

    let threshold = FUSION.threshold;
    let frame_scores: Vec<Option<f32>> = scored.iter().map(|s| s.cues.map(|c| FUSION.score(&c))).collect();
    let rows: Vec<&Labelled> = rows.into_iter().map(|(_, r)| r).collect();
    let mut groups: BTreeMap<String, (usize, usize, Vec<f32>)> = BTreeMap::new();
    for (r, s) in rows.iter().zip(&scored) {
        let g = groups.entry(r.label.clone()).or_default();
        g.0 += 1;
        match s.cues {
            None => g.1 += 1,
            Some(c) => g.2.push(FUSION.score(&c)),
        }
    }
    let bona = groups.get("live").cloned().unwrap_or_default();
    // The threshold at which 5% of bona fide frames are refused, on this data.
    let mut live_scores = bona.2.clone();
    live_scores.sort_by(f32::total_cmp);
    let t5 = live_scores.get(((live_scores.len() as f32) * 0.05).floor() as usize).copied();
    let attacks: BTreeMap<String, Value> = groups
        .iter()
        .filter(|(label, _)| label.as_str() != "live")
        .map(|(label, (n, no_face, scores))| {
            (
                label.clone(),
                json!({
                    "frames": n,
                    "no_face": no_face,
                    "apcer": error_rate(scores, threshold, label),
                    "apcer_at_bpcer_5pct": t5.map(|t| error_rate(scores, t, label)),
                }),
            )
        })
        .collect();
    let out = json!({
        "threshold": threshold,
        "bona_fide": {
            "frames": bona.0,
            "no_face": bona.1,
            "bpcer": error_rate(&bona.2, threshold, "live"),
            "bpcer_counting_no_face": (bona.2.iter().filter(|&&s| s < threshold).count() + bona.1) as f64 / bona.0.max(1) as f64,
        },
        "attacks": attacks,
        "threshold_at_bpcer_5pct": t5,
        "note": "APCER/BPCER over frames where a face was found; frames without a face are counted separately (no_face)",
        "models": output::models(&liveness.models()),
        "by_subject": by_subject(&rows, &frame_scores, threshold),
        "windows": windows(&rows, &frame_scores, threshold, args.window),
        "unreadable": unreadable(&failures),
    });
    Ok(Report { out, json: args.json })
}
