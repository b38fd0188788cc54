//! The SDK object: a call with independent stages gives the same result on
//! two threads as on one (the stages run side by side, nothing else changes),
//! and a bad configuration is refused before any model loads.

use trustshot::{Image, Sdk, SdkConfig};
use trustshot_testkit::*;

fn frame(sdk: &Sdk, name: &str) -> trustshot_face::Frame {
    sdk.frame(&Image::Encoded(&sample_bytes(name))).unwrap()
}

#[test]
fn two_threads_give_the_same_verdicts_as_one() {
    let one = Sdk::load(&model_dir(), SdkConfig::default()).unwrap();
    let two = one.with_threads(2).unwrap();
    let (probe, refs) = (frame(&one, "obama.jpg"), [frame(&one, "obama2.jpg"), frame(&one, "obama3.jpg")]);
    let (a, b) = (one.verify_photos(&probe, &refs).unwrap(), two.verify_photos(&probe, &refs).unwrap());
    assert_eq!(a.verdict, b.verdict);
    assert_eq!(a.references.len(), 2);
    let document = frame(&one, "obama3.jpg").rotated(trustshot_face::Rotation::R90);
    let (a, b) = (one.verify_id(&document, &probe).unwrap(), two.verify_id(&document, &probe).unwrap());
    assert_eq!(a.verdict, b.verdict);
}

#[test]
fn a_bad_configuration_is_refused_before_loading() {
    // A model directory that does not exist: the configuration is checked first.
    let nowhere = std::path::Path::new("/nonexistent/models");
    for config in [
        SdkConfig { threads: 0, ..SdkConfig::default() },
        SdkConfig { threads: 9, ..SdkConfig::default() },
        SdkConfig { delivery: trustshot::DeliveryConfig { jpeg_quality: 0 }, ..SdkConfig::default() },
    ] {
        let err = Sdk::load(nowhere, config).err().unwrap();
        assert!(matches!(err, trustshot_face::FaceError::Config(_)), "{err}");
    }
}
