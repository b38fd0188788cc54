//! `trustshot`: the command line of the SDK.
//!
//! Subcommands and their JSON fields are contracts other tools rely on:
//! extend them, never rename them. Each subcommand lives in its own module.

mod bench;
mod eval;
mod evidence;
mod face;
mod identity;
mod output;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "trustshot", version, about = "On-device identity verification and proof of delivery")]
struct Cli {
    /// Directory of converted models (default: $TRUSTSHOT_MODELS, else models/dist of this checkout).
    #[arg(long, global = true)]
    models: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Is PROBE the person in REFERENCE(s)? Detect, check quality, embed, compare.
    Verify(face::VerifyArgs),
    /// Faces (box, landmarks, score) and capture-quality measures of one picture.
    Detect(face::DetectArgs),
    /// Is the seller on the selfie the person on the ID? Liveness, document checks, match.
    VerifyId(identity::VerifyIdArgs),
    /// Accuracy evaluations on labelled data.
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// Per-stage timings, model load time and peak memory.
    Bench(bench::BenchArgs),
    /// Sealed evidence packages: keygen, seal, open, inspect.
    #[command(subcommand)]
    Evidence(evidence::EvidenceCommand),
}

/// Where the models are: --models, $TRUSTSHOT_MODELS, or this checkout's models/dist.
pub fn model_dir(flag: &Option<PathBuf>) -> PathBuf {
    flag.clone()
        .or_else(|| std::env::var_os("TRUSTSHOT_MODELS").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/dist")))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let models = model_dir(&cli.models);
    let result = match cli.command {
        Command::Verify(args) => face::verify(&models, args),
        Command::Detect(args) => face::detect(&models, args),
        Command::VerifyId(args) => identity::verify_id_command(&models, args),
        Command::Eval(cmd) => eval::run(&models, cmd),
        Command::Bench(args) => bench::run(&models, args),
        Command::Evidence(cmd) => evidence::run(&models, cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("trustshot: {e}");
            ExitCode::from(2)
        }
    }
}

/// Errors of the command line: what failed, in one line.
pub type CliResult = Result<ExitCode, String>;
