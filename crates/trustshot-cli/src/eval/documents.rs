//! `trustshot eval documents`: on each ID document, the portrait (found in
//! any orientation), its capture measures, and the portrait-to-portrait scores
//! between documents.

use super::{par_map, unreadable, Report};
use crate::face::{load_sdk, read_frame, ReadError};
use crate::output::round;
use clap::Args;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use trustshot::SdkConfig;
use trustshot_csv::Table;
use trustshot_identity::document::{check_portrait, find_portrait};

#[derive(Args)]
pub struct DocumentsArgs {
    /// CSV with a path column (../shared/data/id_documents/manifest.csv).
    #[arg(long)]
    manifest: PathBuf,
    #[arg(long)]
    root: PathBuf,
    /// A file (path or file name) known to show no portrait: left out of
    /// `portrait_found_rate`. Repeat for each.
    #[arg(long)]
    without_portrait: Vec<String>,
    #[arg(long)]
    json: bool,
}

pub fn run(models: &Path, args: &DocumentsArgs) -> Result<Report, String> {
    let sdk = load_sdk(models, SdkConfig::default())?;
    let (engine, config) = (sdk.engine(), sdk.config().document);
    let rows = Table::read(&args.manifest)?;
    let c_path = rows.column("path")?;
    let all_paths: Vec<String> = rows.rows.iter().map(|r| rows.cell(r, c_path).to_string()).collect();
    let outcomes = par_map(&all_paths, |p| -> Result<_, ReadError> {
        let path = args.root.join(p);
        let frame = read_frame(engine, &path)?;
        let Some(found) = find_portrait(engine, &frame, &config).map_err(|e| ReadError::face(&path, e))? else {
            return Ok(None);
        };
        let embedding = engine.embed_face(&found.document, &found.face).map_err(|e| ReadError::face(&path, e))?;
        Ok(Some((check_portrait(&found), embedding)))
    });
    // Unreadable files are listed; the rates are over the files that were read.
    let (mut paths, mut results, mut failures) = (Vec::new(), Vec::new(), Vec::new());
    for (p, outcome) in all_paths.iter().zip(outcomes) {
        match outcome {
            Ok(r) => {
                paths.push(p.clone());
                results.push(r);
            }
            Err(e) => failures.push((p.clone(), e)),
        }
    }
    let documents: Vec<Value> = paths
        .iter()
        .zip(&results)
        .map(|(p, r)| match r {
            None => json!({"path": p, "portrait": false}),
            Some((c, _)) => json!({
                "path": p, "portrait": true, "width": round(c.width, 1), "score": round(c.face.score, 3),
                "orientation_degrees": c.orientation.degrees(),
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
    // The portrait-found rate over the documents that have one: every file
    // except those named by --without-portrait (ground truth from the data's
    // SOURCES.md), unreadable files included as misses.
    let without: Vec<&str> = args.without_portrait.iter().map(String::as_str).collect();
    let has_portrait = |p: &str| !without.iter().any(|w| p == *w || p.ends_with(&format!("/{w}")));
    let expected = all_paths.iter().filter(|p| has_portrait(p)).count();
    let found = paths.iter().zip(&results).filter(|(p, r)| r.is_some() && has_portrait(p)).count();
    let missed: Vec<&String> = all_paths
        .iter()
        .filter(|p| has_portrait(p))
        .filter(|p| !paths.iter().zip(&results).any(|(q, r)| q == *p && r.is_some()))
        .collect();
    let out = json!({
        "documents": documents,
        "portraits_found": results.iter().filter(|r| r.is_some()).count(),
        "documents_with_portrait": expected,
        "portraits_found_on_documents_with_portrait": found,
        "portrait_found_rate": (expected > 0).then(|| found as f64 / expected as f64),
        "portrait_missed": missed,
        "pairs": pairs,
        "unreadable": unreadable(&failures),
    });
    Ok(Report { out, json: args.json })
}
