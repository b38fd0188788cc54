//! Parity: every model plan the SDK loads (NNEF, through tract) gives the same
//! outputs as onnxruntime on the ONNX it was converted from, on a real photo.
//! Tolerance: |tract - onnxruntime| <= 1e-4 * max|onnxruntime| + 1e-5, every
//! element; 1e-3 instead of 1e-4 for the plans whose archives store f16 weights
//! (O-Net, Iris, MiniFASNet: `trustshot_benches::within_tolerance`). SFace and
//! YuNet store their int8 weights, expanded to exactly the f32 values the
//! ONNX holds. On x86_64 the plans run our kernels where they apply; the
//! second test checks that they do.

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

/// On x86_64 with AVX2 the plans above run our kernels
/// (`crates/trustshot-face/src/kernels.rs`): each shipped plan still has the
/// operators they replace, so a tract upgrade that changed how a graph reads
/// would show here, not only as a slower benchmark.
#[cfg(target_arch = "x86_64")]
#[test]
fn every_plan_runs_the_kernels_meant_for_it() {
    assert!(std::arch::is_x86_feature_detected!("avx2"), "this suite's machines have AVX2");
    let models = trustshot_benches::model_dir();
    for case in trustshot_benches::model_cases(&models).unwrap() {
        let model = trustshot_face::Model::load(&models.as_path().into(), &case.spec).unwrap();
        let mut ours: Vec<String> = model
            .profile(case.input.clone())
            .unwrap()
            .into_iter()
            .map(|t| t.op)
            .filter(|op| op.starts_with("Trustshot"))
            .collect();
        ours.sort();
        ours.dedup();
        let mut expected: Vec<&str> = match case.name.as_str() {
            name if name.starts_with("yunet") => {
                vec!["TrustshotDepthwise3x3", "TrustshotImageConv3x3", "TrustshotMaxPool", "TrustshotPointwise"]
            }
            "onet" => vec!["TrustshotChannelPrelu", "TrustshotMaxPool"],
            "iris" => vec!["TrustshotChannelPrelu", "TrustshotDepthwise3x3", "TrustshotMaxPool"],
            name if name.starts_with("minifasnet") => {
                vec!["TrustshotChannelPrelu", "TrustshotDepthwise3x3", "TrustshotImageConv3x3"]
            }
            _ => vec!["TrustshotChannelPrelu", "TrustshotDepthwise3x3"],
        };
        // With AVX-512 our 1x1 sum takes up to 256 channels (Iris's, MiniFASNet's and
        // SFace's too), the unpadded 3x3 convolution is ours (O-Net's), and YuNet's maps
        // pass between our operators in blocks of 16 channels (`kernels/blocked.rs`),
        // back in planes for its heads (the portrait YuNet's transposed, their depthwise
        // convolutions then planar).
        if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("fma") {
            match case.name.as_str() {
                "iris" | "minifasnet-v1se-4.0" | "sface" => expected.push("TrustshotPointwise"),
                "onet" => expected.push("TrustshotValidConv3x3"),
                name if name.starts_with("yunet") => {
                    expected = vec![
                        "TrustshotBlockedDepthwise3x3",
                        "TrustshotBlockedImageConv3x3",
                        "TrustshotBlockedMaxPool",
                        "TrustshotBlockedPointwise",
                        "TrustshotBlockedUpsample",
                        "TrustshotToPlanar",
                    ];
                    if case.spec.onnx.ends_with("_t.onnx") {
                        expected.push("TrustshotDepthwise3x3");
                    }
                }
                _ => {}
            }
            expected.sort();
        }
        assert_eq!(ours, expected, "{}", case.name);
    }
}
