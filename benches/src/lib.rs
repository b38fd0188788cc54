//! tract versus onnxruntime on identical inputs: output parity and speed.
//!
//! The inputs are real: the sample portrait (samples/obama.jpg) prepared by the
//! SDK's own preprocessing for every model plan (each YuNet canvas, the O-Net,
//! SFace and eye crops). They are written to a case directory; `models/reference.py` runs
//! onnxruntime (one thread) on the ONNX each NNEF archive was converted from;
//! the same bytes then go through tract, and outputs and timings are compared.
//! Used by the parity test (tests/parity.rs) and `tract-vs-ort` (a table).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use tract_core::prelude::*;
use trustshot_face::align;
use trustshot_face::square_crop;
use trustshot_face::ONET_SPEC;
use trustshot_face::SFACE_SPEC;
use trustshot_face::{detector_canvas, letterbox, YUNET_SPECS};
use trustshot_face::{eye_crops, IRIS_SPEC};
use trustshot_face::{EngineConfig, FaceEngine, Frame};
use trustshot_face::{Model, ModelSpec};
use trustshot_identity::passive::{context_crop, CONTEXT_SCALE, MINIFASNET_V1SE};

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn model_dir() -> PathBuf {
    std::env::var_os("TRUSTSHOT_MODELS").map(PathBuf::from).unwrap_or_else(|| workspace().join("models/dist"))
}

/// One model plan and the real input it is compared on.
pub struct Case {
    pub name: String,
    pub spec: ModelSpec,
    pub input: Tensor,
}

/// Every model plan, each with the sample portrait prepared for it. The
/// liveness models are included when they are installed (they come from the
/// model mirror, not a registry: models/README.md).
pub fn model_cases(models: &Path) -> Result<Vec<Case>, String> {
    let bytes = std::fs::read(workspace().join("samples/obama.jpg"))
        .map_err(|e| format!("samples/obama.jpg: {e}: run scripts/setup"))?;
    let engine = FaceEngine::load(models, EngineConfig::default()).map_err(|e| e.to_string())?;
    let frame: Frame = engine.decode(&bytes).map_err(|e| e.to_string())?;
    let mut cases = Vec::new();
    for spec in YUNET_SPECS {
        let (cw, ch) = detector_canvas(&spec);
        let scale = (cw as f32 / frame.width() as f32).min(ch as f32 / frame.height() as f32);
        let (rw, rh) = ((frame.width() as f32 * scale) as u32, (frame.height() as f32 * scale) as u32);
        cases.push(Case { name: format!("yunet_{cw}x{ch}"), spec, input: letterbox(&frame, rw, rh, &spec) });
    }
    let faces = engine.detect(&frame).map_err(|e| e.to_string())?;
    let face = faces.first().ok_or("no face in the sample portrait")?;
    let square = square_crop(&frame, &face.bbox, ONET_SPEC.input_shape[3] as u32);
    cases.push(Case { name: "onet".into(), spec: ONET_SPEC, input: ONET_SPEC.input(square.rgb()) });
    let crop = align(&frame, face).ok_or("degenerate landmarks")?.crop;
    cases.push(Case { name: "sface".into(), spec: SFACE_SPEC, input: SFACE_SPEC.input(crop.rgb()) });
    let [eye, _] = eye_crops(&frame, face).map_err(|e| e.to_string())?;
    cases.push(Case { name: "iris".into(), spec: IRIS_SPEC, input: IRIS_SPEC.input(eye.rgb()) });
    for (spec, scale) in [(MINIFASNET_V1SE, CONTEXT_SCALE)] {
        if !models.join(spec.nnef).exists() {
            eprintln!("SKIPPED: {} is not installed (no model mirror on this machine)", spec.nnef);
            continue;
        }
        let crop = context_crop(&frame, &face.bbox, scale, 80);
        cases.push(Case { name: spec.id.into(), spec, input: spec.input(crop.rgb()) });
    }
    Ok(cases)
}

/// What one case showed.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub name: String,
    pub shape: Vec<usize>,
    /// Largest |tract - onnxruntime| over every output element.
    pub max_abs_diff: f32,
    /// Largest |onnxruntime| over every output element (the scale of the diff).
    pub max_abs_reference: f32,
    pub tract_wall_ms: f64,
    pub tract_cpu_ms: f64,
    pub ort_wall_ms: f64,
    pub ort_cpu_ms: f64,
}

/// The plans whose archives store their weights as f16 (models/*.toml,
/// `[compact] f16 = true`): onnxruntime runs the f32 source, so their outputs
/// also differ by the weights' rounding (2^-11 relative per weight).
const F16_STORED: [&str; 3] = ["onet", "iris", "minifasnet-v1se-4.0"];

/// Relative tolerance of a plan: 1e-4 of the largest output, 1e-3 for the f16-stored ones.
fn relative_tolerance(name: &str) -> f32 {
    if F16_STORED.contains(&name) {
        1e-3
    } else {
        1e-4
    }
}

/// Tolerance of the parity test: |tract - ort| <= tolerance * max|ort| + 1e-5
/// for every element (tolerance 1e-4, or 1e-3 for f16-stored weights).
pub fn within_tolerance(c: &Comparison) -> bool {
    c.max_abs_diff <= relative_tolerance(&c.name) * c.max_abs_reference + 1e-5
}

fn raw_f32(t: &Tensor) -> Result<Vec<u8>, String> {
    let view = t.to_plain_array_view::<f32>().map_err(|e| e.to_string())?;
    Ok(view.iter().flat_map(|v| v.to_le_bytes()).collect())
}

fn read_f32(path: &Path) -> Result<Vec<f32>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect())
}

/// CPU time of the calling thread, in milliseconds.
fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Runs every case in onnxruntime (via models/reference.py) and in tract,
/// `runs` timed runs each after one untimed run, and compares.
pub fn compare(models: &Path, cases: &[Case], runs: usize) -> Result<Vec<Comparison>, String> {
    let dir = std::env::temp_dir().join(format!("trustshot-tract-vs-ort-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut listing = Vec::new();
    for c in cases {
        let file = format!("{}.in.f32", c.name);
        std::fs::write(dir.join(&file), raw_f32(&c.input)?).map_err(|e| e.to_string())?;
        listing
            .push(serde_json::json!({"name": c.name, "onnx": c.spec.onnx, "input": file, "shape": c.spec.input_shape}));
    }
    std::fs::write(dir.join("cases.json"), serde_json::to_string(&listing).expect("json"))
        .map_err(|e| e.to_string())?;
    let python = workspace().join(".tools/venv/bin/python");
    let status = Command::new(&python)
        .arg(workspace().join("models/reference.py"))
        .arg(&dir)
        .arg("--models")
        .arg(models)
        .args(["--runs", &runs.to_string()])
        .status()
        .map_err(|e| format!("{}: {e}: run scripts/setup", python.display()))?;
    if !status.success() {
        return Err(format!("models/reference.py failed: {status}"));
    }
    let ort: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("ort.json")).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;

    let mut out = Vec::new();
    for c in cases {
        let model = Model::load(&models.into(), &c.spec).map_err(|e| e.to_string())?;
        let outputs = model.run(c.input.clone()).map_err(|e| e.to_string())?;
        let (mut max_abs_diff, mut max_abs_reference) = (0f32, 0f32);
        for (k, o) in outputs.iter().enumerate() {
            let ours: Vec<f32> = o.to_plain_array_view::<f32>().map_err(|e| e.to_string())?.iter().copied().collect();
            let theirs = read_f32(&dir.join(format!("{}.out{k}.f32", c.name)))?;
            if ours.len() != theirs.len() {
                return Err(format!(
                    "{} output {k}: {} values from tract, {} from onnxruntime",
                    c.name,
                    ours.len(),
                    theirs.len()
                ));
            }
            for (a, b) in ours.iter().zip(&theirs) {
                max_abs_diff = max_abs_diff.max((a - b).abs());
                max_abs_reference = max_abs_reference.max(b.abs());
            }
        }
        let (mut wall, mut cpu) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let (w0, c0) = (Instant::now(), thread_cpu_ms());
            model.run(c.input.clone()).map_err(|e| e.to_string())?;
            cpu.push(thread_cpu_ms() - c0);
            wall.push(w0.elapsed().as_secs_f64() * 1e3);
        }
        let timing = |k: &str| ort["cases"][&c.name][k].as_f64().unwrap_or(f64::NAN);
        out.push(Comparison {
            name: c.name.clone(),
            shape: c.spec.input_shape.to_vec(),
            max_abs_diff,
            max_abs_reference,
            tract_wall_ms: median(wall),
            tract_cpu_ms: median(cpu),
            ort_wall_ms: timing("wall_ms_p50"),
            ort_cpu_ms: timing("cpu_ms_p50"),
        });
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(out)
}
