//! `trustshot eval detection`: detector recall at IoU 0.5, count accuracy and
//! false faces, per source, before and after the detector's second look, on a
//! folder laid out like ../shared/data/face_detection (manifest.csv + boxes.json).

use super::{median, par_map, unreadable, Report};
use crate::csv::Table;
use crate::face::{load_sdk, read_frame, ReadError};
use crate::output::round;
use clap::Args;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use trustshot::SdkConfig;
use trustshot_face::Face;
use trustshot_face::Rect;

#[derive(Args)]
pub struct DetectionArgs {
    /// Folder with manifest.csv and boxes.json.
    #[arg(long)]
    data: PathBuf,
    /// Faces narrower than this (pixels) are not counted for recall.
    #[arg(long, default_value_t = 40.0)]
    min_face: f32,
    #[arg(long)]
    json: bool,
}

struct Row {
    path: String,
    source: String,
    /// None where the manifest gives no count ("many faces, no GT").
    n_faces: Option<usize>,
}

fn read_manifest(dir: &Path) -> Result<Vec<Row>, String> {
    let table = Table::read(&dir.join("manifest.csv"))?;
    let (c_path, c_source, c_n) = (table.column("path")?, table.column("source")?, table.column("n_faces")?);
    table
        .rows
        .iter()
        .map(|r| {
            let n = table.cell(r, c_n);
            Ok(Row {
                path: table.cell(r, c_path).to_string(),
                source: table.cell(r, c_source).to_string(),
                n_faces: if n.is_empty() { None } else { Some(n.parse().map_err(|_| format!("bad n_faces {n:?}"))?) },
            })
        })
        .collect()
}

pub fn run(models: &Path, args: &DetectionArgs) -> Result<Report, String> {
    let rows = read_manifest(&args.data)?;
    let boxes_text = std::fs::read_to_string(args.data.join("boxes.json")).map_err(|e| format!("boxes.json: {e}"))?;
    let boxes: Value = serde_json::from_str(&boxes_text).map_err(|e| format!("boxes.json: {e}"))?;
    let sdk = load_sdk(models, SdkConfig::default())?;
    let engine = sdk.engine();
    // Candidates, so that what the face check removed can be reported too.
    let results = par_map(&rows, |row| -> Result<(Vec<Face>, f64), ReadError> {
        let path = args.data.join(&row.path);
        let frame = read_frame(engine, &path)?;
        let t = Instant::now();
        let faces = engine.face_candidates(&frame).map_err(|e| ReadError::face(&path, e))?;
        Ok((faces, t.elapsed().as_secs_f64() * 1e3))
    });
    let face_threshold = engine.config().detector.face_threshold;
    #[derive(Default)]
    struct Tally {
        images: usize,
        counted: usize,
        gt_faces: usize,
        matched: usize,
        matched_before_face_check: usize,
        rejected_by_face_check: usize,
        count_exact: usize,
        count_exact_before_face_check: usize,
        false_positive_images: usize,
        no_face_images: usize,
        misses: Vec<Value>,
    }
    let mut per_source: BTreeMap<String, Tally> = BTreeMap::new();
    let mut times = Vec::new();
    let mut failures = Vec::new();
    for (row, result) in rows.iter().zip(results) {
        let (candidates, ms) = match result {
            Ok(r) => r,
            Err(e) => {
                failures.push((row.path.clone(), e));
                continue;
            }
        };
        times.push(ms);
        let (faces, rejected): (Vec<Face>, Vec<Face>) =
            candidates.iter().partition(|f| f.face_probability >= face_threshold);
        let tally = per_source.entry(row.source.clone()).or_default();
        tally.rejected_by_face_check += rejected.len();
        tally.images += 1;
        if let Some(n) = row.n_faces {
            tally.counted += 1;
            if faces.len() == n {
                tally.count_exact += 1;
            }
            if candidates.len() == n {
                tally.count_exact_before_face_check += 1;
            }
        }
        if row.n_faces == Some(0) {
            tally.no_face_images += 1;
            if !faces.is_empty() {
                tally.false_positive_images += 1;
                tally.misses.push(json!({"path": row.path, "false_positives": faces.len()}));
            }
        }
        // Ground-truth boxes [x, y, w, h] where the folder has them.
        let gt: Vec<Rect> = boxes
            .get(&row.path)
            .and_then(|v| v.get("boxes").or(Some(v)))
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|b| {
                        let b: Vec<f32> = b.as_array()?.iter().filter_map(|x| x.as_f64().map(|x| x as f32)).collect();
                        (b.len() == 4).then(|| Rect { x: b[0], y: b[1], w: b[2], h: b[3] })
                    })
                    .collect()
            })
            .unwrap_or_default();
        for g in gt.iter().filter(|g| g.w >= args.min_face) {
            tally.gt_faces += 1;
            if candidates.iter().any(|f| f.bbox.iou(g) >= 0.5) {
                tally.matched_before_face_check += 1;
            }
            if faces.iter().any(|f| f.bbox.iou(g) >= 0.5) {
                tally.matched += 1;
            } else {
                tally.misses.push(json!({"path": row.path, "missed_box": [g.x, g.y, g.w, g.h]}));
            }
        }
    }
    let sources: BTreeMap<String, Value> = per_source
        .into_iter()
        .map(|(source, t)| {
            let recall = (t.gt_faces > 0).then(|| t.matched as f64 / t.gt_faces as f64);
            (
                source,
                json!({
                    "images": t.images,
                    "gt_faces_min_size": t.gt_faces,
                    "recall_iou50": recall,
                    "recall_iou50_before_face_check":
                        (t.gt_faces > 0).then(|| t.matched_before_face_check as f64 / t.gt_faces as f64),
                    "rejected_by_face_check": t.rejected_by_face_check,
                    "count_accuracy": (t.counted > 0).then(|| t.count_exact as f64 / t.counted as f64),
                    "count_accuracy_before_face_check":
                        (t.counted > 0).then(|| t.count_exact_before_face_check as f64 / t.counted as f64),
                    "no_face_images": t.no_face_images,
                    "false_positive_images": t.false_positive_images,
                    "misses": t.misses,
                }),
            )
        })
        .collect();
    let out = json!({
        "min_face_px": args.min_face,
        "score_threshold": engine.config().detector.score_threshold,
        "face_threshold": face_threshold,
        "sources": sources,
        "median_detect_ms": round(median(times) as f32, 2),
        "unreadable": unreadable(&failures),
    });
    Ok(Report { out, json: args.json })
}
