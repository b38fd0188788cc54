//! `trustshot verify-id`, `trustshot eval liveness` and `trustshot eval
//! documents`: liveness and ID-document checks on files.

use crate::csv::Table;
use crate::eval::par_map;
use crate::face::{load_engine, read_frame};
use crate::output::{self, round};
use crate::CliResult;
use clap::Args;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use trustshot_face::{EngineConfig, FaceEngine};
use trustshot_identity::document::{check_portrait, find_portrait};
use trustshot_identity::passive::FUSION;
use trustshot_identity::{verify_id, DocumentConfig, IdDecision, PassiveLiveness};

#[derive(Args)]
pub struct VerifyIdArgs {
    /// Photo of the ID document (JPEG or PNG).
    #[arg(long)]
    document: PathBuf,
    /// The live selfie.
    #[arg(long)]
    selfie: PathBuf,
    #[arg(long)]
    json: bool,
}

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

#[derive(Args)]
pub struct DocumentsArgs {
    /// CSV with a path column (../shared/data/id_documents/manifest.csv).
    #[arg(long)]
    manifest: PathBuf,
    #[arg(long)]
    root: PathBuf,
    #[arg(long)]
    json: bool,
}

fn load_liveness(models: &Path) -> Result<Option<PassiveLiveness>, String> {
    match PassiveLiveness::load(models) {
        Ok(p) => Ok(Some(p)),
        Err(trustshot_face::FaceError::ModelMissing(_)) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

fn print(out: Value, json_only: bool) {
    if json_only {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    }
}

pub fn verify_id_command(models: &Path, args: VerifyIdArgs) -> CliResult {
    let engine = load_engine(models, EngineConfig::default())?;
    let liveness = load_liveness(models)?;
    let document = read_frame(&engine, &args.document)?;
    let selfie_frame = read_frame(&engine, &args.selfie)?;
    let selfie = engine.analyze(&selfie_frame).map_err(|e| e.to_string())?;
    let v = verify_id(&engine, liveness.as_ref(), &DocumentConfig::default(), &document, &selfie_frame, &selfie)
        .map_err(|e| e.to_string())?;
    let config = DocumentConfig::default();
    let out = json!({
        "decision": v.decision.as_str(),
        "scores": {
            "face_match": v.face_match.map(|s| round(s, 4)),
            "liveness": v.liveness.map(|l| round(l.score, 4)),
            "liveness_model": v.liveness.map(|l| round(l.cues.model, 4)),
            "portrait_width": v.portrait.map(|p| round(p.width, 1)),
            "portrait_sharpness": v.portrait.map(|p| round(p.sharpness, 1)),
            "portrait_glare": v.portrait.map(|p| round(p.glare, 4)),
            "moire_peak": v.portrait.map(|p| round(p.moire_peak, 3)),
        },
        "thresholds": {
            "approve_face_match": round(v.approve_threshold, 4),
            "reject_face_match": round(v.reject_threshold, 4),
            "liveness": round(FUSION.threshold, 4),
            "portrait_min_width": config.min_portrait_px,
            "portrait_min_sharpness": config.min_portrait_sharpness,
            "portrait_max_glare": config.max_portrait_glare,
            "moire_max_peak": config.max_moire_peak,
        },
        "reasons": v.reasons.iter().map(|r| json!({"code": r.code, "measured": round(r.measured, 4), "threshold": round(r.threshold, 4)})).collect::<Vec<_>>(),
        "portrait": v.portrait.map(|p| output::face(&p.face)),
        "selfie": output::analysis(&selfie),
        "models": output::models(&[engine.models(), liveness.map(|l| l.models()).unwrap_or_default()].concat()),
    });
    print(out, args.json);
    Ok(match v.decision {
        IdDecision::Approve => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    })
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

fn score_frame(engine: &FaceEngine, liveness: &PassiveLiveness, path: &Path) -> Result<Scored, String> {
    let frame = read_frame(engine, path)?;
    let faces = engine.detect(&frame).map_err(|e| e.to_string())?;
    let Some(face) = faces.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area())) else {
        return Ok(Scored { cues: None });
    };
    Ok(Scored { cues: Some(liveness.cues(&frame, face).map_err(|e| e.to_string())?) })
}

pub fn eval_liveness(models: &Path, args: LivenessArgs) -> CliResult {
    let engine = load_engine(models, EngineConfig::default())?;
    let liveness = load_liveness(models)?
        .ok_or("no liveness model installed (models/README.md, Liveness): nothing to evaluate")?;
    let rows = read_labelled(&args.manifest)?;
    let scored = par_map(&rows, |r| score_frame(&engine, &liveness, &args.root.join(&r.path)));
    let scored = scored.into_iter().collect::<Result<Vec<_>, _>>()?;

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
    });
    print(out, args.json);
    Ok(ExitCode::SUCCESS)
}

pub fn eval_documents(models: &Path, args: DocumentsArgs) -> CliResult {
    let engine = load_engine(models, EngineConfig::default())?;
    let rows = Table::read(&args.manifest)?;
    let c_path = rows.column("path")?;
    let paths: Vec<String> = rows.rows.iter().map(|r| rows.cell(r, c_path).to_string()).collect();
    let results = par_map(&paths, |p| -> Result<_, String> {
        let frame = read_frame(&engine, &args.root.join(p))?;
        let Some(face) = find_portrait(&engine, &frame).map_err(|e| e.to_string())? else { return Ok(None) };
        let embedding = engine.embed_face(&frame, &face).map_err(|e| e.to_string())?;
        Ok(Some((check_portrait(&frame, &face), embedding)))
    });
    let results = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let documents: Vec<Value> = paths
        .iter()
        .zip(&results)
        .map(|(p, r)| match r {
            None => json!({"path": p, "portrait": false}),
            Some((c, _)) => json!({
                "path": p, "portrait": true, "width": round(c.width, 1), "score": round(c.face.score, 3),
                "sharpness": round(c.sharpness, 1), "glare": round(c.glare, 4), "moire_peak": round(c.moire_peak, 3),
            }),
        })
        .collect();
    let mut pairs = Vec::new();
    for i in 0..paths.len() {
        for j in i + 1..paths.len() {
            if let (Some((_, a)), Some((_, b))) = (&results[i], &results[j]) {
                pairs.push(json!({"a": paths[i], "b": paths[j], "cosine": round(a.cosine(b), 4)}));
            }
        }
    }
    let out = json!({
        "documents": documents,
        "portraits_found": results.iter().filter(|r| r.is_some()).count(),
        "pairs": pairs,
    });
    print(out, args.json);
    Ok(ExitCode::SUCCESS)
}
