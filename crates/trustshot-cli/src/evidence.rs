//! `trustshot evidence ...`: keys, sealing, opening and inspecting evidence
//! packages (docs/evidence-format.md). Files are written atomically: a failed
//! command leaves nothing behind.

use crate::face::load_sdk;
use crate::CliResult;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use trustshot::delivery::{self, DeliveryError, EvidenceRequest, FaceRedaction, GeoPoint, SealOptions};
use trustshot::{Image, SdkConfig};
use trustshot_evidence::attestation::{self, Roots};
use trustshot_evidence::{keys, EvidenceError, Identity, Kind, Policy, PublicKey, SoftwareSigner};

#[derive(Subcommand)]
pub enum EvidenceCommand {
    /// Write PREFIX.key (PKCS#8 private key) and PREFIX.pub (public key) for a new P-256 key.
    Keygen(KeygenArgs),
    /// Seal a photo (or, without --photo, a receipt) for one or more recipients.
    Seal(SealArgs),
    /// Verify and decrypt a package into DIR/photo.<ext> and DIR/manifest.json.
    Open(OpenArgs),
    /// Print a package's header without any key.
    Inspect(InspectArgs),
}

#[derive(Args)]
pub struct KeygenArgs {
    /// Writes PREFIX.key and PREFIX.pub (the prefix is kept as given: keys.v1 -> keys.v1.key).
    #[arg(long)]
    out: PathBuf,
    /// Replace existing key files (otherwise an existing key is never overwritten).
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
pub struct SealArgs {
    /// The delivery photo (JPEG or PNG); re-encoded without metadata before sealing.
    #[arg(long)]
    photo: Option<PathBuf>,
    /// Recipient public key (operator; repeat for the next key or an escrow key).
    #[arg(long = "recipient", required = true)]
    recipients: Vec<PathBuf>,
    /// The device's private key (PKCS#8).
    #[arg(long)]
    signer: PathBuf,
    /// The device key's attestation chain (PEM CERTIFICATE blocks, leaf first),
    /// carried in the signed header for the operator to check.
    #[arg(long = "attestation-chain")]
    attestation_chain: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = KindArg::ProofOfDelivery)]
    kind: KindArg,
    /// Delivery id (or, for verification receipts, the subject id).
    #[arg(long = "delivery-id", alias = "subject-id")]
    delivery_id: String,
    #[arg(long, requires = "lon", allow_negative_numbers = true)]
    lat: Option<f64>,
    #[arg(long, requires = "lat", allow_negative_numbers = true)]
    lon: Option<f64>,
    /// Grid size the location is rounded to, in metres.
    #[arg(long, default_value_t = 100)]
    precision_m: u32,
    /// Capture time, Unix seconds (default: now).
    #[arg(long)]
    captured_at: Option<i64>,
    /// Retention: the operator deletes the evidence this many days after capture (1 to 36500).
    #[arg(long, default_value_t = 90)]
    retention_days: u32,
    /// Keep faces in the photo (by default every detected face is pixelated).
    #[arg(long)]
    keep_faces: bool,
    /// The customer opted out of delivery photos: a photo is refused.
    #[arg(long)]
    photo_opt_out: bool,
    /// The address is confidential: a photo is refused.
    #[arg(long)]
    confidential_address: bool,
    #[arg(long)]
    out: PathBuf,
    /// Replace an existing package at --out (otherwise refused).
    #[arg(long)]
    force: bool,
    #[arg(long)]
    json: bool,
}

/// `--kind`: what the package proves (the manifest's `kind`).
#[derive(Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
enum KindArg {
    ProofOfDelivery,
    IdentityCheck,
    DocumentCheck,
}

impl From<KindArg> for Kind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::ProofOfDelivery => Kind::ProofOfDelivery,
            KindArg::IdentityCheck => Kind::IdentityCheck,
            KindArg::DocumentCheck => Kind::DocumentCheck,
        }
    }
}

#[derive(Args)]
pub struct OpenArgs {
    /// The recipient's private key.
    #[arg(long)]
    key: PathBuf,
    /// The public key of the device that must have signed.
    #[arg(long = "signer-pub")]
    signer_pub: PathBuf,
    /// Output directory (created; must not exist or be empty).
    #[arg(long)]
    out: PathBuf,
    /// Roots trusted for device-key attestation (PEM CERTIFICATE blocks or one
    /// DER certificate); without it a chain is reported as untrusted_root.
    #[arg(long = "attestation-roots")]
    attestation_roots: Option<PathBuf>,
    package: PathBuf,
}

#[derive(Args)]
pub struct InspectArgs {
    package: PathBuf,
    /// Public keys to recognise among the recipients (no private key needed).
    #[arg(long = "recipient")]
    recipients: Vec<PathBuf>,
    #[arg(long)]
    json: bool,
}

pub fn run(models: &Path, cmd: EvidenceCommand) -> CliResult {
    let result = match cmd {
        EvidenceCommand::Keygen(a) => keygen(a),
        EvidenceCommand::Seal(a) => seal(models, a),
        EvidenceCommand::Open(a) => open(a),
        EvidenceCommand::Inspect(a) => inspect(a),
    };
    // Refusals of the evidence crate name their kind, as the format document does.
    result.or_else(|e| match e {
        Failure::Evidence(e) => {
            eprintln!("trustshot: error: {}: {e}", e.kind());
            Ok(ExitCode::from(1))
        }
        Failure::Other(message) => Err(message),
    })
}

enum Failure {
    Evidence(EvidenceError),
    Other(String),
}

impl From<EvidenceError> for Failure {
    fn from(e: EvidenceError) -> Self {
        Failure::Evidence(e)
    }
}

impl From<String> for Failure {
    fn from(e: String) -> Self {
        Failure::Other(e)
    }
}

fn read_text(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure::Other(format!("{}: {e}", path.display())))
}

fn public_key(path: &Path) -> Result<PublicKey, Failure> {
    Ok(PublicKey::from_pem(&read_text(path)?)?)
}

/// Writes `data` to `path` through a temporary sibling and a rename.
fn write_atomically(path: &Path, data: &[u8], mode: u32) -> Result<(), Failure> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("out"),
        std::process::id()
    ));
    let io = |e: std::io::Error| Failure::Other(format!("{}: {e}", path.display()));
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(&tmp).map_err(io)?;
    let written = f.write_all(data).and_then(|_| f.sync_all()).and_then(|_| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(io)
}

/// `path` with `.suffix` appended (not replacing an extension it may have).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(format!(".{suffix}"));
    PathBuf::from(name)
}

/// Refuses to replace `path` unless `force`.
fn refuse_overwrite(path: &Path, force: bool) -> Result<(), Failure> {
    if path.exists() && !force {
        return Err(Failure::Other(format!("{} exists: not overwriting it (--force replaces it)", path.display())));
    }
    Ok(())
}

fn keygen(args: KeygenArgs) -> Result<ExitCode, Failure> {
    let key_path = with_suffix(&args.out, "key");
    let pub_path = with_suffix(&args.out, "pub");
    for p in [&key_path, &pub_path] {
        refuse_overwrite(p, args.force)?;
    }
    let pair = trustshot_evidence::keys::generate()?;
    write_atomically(&key_path, pair.private_pem.as_bytes(), 0o600)?;
    write_atomically(&pub_path, pair.public.to_pem().as_bytes(), 0o644)?;
    println!(
        "{}",
        json!({
            "private_key": key_path.display().to_string(),
            "public_key": pub_path.display().to_string(),
            "key_id": pair.public.key_id(),
            "age_recipient": pair.public.age_recipient(),
        })
    );
    Ok(ExitCode::SUCCESS)
}

fn seal(models: &Path, args: SealArgs) -> Result<ExitCode, Failure> {
    refuse_overwrite(&args.out, args.force)?;
    let recipients = args.recipients.iter().map(|p| public_key(p)).collect::<Result<Vec<_>, _>>()?;
    let mut signer = SoftwareSigner::from_pkcs8_pem(&read_text(&args.signer)?)?;
    if let Some(path) = &args.attestation_chain {
        signer = signer.with_attestation_chain(keys::pem_decode_all(&read_text(path)?, "CERTIFICATE")?);
    }
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let request = EvidenceRequest {
        kind: args.kind.into(),
        subject_id: args.delivery_id.clone(),
        captured_at: args.captured_at.unwrap_or(now),
        location: args.lat.zip(args.lon).map(|(latitude, longitude)| GeoPoint {
            latitude,
            longitude,
            precision_m: args.precision_m,
        }),
        retention_days: args.retention_days,
        verdict: None,
    };
    let policy = Policy { photo_opt_out: args.photo_opt_out, confidential_address: args.confidential_address };
    let mut package = Vec::new();
    let summary = match &args.photo {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| Failure::Other(format!("{}: {e}", path.display())))?;
            let sdk = load_sdk(models, SdkConfig::default())?;
            let faces = if args.keep_faces { FaceRedaction::Keep } else { FaceRedaction::Pixelate };
            let options = SealOptions { faces, policy };
            sdk.seal_delivery(&request, &Image::Encoded(&bytes), options, &recipients, &signer, &mut package).map_err(
                |e| match e {
                    DeliveryError::Evidence(e) => Failure::Evidence(e),
                    other => Failure::Other(other.to_string()),
                },
            )?
        }
        None => delivery::seal_receipt(&request, policy, &recipients, &signer, &mut package)?,
    };
    write_atomically(&args.out, &package, 0o644)?;
    let out = json!({
        "package": args.out.display().to_string(),
        "bytes": summary.total_bytes,
        "recipients": recipients.iter().map(|r| r.key_id()).collect::<Vec<_>>(),
        "signer_key_id": signer_key_id(&signer),
        "photo_bytes": summary.manifest.photo.as_ref().map(|p| p.length),
    });
    if args.json {
        println!("{out}");
    } else {
        println!("sealed {} ({} bytes) for {} recipient(s)", args.out.display(), summary.total_bytes, recipients.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn signer_key_id(signer: &SoftwareSigner) -> Option<String> {
    use trustshot_evidence::Signer;
    signer.public_key().ok().map(|k| k.key_id())
}

fn open(args: OpenArgs) -> Result<ExitCode, Failure> {
    let identity = Identity::from_pkcs8_pem(&read_text(&args.key)?)?;
    let signer = public_key(&args.signer_pub)?;
    let roots = Roots::read(args.attestation_roots.as_deref()).map_err(Failure::Other)?;
    let done = trustshot_evidence::open_to_folder(&args.package, &identity, &signer, &args.out)?;
    let opened = &done.opened;
    let report = attestation::verify(&opened.attestation_chain, &signer, &roots, opened.manifest.captured_at);
    let report: serde_json::Value = serde_json::from_str(&report.json()).expect("the report is JSON");
    println!(
        "{}",
        json!({"out": args.out.display().to_string(), "signer_key_id": opened.signer_key_id, "photo": done.photo_file.is_some(), "attestation": report})
    );
    Ok(ExitCode::SUCCESS)
}

fn inspect(args: InspectArgs) -> Result<ExitCode, Failure> {
    let known = args.recipients.iter().map(|p| public_key(p)).collect::<Result<Vec<_>, _>>()?;
    let mut input =
        std::fs::File::open(&args.package).map_err(|e| Failure::Other(format!("{}: {e}", args.package.display())))?;
    let info = trustshot_evidence::inspect(&mut input, &known)?;
    let out = json!({
        "version": info.version,
        "recipients": info.stanzas.iter().map(|s| json!({"type": s.kind, "tag": s.tag, "key_id": s.key_id, "body_bytes": s.body_bytes})).collect::<Vec<_>>(),
        "header_bytes": info.header_bytes,
        "payload_bytes": info.payload_bytes,
        "chunks": info.chunks,
        "bundle_bytes": info.plaintext_bytes,
    });
    if args.json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    }
    Ok(ExitCode::SUCCESS)
}
