//! `TrustshotConfig`: every tuning knob of the SDK as uniffi records, one per
//! core configuration type with the same field names. Defaults come from one
//! place, the core types: apps call `defaultConfig()` and change what they
//! need (`defaultConfig().copy(fmr = 1e-3)` in Kotlin). Units and where each
//! default comes from are documented on the core type (`trustshot::SdkConfig`
//! and the types it gathers); `FaceVerifier.withConfig` refuses bad values
//! with `FaceException.InvalidArgument`.

use trustshot::{DeliveryConfig, SdkConfig};
use trustshot_face::DetectorConfig;
use trustshot_face::QualityConfig;
use trustshot_face::{EngineConfig, Limits};
use trustshot_identity::{ChallengeConfig, DocumentConfig, FlashConfig};

/// One uniffi record mirroring one core configuration type field by field,
/// with the conversions both ways. Counts and sizes are `u32` across the FFI
/// (lossless into `usize` on 32- and 64-bit phones).
macro_rules! mirror {
    ($(#[$doc:meta])* $ffi:ident <=> $core:ident { $($field:ident: $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
        pub struct $ffi {
            $(pub $field: $ty),*
        }

        impl From<$core> for $ffi {
            fn from(c: $core) -> Self {
                $ffi { $($field: c.$field as $ty),* }
            }
        }

        impl From<$ffi> for $core {
            fn from(f: $ffi) -> Self {
                $core { $($field: f.$field as _),* }
            }
        }
    };
}

mirror! {
    /// Input limits (`trustshot_face::Limits`): encoded bytes, sides and pixels accepted.
    InputLimits <=> Limits { max_encoded_bytes: u32, max_side: u32, max_pixels: u64, min_side: u32 }
}

mirror! {
    /// The face detector (`trustshot_face::DetectorConfig`).
    DetectorSettings <=> DetectorConfig { score_threshold: f32, face_threshold: f32, nms_iou: f32, max_side: u32 }
}

mirror! {
    /// The capture-quality gate (`trustshot_face::QualityConfig`).
    QualitySettings <=> QualityConfig {
        min_face_px: f32, min_brightness: f32, max_brightness: f32, min_sharpness: f32,
        max_yaw: f32, max_pitch: f32, max_cut_off: f32, second_face_ratio: f32,
    }
}

mirror! {
    /// ID document checks (`trustshot_identity::DocumentConfig`).
    DocumentSettings <=> DocumentConfig {
        min_portrait_px: f32, min_portrait_sharpness: f32, max_portrait_glare: f32, max_moire_peak: f32,
        approve_fmr: f64, reject_fmr: f64,
    }
}

mirror! {
    /// Head-movement and blink challenges (`trustshot_identity::ChallengeConfig`).
    ChallengeSettings <=> ChallengeConfig {
        actions: u32, timeout_ms: u64, turn_degrees: f32, closer_ratio: f32, start_max_yaw: f32,
        blink_closed_ratio: f32, blink_open_ratio: f32, blink_max_yaw: f32, same_face_fmr: f64,
        still_rms: f32, still_window_ms: u64, hold_min_ms: u32, hold_max_ms: u32, min_reaction_ms: u32,
        action_window_ms: u32,
    }
}

mirror! {
    /// The colour-flash challenge (`trustshot_identity::FlashConfig`; its
    /// thresholds are checked on SIMULATED captures only).
    FlashSettings <=> FlashConfig {
        steps: u32, min_step_ms: u32, max_step_ms: u32, max_lag_ms: u32, settle_ms: u32,
        min_response: f32, min_correlation: f32, min_step_agreement: f32, min_face_to_background: f32,
        min_frames_per_step: f32,
    }
}

/// Every knob of the SDK (`trustshot::SdkConfig`).
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct TrustshotConfig {
    pub limits: InputLimits,
    pub detector: DetectorSettings,
    pub quality: QualitySettings,
    /// False-match rate of the match threshold: 1e-2, 1e-3 or 1e-4 (the calibrated points).
    pub fmr: f64,
    pub document: DocumentSettings,
    pub challenge: ChallengeSettings,
    pub flash: FlashSettings,
    /// JPEG quality of a sealed delivery photo, 1 to 100.
    pub delivery_jpeg_quality: u8,
    /// Threads one call may use for independent stages (reference pictures
    /// side by side; an ID check's document and selfie), 1 to 8; default 1.
    pub threads: u32,
}

impl From<SdkConfig> for TrustshotConfig {
    fn from(c: SdkConfig) -> Self {
        TrustshotConfig {
            limits: c.engine.limits.into(),
            detector: c.engine.detector.into(),
            quality: c.engine.quality.into(),
            fmr: c.engine.fmr,
            document: c.document.into(),
            challenge: c.challenge.into(),
            flash: c.flash.into(),
            delivery_jpeg_quality: c.delivery.jpeg_quality,
            threads: c.threads as u32,
        }
    }
}

impl From<TrustshotConfig> for SdkConfig {
    fn from(c: TrustshotConfig) -> Self {
        SdkConfig {
            engine: EngineConfig {
                limits: c.limits.into(),
                detector: c.detector.into(),
                quality: c.quality.into(),
                fmr: c.fmr,
            },
            document: c.document.into(),
            challenge: c.challenge.into(),
            flash: c.flash.into(),
            delivery: DeliveryConfig { jpeg_quality: c.delivery_jpeg_quality },
            threads: c.threads as usize,
        }
    }
}

/// The SDK's defaults: start from these and change what the app needs.
#[uniffi::export]
pub fn default_config() -> TrustshotConfig {
    SdkConfig::default().into()
}
