//! `trustshot verify-id`: is the seller on the selfie the person on the ID?

use crate::face::{load_sdk, read_frame};
use crate::output::{self, round};
use crate::CliResult;
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use trustshot::SdkConfig;
use trustshot_identity::passive::FUSION;
use trustshot_identity::IdDecision;

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

pub fn verify_id_command(models: &Path, args: VerifyIdArgs) -> CliResult {
    let sdk = load_sdk(models, SdkConfig::default())?;
    let document = read_frame(sdk.engine(), &args.document)?;
    let selfie = read_frame(sdk.engine(), &args.selfie)?;
    let check = sdk.verify_id(&document, &selfie).map_err(|e| e.to_string())?;
    let (v, config) = (&check.verdict, &sdk.config().document);
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
        "portrait_orientation_degrees": v.portrait.map(|p| p.orientation.degrees()),
        "thresholds": {
            "approve_face_match": round(v.approve_threshold, 4),
            "reject_face_match": round(v.reject_threshold, 4),
            "liveness": round(FUSION.threshold, 4),
            "portrait_min_width": config.min_portrait_px,
            "portrait_min_sharpness": config.min_portrait_sharpness,
            "portrait_max_glare": config.max_portrait_glare,
            "moire_max_peak": config.max_moire_peak,
        },
        "reasons": v.reasons.iter().map(|r| json!({"code": r.code.as_str(), "measured": round(r.measured, 4), "threshold": round(r.threshold, 4)})).collect::<Vec<_>>(),
        "portrait": v.portrait.map(|p| output::face(&p.face)),
        "selfie": output::analysis(&check.selfie),
        "models": output::models(&sdk.models()),
    });
    if args.json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    }
    Ok(match v.decision {
        IdDecision::Approve => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    })
}
