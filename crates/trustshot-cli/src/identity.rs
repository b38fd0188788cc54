//! `trustshot verify-id`: is the seller on the selfie the person on the ID?
//!
//! With `--selfie`, one picture (the first flow). With `--session DIR`, a
//! recorded high-assurance capture (`trustshot::recording`: `challenge/` and
//! `flash/` as the SDK's `record_to` writes them) is judged again: the selfie
//! is the session's best frame and every layer of the high-assurance
//! decision (`high_assurance` in the JSON) must pass.

use crate::eval::unreadable;
use crate::face::{load_sdk, read_frame, ReadError};
use crate::output::{self, round};
use crate::CliResult;
use clap::Args;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use trustshot::assurance::Assurance;
use trustshot::recording::{ChallengeRecording, FlashRecording, SessionFile, CHALLENGE_DIR, FLASH_DIR};
use trustshot::{ChallengeRun, FlashRun, IdCheck, Sdk, SdkConfig};
use trustshot_identity::passive::FUSION;
use trustshot_identity::{IdDecision, SessionState};

#[derive(Args)]
pub struct VerifyIdArgs {
    /// Photo of the ID document (JPEG or PNG).
    #[arg(long)]
    document: PathBuf,
    /// The live selfie (one picture).
    #[arg(long, required_unless_present = "session", conflicts_with = "session")]
    selfie: Option<PathBuf>,
    /// A recorded high-assurance capture: a folder with `challenge/` and
    /// `flash/` (ChallengeSession.recordTo, FlashChallenge.recordTo).
    #[arg(long)]
    session: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

pub fn verify_id_command(models: &Path, args: VerifyIdArgs) -> CliResult {
    let sdk = load_sdk(models, SdkConfig::default())?;
    let document = read_frame(sdk.engine(), &args.document)?;
    let (check, session) = match (&args.selfie, &args.session) {
        (Some(selfie), _) => {
            let selfie = read_frame(sdk.engine(), selfie)?;
            (sdk.verify_id(&document, &selfie).map_err(|e| e.to_string())?, None)
        }
        (None, Some(dir)) => {
            let replayed = replay(&sdk, dir)?;
            let check =
                sdk.verify_id_session(&document, &replayed.challenge, &replayed.flash).map_err(|e| e.to_string())?;
            (check, Some(replayed))
        }
        (None, None) => return Err("give --selfie or --session".into()),
    };
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
        "high_assurance": high_assurance(&check, session.as_ref()),
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

/// A recorded capture fed through the SDK's sessions again.
struct Replayed {
    challenge: ChallengeRun,
    flash: FlashRun,
    challenge_frames: usize,
    flash_frames: usize,
    unreadable: Vec<(String, ReadError)>,
}

fn replay(sdk: &Sdk, dir: &Path) -> Result<Replayed, String> {
    let (challenge_dir, flash_dir) = (dir.join(CHALLENGE_DIR), dir.join(FLASH_DIR));
    let recorded = ChallengeRecording::read(&challenge_dir).map_err(|e| format!("{}: {e}", challenge_dir.display()))?;
    let mut challenge = sdk.start_challenge_with(recorded.challenge.clone()).map_err(|e| e.to_string())?;
    let mut unreadable = recorded
        .replay(&mut challenge, |file| read_frame(sdk.engine(), &challenge_dir.join(file)))
        .map_err(|e| e.to_string())?;
    let shown = FlashRecording::read(&flash_dir).map_err(|e| format!("{}: {e}", flash_dir.display()))?;
    let mut flash = sdk.start_flash_with(shown.sequence.clone()).map_err(|e| e.to_string())?;
    unreadable.extend(
        shown.replay(&mut flash, |file| read_frame(sdk.engine(), &flash_dir.join(file))).map_err(|e| e.to_string())?,
    );
    Ok(Replayed {
        challenge,
        flash,
        challenge_frames: recorded.frames.len(),
        flash_frames: shown.frames.len(),
        unreadable,
    })
}

/// Every layer's score, threshold and verdict (null in the one-picture flow).
fn high_assurance(check: &IdCheck, session: Option<&Replayed>) -> Value {
    let (Some(a), Some(s)) = (&check.assurance, session) else { return Value::Null };
    let Assurance { passed, checks } = a;
    let state = s.challenge.state();
    json!({
        "passed": passed,
        "checks": checks.iter().map(|c| json!({
            "layer": c.layer.as_str(),
            "passed": c.passed,
            "score": c.score.map(|v| round(v, 4)),
            "threshold": round(c.threshold, 4),
        })).collect::<Vec<_>>(),
        "challenge": {
            "actions": s.challenge.actions().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            "state": state.as_str(),
            "failure": match state { SessionState::Failed(r) => Some(r.as_str()), _ => None },
            "frames": s.challenge_frames,
        },
        "flash": {
            "frames": s.flash_frames,
            "flash_thresholds_calibrated_on": "simulated captures only (models/README.md, Colour flash)",
        },
        "unreadable": unreadable(&s.unreadable),
    })
}
