//! `trustshot eval liveness`: passive liveness APCER per attack type and
//! BPCER on a labelled manifest, at the shipped threshold and at the one that
//! refuses 5% of the bona fide frames.

use super::{par_map, unreadable, Report};
use crate::csv::Table;
use crate::face::{load_engine, read_frame, ReadError};
use crate::identity::load_liveness;
use crate::output;
use clap::Args;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use trustshot_face::{EngineConfig, FaceEngine};
use trustshot_identity::passive::FUSION;
use trustshot_identity::PassiveLiveness;

#[derive(Args)]
pub struct LivenessArgs {
    /// CSV with a path (or file) column and a label column: live, or an attack type.
    #[arg(long)]
    manifest: PathBuf,
    /// Folder the manifest's paths are relative to.
    #[arg(long)]
    root: PathBuf,
    /// Also write every frame's cues to this CSV (input of models/liveness_fusion.py).
    #[arg(long)]
    dump_features: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

/// Where a manifest row's image is, and its label.
struct Labelled {
    path: String,
    label: String,
}

fn read_labelled(manifest: &Path) -> Result<Vec<Labelled>, String> {
    let t = Table::read(manifest)?;
    let path = t.column("path").or_else(|_| t.column("file"))?;
    let label = t.column("label")?;
    Ok(t.rows
        .iter()
        .map(|r| Labelled { path: t.cell(r, path).to_string(), label: t.cell(r, label).to_string() })
        .collect())
}

/// One frame's outcome: its fused score and cues, or that no face was found.
struct Scored {
    cues: Option<trustshot_identity::Cues>,
}

fn score_frame(engine: &FaceEngine, liveness: &PassiveLiveness, path: &Path) -> Result<Scored, ReadError> {
    let frame = read_frame(engine, path)?;
    let faces = engine.detect(&frame).map_err(|e| ReadError::face(path, e))?;
    let Some(face) = faces.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area())) else {
        return Ok(Scored { cues: None });
    };
    Ok(Scored { cues: Some(liveness.cues(&frame, face).map_err(|e| ReadError::face(path, e))?) })
}

pub fn run(models: &Path, args: &LivenessArgs) -> Result<Report, String> {
    let engine = load_engine(models, EngineConfig::default())?;
    let liveness = load_liveness(models)?
        .ok_or("no liveness model installed (models/README.md, Liveness): nothing to evaluate")?;
    let all_rows = read_labelled(&args.manifest)?;
    let results = par_map(&all_rows, |r| score_frame(&engine, &liveness, &args.root.join(&r.path)));
    // Unreadable frames are listed and left out of every rate.
    let (mut rows, mut scored, mut failures) = (Vec::new(), Vec::new(), Vec::new());
    for (row, result) in all_rows.iter().zip(results) {
        match result {
            Ok(s) => {
                rows.push(row);
                scored.push(s);
            }
            Err(e) => failures.push((row.path.clone(), e)),
        }
    }

    if let Some(out) = &args.dump_features {
        let mut csv = String::from("path,label,face,model,high_freq,glare\n");
        for (r, s) in rows.iter().zip(&scored) {
            let c = s.cues.unwrap_or_default();
            csv.push_str(&format!(
                "{},{},{},{},{},{}\n",
                r.path,
                r.label,
                s.cues.is_some() as u8,
                c.model,
                c.high_freq,
                c.glare
            ));
        }
        std::fs::write(out, csv).map_err(|e| format!("{}: {e}", out.display()))?;
    }

    let threshold = FUSION.threshold;
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
    let rate = |scores: &[f32], t: f32, attacks: bool| -> f64 {
        let n = scores.iter().filter(|&&s| if attacks { s >= t } else { s < t }).count();
        n as f64 / scores.len().max(1) as f64
    };
    let attacks: BTreeMap<String, Value> = groups
        .iter()
        .filter(|(label, _)| label.as_str() != "live")
        .map(|(label, (n, no_face, scores))| {
            (
                label.clone(),
                json!({
                    "frames": n,
                    "no_face": no_face,
                    "apcer": rate(scores, threshold, true),
                    "apcer_at_bpcer_5pct": t5.map(|t| rate(scores, t, true)),
                }),
            )
        })
        .collect();
    let out = json!({
        "threshold": threshold,
        "bona_fide": {
            "frames": bona.0,
            "no_face": bona.1,
            "bpcer": rate(&bona.2, threshold, false),
            "bpcer_counting_no_face": (bona.2.iter().filter(|&&s| s < threshold).count() + bona.1) as f64 / bona.0.max(1) as f64,
        },
        "attacks": attacks,
        "threshold_at_bpcer_5pct": t5,
        "note": "APCER/BPCER over frames where a face was found; frames without a face are counted separately (no_face)",
        "models": output::models(&liveness.models()),
        "unreadable": unreadable(&failures),
    });
    Ok(Report { out, json: args.json })
}
