//! The committed fuzz seeds (fuzz/seeds, from a real photo by
//! fuzz/make_seeds.py) are what they claim: each JPEG layout and PNG depth
//! decodes to the same 64x64 picture, the EXIF orientation turns it, and the
//! cut file is refused. A seed that silently failed to decode would leave the
//! fuzzer exploring error paths only.

use std::path::PathBuf;
use trustshot_frame::{decode, FaceError, Frame, JpegDefect, Limits, Rotation};

fn seed(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/decode").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn mean_abs_diff(a: &Frame, b: &Frame) -> f64 {
    assert_eq!((a.width(), a.height()), (b.width(), b.height()));
    let sum: u64 = a.rgb().iter().zip(b.rgb()).map(|(&x, &y)| x.abs_diff(y) as u64).sum();
    sum as f64 / a.rgb().len() as f64
}

#[test]
fn every_layout_decodes_to_the_same_picture() {
    let limits = Limits::default();
    let baseline = decode(&seed("baseline.jpg"), &limits).unwrap();
    assert_eq!((baseline.width(), baseline.height()), (64, 64));
    // Lossless transcodes (jpegtran) and lossless PNGs of the baseline's pixels.
    for name in ["progressive.jpg", "restart_every_mcu.jpg", "rgb8.png", "rgba16.png"] {
        let frame = decode(&seed(name), &limits).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(mean_abs_diff(&frame, &baseline) < 1.0, "{name} differs from the baseline");
    }
    let grey = decode(&seed("grey8.png"), &limits).unwrap();
    assert_eq!((grey.width(), grey.height()), (64, 64));
}

#[test]
fn the_exif_orientation_is_applied() {
    let limits = Limits::default();
    let baseline = decode(&seed("baseline.jpg"), &limits).unwrap();
    let turned = decode(&seed("exif_orientation_6.jpg"), &limits).unwrap();
    assert_eq!(turned, baseline.rotated(Rotation::R90));
}

#[test]
fn the_cut_seed_is_refused() {
    let err = decode(&seed("cut_with_end_marker.jpg"), &Limits::default()).unwrap_err();
    assert!(matches!(err, FaceError::CorruptJpeg(JpegDefect::Truncated)), "{err:?}");
}
