//! `trustshot eval flash --session DIR`: judges a recorded colour-flash
//! session again (the folder `FlashChallenge.record_to` writes on a device;
//! format in `trustshot::recording`), with the default thresholds or
//! the ones given, and prints every measured value. This is how the flash
//! thresholds get calibrated on real device captures.

use super::{unreadable, Report};
use crate::face::{load_sdk, read_frame};
use crate::output::round;
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};
use trustshot::recording::{FlashRecording, SessionFile};
use trustshot::{FlashRun, SdkConfig};
use trustshot_identity::{FlashConfig, FlashSession};

#[derive(Args)]
pub struct FlashArgs {
    /// Folder holding session.tsv and the frames.
    #[arg(long)]
    session: PathBuf,
    /// Largest camera lag searched, ms (default: the SDK's).
    #[arg(long)]
    max_lag_ms: Option<u32>,
    #[arg(long)]
    json: bool,
}

pub fn run(models: &Path, args: &FlashArgs) -> Result<Report, String> {
    let recording = FlashRecording::read(&args.session).map_err(|e| format!("{}: {e}", args.session.display()))?;
    let sdk = load_sdk(models, SdkConfig::default())?;
    let defaults = sdk.config().flash;
    let config = FlashConfig { max_lag_ms: args.max_lag_ms.unwrap_or(defaults.max_lag_ms), ..defaults };
    let session = FlashSession::with_sequence(config, recording.sequence.clone()).map_err(|e| e.to_string())?;
    let mut run = FlashRun::with_session(&sdk, session);
    let failures = recording
        .replay(&mut run, |file| read_frame(sdk.engine(), &args.session.join(file)))
        .map_err(|e| e.to_string())?;
    let no_face = recording.frames.len() - failures.len() - run.progress().frames_measured;
    let v = run.verdict().map_err(|e| e.to_string())?;
    let c = v.config;
    let out = json!({
        "frames": recording.frames.len(),
        "frames_without_face": no_face,
        "unreadable": unreadable(&failures),
        "sequence": recording.sequence.iter().map(|s| json!({"colour": s.colour.as_str(), "duration_ms": s.duration_ms})).collect::<Vec<_>>(),
        "passed": v.passed,
        "failure": v.failure.map(|f| f.as_str()),
        "frames_used": v.frames_used,
        "lag_ms": v.lag_ms,
        "correlation": round(v.correlation, 4),
        "response": round(v.response, 5),
        "step_agreement": round(v.step_agreement, 4),
        "face_gain": round(v.face_gain, 4),
        "background_gain": round(v.background_gain, 4),
        "thresholds": {
            "max_lag_ms": c.max_lag_ms,
            "min_correlation": c.min_correlation,
            "min_response": c.min_response,
            "min_step_agreement": c.min_step_agreement,
            "min_face_to_background": c.min_face_to_background,
            "min_frames_per_step": c.min_frames_per_step,
        },
        "thresholds_calibrated_on": "simulated captures only (models/README.md, Colour flash)",
    });
    Ok(Report { out, json: args.json })
}
