//! The bench harness: per-stage p50/p95 wall times, model load time and peak
//! resident memory, on whatever device it runs on (the CLI prints it as a
//! table or JSON; the Kotlin and Swift bindings return the same report).
//!
//! Timings are measured, never asserted: shared machines are noisy.

use crate::{Sdk, SdkConfig};
use std::path::Path;
use std::time::Instant;
use trustshot_face::{FaceEngine, Frame};
use trustshot_identity::{Action, ChallengeConfig, ChallengeSession, PassiveLiveness};

/// Statistics of one stage, in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct StageStats {
    pub name: String,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub samples: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    pub image_width: u32,
    pub image_height: u32,
    pub iterations: usize,
    pub model_load_ms: f64,
    pub stages: Vec<StageStats>,
    /// Peak resident set size of the process, where the platform tells it.
    pub peak_rss_bytes: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("bench needs at least one iteration")]
    NoIterations,
    #[error(transparent)]
    Face(#[from] trustshot_face::FaceError),
    #[error("bench image has no face the pipeline accepts; pick a frontal, well-lit photo")]
    NoUsableFace,
    #[error("could not encode the bench image: {0}")]
    Encode(String),
    #[error(transparent)]
    Evidence(#[from] trustshot_evidence::EvidenceError),
}

/// Scales `frame` to cover `width` x `height`, crops it (centred across, from
/// the top down, where a portrait's face is) and encodes it as a JPEG
/// (quality 90): a stand-in for a phone camera capture.
pub fn camera_jpeg(frame: &Frame, width: u32, height: u32) -> Result<Vec<u8>, BenchError> {
    let scale = (width as f32 / frame.width() as f32).max(height as f32 / frame.height() as f32);
    let (sw, sh) = (
        ((frame.width() as f32 * scale).ceil() as u32).max(width),
        ((frame.height() as f32 * scale).ceil() as u32).max(height),
    );
    let scaled = trustshot_face::resize(frame, sw, sh);
    let (x0, y0) = ((sw - width) / 2, 0);
    let mut rgb = Vec::with_capacity((width * height * 3) as usize);
    for y in y0..y0 + height {
        let row = &scaled.rgb()[((y * sw + x0) * 3) as usize..((y * sw + x0 + width) * 3) as usize];
        rgb.extend_from_slice(row);
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode(&rgb, width, height, image::ExtendedColorType::Rgb8)
        .map_err(|e| BenchError::Encode(e.to_string()))?;
    Ok(out)
}

/// Which stages a bench run times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every stage below.
    All,
    /// The selfie check only (decode, detect, align and quality, embed): what
    /// the side-by-side comparison with OpenCV times (benches/opencv_compare.py).
    Selfie,
}

/// Loads the models, then runs `iterations` times on `jpeg`: the face
/// pipeline stage by stage, then (scope `All`) detection on a portrait frame,
/// the second look, eye openness, a sideways document, bystanders on a large
/// photo, passive liveness and challenge-session steps (when the liveness
/// models are installed), colour-flash steps, and sealing a 4 MB package.
pub fn run(
    model_dir: &Path,
    config: SdkConfig,
    jpeg: &[u8],
    iterations: usize,
    scope: Scope,
) -> Result<BenchReport, BenchError> {
    if iterations == 0 {
        return Err(BenchError::NoIterations);
    }
    let start = Instant::now();
    let sdk = Sdk::load(model_dir, config)?;
    let model_load_ms = ms(start);
    let (engine, liveness) = (sdk.engine(), sdk.liveness());

    let ((width, height), mut stages) = selfie_stages(engine, jpeg, iterations)?;
    let report = |stages| BenchReport {
        image_width: width,
        image_height: height,
        iterations,
        model_load_ms,
        stages,
        peak_rss_bytes: peak_rss(),
    };
    if scope == Scope::Selfie {
        return Ok(report(stages));
    }
    let frame = engine.decode(jpeg)?;
    stages.extend(threads(&sdk, &frame, iterations)?);
    stages.push(detect_portrait(engine, &frame, iterations)?);
    stages.push(face_check(model_dir, engine, &frame, iterations)?);
    stages.push(eye_openness(engine, &frame, iterations)?);
    stages.push(document_portrait(engine, &frame, iterations)?);
    stages.push(pixelate_large(engine, &frame, iterations)?);
    if let Some(liveness) = liveness {
        stages.extend(liveness_stages(&sdk, liveness, &frame, iterations)?);
    }
    stages.extend(flash_stages(&sdk, &frame, iterations)?);
    stages.push(seal_4mb(iterations)?);
    Ok(report(stages))
}

/// The selfie check's stages, decode to embedding, over `iterations` runs
/// after one untimed warm-up; and the picture's size.
fn selfie_stages(
    engine: &FaceEngine,
    jpeg: &[u8],
    iterations: usize,
) -> Result<((u32, u32), Vec<StageStats>), BenchError> {
    let mut decode = Vec::new();
    let mut detect = Vec::new();
    let mut align = Vec::new();
    let mut embed = Vec::new();
    let mut total = Vec::new();
    let (mut width, mut height) = (0, 0);
    // One untimed warm-up run: first-touch page faults are not steady state.
    for i in 0..=iterations {
        let start = Instant::now();
        let frame = engine.decode(jpeg)?;
        let decode_ms = ms(start);
        let analysis = engine.analyze(&frame)?;
        let total_ms = ms(start);
        if analysis.embedding.is_none() {
            return Err(BenchError::NoUsableFace);
        }
        (width, height) = (frame.width(), frame.height());
        if i == 0 {
            continue;
        }
        decode.push(decode_ms);
        detect.push(analysis.timings.detect_ms);
        align.push(analysis.timings.align_ms);
        embed.push(analysis.timings.embed_ms);
        total.push(total_ms);
    }
    let stages = vec![
        stats("decode_jpeg", decode),
        stats("detect", detect),
        stats("align_quality", align),
        stats("embed", embed),
        stats("decode_detect_align_embed", total),
    ];
    Ok(((width, height), stages))
}

/// Passive liveness and challenge-session steps on `frame`.
fn liveness_stages(
    sdk: &Sdk,
    liveness: &PassiveLiveness,
    frame: &Frame,
    iterations: usize,
) -> Result<Vec<StageStats>, BenchError> {
    let engine = sdk.engine();
    let mut stages = Vec::new();
    let face = *engine.analyze(frame)?.faces.first().ok_or(BenchError::NoUsableFace)?;
    stages.push(timed("liveness_passive", iterations, || {
        liveness.assess(frame, &face)?;
        Ok(())
    })?);
    // A challenge session fed the same frame: each step detects and
    // judges (the still-image rule is off, so the session never ends);
    // a blink step also measures both eyes, and the same frame never blinks.
    let config = ChallengeConfig { still_window_ms: u64::MAX, ..sdk.config().challenge };
    for (name, action) in [("challenge_step", Action::TurnLeft), ("challenge_step_blink", Action::Blink)] {
        // No hold: the first frame prompts, so every later step judges the action.
        let config = ChallengeConfig { hold_min_ms: 0, hold_max_ms: 0, ..config };
        let mut session = ChallengeSession::with_actions(engine.clone(), config, vec![action])
            .map_err(|e| BenchError::Encode(e.to_string()))?;
        let mut now = 0;
        stages.push(timed(name, iterations, || {
            now += 33;
            session.push_frame(frame, now).map(|_| ()).map_err(|e| BenchError::Encode(e.to_string()))
        })?);
    }
    // The app's session step: the above plus passive liveness (at most 5
    // frames a second), guidance and the best-frame check.
    let config = ChallengeConfig { hold_min_ms: 0, hold_max_ms: 0, ..config };
    let session = ChallengeSession::with_actions(engine.clone(), config, vec![Action::TurnLeft])
        .map_err(|e| BenchError::Encode(e.to_string()))?;
    let mut run = crate::ChallengeRun::over(sdk, session);
    let mut now = 0;
    stages.push(timed("challenge_session_step", iterations, || {
        now += 33;
        run.push_frame(frame, now).map(|_| ()).map_err(|e| BenchError::Encode(e.to_string()))
    })?);
    Ok(stages)
}

/// A colour-flash frame: detection and the light measurement of the face
/// (the session's verdict is computed once, at the end).
fn flash_stages(sdk: &Sdk, frame: &Frame, iterations: usize) -> Result<Vec<StageStats>, BenchError> {
    let engine = sdk.engine();
    let mut stages = Vec::new();
    let mut flash = sdk.start_flash().map_err(|e| BenchError::Encode(e.to_string()))?;
    flash.displayed(0, 0).map_err(|e| BenchError::Encode(e.to_string()))?;
    let mut now = 0;
    stages.push(timed("flash_step", iterations, || {
        now += 33;
        flash.push_frame(frame, now).map(|_| ()).map_err(|e| BenchError::Encode(e.to_string()))
    })?);
    let face = *engine.detect(frame)?.first().ok_or(BenchError::NoUsableFace)?;
    stages.push(timed("flash_measure", iterations, || {
        trustshot_identity::LightSample::measure(frame, &face).ok_or(BenchError::NoUsableFace).map(|_| ())
    })?);
    Ok(stages)
}

/// Calls with independent stages on one and on two threads: a probe against
/// two references, and an ID check (the document is the frame turned
/// sideways: four portrait searches, beside the selfie's analysis).
fn threads(sdk: &Sdk, frame: &Frame, iterations: usize) -> Result<Vec<StageStats>, BenchError> {
    let document = frame.clone().rotated(trustshot_face::Rotation::R90);
    let references = [frame.clone(), frame.clone()];
    let mut stages = Vec::new();
    for n in [1, 2] {
        let sdk = sdk.with_threads(n)?;
        stages.push(timed(&format!("verify_2_references_{n}_thread"), iterations, || {
            sdk.verify_photos(frame, &references)?;
            Ok(())
        })?);
        stages.push(timed(&format!("id_check_{n}_thread"), iterations, || {
            sdk.verify_id(&document, frame)?;
            Ok(())
        })?);
    }
    Ok(stages)
}

/// Detection on a portrait frame, as selfies arrive: the centre 9:16 of
/// `frame`, which the detector scales to the 384x640 canvas a 720x1280 selfie
/// gets (the transposed plan, crates/trustshot-face/src/detect.rs).
fn detect_portrait(engine: &FaceEngine, frame: &Frame, iterations: usize) -> Result<StageStats, BenchError> {
    let (w, h) = (frame.height() * 9 / 16, frame.height());
    let x0 = (frame.width().saturating_sub(w)) / 2;
    let rgb: Vec<u8> = frame
        .rgb()
        .chunks_exact(frame.width() as usize * 3)
        .flat_map(|row| &row[x0 as usize * 3..(x0 + w) as usize * 3])
        .copied()
        .collect();
    let portrait = Frame::from_rgb(w, h, rgb)?;
    timed("detect_portrait", iterations, || match engine.detect(&portrait)?.is_empty() {
        true => Err(BenchError::NoUsableFace),
        false => Ok(()),
    })
}

/// Finding the portrait on a document photographed sideways (the photo
/// turned a quarter: the portrait search tries all four orientations).
fn document_portrait(engine: &FaceEngine, frame: &Frame, iterations: usize) -> Result<StageStats, BenchError> {
    let sideways = frame.clone().rotated(trustshot_face::Rotation::R90);
    let config = trustshot_identity::DocumentConfig::default();
    timed("document_portrait", iterations, || {
        match trustshot_identity::document::find_portrait(engine, &sideways, &config)? {
            Some(_) => Ok(()),
            None => Err(BenchError::NoUsableFace),
        }
    })
}

/// Pixelating bystanders on the photo enlarged to 4000x3000, as a phone's
/// main camera takes a doorstep: the whole-frame pass plus the tile search
/// (crates/trustshot-face/src/detect.rs). At most 5 timed runs: it is slow.
/// Each run includes copying the photo (pixelation changes it in place).
fn pixelate_large(engine: &FaceEngine, frame: &Frame, iterations: usize) -> Result<StageStats, BenchError> {
    let large = trustshot_face::resize(frame, 4000, 3000);
    timed("pixelate_faces_4000x3000", iterations.min(5), || {
        crate::delivery::pixelate_faces(large.clone(), engine)?;
        Ok(())
    })
}

/// Eye openness of the main face (two 64x64 crops through MediaPipe Iris;
/// part of every challenge step while a blink is asked).
fn eye_openness(engine: &FaceEngine, frame: &Frame, iterations: usize) -> Result<StageStats, BenchError> {
    let face = *engine.detect(frame)?.first().ok_or(BenchError::NoUsableFace)?;
    timed("eye_openness", iterations, || {
        engine.eye_openness(frame, &face)?;
        Ok(())
    })
}

/// The detector's second look on the main face alone (crop and O-Net; it
/// is part of the `detect` stage above, once per face found).
fn face_check(
    model_dir: &Path,
    engine: &FaceEngine,
    frame: &Frame,
    iterations: usize,
) -> Result<StageStats, BenchError> {
    let check = trustshot_face::FaceCheck::load(&model_dir.into())?;
    let face = *engine.detect(frame)?.first().ok_or(BenchError::NoUsableFace)?;
    timed("face_check", iterations, || {
        check.probability(frame, &face.bbox)?;
        Ok(())
    })
}

/// Sealing a 4 MB photo for one recipient with a software device key.
fn seal_4mb(iterations: usize) -> Result<StageStats, BenchError> {
    use trustshot_evidence::{keys, seal, Kind, Manifest, PhotoData, PhotoInput, Policy, SoftwareSigner};
    let photo: Vec<u8> = (0..4_000_000u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
    let operator = keys::generate()?;
    let signer = SoftwareSigner::from_pkcs8_pem(&keys::generate()?.private_pem)?;
    let mut samples = Vec::new();
    let mut out = Vec::with_capacity(photo.len() + 4096);
    for _ in 0..=iterations {
        out.clear();
        let start = Instant::now();
        let input = PhotoInput { media_type: "image/jpeg".into(), data: PhotoData::Bytes(&photo) };
        seal(
            Manifest::new(Kind::ProofOfDelivery, "bench", 0),
            Some(input),
            Policy::default(),
            &[operator.public],
            &signer,
            &mut out,
        )?;
        samples.push(ms(start));
    }
    samples.remove(0);
    Ok(stats("evidence_seal_4mb", samples))
}

/// Runs `f` once untimed (first-touch page faults and lazy model loads are
/// not steady state), then `iterations` timed times.
fn timed(
    name: &str,
    iterations: usize,
    mut f: impl FnMut() -> Result<(), BenchError>,
) -> Result<StageStats, BenchError> {
    f()?;
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        f()?;
        times.push(ms(start));
    }
    Ok(stats(name, times))
}

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

/// p50 and p95 (nearest rank) of `samples`.
pub fn stats(name: &str, mut samples: Vec<f64>) -> StageStats {
    samples.sort_by(f64::total_cmp);
    let rank = |q: f64| samples[((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
    StageStats { name: name.into(), p50_ms: rank(0.5), p95_ms: rank(0.95), samples: samples.len() }
}

/// Peak RSS from /proc/self/status (Linux and Android); `None` elsewhere.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    #[test]
    fn nearest_rank_percentiles() {
        let s = super::stats("x", (1..=20).map(f64::from).collect());
        assert_eq!((s.p50_ms, s.p95_ms, s.samples), (10.0, 19.0, 20));
        let one = super::stats("x", vec![3.0]);
        assert_eq!((one.p50_ms, one.p95_ms), (3.0, 3.0));
    }
}
