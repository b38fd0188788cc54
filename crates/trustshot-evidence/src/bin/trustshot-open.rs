//! `trustshot-open`: the backend's opener, linking the evidence crate only
//! (no face models, no image decoder): verifies and decrypts a package into
//! a folder, as `trustshot evidence open` does.
//!
//! Usage: `trustshot-open PACKAGE --key OP.key --signer-pub DEV.pub --out DIR
//! [--attestation-roots ROOTS.pem]`
//! Prints `{"out", "signer_key_id", "photo", "attestation"}` (attestation: the
//! device-key chain's check against the roots, see `attestation`); exit 0
//! when opened, 1 when the package is refused (the reason's kind on stderr),
//! 2 on a usage error.

use std::path::PathBuf;
use std::process::ExitCode;
use trustshot_evidence::attestation::{self, Roots};
use trustshot_evidence::manifest::json_string;
use trustshot_evidence::{open_to_folder, EvidenceError, Identity, PublicKey};

const USAGE: &str =
    "usage: trustshot-open PACKAGE --key OP.key --signer-pub DEV.pub --out DIR [--attestation-roots ROOTS.pem]";

struct Args {
    package: PathBuf,
    key: PathBuf,
    signer_pub: PathBuf,
    out: PathBuf,
    attestation_roots: Option<PathBuf>,
}

fn args() -> Result<Args, String> {
    let (mut package, mut key, mut signer_pub, mut out, mut attestation_roots) = (None, None, None, None, None);
    let mut it = std::env::args_os().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().map(PathBuf::from).ok_or(format!("{} needs a value", a.to_string_lossy()));
        match a.to_str() {
            Some("--key") => key = Some(value()?),
            Some("--signer-pub") => signer_pub = Some(value()?),
            Some("--out") => out = Some(value()?),
            Some("--attestation-roots") => attestation_roots = Some(value()?),
            Some(flag) if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            _ if package.is_none() => package = Some(PathBuf::from(&a)),
            _ => return Err("one package at a time".into()),
        }
    }
    match (package, key, signer_pub, out) {
        (Some(package), Some(key), Some(signer_pub), Some(out)) => {
            Ok(Args { package, key, signer_pub, out, attestation_roots })
        }
        _ => Err(USAGE.into()),
    }
}

fn run(a: &Args) -> Result<String, EvidenceError> {
    let read = |p: &PathBuf| std::fs::read_to_string(p).map_err(|e| EvidenceError::Io(format!("{}: {e}", p.display())));
    let identity = Identity::from_pkcs8_pem(&read(&a.key)?)?;
    let signer = PublicKey::from_pem(&read(&a.signer_pub)?)?;
    let roots = Roots::read(a.attestation_roots.as_deref()).map_err(EvidenceError::Io)?;
    let done = open_to_folder(&a.package, &identity, &signer, &a.out)?;
    let opened = &done.opened;
    let report = attestation::verify(&opened.attestation_chain, &signer, &roots, opened.manifest.captured_at);
    Ok(format!(
        "{{\"out\":{},\"signer_key_id\":{},\"photo\":{},\"attestation\":{}}}",
        json_string(&a.out.display().to_string()),
        json_string(&opened.signer_key_id),
        done.photo_file.is_some(),
        report.json()
    ))
}

fn main() -> ExitCode {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("trustshot-open: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&a) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("trustshot-open: error: {}: {e}", e.kind());
            ExitCode::from(1)
        }
    }
}
