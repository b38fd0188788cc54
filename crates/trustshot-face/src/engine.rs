//! The face engine: the models loaded once, and the pipeline that answers
//! "is this the enrolled person?" — detect, pick the main face, align, check
//! quality, embed, compare.
//!
//! `FaceEngine` is `Send + Sync`: load it once and share it between threads.

use crate::align::align;
use crate::detect::{Detector, DetectorConfig, Face};
use crate::embed::{Embedder, Embedding};
use crate::eyes::{EyeModel, EyeOpenness};
use crate::matcher::{self, decide, Decision, OperatingPoint};
use crate::models::ModelFiles;
use crate::models::ModelInfo;
use crate::quality::{self, QualityConfig, QualityReport, Reason};
use crate::{FaceError, Result};
use crate::{Frame, Limits};
use std::sync::OnceLock;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineConfig {
    pub limits: Limits,
    pub detector: DetectorConfig,
    pub quality: QualityConfig,
    /// False-match rate of the decision threshold; one of the calibrated points.
    pub fmr: f64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            limits: Limits::default(),
            detector: DetectorConfig::default(),
            quality: QualityConfig::default(),
            fmr: matcher::DEFAULT_FMR,
        }
    }
}

/// Milliseconds spent in each stage of one analysis.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StageTimings {
    pub detect_ms: f64,
    /// Alignment, pose and the quality checks.
    pub align_ms: f64,
    pub embed_ms: f64,
}

/// Everything the engine learned from one picture.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Every detected face, best score first.
    pub faces: Vec<Face>,
    /// Index into `faces` of the main (largest) face.
    pub main: Option<usize>,
    pub quality: QualityReport,
    /// Present when the capture passed the quality gate.
    pub embedding: Option<Embedding>,
    pub timings: StageTimings,
}

/// Which picture of a verification a reason is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Probe,
    Reference(usize),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rejection {
    pub subject: Subject,
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub decision: Decision,
    /// Cosine similarity of the probe to the reference template; absent when rejected.
    pub score: Option<f32>,
    pub threshold: f32,
    pub fmr: f64,
    /// Non-empty exactly when the decision is `Rejected`.
    pub reasons: Vec<Rejection>,
}

pub struct FaceEngine {
    config: EngineConfig,
    point: OperatingPoint,
    detector: Detector,
    embedder: Embedder,
    /// Loaded on first use: only the blink challenge needs it, and its plan
    /// takes about as long to build as SFace's (~0.2 s), which apps that never
    /// ask for a blink should not pay at start-up.
    eyes: OnceLock<EyeModel>,
    files: ModelFiles,
}

impl FaceEngine {
    /// Loads the detector and embedder from the model files (a directory or
    /// memory; the eye model is loaded from there when first needed).
    pub fn load(files: impl Into<ModelFiles>, config: EngineConfig) -> Result<FaceEngine> {
        let files = files.into();
        let point = matcher::operating_point(config.fmr)
            .ok_or_else(|| FaceError::Config(format!("no calibrated threshold for FMR {}", config.fmr)))?;
        Ok(FaceEngine {
            config,
            point,
            detector: Detector::load(&files, config.detector)?,
            embedder: Embedder::load(&files)?,
            eyes: OnceLock::new(),
            files,
        })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn operating_point(&self) -> OperatingPoint {
        self.point
    }

    /// The models loaded so far (the eye model once a blink was judged).
    pub fn models(&self) -> Vec<ModelInfo> {
        let mut models = self.detector.info();
        models.push(self.embedder.info());
        models.extend(self.eyes.get().map(EyeModel::info));
        models
    }

    /// Decodes JPEG/PNG bytes under the engine's limits.
    pub fn decode(&self, bytes: &[u8]) -> Result<Frame> {
        crate::decode(bytes, &self.config.limits)
    }

    pub fn detect(&self, frame: &Frame) -> Result<Vec<Face>> {
        self.detector.detect(frame)
    }

    /// The faces near `around` (see [`Detector::detect_near`]).
    pub fn detect_near(&self, frame: &Frame, around: &crate::geometry::Rect) -> Result<Vec<Face>> {
        self.detector.detect_near(frame, around)
    }

    /// Every box the detector considered, including those the face check
    /// rejected (see [`Detector::candidates`]).
    pub fn face_candidates(&self, frame: &Frame) -> Result<Vec<Face>> {
        self.detector.candidates(frame)
    }

    /// Every candidate, searched also in tiles at a higher resolution (see
    /// [`Detector::candidates_everywhere`]): for pixelating bystanders.
    pub fn face_candidates_everywhere(&self, frame: &Frame) -> Result<Vec<Face>> {
        self.detector.candidates_everywhere(frame)
    }

    /// How open the eyes of one given face are (see [`crate::eyes`]).
    pub fn eye_openness(&self, frame: &Frame, face: &Face) -> Result<EyeOpenness> {
        let eyes = match self.eyes.get() {
            Some(eyes) => eyes,
            // Two threads may both load it; one result is kept.
            None => {
                let loaded = EyeModel::load(&self.files)?;
                self.eyes.get_or_init(|| loaded)
            }
        };
        eyes.openness(frame, face)
    }

    /// Aligns and embeds one given face (no quality gate).
    pub fn embed_face(&self, frame: &Frame, face: &Face) -> Result<Embedding> {
        let aligned = align(frame, face)
            .ok_or_else(|| FaceError::Inference { model: "align", detail: "degenerate landmarks".into() })?;
        self.embedder.embed(&aligned.crop)
    }

    /// The whole pipeline on one picture. The embedding is only computed when
    /// the capture passes the quality gate.
    pub fn analyze(&self, frame: &Frame) -> Result<Analysis> {
        let start = Instant::now();
        let faces = self.detector.detect(frame)?;
        let mut timings = StageTimings { detect_ms: ms(start), ..StageTimings::default() };
        let main = (0..faces.len()).max_by(|&a, &b| faces[a].bbox.area().total_cmp(&faces[b].bbox.area()));
        let Some(main) = main else {
            return Ok(Analysis { faces, main: None, quality: QualityReport::no_face(), embedding: None, timings });
        };
        let start = Instant::now();
        let face = &faces[main];
        let (Some(aligned), Some(pose)) = (align(frame, face), face.pose()) else {
            timings.align_ms = ms(start);
            return Ok(Analysis { faces, main: None, quality: QualityReport::no_face(), embedding: None, timings });
        };
        let quality = quality::assess(&self.config.quality, frame, &faces, main, &aligned, pose);
        timings.align_ms = ms(start);
        let embedding = if quality.passed() {
            let start = Instant::now();
            let e = self.embedder.embed(&aligned.crop)?;
            timings.embed_ms = ms(start);
            Some(e)
        } else {
            None
        };
        Ok(Analysis { faces, main: Some(main), quality, embedding, timings })
    }

    /// Compares a probe with reference pictures of one person (averaged into one template).
    pub fn verify(&self, probe: &Analysis, references: &[Analysis]) -> Result<Verification> {
        if references.is_empty() {
            return Err(FaceError::NoReference);
        }
        let mut reasons = rejections(Subject::Probe, probe);
        for (i, r) in references.iter().enumerate() {
            reasons.extend(rejections(Subject::Reference(i), r));
        }
        let embeddings: Vec<Embedding> = references.iter().filter_map(|r| r.embedding.clone()).collect();
        Ok(self.decide(probe, &embeddings, reasons))
    }

    /// Compares a probe with the enrolled embeddings of one person (made by
    /// this engine's embedder, [`crate::embed::TEMPLATE_KIND`]: the caller checks the tag).
    pub fn verify_enrolled(&self, probe: &Analysis, enrolled: &[Embedding]) -> Result<Verification> {
        if enrolled.is_empty() {
            return Err(FaceError::NoReference);
        }
        Ok(self.decide(probe, enrolled, rejections(Subject::Probe, probe)))
    }

    fn decide(&self, probe: &Analysis, references: &[Embedding], reasons: Vec<Rejection>) -> Verification {
        let point = self.point;
        let template = matcher::template(references);
        match (&probe.embedding, template) {
            (Some(p), Some(t)) if reasons.is_empty() => {
                let score = p.cosine(&t);
                Verification {
                    decision: decide(score, point),
                    score: Some(score),
                    threshold: point.threshold,
                    fmr: point.fmr,
                    reasons,
                }
            }
            _ => Verification {
                decision: Decision::Rejected,
                score: None,
                threshold: point.threshold,
                fmr: point.fmr,
                reasons,
            },
        }
    }
}

fn rejections(subject: Subject, analysis: &Analysis) -> Vec<Rejection> {
    analysis.quality.reasons.iter().map(|&reason| Rejection { subject, reason }).collect()
}

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}
