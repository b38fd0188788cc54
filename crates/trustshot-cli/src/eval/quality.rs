//! `trustshot eval quality`: the distribution of the capture-quality measures,
//! and how often each check fails, over every JPEG/PNG under a folder (for
//! choosing and stating thresholds).

use super::{image_files, par_map, unreadable, Report};
use crate::face::{load_sdk, read_frame, ReadError};
use crate::output::round;
use clap::Args;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use trustshot::SdkConfig;

#[derive(Args)]
pub struct QualityArgs {
    /// Folder searched recursively for .jpg/.jpeg/.png files.
    #[arg(long)]
    images: PathBuf,
    #[arg(long)]
    json: bool,
}

pub fn run(models: &Path, args: &QualityArgs) -> Result<Report, String> {
    let files = image_files(&args.images)?;
    let sdk = load_sdk(models, SdkConfig::default())?;
    let results = par_map(&files, |p| -> Result<_, ReadError> {
        let frame = read_frame(sdk.engine(), p)?;
        sdk.analyze(&frame).map_err(|e| ReadError::face(p, e))
    });
    let mut measures: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    let mut passed = 0;
    let mut failures = Vec::new();
    for (path, r) in files.iter().zip(results) {
        let a = match r {
            Ok(a) => a,
            Err(e) => {
                failures.push((path.display().to_string(), e));
                continue;
            }
        };
        passed += a.quality.passed() as usize;
        for reason in &a.quality.reasons {
            *reasons.entry(reason.code.as_str()).or_default() += 1;
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
    let out = json!({
        "images": files.len(),
        "passed": passed,
        "failures": reasons,
        "percentiles": percentiles,
        "unreadable": unreadable(&failures),
    });
    Ok(Report { out, json: args.json })
}
