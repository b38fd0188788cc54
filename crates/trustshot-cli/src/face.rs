//! `trustshot verify` and `trustshot detect`: the face pipeline on files.

use crate::{output, CliResult};
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use trustshot::{Sdk, SdkConfig};
use trustshot_face::{Decision, EngineConfig, FaceEngine};

#[derive(Args)]
pub struct VerifyArgs {
    /// The new capture (JPEG or PNG).
    probe: PathBuf,
    /// Reference pictures of the claimed person (one or more).
    #[arg(required = true)]
    references: Vec<PathBuf>,
    /// False-match rate of the decision threshold (1e-2, 1e-3 or 1e-4).
    #[arg(long, default_value_t = trustshot_face::DEFAULT_FMR)]
    fmr: f64,
    /// Print one JSON object (the contract); otherwise a one-line summary.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct DetectArgs {
    image: PathBuf,
    #[arg(long)]
    json: bool,
}

pub fn load_sdk(models: &Path, config: SdkConfig) -> Result<Sdk, String> {
    Sdk::load(models, config).map_err(|e| format!("{e} (run scripts/setup to fetch and convert the models)"))
}

/// Why a file could not be used: a stable code (`io`, or the pipeline's
/// [`trustshot_face::FaceError::code`]) and a one-line message naming the file.
#[derive(Debug)]
pub struct ReadError {
    pub code: &'static str,
    pub message: String,
}

impl ReadError {
    pub fn face(path: &Path, e: trustshot_face::FaceError) -> ReadError {
        ReadError { code: e.code(), message: format!("{}: {e}", path.display()) }
    }
}

impl From<ReadError> for String {
    fn from(e: ReadError) -> String {
        e.message
    }
}

/// Reads and decodes a picture file (under the engine's limits).
pub fn read_frame(engine: &FaceEngine, path: &Path) -> Result<trustshot_face::Frame, ReadError> {
    let bytes =
        std::fs::read(path).map_err(|e| ReadError { code: "io", message: format!("{}: {e}", path.display()) })?;
    engine.decode(&bytes).map_err(|e| ReadError::face(path, e))
}

pub fn verify(models: &Path, args: VerifyArgs) -> CliResult {
    let config =
        SdkConfig { engine: EngineConfig { fmr: args.fmr, ..EngineConfig::default() }, ..SdkConfig::default() };
    let sdk = load_sdk(models, config)?;
    let probe = read_frame(sdk.engine(), &args.probe)?;
    let references = args.references.iter().map(|p| read_frame(sdk.engine(), p)).collect::<Result<Vec<_>, _>>()?;
    let v = sdk.verify_photos(&probe, &references).map_err(|e| e.to_string())?;
    let verdict = v.verdict;
    if args.json {
        let mut out = output::verification(&verdict);
        out["probe"] = output::analysis(&v.probe);
        out["references"] = v.references.iter().map(output::analysis).collect();
        out["models"] = output::models(&sdk.models());
        println!("{out}");
    } else {
        let score = verdict.score.map(|s| format!("{s:.3}")).unwrap_or_else(|| "-".into());
        let reasons: Vec<_> = verdict.reasons.iter().map(|r| r.reason.code.as_str()).collect();
        println!(
            "{} (score {score}, threshold {:.3} at FMR {}){}",
            verdict.decision.as_str(),
            verdict.threshold,
            verdict.fmr,
            if reasons.is_empty() { String::new() } else { format!(": {}", reasons.join(", ")) }
        );
    }
    // Exit 0 for a match, 1 for no match or rejected: scripts can branch on it.
    Ok(if verdict.decision == Decision::Match { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub fn detect(models: &Path, args: DetectArgs) -> CliResult {
    let sdk = load_sdk(models, SdkConfig::default())?;
    let frame = read_frame(sdk.engine(), &args.image)?;
    let analysis = sdk.analyze(&frame).map_err(|e| e.to_string())?;
    if args.json {
        let mut out = output::analysis(&analysis);
        out["width"] = json!(frame.width());
        out["height"] = json!(frame.height());
        println!("{out}");
    } else {
        println!(
            "{} face(s); quality {}",
            analysis.faces.len(),
            if analysis.quality.passed() { "ok" } else { "refused" }
        );
        for f in &analysis.faces {
            println!("  box {:?} score {:.3} face probability {:.3}", f.bbox, f.score, f.face_probability);
        }
        for r in &analysis.quality.reasons {
            println!("  {}: measured {:.2}, threshold {:.2}", r.code.as_str(), r.measured, r.threshold);
        }
    }
    Ok(ExitCode::SUCCESS)
}
