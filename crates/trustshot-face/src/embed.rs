//! Face embedding with SFace (OpenCV zoo, 2021dec): an aligned 112x112 crop in,
//! an L2-normalised 128-d vector out; two faces are compared by cosine similarity.
//!
//! The crop goes in as RGB, as OpenCV's own `FaceRecognizerSF::feature` feeds
//! it (`blobFromImage(..., swapRB = true)`). One crop, no mirror-image
//! averaging: measured on LFW in models/README.md.

use crate::align::ALIGNED_SIZE;
use crate::models::ModelFiles;
use crate::models::{Channels, Model, ModelInfo, ModelSpec};
use crate::Frame;
use crate::{FaceError, Result};

/// Input `[1, 3, 112, 112]`, RGB 0..255 (the network normalises internally).
pub const SFACE_SPEC: ModelSpec = ModelSpec {
    id: "sface-2021dec",
    onnx: "sface_2021dec.onnx",
    nnef: "sface_2021dec.nnef.tar",
    bundle: None,
    nnef_sha256: "4b221cf9c19f3e28ca9b86b959bc32a3be468859c88fffd70a330309b421a2da",
    input_shape: &[1, 3, 112, 112],
    channels: Channels::Rgb,
};

/// What enrolled templates are tagged with: the embedding model and its input
/// recipe. Templates under another tag are refused (re-enroll), since their
/// scores would not be comparable. Was "sface-2021dec" while crops went in as
/// BGR with mirror-image averaging (before 0.1.0 was released).
pub const TEMPLATE_KIND: &str = "sface-2021dec/rgb";

/// Dimension of an embedding.
pub const EMBEDDING_DIM: usize = 128;

/// An L2-normalised face embedding. Biometric data: `Debug` does not print
/// it, and every copy is wiped from memory when dropped.
#[derive(Clone, PartialEq)]
pub struct Embedding(Vec<f32>);

impl Drop for Embedding {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

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

pub(crate) struct Embedder {
    model: Model,
}

impl Embedder {
    pub(crate) fn load(files: &ModelFiles) -> Result<Embedder> {
        Ok(Embedder { model: Model::load(files, &SFACE_SPEC)? })
    }

    pub(crate) fn info(&self) -> ModelInfo {
        self.model.info()
    }

    /// Embeds an aligned 112x112 crop.
    pub(crate) fn embed(&self, crop: &Frame) -> Result<Embedding> {
        if (crop.width(), crop.height()) != (ALIGNED_SIZE, ALIGNED_SIZE) {
            return Err(FaceError::Config(format!("embedder needs a {ALIGNED_SIZE}x{ALIGNED_SIZE} crop")));
        }
        let mut values = self.model.run_one(SFACE_SPEC.input(crop.rgb()), 0)?;
        values.truncate(EMBEDDING_DIM);
        Embedding::from_values(values).ok_or_else(|| FaceError::Inference {
            model: SFACE_SPEC.id,
            detail: "embedding is not finite or is zero".into(),
        })
    }
}
