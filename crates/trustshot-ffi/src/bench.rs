//! The bench harness, callable from the apps: the same per-stage table as
//! `trustshot bench`, measured on the phone.

use crate::errors::FaceError;

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StageTiming {
    pub stage: String,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub samples: u32,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct BenchReport {
    pub image_width: u32,
    pub image_height: u32,
    pub iterations: u32,
    pub model_load_ms: f64,
    pub stages: Vec<StageTiming>,
    pub peak_rss_bytes: Option<u64>,
}

/// Scales and crops `photo` to a 1280x720 JPEG like a camera capture, loads
/// the models from `model_dir` (default configuration), and times every
/// stage `iterations` times.
#[uniffi::export]
pub fn run_bench(model_dir: String, photo: Vec<u8>, iterations: u32) -> Result<BenchReport, FaceError> {
    let frame = trustshot_face::decode(&photo, &Default::default())?;
    let fail = |e: trustshot::bench::BenchError| FaceError::InvalidArgument { detail: e.to_string() };
    let jpeg = trustshot::bench::camera_jpeg(&frame, 1280, 720).map_err(fail)?;
    let config = trustshot::SdkConfig::default();
    let scope = trustshot::bench::Scope::All;
    let r = trustshot::bench::run(std::path::Path::new(&model_dir), config, &jpeg, iterations as usize, scope)
        .map_err(fail)?;
    Ok(BenchReport {
        image_width: r.image_width,
        image_height: r.image_height,
        iterations: r.iterations as u32,
        model_load_ms: r.model_load_ms,
        stages: r
            .stages
            .into_iter()
            .map(|s| StageTiming { stage: s.name, p50_ms: s.p50_ms, p95_ms: s.p95_ms, samples: s.samples as u32 })
            .collect(),
        peak_rss_bytes: r.peak_rss_bytes,
    })
}
