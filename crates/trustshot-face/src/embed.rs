//! Face embedding with SFace (OpenCV zoo, 2021dec): an aligned 112x112 crop in,
//! an L2-normalised 128-d vector out; two faces are compared by cosine similarity.
//!
//! With `flip` on, the crop and its mirror image are embedded and summed (a
//! common test-time augmentation that steadies the score on turned faces); it
//! doubles the embedding cost. Measured effect: models/README.md.

use crate::align::ALIGNED_SIZE;
use crate::error::{FaceError, Result};
use crate::frame::Frame;
use crate::models::{bgr_nchw, Model, ModelInfo, ModelSpec};
use std::path::Path;

/// Input `[1, 3, 112, 112]`, BGR 0..255 (the network normalises internally).
pub const SFACE_SPEC: ModelSpec = ModelSpec {
    id: "sface-2021dec",
    onnx: "sface_2021dec.onnx",
    nnef: "sface_2021dec.nnef.tar",
    input_shape: &[1, 3, 112, 112],
};

/// Dimension of an embedding.
pub const EMBEDDING_DIM: usize = 128;

/// An L2-normalised face embedding. Biometric data: `Debug` does not print it.
#[derive(Clone, PartialEq)]
pub struct Embedding(Vec<f32>);

impl std::fmt::Debug for Embedding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Embedding({}-d)", self.0.len())
    }
}

impl Embedding {
    /// Normalises `values`; `None` unless they are finite, non-zero and 128 long.
    pub fn from_values(values: Vec<f32>) -> Option<Embedding> {
        if values.len() != EMBEDDING_DIM || !values.iter().all(|v| v.is_finite()) {
            return None;
        }
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        (norm > 1e-6).then(|| Embedding(values.into_iter().map(|v| v / norm).collect()))
    }

    /// Takes already-normalised values as they are (a stored template);
    /// `None` unless they are finite, 128 long and of unit length.
    pub fn from_normalized(values: Vec<f32>) -> Option<Embedding> {
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        (values.len() == EMBEDDING_DIM && (norm - 1.0).abs() < 1e-3).then_some(Embedding(values))
    }

    pub fn values(&self) -> &[f32] {
        &self.0
    }

    /// Cosine similarity (both sides are unit length), in -1..1.
    pub fn cosine(&self, other: &Embedding) -> f32 {
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum::<f32>().clamp(-1.0, 1.0)
    }
}

pub struct Embedder {
    model: Model,
    flip: bool,
}

impl Embedder {
    pub fn load(dir: &Path, flip: bool) -> Result<Embedder> {
        Ok(Embedder { model: Model::load(dir, &SFACE_SPEC)?, flip })
    }

    pub fn info(&self) -> ModelInfo {
        self.model.info()
    }

    /// Embeds an aligned 112x112 crop.
    pub fn embed(&self, crop: &Frame) -> Result<Embedding> {
        if (crop.width(), crop.height()) != (ALIGNED_SIZE, ALIGNED_SIZE) {
            return Err(FaceError::Config(format!("embedder needs a {ALIGNED_SIZE}x{ALIGNED_SIZE} crop")));
        }
        let mut values = self.raw(crop.rgb())?;
        if self.flip {
            let mirrored = mirror(crop);
            for (v, m) in values.iter_mut().zip(self.raw(&mirrored)?) {
                *v += m;
            }
        }
        Embedding::from_values(values).ok_or_else(|| FaceError::Inference {
            model: SFACE_SPEC.id,
            detail: "embedding is not finite or is zero".into(),
        })
    }

    /// The network output before normalisation.
    fn raw(&self, rgb: &[u8]) -> Result<Vec<f32>> {
        let size = ALIGNED_SIZE as usize;
        let mut values = self.model.run_one(bgr_nchw(size, size, rgb), 0)?;
        values.truncate(EMBEDDING_DIM);
        Ok(values)
    }
}

/// The crop mirrored left-right.
fn mirror(crop: &Frame) -> Vec<u8> {
    let w = crop.width() as usize;
    crop.rgb()
        .chunks_exact(w * 3)
        .flat_map(|row| row.chunks_exact(3).rev().flatten().copied().collect::<Vec<_>>())
        .collect()
}
