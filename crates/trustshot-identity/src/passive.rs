//! Passive liveness from one frame: is a live face in front of the camera, or
//! a print or a screen held up to it?
//!
//! Three cues are measured, two fused into one probability by a logistic model:
//! - **MiniFASNetV1SE** (Silent-Face-Anti-Spoofing, on the face box widened 4x):
//!   its "live" probability. Upstream averages it with MiniFASNetV2 (2.7x);
//!   leave one person out, V2 alone, averaged or fused did worse on every row
//!   (models/README.md), so V1SE alone is shipped;
//! - **glare**: the share of near-saturated pixels on the face (specular
//!   reflections of glossy paper and glass);
//! - **high-frequency energy** of the face (share of spectral energy above half
//!   the Nyquist frequency in a 64x64 grey crop): reported, weight 0 (below).
//!
//! The fusion weights and the decision threshold are fitted by
//! `models/liveness_lopo.py --fit v1se,glare` on all 15 people of the
//! developer data; what they are worth on a person they were not fitted on is
//! measured leave one person out by the same script (models/README.md,
//! "Passive liveness, leave one person out"). The high-frequency cue is still
//! measured and reported, but weighs nothing: leave one person out it refused
//! more live frames (11.5% against 7.1%) without stopping more replays, and it
//! follows the face's size in pixels (correlation +0.33 with log face width),
//! which a replay crop's smallness would otherwise teach it.

use trustshot_face::Face;
use trustshot_face::ModelFiles;
use trustshot_face::{warp_affine, Affine, Rect};
use trustshot_face::{Channels, Model, ModelInfo, ModelSpec};
use trustshot_face::{FaceError, Frame};

pub const MINIFASNET_V1SE: ModelSpec = ModelSpec {
    id: "minifasnet-v1se-4.0",
    onnx: "minifasnet_v1se_4.0.onnx",
    nnef: "minifasnet_v1se_4.0.nnef.tar",
    bundle: None,
    nnef_sha256: "1cbfcd4825e6de14bc7a6d6c19468a8b50fcee3b3c0cf6b9480cef17b729152a",
    input_shape: &[1, 3, 80, 80],
    channels: Channels::Bgr,
};

/// Context scale of the model's crop around the face box.
pub const CONTEXT_SCALE: f32 = 4.0;

/// Logistic fusion: live probability = sigmoid(bias + w . [logit(model), high_freq, glare]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fusion {
    pub bias: f32,
    pub w_model_logit: f32,
    pub w_high_freq: f32,
    pub w_glare: f32,
    /// Live when the fused probability reaches this.
    pub threshold: f32,
}

/// Fitted by `models/liveness_lopo.py --fit v1se,glare` on NUAA (8 people),
/// replay/ (2) and replay_people/ (4), threshold at BPCER 5% of their live
/// frames. Leave one person out: window APCER 7.3%, BPCER 0% (models/README.md).
pub const FUSION: Fusion =
    Fusion { bias: 3.6224, w_model_logit: 1.3395, w_high_freq: 0.0, w_glare: -15.7715, threshold: 0.4181 };

/// The passive score of a capture session from its frames' fused scores: the
/// median, so that a few frames a replay gets right (or a blink gets wrong)
/// do not decide a session. None for no frames. [`PassiveSession`],
/// challenge sessions and `eval liveness` (`windows`) all judge by it.
pub fn session_score(frame_scores: &[f32]) -> Option<f32> {
    let mut s: Vec<f32> = frame_scores.iter().copied().filter(|v| v.is_finite()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_by(f32::total_cmp);
    let mid = s.len() / 2;
    Some(if s.len() % 2 == 1 { s[mid] } else { (s[mid - 1] + s[mid]) / 2.0 })
}

/// Passive liveness over a capture session: each frame's fused score in, one
/// session verdict out (the median, [`session_score`], against the fusion's
/// threshold). Leave one person out, a session of 8 frames judged this way
/// refused every live session and accepted 7.3% of replay sessions
/// (models/README.md): no replay defence on its own; the colour flash is.
#[derive(Debug, Clone, Default)]
pub struct PassiveSession {
    scores: Vec<f32>,
}

/// The passive verdict of a session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionLiveness {
    /// Median fused live probability of the session's frames, 0..1.
    pub score: f32,
    pub threshold: f32,
    pub live: bool,
    /// Frames with a face that were scored.
    pub frames: usize,
}

impl PassiveSession {
    pub fn push(&mut self, score: &LivenessScore) {
        if score.score.is_finite() {
            self.scores.push(score.score);
        }
    }

    pub fn frames(&self) -> usize {
        self.scores.len()
    }

    /// None until a frame with a face was scored.
    pub fn verdict(&self) -> Option<SessionLiveness> {
        let score = session_score(&self.scores)?;
        Some(SessionLiveness {
            score,
            threshold: FUSION.threshold,
            live: score >= FUSION.threshold,
            frames: self.frames(),
        })
    }
}

/// The measured cues of one face.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Cues {
    /// MiniFASNetV1SE live probability, 0..1.
    pub model: f32,
    /// High-frequency share of the face spectrum, 0..1.
    pub high_freq: f32,
    /// Share of near-saturated face pixels, 0..1.
    pub glare: f32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LivenessScore {
    /// Fused live probability, 0..1.
    pub score: f32,
    pub threshold: f32,
    pub live: bool,
    pub cues: Cues,
}

impl Fusion {
    pub fn score(&self, cues: &Cues) -> f32 {
        let p = cues.model.clamp(1e-6, 1.0 - 1e-6);
        let z = self.bias
            + self.w_model_logit * (p / (1.0 - p)).ln()
            + self.w_high_freq * cues.high_freq
            + self.w_glare * cues.glare;
        1.0 / (1.0 + (-z).exp())
    }
}

/// The MiniFASNetV1SE plan, loaded once.
pub struct PassiveLiveness {
    model: Model,
}

impl PassiveLiveness {
    pub fn load(files: &ModelFiles) -> Result<PassiveLiveness, FaceError> {
        Ok(PassiveLiveness { model: Model::load(files, &MINIFASNET_V1SE)? })
    }

    pub fn models(&self) -> Vec<ModelInfo> {
        vec![self.model.info()]
    }

    /// Measures the cues of `face` in `frame`.
    pub fn cues(&self, frame: &Frame, face: &Face) -> Result<Cues, FaceError> {
        let crop = context_crop(frame, &face.bbox, CONTEXT_SCALE, 80);
        let logits = self.model.run_one(MINIFASNET_V1SE.input(crop.rgb()), 0)?;
        if logits.len() != 3 || !logits.iter().all(|v| v.is_finite()) {
            return Err(FaceError::Inference {
                model: self.model.spec().id,
                detail: "expected 3 finite logits".into(),
            });
        }
        let max = logits.iter().copied().fold(f32::MIN, f32::max);
        let exp: Vec<f32> = logits.iter().map(|v| (v - max).exp()).collect();
        let model = exp[1] / exp.iter().sum::<f32>();
        let face_crop = context_crop(frame, &face.bbox, 1.0, 64);
        Ok(Cues { model, high_freq: high_frequency_share(&face_crop), glare: glare_share(&face_crop) })
    }

    /// The fused verdict for `face` in `frame`.
    pub fn assess(&self, frame: &Frame, face: &Face) -> Result<LivenessScore, FaceError> {
        let cues = self.cues(frame, face)?;
        let score = FUSION.score(&cues);
        Ok(LivenessScore { score, threshold: FUSION.threshold, live: score >= FUSION.threshold, cues })
    }
}

/// Silent-Face's crop: the box scaled `scale` times around its centre (less if
/// the picture is too small), shifted — not clipped — to lie inside the
/// picture, resampled to `size` x `size` bilinear (OpenCV `INTER_LINEAR`).
pub fn context_crop(frame: &Frame, bbox: &Rect, scale: f32, size: u32) -> Frame {
    let (w, h) = (frame.width() as f32, frame.height() as f32);
    let (bw, bh) = (bbox.w.max(1.0), bbox.h.max(1.0));
    let scale = scale.min((h - 1.0) / bh).min((w - 1.0) / bw);
    let (nw, nh) = (bw * scale, bh * scale);
    let c = bbox.center();
    let (mut l, mut t, mut r, mut b) = (c.x - nw / 2.0, c.y - nh / 2.0, c.x + nw / 2.0, c.y + nh / 2.0);
    if l < 0.0 {
        r -= l;
        l = 0.0;
    }
    if t < 0.0 {
        b -= t;
        t = 0.0;
    }
    if r > w - 1.0 {
        l -= r - w + 1.0;
        r = w - 1.0;
    }
    if b > h - 1.0 {
        t -= b - h + 1.0;
        b = h - 1.0;
    }
    // Integer corners as upstream slices them, then half-pixel-centred bilinear.
    let (l, t, r, b) = (l.max(0.0).trunc(), t.max(0.0).trunc(), r.trunc() + 1.0, b.trunc() + 1.0);
    let (sx, sy) = ((r - l) / size as f32, (b - t) / size as f32);
    // Output (u, v) samples source ((u + 0.5) sx - 0.5 + l, ...): as a map from source to output:
    let to_crop =
        Affine { m: [[1.0 / sx, 0.0, -(l - 0.5 + 0.5 * sx) / sx], [0.0, 1.0 / sy, -(t - 0.5 + 0.5 * sy) / sy]] };
    warp_affine(frame, &to_crop, size, size)
}

/// In-place radix-2 FFT of a power-of-two-long sequence of (re, im) pairs:
/// the two fixed sizes used here (64, 128) need no planner.
fn fft(data: &mut [(f32, f32)]) {
    let n = data.len();
    debug_assert!(n.is_power_of_two());
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            data.swap(i, j);
        }
    }
    let mut len = 2;
    while len <= n {
        let angle = -2.0 * std::f32::consts::PI / len as f32;
        for start in (0..n).step_by(len) {
            for k in 0..len / 2 {
                let (s, c) = (angle * k as f32).sin_cos();
                let (a, b) = (data[start + k], data[start + k + len / 2]);
                let t = (b.0 * c - b.1 * s, b.0 * s + b.1 * c);
                data[start + k] = (a.0 + t.0, a.1 + t.1);
                data[start + k + len / 2] = (a.0 - t.0, a.1 - t.1);
            }
        }
        len <<= 1;
    }
}

/// The power spectrum of the grey crop (mean removed; the crop side is a power
/// of two), with each entry's radius in the centred spectrum, row by row.
fn power_spectrum(crop: &Frame) -> Vec<(f32, f64)> {
    let n = crop.width() as usize;
    debug_assert_eq!(crop.height() as usize, n);
    let grey: Vec<f32> =
        crop.rgb().chunks_exact(3).map(|p| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32).collect();
    let mean = grey.iter().sum::<f32>() / grey.len() as f32;
    let mut data: Vec<(f32, f32)> = grey.iter().map(|&g| (g - mean, 0.0)).collect();
    for row in data.chunks_exact_mut(n) {
        fft(row);
    }
    let mut column = vec![(0.0, 0.0); n];
    for x in 0..n {
        (0..n).for_each(|y| column[y] = data[y * n + x]);
        fft(&mut column);
        (0..n).for_each(|y| data[y * n + x] = column[y]);
    }
    let half = (n / 2) as f32;
    (0..n * n)
        .map(|i| {
            // Frequencies folded to -n/2..n/2 (the centred spectrum).
            let (fx, fy) = (((i % n + n / 2) % n) as f32 - half, ((i / n + n / 2) % n) as f32 - half);
            let (re, im) = data[i];
            ((fx * fx + fy * fy).sqrt(), (re as f64).powi(2) + (im as f64).powi(2))
        })
        .collect()
}

/// Share of the spectral energy of the grey crop above half the Nyquist
/// frequency (radius > N/4 of the centred spectrum), of all non-DC energy
/// (radius > 2).
pub fn high_frequency_share(crop: &Frame) -> f32 {
    let n = crop.width() as f32;
    let (mut high, mut all) = (0f64, 0f64);
    for (r, e) in power_spectrum(crop) {
        if r > 2.0 {
            all += e;
        }
        if r > n / 4.0 {
            high += e;
        }
    }
    if all > 0.0 {
        (high / all) as f32
    } else {
        0.0
    }
}

/// Moiré: how far the strongest high-frequency peak of the spectrum stands
/// above the typical energy at those frequencies (log10 of max / median over
/// radii N/8 .. N/2). A camera photographing a screen records the pixel grid
/// as a few isolated peaks.
pub fn moire_peak(crop: &Frame) -> f32 {
    let n = crop.width() as f32;
    let mut band: Vec<f64> =
        power_spectrum(crop).into_iter().filter(|(r, _)| *r >= n / 8.0 && *r <= n / 2.0).map(|(_, e)| e).collect();
    if band.is_empty() {
        return 0.0;
    }
    band.sort_by(f64::total_cmp);
    let (median, max) = (band[band.len() / 2], band[band.len() - 1]);
    if max <= 0.0 {
        return 0.0;
    }
    // A perfectly clean pattern has a zero median: cap the ratio at 1e12.
    (max / median.max(max * 1e-12)).log10() as f32
}

/// Share of pixels whose brightest channel is 250 or more.
pub fn glare_share(crop: &Frame) -> f32 {
    let px = crop.rgb().chunks_exact(3);
    let n = px.len().max(1);
    px.filter(|p| p.iter().any(|&c| c >= 250)).count() as f32 / n as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_score_is_the_median_of_finite_scores() {
        assert_eq!(session_score(&[]), None);
        assert_eq!(session_score(&[0.9, 0.1, 0.2]), Some(0.2));
        assert_eq!(session_score(&[0.9, 0.1, 0.2, 0.4]), Some(0.3));
        assert_eq!(session_score(&[f32::NAN, 0.7]), Some(0.7));
    }

    #[test]
    fn the_liveness_model_pin_is_the_manifests() {
        let manifest = include_str!("../../../models/minifasnet_v1se.toml");
        let line = format!("\"{}\" = \"{}\"", MINIFASNET_V1SE.nnef, MINIFASNET_V1SE.nnef_sha256);
        assert!(manifest.contains(&line), "models/minifasnet_v1se.toml does not pin {line}");
    }

    #[test]
    fn fft_matches_a_direct_dft() {
        let input: Vec<(f32, f32)> = (0..16).map(|i| ((i as f32 * 0.7).sin() + 0.3 * i as f32, 0.0)).collect();
        let mut fast = input.clone();
        fft(&mut fast);
        for (k, out) in fast.iter().enumerate() {
            let (mut re, mut im) = (0f64, 0f64);
            for (t, v) in input.iter().enumerate() {
                let a = -2.0 * std::f64::consts::PI * (k * t) as f64 / 16.0;
                re += v.0 as f64 * a.cos();
                im += v.0 as f64 * a.sin();
            }
            assert!((out.0 as f64 - re).abs() < 1e-3 && (out.1 as f64 - im).abs() < 1e-3, "bin {k}");
        }
    }

    #[test]
    fn stripes_have_high_frequency_energy_and_a_moire_peak() {
        // Vertical stripes with a 3-pixel period: energy at one high frequency.
        let stripes: Vec<u8> = (0..64 * 64).flat_map(|i| if (i % 64) % 3 == 0 { [220; 3] } else { [40; 3] }).collect();
        let stripes = Frame::from_rgb(64, 64, stripes).unwrap();
        assert!(high_frequency_share(&stripes) > 0.9, "{}", high_frequency_share(&stripes));
        assert!(moire_peak(&stripes) > 4.0, "{}", moire_peak(&stripes));
        // Smooth shading (four slow waves across) has no high frequencies.
        let smooth: Vec<u8> = (0..64 * 64)
            .flat_map(|i| [(128.0 + 100.0 * ((i % 64) as f32 * 4.0 * std::f32::consts::TAU / 64.0).cos()) as u8; 3])
            .collect();
        let smooth = Frame::from_rgb(64, 64, smooth).unwrap();
        assert!(high_frequency_share(&smooth) < 0.05, "{}", high_frequency_share(&smooth));
    }
}
