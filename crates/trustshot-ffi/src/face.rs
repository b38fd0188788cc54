//! FaceVerifier: the app's handle on the SDK (`trustshot::Sdk`, models loaded
//! once), the face records, and the selfie flows: analyse a capture, verify
//! it against reference photos. Liveness, the ID check, enrollment and
//! sealing are further methods on it (liveness.rs, id_check.rs, store.rs,
//! evidence.rs); each is one `Sdk` call and the mapping of its result.

use crate::config::TrustshotConfig;
use crate::errors::FaceError;
use crate::image::ImageInput;
use std::collections::HashMap;
use std::sync::Arc;
use trustshot::{Sdk, SdkConfig};
use trustshot_face::ModelFiles;
use trustshot_face::{Analysis, Decision, Frame, ModelInfo, Subject, Verification};
use trustshot_face::{Reason, ReasonCode};

#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct FaceBox {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl From<trustshot_face::Rect> for FaceBox {
    fn from(r: trustshot_face::Rect) -> Self {
        FaceBox { x: r.x, y: r.y, width: r.w, height: r.h }
    }
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DetectedFace {
    pub bbox: FaceBox,
    /// Eye (image left), eye (image right), nose tip, mouth corners (image left, right).
    pub landmarks: Vec<Point>,
    /// The detector's score, 0..1.
    pub score: f32,
    /// The second look's probability that the box holds a face, 0..1.
    pub face_probability: f32,
}

/// Why a capture was refused (apps localise their message by this code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum QualityCode {
    NoFace,
    SeveralFaces,
    FaceTooSmall,
    TooDark,
    TooBright,
    Blurry,
    HeadTurned,
    HeadTilted,
    FaceCutOff,
}

impl From<ReasonCode> for QualityCode {
    fn from(c: ReasonCode) -> Self {
        match c {
            ReasonCode::NoFace => QualityCode::NoFace,
            ReasonCode::SeveralFaces => QualityCode::SeveralFaces,
            ReasonCode::FaceTooSmall => QualityCode::FaceTooSmall,
            ReasonCode::TooDark => QualityCode::TooDark,
            ReasonCode::TooBright => QualityCode::TooBright,
            ReasonCode::Blurry => QualityCode::Blurry,
            ReasonCode::HeadTurned => QualityCode::HeadTurned,
            ReasonCode::HeadTilted => QualityCode::HeadTilted,
            ReasonCode::FaceCutOff => QualityCode::FaceCutOff,
        }
    }
}

/// A failed capture check: the measured value and the limit it crossed.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct QualityReason {
    pub code: QualityCode,
    pub measured: f32,
    pub threshold: f32,
    /// What the user should do, in English (apps localise by `code`).
    pub advice: String,
}

impl From<&Reason> for QualityReason {
    fn from(r: &Reason) -> Self {
        QualityReason {
            code: r.code.into(),
            measured: r.measured,
            threshold: r.threshold,
            advice: r.code.advice().into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct QualityReport {
    pub passed: bool,
    pub face_count: u32,
    pub face_width: f32,
    pub brightness: f32,
    pub sharpness: f32,
    pub yaw: f32,
    pub pitch: f32,
    pub roll: f32,
    pub cut_off: f32,
    pub reasons: Vec<QualityReason>,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FaceAnalysis {
    pub faces: Vec<DetectedFace>,
    /// Index of the main (largest) face in `faces`.
    pub main_face: Option<u32>,
    pub quality: QualityReport,
}

impl From<&Analysis> for FaceAnalysis {
    fn from(a: &Analysis) -> Self {
        let m = &a.quality.measures;
        FaceAnalysis {
            faces: a
                .faces
                .iter()
                .map(|f| DetectedFace {
                    bbox: f.bbox.into(),
                    landmarks: f.landmarks.iter().map(|p| Point { x: p.x, y: p.y }).collect(),
                    score: f.score,
                    face_probability: f.face_probability,
                })
                .collect(),
            main_face: a.main.map(|i| i as u32),
            quality: QualityReport {
                passed: a.quality.passed(),
                face_count: m.face_count as u32,
                face_width: m.face_width,
                brightness: m.brightness,
                sharpness: m.sharpness,
                yaw: m.pose.yaw,
                pitch: m.pose.pitch,
                roll: m.pose.roll,
                cut_off: m.cut_off,
                reasons: a.quality.reasons.iter().map(QualityReason::from).collect(),
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MatchDecision {
    Match,
    NoMatch,
    /// A capture failed the quality gate: see the reasons.
    Rejected,
}

/// Which picture of a verification a rejection is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ImageRole {
    Probe,
    /// The `index`-th reference picture, in the order given.
    Reference {
        index: u32,
    },
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Rejection {
    pub image: ImageRole,
    pub reason: QualityReason,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VerificationResult {
    pub decision: MatchDecision,
    pub score: Option<f32>,
    pub threshold: f32,
    /// False-match rate the threshold was calibrated for.
    pub fmr: f64,
    /// Non-empty exactly when rejected.
    pub reasons: Vec<Rejection>,
}

impl From<&Verification> for VerificationResult {
    fn from(v: &Verification) -> Self {
        VerificationResult {
            decision: match v.decision {
                Decision::Match => MatchDecision::Match,
                Decision::NoMatch => MatchDecision::NoMatch,
                Decision::Rejected => MatchDecision::Rejected,
            },
            score: v.score,
            threshold: v.threshold,
            fmr: v.fmr,
            reasons: v
                .reasons
                .iter()
                .map(|r| Rejection {
                    image: match r.subject {
                        Subject::Probe => ImageRole::Probe,
                        Subject::Reference(i) => ImageRole::Reference { index: i as u32 },
                    },
                    reason: (&r.reason).into(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ModelDescription {
    pub id: String,
    pub file: String,
    pub sha256: String,
}

impl From<ModelInfo> for ModelDescription {
    fn from(m: ModelInfo) -> Self {
        ModelDescription { id: m.id, file: m.file, sha256: m.sha256 }
    }
}

/// The model files the SDK loads (what an app ships: Android assets, iOS
/// bundle resources), the liveness model last (it may be left out).
#[uniffi::export]
pub fn model_file_names() -> Vec<String> {
    trustshot::model_file_names().into_iter().map(String::from).collect()
}

/// The SDK with its models loaded, from a directory; share one instance.
#[derive(uniffi::Object)]
pub struct FaceVerifier {
    pub(crate) sdk: Arc<Sdk>,
}

impl FaceVerifier {
    pub(crate) fn frame(&self, image: &ImageInput) -> Result<Frame, FaceError> {
        Ok(self.sdk.frame(&image.image())?)
    }

    pub(crate) fn frames(&self, images: &[ImageInput]) -> Result<Vec<Frame>, FaceError> {
        images.iter().map(|i| self.frame(i)).collect()
    }
}

#[uniffi::export]
impl FaceVerifier {
    /// Loads the models from `model_dir` (the files `scripts/setup` puts in
    /// models/dist) with the default configuration. Liveness is loaded when
    /// its models are present.
    #[uniffi::constructor]
    pub fn new(model_dir: String) -> Result<Arc<Self>, FaceError> {
        FaceVerifier::with_config(model_dir, SdkConfig::default().into())
    }

    /// Loads the models with `config` (start from `defaultConfig()`).
    #[uniffi::constructor]
    pub fn with_config(model_dir: String, config: TrustshotConfig) -> Result<Arc<Self>, FaceError> {
        let sdk = Sdk::load(std::path::Path::new(&model_dir), config.into())?;
        Ok(Arc::new(FaceVerifier { sdk: Arc::new(sdk) }))
    }

    /// Loads the models from memory: file name -> contents, for the names
    /// `modelFileNames()` lists (Android assets, iOS bundle resources); each
    /// file is checked against its pinned SHA-256 as from a directory. The
    /// liveness model may be left out (liveness is then unavailable).
    #[uniffi::constructor]
    pub fn from_model_files(files: HashMap<String, Vec<u8>>, config: TrustshotConfig) -> Result<Arc<Self>, FaceError> {
        let sdk = Sdk::load(ModelFiles::Memory(Arc::new(files)), config.into())?;
        Ok(Arc::new(FaceVerifier { sdk: Arc::new(sdk) }))
    }

    /// The configuration in force.
    pub fn config(&self) -> TrustshotConfig {
        (*self.sdk.config()).into()
    }

    /// Faces and capture quality of one picture.
    pub fn analyze(&self, image: ImageInput) -> Result<FaceAnalysis, FaceError> {
        Ok((&self.sdk.analyze(&self.frame(&image)?)?).into())
    }

    /// Is the person on `probe` the person on `references` (averaged into one template)?
    pub fn verify(&self, probe: ImageInput, references: Vec<ImageInput>) -> Result<VerificationResult, FaceError> {
        let v = self.sdk.verify_photos(&self.frame(&probe)?, &self.frames(&references)?)?;
        Ok((&v.verdict).into())
    }

    /// Whether the liveness models are installed.
    pub fn liveness_available(&self) -> bool {
        self.sdk.liveness().is_some()
    }

    /// The loaded models, with the SHA-256 of each file (for receipts).
    pub fn models(&self) -> Vec<ModelDescription> {
        self.sdk.models().into_iter().map(ModelDescription::from).collect()
    }
}
