//! Parity: every model plan the SDK loads (NNEF, through tract) gives the same
//! outputs as onnxruntime on the ONNX it was converted from, on a real photo.
//! Tolerance: |tract - onnxruntime| <= 1e-4 * max|onnxruntime| + 1e-5, every
//! element; 1e-3 instead of 1e-4 for the plans whose archives store f16 weights
//! (O-Net, Iris, MiniFASNet: `trustshot_benches::within_tolerance`). SFace and
//! YuNet store their int8 weights, expanded to exactly the f32 values the
//! ONNX holds.

#[test]
fn tract_matches_onnxruntime_on_a_real_photo() {
    let models = trustshot_benches::model_dir();
    let cases = trustshot_benches::model_cases(&models).unwrap();
    let rows = trustshot_benches::compare(&models, &cases, 0).unwrap();
    assert_eq!(rows.len(), cases.len());
    for r in &rows {
        eprintln!("{}: max |diff| {:.2e} (max |output| {:.3})", r.name, r.max_abs_diff, r.max_abs_reference);
        assert!(r.max_abs_reference > 0.0, "{}: all-zero reference output", r.name);
        assert!(trustshot_benches::within_tolerance(r), "{r:?}");
    }
}
