//! SIMULATED colour-flash captures, for tests only: there is no real device
//! capture of a face lit by a phone screen here. Every frame is a real photo
//! relit by this model; thresholds that pass here must still be calibrated on
//! device recordings (`trustshot eval flash --session DIR`).
//!
//! The model, per frame at camera time t:
//! - the colour on screen is the step shown at t - latency (camera pipeline
//!   delay); the sensor sees it through a first-order lag (`exposure_tau_ms`);
//! - diffuse reflection: in linear light, a face pixel becomes
//!   p * (1 + face_irradiance * E_c), E the emitted colour (0..1 per
//!   channel) and face_irradiance the screen's light at the face relative to
//!   the room's; the room behind gets background_irradiance, the screen's
//!   light falling off with the square of distance (phone to face 0.35 m, to
//!   the wall behind 1.5 m: 0.054 times the face's). The face is the ellipse
//!   inscribed in the detected box; hair, neck and shoulders count as room;
//! - auto-exposure scales the whole frame back towards the brightness it had
//!   without the flash, with its own lag (`auto_exposure_tau_ms`);
//! - a flat surface held up (a screen replaying a video, a print) returns the
//!   phone's light evenly over the whole picture: p + flat_reflection * E_c;
//! - Gaussian sensor noise of `noise_dn` on the 8-bit output.

use trustshot_face::{Face, Frame};
use trustshot_identity::flash::sequence_from;
use trustshot_identity::{FlashConfig, FlashStep};

#[derive(Debug, Clone, Copy)]
pub struct Scene {
    pub fps: u32,
    pub latency_ms: u32,
    pub exposure_tau_ms: f32,
    pub auto_exposure_tau_ms: f32,
    pub face_irradiance: f32,
    pub background_irradiance: f32,
    /// Even reflection over the whole picture (a flat surface), linear units.
    pub flat_reflection: f32,
    pub noise_dn: f32,
    pub seed: u64,
}

impl Scene {
    /// A face at 0.35 m in a dim room (screen light 15% of the room's), a
    /// wall at 1.5 m, 120 ms camera latency, 15 fps.
    pub fn live() -> Scene {
        Scene {
            fps: 15,
            latency_ms: 120,
            exposure_tau_ms: 40.0,
            auto_exposure_tau_ms: 300.0,
            face_irradiance: 0.15,
            background_irradiance: 0.15 * (0.35f32 / 1.5).powi(2),
            flat_reflection: 0.0,
            noise_dn: 2.0,
            seed: 1,
        }
    }

    /// A screen held up to the camera: no face relit, the phone's light on the glass.
    pub fn flat_screen() -> Scene {
        Scene { face_irradiance: 0.0, background_irradiance: 0.0, flat_reflection: 0.03, ..Scene::live() }
    }

    /// The room only: nothing reflects the screen.
    pub fn no_response() -> Scene {
        Scene { face_irradiance: 0.0, background_irradiance: 0.0, ..Scene::live() }
    }
}

/// Display times for `sequence` shown back to back from `start_ms`.
pub fn schedule(sequence: &[FlashStep], start_ms: u64) -> Vec<u64> {
    let mut t = start_ms;
    sequence
        .iter()
        .map(|s| {
            let shown = t;
            t += u64::from(s.duration_ms);
            shown
        })
        .collect()
}

/// A sequence by the SDK's rules (`sequence_from`) from a seeded generator,
/// so that tests judging many sessions give the same result on every run; the
/// SDK itself draws from the OS CSPRNG.
pub fn seeded_sequence(config: &FlashConfig, seed: u64) -> Vec<FlashStep> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    sequence_from(config, |n| Ok(((rng.next() * n as f32) as u32).min(n - 1))).expect("a valid configuration")
}

/// The frames a camera would deliver while `sequence` is shown at `displayed`
/// in front of `base` (a real photo, `face` found in it), from `displayed[0]`
/// to the end of the sequence plus the latency and 200 ms.
pub fn record(
    base: &Frame,
    face: &Face,
    sequence: &[FlashStep],
    displayed: &[u64],
    scene: &Scene,
) -> Vec<(u64, Frame)> {
    let end = displayed.last().unwrap() + u64::from(sequence.last().unwrap().duration_ms);
    let period = 1000 / u64::from(scene.fps);
    let times: Vec<u64> = (displayed[0]..=end + u64::from(scene.latency_ms) + 200).step_by(period as usize).collect();
    relight(times.iter().map(|&t| (t, base)), face, sequence, displayed, scene)
}

/// `frames` as the camera sees them under `scene` while `sequence` is shown
/// at `displayed` (for a replay: frames recorded earlier, relit again).
pub fn relight<'a>(
    frames: impl Iterator<Item = (u64, &'a Frame)>,
    face: &Face,
    sequence: &[FlashStep],
    displayed: &[u64],
    scene: &Scene,
) -> Vec<(u64, Frame)> {
    let mut rng = Rng(scene.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let (mut seen, mut gain, mut last_t) = ([0f32; 3], 1f32, None::<u64>);
    let mut out_frames = Vec::new();
    for (t, base) in frames {
        let lin: Vec<f32> = base.rgb().iter().map(|&v| to_linear(v)).collect();
        let w = base.width() as usize;
        let c = face.bbox.center();
        let (ax, ay) = (face.bbox.w / 2.0, face.bbox.h / 2.0);
        let in_face = |i: usize| {
            let (x, y) = ((i % w) as f32, (i / w) as f32);
            ((x - c.x) / ax).powi(2) + ((y - c.y) / ay).powi(2) <= 1.0
        };
        let base_mean = lin.iter().sum::<f32>() / lin.len() as f32;
        let dt = last_t.map_or(0.0, |l| (t - l) as f32);
        last_t = Some(t);
        let emitted = emitted_at(sequence, displayed, t as i64 - i64::from(scene.latency_ms));
        let k = 1.0 - (-dt / scene.exposure_tau_ms).exp();
        (0..3).for_each(|ch| seen[ch] += (emitted[ch] - seen[ch]) * k);
        let out: Vec<f32> = lin
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let ch = i % 3;
                let rho = if in_face(i / 3) { scene.face_irradiance } else { scene.background_irradiance };
                p * (1.0 + rho * seen[ch]) + scene.flat_reflection * seen[ch]
            })
            .collect();
        let mean = out.iter().sum::<f32>() / out.len() as f32;
        let ka = 1.0 - (-dt / scene.auto_exposure_tau_ms).exp();
        gain += (base_mean / mean - gain) * ka;
        let rgb = out
            .iter()
            .map(|v| (from_linear(v * gain) + scene.noise_dn * rng.gaussian()).round().clamp(0.0, 255.0) as u8)
            .collect();
        out_frames.push((t, Frame::from_rgb(base.width(), base.height(), rgb).unwrap()));
    }
    out_frames
}

/// The linear colour on screen at display time `t` (black before and after).
fn emitted_at(sequence: &[FlashStep], displayed: &[u64], t: i64) -> [f32; 3] {
    let Some(i) = displayed.iter().rposition(|&d| d as i64 <= t) else { return [0.0; 3] };
    if t >= displayed[i] as i64 + i64::from(sequence[i].duration_ms) {
        return [0.0; 3];
    }
    sequence[i].colour.rgb().map(to_linear)
}

/// The SDK's own table (a standard formula; what is simulated is the light).
fn to_linear(v: u8) -> f32 {
    trustshot_identity::flash::srgb_to_linear(v)
}

/// Linear light to an sRGB value 0..255 (not rounded), from a 4,096-step
/// table (a `powf` per value made the tests slow): its error (at most 0.4 DN, in the darkest tones) is below the
/// simulated sensor noise.
fn from_linear(v: f32) -> f32 {
    const STEPS: usize = 4096;
    static LUT: std::sync::OnceLock<Vec<f32>> = std::sync::OnceLock::new();
    let lut = LUT.get_or_init(|| {
        (0..=STEPS)
            .map(|i| {
                let v = i as f32 / STEPS as f32;
                255.0 * if v <= 0.003_130_8 { v * 12.92 } else { 1.055 * v.powf(1.0 / 2.4) - 0.055 }
            })
            .collect()
    });
    lut[(v.clamp(0.0, 1.0) * STEPS as f32).round() as usize]
}

/// xorshift64* and Box-Muller: deterministic noise for reproducible tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }

    fn gaussian(&mut self) -> f32 {
        let (u, v) = (self.next(), self.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f32::consts::PI * v).cos()
    }
}
