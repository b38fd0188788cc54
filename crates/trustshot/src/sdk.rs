//! `Sdk`: the models loaded once, the configuration, and the way pictures
//! come in. The flows are methods on it, one file each (`selfie`,
//! `liveness`, `id_check`, `delivery`); the CLI and the FFI are adapters that
//! map arguments to one `Sdk` call and its result to their output.
//!
//! `Sdk` is `Send + Sync`: load it once and share it between threads.

use crate::config::SdkConfig;
use std::sync::Arc;
use trustshot_face::ModelFiles;
use trustshot_face::{CameraBuffer, FaceEngine, FaceError, Frame, ModelInfo, YuvPlanes};
use trustshot_identity::PassiveLiveness;

/// The model files the SDK loads, in load order (the liveness model last:
/// it may be absent). Bundled plans are named once, by their bundle.
pub fn model_file_names() -> Vec<&'static str> {
    let specs = trustshot_face::model_specs().into_iter().chain(trustshot_identity::model_specs());
    let mut names: Vec<&'static str> = Vec::new();
    for spec in specs {
        let name = spec.bundle.unwrap_or(spec.nnef);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// A picture as it reaches the SDK, not yet decoded.
#[derive(Debug, Clone, Copy)]
pub enum Image<'a> {
    /// JPEG or PNG file bytes (EXIF orientation applied, whole-JPEG check).
    Encoded(&'a [u8]),
    /// A camera frame in one buffer with its geometry and rotation.
    Camera(CameraBuffer<'a>),
    /// A camera frame in separate Y, U, V planes (Android `YUV_420_888`, iOS
    /// bi-planar), with its range, matrix and rotation.
    Planes(YuvPlanes<'a>),
}

pub struct Sdk {
    config: SdkConfig,
    engine: Arc<FaceEngine>,
    /// Present when the liveness models are installed (they come from a
    /// mirror, not a registry: models/README.md, "Liveness"); shared with
    /// the sessions that score frames.
    liveness: Option<Arc<PassiveLiveness>>,
}

impl Sdk {
    /// Checks `config`, then loads the face models from `files` (a
    /// directory, or the files in memory; each checked against its pinned
    /// SHA-256) and the liveness models when present.
    pub fn load(files: impl Into<ModelFiles>, config: SdkConfig) -> Result<Sdk, FaceError> {
        config.check()?;
        let files = files.into();
        let engine = Arc::new(FaceEngine::load(files.clone(), config.engine)?);
        let liveness = match PassiveLiveness::load(&files) {
            Ok(l) => Some(Arc::new(l)),
            Err(FaceError::ModelMissing(_)) => None,
            Err(e) => return Err(e),
        };
        Ok(Sdk { config, engine, liveness })
    }

    pub fn config(&self) -> &SdkConfig {
        &self.config
    }

    /// The same models with another thread budget (no reload).
    pub fn with_threads(&self, threads: usize) -> Result<Sdk, FaceError> {
        let config = SdkConfig { threads, ..self.config };
        config.check()?;
        Ok(Sdk { config, engine: self.engine.clone(), liveness: self.liveness.clone() })
    }

    /// The face pipeline itself (evaluations and benches use its stages).
    pub fn engine(&self) -> &Arc<FaceEngine> {
        &self.engine
    }

    pub fn liveness(&self) -> Option<&PassiveLiveness> {
        self.liveness.as_deref()
    }

    pub(crate) fn liveness_model(&self) -> Option<Arc<PassiveLiveness>> {
        self.liveness.clone()
    }

    /// Every model loaded so far, with the SHA-256 of its file (for receipts).
    pub fn models(&self) -> Vec<ModelInfo> {
        let mut all = self.engine.models();
        all.extend(self.liveness.iter().flat_map(|l| l.models()));
        all
    }

    /// `f` applied to every item, on up to `config.threads` threads (in
    /// order; the first error wins). Items are independent stages of one call.
    pub(crate) fn map_parallel<T: Sync, R: Send, E: Send>(
        &self,
        items: &[T],
        f: impl Fn(&T) -> Result<R, E> + Sync,
    ) -> Result<Vec<R>, E> {
        let threads = self.config.threads.min(items.len()).max(1);
        if threads == 1 {
            return items.iter().map(f).collect();
        }
        let chunk = items.len().div_ceil(threads);
        let parts: Vec<Result<Vec<R>, E>> = std::thread::scope(|s| {
            let f = &f;
            let handles: Vec<_> =
                items.chunks(chunk).map(|part| s.spawn(move || part.iter().map(f).collect())).collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
        });
        let mut out = Vec::with_capacity(items.len());
        for part in parts {
            out.extend(part?);
        }
        Ok(out)
    }

    /// Runs `a` and `b` side by side when the configuration allows two threads.
    pub(crate) fn join<A: Send, B: Send>(&self, a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
        if self.config.threads < 2 {
            return (a(), b());
        }
        std::thread::scope(|s| {
            let hb = s.spawn(b);
            let ra = a();
            (ra, hb.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
        })
    }

    /// Decodes a picture under the configured limits.
    pub fn frame(&self, image: &Image) -> Result<Frame, FaceError> {
        let limits = &self.config.engine.limits;
        match image {
            Image::Encoded(bytes) => trustshot_face::decode(bytes, limits),
            Image::Camera(buffer) => buffer.to_frame(limits),
            Image::Planes(planes) => planes.to_frame(limits),
        }
    }
}
