//! `trustshot eval ...`: accuracy on labelled data, printed as JSON.
//!
//! - `eval lfw`: face verification on the official LFW pairs format.
//! - `eval detection`: detector recall / false positives on a manifest + boxes folder.

use crate::csv::Table;
use crate::face::{load_engine, read_frame};
use crate::output::round;
use crate::CliResult;
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use trustshot_face::geometry::Rect;
use trustshot_face::matcher::OPERATING_POINTS;
use trustshot_face::{Embedding, EngineConfig, Face, FaceEngine};

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Face verification on LFW pairs (View 1: one split; View 2: 10 folds).
    Lfw(LfwArgs),
    /// Face detection on a folder laid out like ../shared/data/face_detection.
    Detection(DetectionArgs),
    /// Distribution of the quality measures, and how often each check fails,
    /// over every JPEG/PNG under a folder (for choosing and stating thresholds).
    Quality(QualityArgs),
    /// Passive liveness: APCER per attack type and BPCER on a labelled manifest.
    Liveness(crate::identity::LivenessArgs),
    /// ID documents: portrait found, capture measures, portrait-to-portrait scores.
    Documents(crate::identity::DocumentsArgs),
}

#[derive(Args)]
pub struct QualityArgs {
    /// Folder searched recursively for .jpg/.jpeg/.png files.
    #[arg(long)]
    images: PathBuf,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct LfwArgs {
    /// pairsDevTrain.txt / pairsDevTest.txt (View 1) or pairs.txt (View 2).
    #[arg(long)]
    pairs: PathBuf,
    /// Folder holding <name>/<name>_<nnnn>.jpg.
    #[arg(long)]
    images: PathBuf,
    /// Also derive thresholds at FMR 1e-2/1e-3/1e-4 from every different-person
    /// pair of the images, and their false non-match rates on every same-person pair.
    #[arg(long)]
    calibrate: bool,
    #[arg(long)]
    json: bool,
}

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

pub fn run(models: &Path, cmd: EvalCommand) -> CliResult {
    match cmd {
        EvalCommand::Lfw(args) => lfw(models, args),
        EvalCommand::Detection(args) => detection(models, args),
        EvalCommand::Quality(args) => quality(models, args),
        EvalCommand::Liveness(args) => crate::identity::eval_liveness(models, args),
        EvalCommand::Documents(args) => crate::identity::eval_documents(models, args),
    }
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

/// One LFW image: (person, number).
type ImageKey = (String, u32);

struct Pair {
    a: ImageKey,
    b: ImageKey,
    same: bool,
    fold: usize,
}

/// Parses the official pairs format: a first line `N` (one split of N same +
/// N different pairs) or `FOLDS N` (FOLDS x (N same, then N different)).
fn parse_pairs(text: &str) -> Result<(usize, Vec<Pair>), String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let head: Vec<usize> = lines
        .next()
        .ok_or("pairs file is empty")?
        .split_whitespace()
        .map(|t| t.parse().map_err(|_| format!("bad pairs header token {t:?}")))
        .collect::<Result<_, _>>()?;
    let (folds, per_fold) = match head[..] {
        [n] => (1, 2 * n),
        [folds, n] => (folds, 2 * n),
        _ => return Err("pairs header must be `N` or `FOLDS N`".into()),
    };
    let num = |t: &str| t.parse::<u32>().map_err(|_| format!("bad image number {t:?}"));
    let mut pairs = Vec::new();
    for (i, line) in lines.enumerate() {
        let t: Vec<&str> = line.split_whitespace().collect();
        let (a, b, same) = match t[..] {
            [name, i, j] => ((name.to_string(), num(i)?), (name.to_string(), num(j)?), true),
            [n1, i, n2, j] => ((n1.to_string(), num(i)?), (n2.to_string(), num(j)?), false),
            _ => return Err(format!("bad pairs line {line:?}")),
        };
        pairs.push(Pair { a, b, same, fold: i / per_fold });
    }
    if pairs.len() != folds * per_fold {
        return Err(format!("pairs file promises {} pairs, holds {}", folds * per_fold, pairs.len()));
    }
    Ok((folds, pairs))
}

/// What one image gave: the embedding of its centred face (or None) and stage times.
struct Embedded {
    embedding: Option<Embedding>,
    decode_ms: f64,
    detect_ms: f64,
    embed_ms: f64,
}

/// LFW crops are centred on the labelled person: take the face nearest the centre.
fn centred_face(faces: &[Face], width: u32, height: u32) -> Option<&Face> {
    let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
    faces.iter().min_by(|a, b| {
        let d = |f: &Face| (f.bbox.center().x - cx).powi(2) + (f.bbox.center().y - cy).powi(2);
        d(a).total_cmp(&d(b))
    })
}

fn embed_image(engine: &FaceEngine, path: &Path) -> Result<Embedded, String> {
    let t = Instant::now();
    let frame = read_frame(engine, path)?;
    let decode_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let faces = engine.detect(&frame).map_err(|e| e.to_string())?;
    let detect_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let embedding = match centred_face(&faces, frame.width(), frame.height()) {
        Some(face) => Some(engine.embed_face(&frame, face).map_err(|e| e.to_string())?),
        None => None,
    };
    Ok(Embedded { embedding, decode_ms, detect_ms, embed_ms: t.elapsed().as_secs_f64() * 1e3 })
}

/// Accuracy of `scores` (None = a failed pair, always wrong) at `threshold`.
fn accuracy(scores: &[(Option<f32>, bool)], threshold: f32) -> f64 {
    let right = scores.iter().filter(|(s, same)| matches!(s, Some(s) if (*s >= threshold) == *same)).count();
    right as f64 / scores.len().max(1) as f64
}

/// The threshold with the best accuracy on `scores` (midpoints between scores).
fn best_threshold(scores: &[(Option<f32>, bool)]) -> f32 {
    let mut candidates: Vec<f32> = scores.iter().filter_map(|(s, _)| *s).collect();
    candidates.sort_by(f32::total_cmp);
    let mut best = (f64::MIN, 0.0f32);
    for w in candidates.windows(2) {
        let t = (w[0] + w[1]) / 2.0;
        let acc = accuracy(scores, t);
        if acc > best.0 {
            best = (acc, t);
        }
    }
    best.1
}

/// Threshold that at most `fmr` of the impostor scores reach.
fn threshold_at(impostors_desc: &[f32], fmr: f64) -> f32 {
    let k = (fmr * impostors_desc.len() as f64).floor() as usize;
    let s = impostors_desc[k.min(impostors_desc.len() - 1)];
    // The smallest 4-decimal value strictly above the (k+1)-th highest impostor.
    ((s as f64 * 1e4).floor() / 1e4 + 1e-4) as f32
}

fn lfw(models: &Path, args: LfwArgs) -> CliResult {
    let text = std::fs::read_to_string(&args.pairs).map_err(|e| format!("{}: {e}", args.pairs.display()))?;
    let (folds, pairs) = parse_pairs(&text)?;
    let engine = load_engine(models, EngineConfig::default())?;
    let mut keys: Vec<ImageKey> = pairs.iter().flat_map(|p| [p.a.clone(), p.b.clone()]).collect();
    keys.sort();
    keys.dedup();
    let path = |(name, n): &ImageKey| args.images.join(name).join(format!("{name}_{n:04}.jpg"));
    let started = Instant::now();
    let embedded = par_map(&keys, |k| embed_image(&engine, &path(k)));
    let embedded: HashMap<&ImageKey, Embedded> =
        keys.iter().zip(embedded).map(|(k, e)| e.map(|e| (k, e))).collect::<Result<_, _>>()?;
    let elapsed = started.elapsed().as_secs_f64();

    let failed_images = embedded.values().filter(|e| e.embedding.is_none()).count();
    let score = |p: &Pair| match (&embedded[&p.a].embedding, &embedded[&p.b].embedding) {
        (Some(a), Some(b)) => Some(a.cosine(b)),
        _ => None,
    };
    let scored: Vec<(Option<f32>, bool, usize)> = pairs.iter().map(|p| (score(p), p.same, p.fold)).collect();
    let all: Vec<(Option<f32>, bool)> = scored.iter().map(|(s, same, _)| (*s, *same)).collect();
    let detect_failures = all.iter().filter(|(s, _)| s.is_none()).count();

    let (protocol, acc, acc_std, threshold) = if folds == 1 {
        let t = best_threshold(&all);
        ("view1: best threshold on this split (optimistic by construction)", accuracy(&all, t), 0.0, t)
    } else {
        let per_fold: Vec<f64> = (0..folds)
            .map(|f| {
                let train: Vec<_> = scored.iter().filter(|s| s.2 != f).map(|s| (s.0, s.1)).collect();
                let test: Vec<_> = scored.iter().filter(|s| s.2 == f).map(|s| (s.0, s.1)).collect();
                accuracy(&test, best_threshold(&train))
            })
            .collect();
        let mean = per_fold.iter().sum::<f64>() / folds as f64;
        let std = (per_fold.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / folds as f64).sqrt();
        ("view2: 10-fold cross-validated threshold", mean, std, best_threshold(&all))
    };

    // The misclassified pairs at the reported threshold (LFW names are public).
    let errors: Vec<Value> = pairs
        .iter()
        .zip(&scored)
        .filter(|(_, (s, same, _))| !matches!(s, Some(s) if (*s >= threshold) == *same))
        .map(|(p, (s, same, _))| {
            json!({"a": format!("{}_{:04}", p.a.0, p.a.1), "b": format!("{}_{:04}", p.b.0, p.b.1), "same": same, "score": s.map(|s| round(s, 4))})
        })
        .collect();
    let point = engine.operating_point();
    let genuine: Vec<f32> = scored.iter().filter(|s| s.1).filter_map(|s| s.0).collect();
    let genuine_total = scored.iter().filter(|s| s.1).count();
    let impostor_total = scored.iter().filter(|s| !s.1).count();
    let impostor_accepted = scored.iter().filter(|s| !s.1 && matches!(s.0, Some(v) if v >= point.threshold)).count();
    let at = |fmr: f64| OPERATING_POINTS.iter().find(|p| p.fmr == fmr).map(|p| p.threshold).unwrap_or(f32::NAN);
    let tar = |t: f32| genuine.iter().filter(|&&s| s >= t).count() as f64 / genuine_total.max(1) as f64;

    let mut out = json!({
        "pairs": pairs.len(),
        "protocol": protocol,
        "accuracy": acc,
        "accuracy_std": acc_std,
        "best_threshold": round(threshold, 4),
        "detect_failures": detect_failures,
        "errors": errors,
        "images": keys.len(),
        "images_without_face": failed_images,
        "tar_at_far_1e-3": tar(at(1e-3)),
        "tar_at_far_1e-4": tar(at(1e-4)),
        "far_thresholds": {"1e-3": at(1e-3), "1e-4": at(1e-4)},
        "operating_point": {"fmr": point.fmr, "threshold": point.threshold,
            "impostor_pairs_accepted": impostor_accepted, "impostor_pairs": impostor_total},
        "median_ms": {
            "decode": round(median(embedded.values().map(|e| e.decode_ms).collect()) as f32, 2),
            "detect": round(median(embedded.values().map(|e| e.detect_ms).collect()) as f32, 2),
            "align_embed": round(median(embedded.values().map(|e| e.embed_ms).collect()) as f32, 2),
        },
        "wall_seconds": round(elapsed as f32, 1),
        "models": crate::output::models(&engine.models()),
    });
    if args.calibrate {
        out["calibration"] = calibrate(&keys, &embedded);
    }
    if args.json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    }
    Ok(ExitCode::SUCCESS)
}

/// Thresholds at fixed false-match rates from every different-person pair of
/// the embedded images, with the false non-match rate on every same-person pair.
fn calibrate(keys: &[ImageKey], embedded: &HashMap<&ImageKey, Embedded>) -> Value {
    let faces: Vec<(&str, &Embedding)> =
        keys.iter().filter_map(|k| embedded[k].embedding.as_ref().map(|e| (k.0.as_str(), e))).collect();
    let mut impostors = Vec::new();
    let mut genuine = Vec::new();
    for i in 0..faces.len() {
        for j in i + 1..faces.len() {
            let s = faces[i].1.cosine(faces[j].1);
            if faces[i].0 == faces[j].0 {
                genuine.push(s);
            } else {
                impostors.push(s);
            }
        }
    }
    impostors.sort_by(|a, b| b.total_cmp(a));
    let points: BTreeMap<String, Value> = [1e-2, 1e-3, 1e-4]
        .into_iter()
        .map(|fmr| {
            let t = threshold_at(&impostors, fmr);
            let fnmr = genuine.iter().filter(|&&s| s < t).count() as f64 / genuine.len().max(1) as f64;
            let fm = impostors.iter().filter(|&&s| s >= t).count() as f64 / impostors.len().max(1) as f64;
            (format!("{fmr:e}"), json!({"threshold": t, "measured_fmr": fm, "fnmr": fnmr}))
        })
        .collect();
    json!({"impostor_pairs": impostors.len(), "genuine_pairs": genuine.len(), "points": points})
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

fn detection(models: &Path, args: DetectionArgs) -> CliResult {
    let rows = read_manifest(&args.data)?;
    let boxes_text = std::fs::read_to_string(args.data.join("boxes.json")).map_err(|e| format!("boxes.json: {e}"))?;
    let boxes: Value = serde_json::from_str(&boxes_text).map_err(|e| format!("boxes.json: {e}"))?;
    let engine = load_engine(models, EngineConfig::default())?;
    // Candidates, so that what the face check removed can be reported too.
    let results = par_map(&rows, |row| -> Result<(Vec<Face>, f64), String> {
        let frame = read_frame(&engine, &args.data.join(&row.path))?;
        let t = Instant::now();
        let faces = engine.face_candidates(&frame).map_err(|e| e.to_string())?;
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
    for (row, result) in rows.iter().zip(results) {
        let (candidates, ms) = result?;
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
    });
    if args.json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    }
    Ok(ExitCode::SUCCESS)
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

fn quality(models: &Path, args: QualityArgs) -> CliResult {
    let files = image_files(&args.images)?;
    let engine = load_engine(models, EngineConfig::default())?;
    let results =
        par_map(&files, |p| read_frame(&engine, p).and_then(|f| engine.analyze(&f).map_err(|e| e.to_string())));
    let mut measures: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut failures: BTreeMap<&str, usize> = BTreeMap::new();
    let mut passed = 0;
    let mut unreadable = Vec::new();
    for (path, r) in files.iter().zip(&results) {
        let a = match r {
            Ok(a) => a,
            Err(e) => {
                unreadable.push(json!({"path": path.display().to_string(), "error": e}));
                continue;
            }
        };
        passed += a.quality.passed() as usize;
        for reason in &a.quality.reasons {
            *failures.entry(reason.code.as_str()).or_default() += 1;
        }
        if a.main.is_some() {
            let m = &a.quality.measures;
            for (name, v) in [
                ("face_width", m.face_width),
                ("brightness", m.brightness),
                ("sharpness", m.sharpness),
                ("abs_yaw", m.pose.yaw.abs()),
                ("pitch", m.pose.pitch),
                ("cut_off", m.cut_off),
            ] {
                measures.entry(name).or_default().push(v as f64);
            }
        }
    }
    let percentiles: BTreeMap<&str, Value> = measures
        .into_iter()
        .map(|(name, mut v)| {
            v.sort_by(f64::total_cmp);
            let at = |q: f64| round(v[(q * (v.len() - 1) as f64).round() as usize] as f32, 2);
            (name, json!({"p1": at(0.01), "p5": at(0.05), "p50": at(0.5), "p95": at(0.95), "p99": at(0.99)}))
        })
        .collect();
    let out = json!({"images": files.len(), "passed": passed, "failures": failures, "percentiles": percentiles, "unreadable": unreadable});
    if args.json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_pair_formats() {
        let (folds, p) = parse_pairs("1\nA 1 2\nA 1 B 3\n").unwrap();
        assert_eq!((folds, p.len()), (1, 2));
        assert!(p[0].same && !p[1].same);
        let (folds, p) = parse_pairs("2 1\nA 1 2\nA 1 B 3\nC 1 2\nC 2 D 1\n").unwrap();
        assert_eq!((folds, p[2].fold, p[3].fold), (2, 1, 1));
        assert!(parse_pairs("2\nA 1 2\n").is_err());
        assert!(parse_pairs("1\nA x 2\nA 1 B 2\n").is_err());
    }

    #[test]
    fn failed_pairs_count_as_errors() {
        let scores = [(Some(0.9), true), (None, true), (Some(0.1), false), (None, false)];
        assert_eq!(accuracy(&scores, 0.5), 0.5);
    }

    #[test]
    fn threshold_at_fmr_admits_at_most_that_fraction() {
        let impostors: Vec<f32> = (0..1000).rev().map(|i| i as f32 / 1000.0).collect();
        let t = threshold_at(&impostors, 1e-2);
        let admitted = impostors.iter().filter(|&&s| s >= t).count();
        assert!(admitted <= 10, "{t} admits {admitted}");
    }
}
