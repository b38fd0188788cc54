//! Opening a package into a folder, as a backend does: `photo.<ext>` and
//! `manifest.json`, owner-only, written whole or not at all.
//!
//! The decrypted photo lands in a staging folder `.open-<pid>` beside the
//! output (created 0700, files 0600), which is renamed to the output only
//! once every check passed; a failure removes it. Staging folders left by a
//! killed run (their process is gone) are removed first: they may hold a
//! decrypted photo.

use crate::age::Identity;
use crate::error::{EvidenceError, Result};
use crate::keys::PublicKey;
use crate::package::{open, Opened};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// Staging folders of [`open_to_folder`]: `.open-<pid>` beside the output.
const STAGING_PREFIX: &str = ".open-";

/// What an opened package left in the output folder.
#[derive(Debug)]
pub struct OpenedFolder {
    pub opened: Opened,
    /// `photo.jpg` / `photo.png` / `photo.bin`, when the package holds a photo.
    pub photo_file: Option<String>,
}

fn io_error(path: &Path, e: std::io::Error) -> EvidenceError {
    EvidenceError::Io(format!("{}: {e}", path.display()))
}

/// Verifies and decrypts `package` into the folder `out`, which must not
/// exist or be empty.
pub fn open_to_folder(package: &Path, identity: &Identity, signer: &PublicKey, out: &Path) -> Result<OpenedFolder> {
    if out.exists() && std::fs::read_dir(out).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(EvidenceError::Io(format!("{} exists and is not an empty directory", out.display())));
    }
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    remove_stale_staging(parent);
    let staging = parent.join(format!("{STAGING_PREFIX}{}", std::process::id()));
    // Owner-only from the start: the decrypted photo lands here.
    std::fs::DirBuilder::new().mode(0o700).create(&staging).map_err(|e| io_error(&staging, e))?;
    let result = stage(package, identity, signer, &staging, out);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

fn stage(package: &Path, identity: &Identity, signer: &PublicKey, staging: &Path, out: &Path) -> Result<OpenedFolder> {
    let mut input = std::fs::File::open(package).map_err(|e| io_error(package, e))?;
    let photo_path = staging.join("photo.part");
    let mut sink = std::io::BufWriter::new(private_file(&photo_path).map_err(|e| io_error(&photo_path, e))?);
    let opened = open(&mut input, identity, signer, &mut sink)?;
    drop(sink);
    let photo_file = match &opened.manifest.photo {
        Some(p) => {
            let ext = match p.media_type.as_str() {
                "image/jpeg" => "jpg",
                "image/png" => "png",
                _ => "bin",
            };
            let name = format!("photo.{ext}");
            std::fs::rename(&photo_path, staging.join(&name)).map_err(|e| io_error(staging, e))?;
            Some(name)
        }
        None => {
            std::fs::remove_file(&photo_path).map_err(|e| io_error(&photo_path, e))?;
            None
        }
    };
    let manifest = staging.join("manifest.json");
    private_file(&manifest)
        .and_then(|mut f| f.write_all(opened.manifest.to_json().as_bytes()))
        .map_err(|e| io_error(&manifest, e))?;
    if out.exists() {
        std::fs::remove_dir(out).map_err(|e| io_error(out, e))?;
    }
    std::fs::rename(staging, out).map_err(|e| io_error(out, e))?;
    Ok(OpenedFolder { opened, photo_file })
}

/// Removes staging folders whose process is gone. Where there is no /proc
/// to ask, nothing is removed.
fn remove_stale_staging(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    if !Path::new("/proc/self").exists() {
        return;
    }
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(STAGING_PREFIX)) else { continue };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
