//! Passive liveness from one frame: is a live face in front of the camera, or
//! a print or a screen held up to it?
//!
//! Three cues, fused into one probability by a logistic model:
//! - **MiniFASNet** (Silent-Face-Anti-Spoofing, V2 at 2.7x context and V1SE at
//!   4x): the mean of the two models' "live" probabilities, as upstream does;
//! - **high-frequency energy** of the face: the share of spectral energy above
//!   half the Nyquist frequency in a 64x64 grey crop (prints and screens lose
//!   fine skin texture and add smooth gradients);
//! - **glare**: the share of near-saturated pixels on the face (specular
//!   reflections of glossy paper and glass).
//!
//! The fusion weights and the decision threshold were fitted by
//! `models/liveness_fusion.py` on the developer data (models/README.md,
//! "Liveness", with the caveat that the replay data holds one person).

use std::path::Path;
use trustshot_face::detect::Face;
use trustshot_face::geometry::{warp_affine, Affine, Rect};
use trustshot_face::models::{bgr_nchw, Model, ModelInfo, ModelSpec};
use trustshot_face::{FaceError, Frame};

pub const MINIFASNET_V2: ModelSpec = ModelSpec {
    id: "minifasnet-v2-2.7",
    onnx: "minifasnet_v2_2.7.onnx",
    nnef: "minifasnet_v2_2.7.nnef.tar",
    input_shape: &[1, 3, 80, 80],
};

pub const MINIFASNET_V1SE: ModelSpec = ModelSpec {
    id: "minifasnet-v1se-4.0",
    onnx: "minifasnet_v1se_4.0.onnx",
    nnef: "minifasnet_v1se_4.0.nnef.tar",
    input_shape: &[1, 3, 80, 80],
};

/// Context scale of each model's crop around the face box.
const SCALES: [f32; 2] = [2.7, 4.0];

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

/// Fitted by models/liveness_fusion.py (see models/README.md, "Liveness").
pub const FUSION: Fusion =
    Fusion { bias: 2.2614, w_model_logit: 1.8878, w_high_freq: 1.1814, w_glare: -17.0841, threshold: 0.2909 };

/// The measured cues of one face.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Cues {
    /// Mean MiniFASNet live probability, 0..1.
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

/// The two MiniFASNet plans, loaded once.
pub struct PassiveLiveness {
    v2: Model,
    v1se: Model,
}

impl PassiveLiveness {
    pub fn load(dir: &Path) -> Result<PassiveLiveness, FaceError> {
        Ok(PassiveLiveness { v2: Model::load(dir, &MINIFASNET_V2)?, v1se: Model::load(dir, &MINIFASNET_V1SE)? })
    }

    pub fn models(&self) -> Vec<ModelInfo> {
        vec![self.v2.info(), self.v1se.info()]
    }

    /// Measures the cues of `face` in `frame`.
    pub fn cues(&self, frame: &Frame, face: &Face) -> Result<Cues, FaceError> {
        let mut sum = 0.0;
        for (model, scale) in [(&self.v2, SCALES[0]), (&self.v1se, SCALES[1])] {
            let crop = context_crop(frame, &face.bbox, scale, 80);
            let logits = model.run_one(bgr_nchw(80, 80, crop.rgb()), 0)?;
            if logits.len() != 3 || !logits.iter().all(|v| v.is_finite()) {
                return Err(FaceError::Inference { model: model.spec().id, detail: "expected 3 finite logits".into() });
            }
            let max = logits.iter().copied().fold(f32::MIN, f32::max);
            let exp: Vec<f32> = logits.iter().map(|v| (v - max).exp()).collect();
            sum += exp[1] / exp.iter().sum::<f32>();
        }
        let face_crop = context_crop(frame, &face.bbox, 1.0, 64);
        Ok(Cues { model: sum / 2.0, high_freq: high_frequency_share(&face_crop), glare: glare_share(&face_crop) })
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

/// The power spectrum of the grey crop (mean removed), with each entry's
/// radius in the centred spectrum, row by row.
fn power_spectrum(crop: &Frame) -> Vec<(f32, f64)> {
    use rustfft::{num_complex::Complex, FftPlanner};
    let n = crop.width() as usize;
    debug_assert_eq!(crop.height() as usize, n);
    let grey: Vec<f32> =
        crop.rgb().chunks_exact(3).map(|p| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32).collect();
    let mean = grey.iter().sum::<f32>() / grey.len() as f32;
    let mut data: Vec<Complex<f32>> = grey.iter().map(|&g| Complex::new(g - mean, 0.0)).collect();
    let fft = FftPlanner::new().plan_fft_forward(n);
    for row in data.chunks_exact_mut(n) {
        fft.process(row);
    }
    let mut column = vec![Complex::new(0.0, 0.0); n];
    for x in 0..n {
        (0..n).for_each(|y| column[y] = data[y * n + x]);
        fft.process(&mut column);
        (0..n).for_each(|y| data[y * n + x] = column[y]);
    }
    let half = (n / 2) as f32;
    (0..n * n)
        .map(|i| {
            // Frequencies folded to -n/2..n/2 (the centred spectrum).
            let (fx, fy) = (((i % n + n / 2) % n) as f32 - half, ((i / n + n / 2) % n) as f32 - half);
            ((fx * fx + fy * fy).sqrt(), data[i].norm_sqr() as f64)
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
    if median > 0.0 {
        (max / median).log10() as f32
    } else {
        0.0
    }
}

/// Share of pixels whose brightest channel is 250 or more.
pub fn glare_share(crop: &Frame) -> f32 {
    let px = crop.rgb().chunks_exact(3);
    let n = px.len().max(1);
    px.filter(|p| p.iter().any(|&c| c >= 250)).count() as f32 / n as f32
}
