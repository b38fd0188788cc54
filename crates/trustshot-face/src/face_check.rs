//! The detector's second look: MTCNN's output network (O-Net) judges whether
//! a box YuNet found holds a human face.
//!
//! Why a second network: YuNet scores some animal faces as high as small or
//! blurred human faces (a dog at 0.851 against real faces from 0.858 in the
//! developer data), so no threshold on its score separates them. O-Net was
//! trained as the last stage of a detection cascade, to reject exactly the
//! near-misses the earlier stages let through; it sees each box once, as a
//! 48x48 crop, for about a millisecond. Its published stage threshold (0.7)
//! is used as is; models/README.md has what it was measured to remove and keep.

use crate::geometry::{square_crop, Rect};
use crate::models::ModelFiles;
use crate::models::{Channels, Model, ModelInfo, ModelSpec};
use crate::Frame;
use crate::{FaceError, Result};

/// Input `[1, 3, 48, 48]`, RGB 0..255 (models/build.py `onet_nchw` put the
/// network's own scaling and layout into the graph); output `[1, 2]`:
/// probabilities of [not a face, a face].
pub const ONET_SPEC: ModelSpec = ModelSpec {
    id: "mtcnn-onet",
    onnx: "onet.onnx",
    nnef: "onet.nnef.tar",
    bundle: None,
    nnef_sha256: "3201216e7fa47eae7c416a5e0644bb7f8df8220160d42536818d31e26667b29d",
    input_shape: &[1, 3, 48, 48],
    channels: Channels::Rgb,
};

/// MTCNN's threshold for its output stage (Zhang et al.; ipazc/mtcnn `steps_threshold[2]`).
pub(crate) const DEFAULT_THRESHOLD: f32 = 0.7;

pub struct FaceCheck {
    model: Model,
}

impl FaceCheck {
    pub fn load(files: &ModelFiles) -> Result<FaceCheck> {
        Ok(FaceCheck { model: Model::load(files, &ONET_SPEC)? })
    }

    pub fn info(&self) -> ModelInfo {
        self.model.info()
    }

    /// The probability, in 0..1, that `bbox` (in `frame` coordinates) holds a face.
    pub fn probability(&self, frame: &Frame, bbox: &Rect) -> Result<f32> {
        let crop = square_crop(frame, bbox, ONET_SPEC.input_shape[3] as u32);
        let out = self.model.run_one(ONET_SPEC.input(crop.rgb()), 0)?;
        match out[..] {
            [_, face] if face.is_finite() => Ok(face.clamp(0.0, 1.0)),
            _ => Err(FaceError::Inference {
                model: ONET_SPEC.id,
                detail: format!("expected two finite probabilities, got {} values", out.len()),
            }),
        }
    }
}
