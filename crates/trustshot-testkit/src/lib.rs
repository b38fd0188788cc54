//! trustshot-testkit: test support shared by the workspace's tests, a
//! dev-dependency only (`scripts/check-deps` keeps it out of every library).
//!
//! Where the models, sample photos and ../shared data are, and small frame
//! helpers. Models and samples come from `scripts/setup`; a test that cannot
//! find them fails and says so. `../shared` is optional outside CI: a test
//! that needs it prints that it was skipped and why. [`flash_sim`] makes
//! SIMULATED colour-flash captures.

pub mod flash_sim;

use std::path::PathBuf;
use std::sync::OnceLock;
use trustshot_face::{EngineConfig, FaceEngine, Frame};

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn model_dir() -> PathBuf {
    std::env::var_os("TRUSTSHOT_MODELS").map(PathBuf::from).unwrap_or_else(|| workspace().join("models/dist"))
}

/// One engine per test binary: loading the models is the slow part.
pub fn engine() -> &'static FaceEngine {
    static ENGINE: OnceLock<FaceEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        FaceEngine::load(&model_dir(), EngineConfig::default())
            .unwrap_or_else(|e| panic!("{e}: run scripts/setup to fetch and convert the models"))
    })
}

pub fn sample_bytes(name: &str) -> Vec<u8> {
    let path = workspace().join("samples").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}: run scripts/setup for the sample photos", path.display()))
}

pub fn sample(name: &str) -> Frame {
    engine().decode(&sample_bytes(name)).unwrap()
}

/// A path under ../shared/data, or None (and a note) when ../shared is absent.
pub fn shared(relative: &str) -> Option<PathBuf> {
    let root = std::env::var_os("TRUSTSHOT_SHARED").map(PathBuf::from).unwrap_or_else(|| workspace().join("../shared"));
    let path = root.join("data").join(relative);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("SKIPPED: {} is not present (../shared is only needed for the data tests)", path.display());
        None
    }
}

/// Applies `f` to every colour value.
pub fn map_pixels(frame: &Frame, f: impl Fn(u8) -> u8) -> Frame {
    Frame::from_rgb(frame.width(), frame.height(), frame.rgb().iter().map(|&v| f(v)).collect()).unwrap()
}

/// The rectangle [x0, x0 + w) x [y0, y0 + h) of `frame`.
pub fn crop(frame: &Frame, x0: u32, y0: u32, w: u32, h: u32) -> Frame {
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in y0..y0 + h {
        let start = ((y * frame.width() + x0) * 3) as usize;
        rgb.extend_from_slice(&frame.rgb()[start..start + (w * 3) as usize]);
    }
    Frame::from_rgb(w, h, rgb).unwrap()
}

/// `jpeg` with an APP1 segment holding `payload` inserted right after its
/// start-of-image marker, where cameras put EXIF.
pub fn with_app1(jpeg: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Encodes as JPEG (quality 92).
pub fn jpeg(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92)
        .encode(frame.rgb(), frame.width(), frame.height(), image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}
