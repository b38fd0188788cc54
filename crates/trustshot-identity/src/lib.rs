//! trustshot-identity: is a live person in front of the camera, and is it the
//! person on the ID?
//!
//! ```text
//! passive    one frame: MiniFASNetV1SE + glare fused into a live probability; a session's median
//! challenge  random actions at random times, judged from landmarks and eyes over time
//! flash      a random colour sequence on the screen, checked in the light the face returns
//! document   portrait on an ID, capture checks, selfie match, approve / reject / review
//! random     uniform draws from the OS CSPRNG (actions, timing, colours)
//! ```

pub mod challenge;
pub mod document;
pub mod flash;
pub mod passive;
pub mod random;

pub use challenge::{Action, ChallengeConfig, ChallengeSession, FailReason, SessionError, SessionState};
pub use document::{
    decide_id, verify_id, AssuranceLayer, DocumentConfig, IdDecision, IdReason, IdReasonCode, IdVerification,
};
pub use flash::{
    FlashColour, FlashConfig, FlashError, FlashFailure, FlashProgress, FlashSession, FlashStep, FlashVerdict,
    LightSample,
};
pub use passive::{Cues, LivenessScore, PassiveLiveness, PassiveSession, SessionLiveness};

/// Every model file this crate loads (for the converter and packaging).
pub fn model_specs() -> Vec<trustshot_face::ModelSpec> {
    vec![passive::MINIFASNET_V1SE]
}
