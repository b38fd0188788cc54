//! `trustshot eval detection`: detector recall at IoU 0.5, count accuracy and
//! false faces, per source, before and after the detector's second look, on a
//! folder laid out like ../shared/data/face_detection (manifest.csv + boxes.json).

use super::{median, par_map, unreadable, Report};
use crate::face::{load_sdk, read_frame, ReadError};
use crate::output::round;
use clap::Args;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use trustshot::SdkConfig;
use trustshot_csv::Table;
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
    let mut per_source: BTreeMap<String, Tally> = BTreeMap::new();
    let mut times = Vec::new();
    let mut failures = Vec::new();
    for (row, result) in rows.iter().zip(results) {
        match result {
            Ok((candidates, ms)) => {
                times.push(ms);
                let tally = per_source.entry(row.source.clone()).or_default();
                tally.add(row, &candidates, face_threshold, &ground_truth(&boxes, &row.path), args.min_face);
            }
            Err(e) => failures.push((row.path.clone(), e)),
        }
    }
    let sources: BTreeMap<String, Value> = per_source.into_iter().map(|(source, t)| (source, t.to_json())).collect();
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

/// Ground-truth boxes [x, y, w, h] of one image, where the folder has them.
fn ground_truth(boxes: &Value, path: &str) -> Vec<Rect> {
    boxes
        .get(path)
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
        .unwrap_or_default()
}

/// What one source's images add up to.
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

impl Tally {
    /// Counts one image: its candidates (before the face check), what the
    /// check kept, and its ground truth (boxes from `min_face` px wide).
    fn add(&mut self, row: &Row, candidates: &[Face], face_threshold: f32, gt: &[Rect], min_face: f32) {
        let (faces, rejected): (Vec<&Face>, Vec<&Face>) =
            candidates.iter().partition(|f| f.face_probability >= face_threshold);
        self.rejected_by_face_check += rejected.len();
        self.images += 1;
        if let Some(n) = row.n_faces {
            self.counted += 1;
            self.count_exact += usize::from(faces.len() == n);
            self.count_exact_before_face_check += usize::from(candidates.len() == n);
        }
        if row.n_faces == Some(0) {
            self.no_face_images += 1;
            if !faces.is_empty() {
                self.false_positive_images += 1;
                self.misses.push(json!({"path": row.path, "false_positives": faces.len()}));
            }
        }
        for g in gt.iter().filter(|g| g.w >= min_face) {
            self.gt_faces += 1;
            if candidates.iter().any(|f| f.bbox.iou(g) >= 0.5) {
                self.matched_before_face_check += 1;
            }
            if faces.iter().any(|f| f.bbox.iou(g) >= 0.5) {
                self.matched += 1;
            } else {
                self.misses.push(json!({"path": row.path, "missed_box": [g.x, g.y, g.w, g.h]}));
            }
        }
    }

    fn to_json(&self) -> Value {
        let rate = |n: usize, of: usize| (of > 0).then(|| n as f64 / of as f64);
        json!({
            "images": self.images,
            "gt_faces_min_size": self.gt_faces,
            "recall_iou50": rate(self.matched, self.gt_faces),
            "recall_iou50_before_face_check": rate(self.matched_before_face_check, self.gt_faces),
            "rejected_by_face_check": self.rejected_by_face_check,
            "count_accuracy": rate(self.count_exact, self.counted),
            "count_accuracy_before_face_check": rate(self.count_exact_before_face_check, self.counted),
            "no_face_images": self.no_face_images,
            "false_positive_images": self.false_positive_images,
            "misses": self.misses,
        })
    }
}
