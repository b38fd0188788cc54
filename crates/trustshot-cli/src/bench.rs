//! `trustshot bench`: the bench harness of the `trustshot` crate, printed as a
//! table or JSON.

use crate::face::load_sdk;
use crate::output::round;
use crate::CliResult;
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use trustshot::bench;
use trustshot::SdkConfig;

#[derive(Args)]
pub struct BenchArgs {
    /// A photo with one frontal face; unless it already is a 1280x720 JPEG it
    /// is scaled and cropped to 1280x720 and JPEG-encoded first, like a phone
    /// capture.
    #[arg(long)]
    image: PathBuf,
    #[arg(long, default_value_t = 30)]
    iterations: usize,
    /// Time the selfie check only (decode, detect, align and quality, embed).
    #[arg(long)]
    selfie_only: bool,
    /// Also write the 1280x720 JPEG the bench runs on to this file.
    #[arg(long)]
    save_jpeg: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

pub fn run(models: &Path, args: BenchArgs) -> CliResult {
    let bytes = std::fs::read(&args.image).map_err(|e| format!("{}: {e}", args.image.display()))?;
    let frame = {
        let sdk = load_sdk(models, SdkConfig::default())?;
        crate::face::read_frame(sdk.engine(), &args.image)?
    };
    let is_jpeg = bytes.starts_with(&[0xFF, 0xD8]);
    let jpeg = match (frame.width(), frame.height(), is_jpeg) {
        (1280, 720, true) => bytes,
        _ => bench::camera_jpeg(&frame, 1280, 720).map_err(|e| e.to_string())?,
    };
    if let Some(path) = &args.save_jpeg {
        std::fs::write(path, &jpeg).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let scope = if args.selfie_only { bench::Scope::Selfie } else { bench::Scope::All };
    let report = bench::run(models, SdkConfig::default(), &jpeg, args.iterations, scope).map_err(|e| e.to_string())?;
    if args.json {
        let stages: Vec<_> = report
            .stages
            .iter()
            .map(|s| json!({"stage": s.name, "p50_ms": round(s.p50_ms as f32, 3), "p95_ms": round(s.p95_ms as f32, 3), "samples": s.samples}))
            .collect();
        println!(
            "{}",
            json!({
                "image": [report.image_width, report.image_height],
                "iterations": report.iterations,
                "model_load_ms": round(report.model_load_ms as f32, 1),
                "stages": stages,
                "peak_rss_bytes": report.peak_rss_bytes,
            })
        );
    } else {
        println!(
            "image {}x{}, {} iterations, model load {:.1} ms",
            report.image_width, report.image_height, report.iterations, report.model_load_ms
        );
        println!("{:<28} {:>10} {:>10}", "stage", "p50 ms", "p95 ms");
        for s in &report.stages {
            println!("{:<28} {:>10.2} {:>10.2}", s.name, s.p50_ms, s.p95_ms);
        }
        if let Some(rss) = report.peak_rss_bytes {
            println!("peak RSS {:.1} MiB", rss as f64 / (1 << 20) as f64);
        }
    }
    Ok(ExitCode::SUCCESS)
}
