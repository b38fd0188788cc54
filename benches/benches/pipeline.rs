//! Criterion benchmarks, one per pipeline stage, on a real 1280x720 JPEG (the
//! sample portrait scaled and cropped like a phone capture).

use criterion::{criterion_group, criterion_main, Criterion};
use trustshot_face::align;
use trustshot_face::{EngineConfig, FaceEngine};

fn stages(c: &mut Criterion) {
    let engine = FaceEngine::load(&trustshot_benches::model_dir(), EngineConfig::default()).expect("run scripts/setup");
    let photo = std::fs::read(trustshot_benches::workspace().join("samples/obama.jpg")).expect("run scripts/setup");
    let jpeg = trustshot::bench::camera_jpeg(&engine.decode(&photo).unwrap(), 1280, 720).unwrap();
    let frame = engine.decode(&jpeg).unwrap();
    let faces = engine.detect(&frame).unwrap();
    let face = faces[0];
    let aligned = align(&frame, &face).unwrap();

    let mut g = c.benchmark_group("face_1280x720");
    g.sample_size(20);
    g.bench_function("decode_jpeg", |b| b.iter(|| engine.decode(&jpeg).unwrap()));
    g.bench_function("detect", |b| b.iter(|| engine.detect(&frame).unwrap()));
    g.bench_function("align", |b| b.iter(|| align(&frame, &face).unwrap()));
    g.bench_function("embed", |b| b.iter(|| engine.embed_face(&frame, &face).unwrap()));
    g.bench_function("quality_measures", |b| b.iter(|| trustshot_face::luma_stats(&aligned.crop)));
    g.bench_function("analyze_total", |b| b.iter(|| engine.analyze(&frame).unwrap()));
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
