//! trustshot-convert: turns the ONNX files `scripts/setup` fetched into the NNEF
//! archives the SDK loads, each with its input shape fixed and the graph
//! decluttered, so the mobile library needs no ONNX parser.
//!
//! Usage: `trustshot-convert MODEL_DIR` — reads `<spec.onnx>` and writes
//! `<spec.nnef>` in MODEL_DIR for every model spec of the SDK crates whose ONNX
//! is there (optional models without a source on this machine are skipped).

use std::path::Path;
use tract_onnx::prelude::*;
use tract_onnx_opl::WithOnnx;

fn convert(dir: &Path, spec: &trustshot_face::ModelSpec) -> TractResult<()> {
    let model = tract_onnx::onnx()
        // YuNet's file declares output shapes for 640x640 only.
        .with_ignore_output_shapes(true)
        .model_for_path(dir.join(spec.onnx))?
        .with_input_fact(0, f32::fact(spec.input_shape).into())?
        .into_typed()?
        .into_decluttered()?;
    let file = std::fs::File::create(dir.join(spec.nnef))?;
    // Deterministic: the archive digest is pinned in the model manifest.
    tract_nnef::nnef().with_onnx().write_to_tar_with_config(&model, file, false, true)?;
    Ok(())
}

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: trustshot-convert MODEL_DIR");
        std::process::exit(2);
    };
    let dir = Path::new(&dir);
    let specs = trustshot_face::model_specs().into_iter().chain(trustshot_identity::model_specs());
    for spec in specs {
        if !dir.join(spec.onnx).exists() {
            println!("skipped {} (not built on this machine)", spec.onnx);
            continue;
        }
        if let Err(e) = convert(dir, &spec) {
            eprintln!("trustshot-convert: {} -> {}: {e:#}", spec.onnx, spec.nnef);
            std::process::exit(1);
        }
        println!("converted {} -> {} {:?}", spec.onnx, spec.nnef, spec.input_shape);
    }
}
