//! `evidence-memory [MB]`: seals and opens a photo streamed from disk and
//! prints the peak resident memory before and after, to show that memory grows
//! with the 64 KiB chunk, not with the photo.

use std::io::{BufReader, BufWriter, Write};
use trustshot_evidence::{keys, open, seal, Identity, Kind, Manifest, PhotoData, PhotoInput, Policy, SoftwareSigner};

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let mb: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(256);
    let dir = std::env::temp_dir().join(format!("trustshot-evidence-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (photo_path, package_path) = (dir.join("photo.bin"), dir.join("photo.age"));
    {
        let mut f = BufWriter::new(std::fs::File::create(&photo_path).unwrap());
        let block: Vec<u8> = (0..1 << 20).map(|i: u32| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
        for _ in 0..mb {
            f.write_all(&block).unwrap();
        }
    }
    let operator = keys::generate().unwrap();
    let device = keys::generate().unwrap();
    let signer = SoftwareSigner::from_pkcs8_pem(&device.private_pem).unwrap();
    let before = peak_rss_kib();
    {
        let mut photo = BufReader::new(std::fs::File::open(&photo_path).unwrap());
        let mut out = BufWriter::new(std::fs::File::create(&package_path).unwrap());
        let manifest = Manifest::new(Kind::ProofOfDelivery, "memory", 0);
        let input = PhotoInput { media_type: "image/jpeg".into(), data: PhotoData::Reader(&mut photo) };
        seal(manifest, Some(input), Policy::default(), &[operator.public], &signer, &mut out).unwrap();
    }
    let after_seal = peak_rss_kib();
    {
        let identity = Identity::from_pkcs8_pem(&operator.private_pem).unwrap();
        let mut input = BufReader::new(std::fs::File::open(&package_path).unwrap());
        let mut sink = BufWriter::new(std::fs::File::create(dir.join("opened.bin")).unwrap());
        open(&mut input, &identity, &device.public, &mut sink).unwrap();
    }
    let after_open = peak_rss_kib();
    std::fs::remove_dir_all(&dir).unwrap();
    println!("| photo | peak RSS before | after seal | after open |");
    println!("|---|---|---|---|");
    println!(
        "| {mb} MiB (streamed from disk) | {:.1} MiB | {:.1} MiB | {:.1} MiB |",
        before as f64 / 1024.0,
        after_seal as f64 / 1024.0,
        after_open as f64 / 1024.0
    );
}
