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
    return_large_buffers_to_the_system();
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

/// glibc raises its mmap threshold to the size of the largest block freed so
/// far (up to 32 MiB). Loading the models frees blocks of up to 26 MB
/// (SFace's fully connected weights expanded to f32, and the copy tract makes
/// when it changes their axes), so from then on blocks of every size came
/// from the heap and freed heap memory was kept: the selfie bench peaked at
/// ~140 MiB RSS for ~83 MB of live heap. Fixed settings turn the adjustment
/// off: blocks from 4 MiB are mapped and returned to the system when freed;
/// the heap keeps up to 32 MiB free at its top, so that each inference reuses
/// the pages of the previous one (with glibc's 128 KiB trim threshold it paid
/// page faults for them again: detection 1.6x slower). Peak RSS ~103 MiB, same
/// speed (models/README.md, "Memory"). The process owner's choice, so it is
/// made here and never in the library: apps run under their platform's allocator.
fn return_large_buffers_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before any
    // other thread exists. A refusal (return 0) leaves glibc's default.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 32 << 20);
    }
}

/// Errors of the command line: what failed, in one line.
pub type CliResult = Result<ExitCode, String>;
