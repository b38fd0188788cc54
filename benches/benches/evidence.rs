//! Criterion benchmarks of sealing and opening a 4 MB photo (one recipient,
//! software signer), against the cost of only hashing those 4 MB in the same
//! run, so the ratio to the memory-bound floor is visible.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use trustshot_evidence::{keys, open, seal, Identity, Kind, Manifest, PhotoData, PhotoInput, Policy, SoftwareSigner};

fn evidence(c: &mut Criterion) {
    let photo: Vec<u8> = (0..4_000_000u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
    let operator = keys::generate().unwrap();
    let device = keys::generate().unwrap();
    let signer = SoftwareSigner::from_pkcs8_pem(&device.private_pem).unwrap();
    let identity = Identity::from_pkcs8_pem(&operator.private_pem).unwrap();
    let seal_once = || {
        let mut out = Vec::with_capacity(photo.len() + 4096);
        seal(
            Manifest::new(Kind::ProofOfDelivery, "bench", 0),
            Some(PhotoInput { media_type: "image/jpeg".into(), data: PhotoData::Bytes(&photo) }),
            Policy::default(),
            &[operator.public],
            &signer,
            &mut out,
        )
        .unwrap();
        out
    };
    let package = seal_once();

    let mut g = c.benchmark_group("evidence_4mb");
    g.throughput(Throughput::Bytes(photo.len() as u64));
    g.sample_size(20);
    g.bench_function("sha256_only", |b| b.iter(|| ring::digest::digest(&ring::digest::SHA256, &photo)));
    g.bench_function("seal", |b| b.iter(seal_once));
    g.bench_function("open", |b| {
        b.iter(|| {
            let mut sink = Vec::with_capacity(photo.len());
            open(&mut &package[..], &identity, &device.public, &mut sink).unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, evidence);
criterion_main!(benches);
