//! Active liveness: a random challenge (turn left, turn right, move closer,
//! blink) performed in front of the camera at random moments, judged from the
//! landmarks over time, while the same face (by embedding) stays in view.
//!
//! The app feeds camera frames with their timestamps and shows what the
//! session asks: hold still and look at the camera (`Holding`), or an action
//! (`InProgress`). The session answers passed / failed(reason) / timed out at
//! the end. A held-up photo fails: it cannot turn, and its landmarks do not
//! even jitter (a live face always moves a little, a still image never does).
//!
//! Timing is part of the challenge, against replayed recordings of the real
//! person (who turns and blinks in them too). Actions and their order are
//! drawn from the OS CSPRNG, and so is the moment of each prompt: before each
//! action the face must hold still and frontal for a random 0.7-2 s; the
//! action must then be seen no sooner than a person can react to the prompt
//! (250 ms: earlier, it began before the prompt and fails as premature) and
//! within 4 s. A recording started at any point has to show each asked action
//! inside each of these windows, neutral between them; how often real live
//! footage does that by chance is measured in models/README.md ("Challenge
//! timing").
//!
//! A blink is judged from eye openness (MediaPipe Iris, `trustshot_face::eyes`)
//! relative to the face's own open level during the action: the eyes must be
//! seen open, then closed, then open again. Frames with the head turned far
//! are not judged (the lids look narrower from the side). A replayed video of
//! the person blinks too: blinking defeats prints and still images, passive
//! liveness is what looks for screens.

use crate::random;
use std::sync::Arc;
use trustshot_face::operating_point;
use trustshot_face::Face;
use trustshot_face::Tracker;
use trustshot_face::{Embedding, FaceEngine, FaceError, Frame};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Turn the head to the subject's left (the face turns towards the image's
    /// right in an unmirrored camera picture).
    TurnLeft,
    TurnRight,
    /// Bring the face closer to the camera.
    MoveCloser,
    /// Close both eyes and open them again.
    Blink,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::TurnLeft, Action::TurnRight, Action::MoveCloser, Action::Blink];

    pub fn as_str(&self) -> &'static str {
        match self {
            Action::TurnLeft => "turn_left",
            Action::TurnRight => "turn_right",
            Action::MoveCloser => "move_closer",
            Action::Blink => "blink",
        }
    }

    /// The stable key a capture screen localises this action's prompt by
    /// (`challenge.<action>`; CHANGELOG.md says how keys may change).
    pub fn prompt_key(&self) -> String {
        format!("challenge.{}", self.as_str())
    }

    /// The default English prompt for this action.
    pub fn instruction(&self) -> &'static str {
        match self {
            Action::TurnLeft => "Turn your head slowly to your left.",
            Action::TurnRight => "Turn your head slowly to your right.",
            Action::MoveCloser => "Move the phone closer to your face.",
            Action::Blink => "Blink.",
        }
    }
}

/// The prompt key and default English text while a session holds before the
/// next action (`SessionState::Holding`).
pub const HOLD_PROMPT: (&str, &str) = ("challenge.hold", "Hold still and look at the camera.");

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChallengeConfig {
    /// Number of actions asked (drawn at random, no repeats).
    pub actions: usize,
    /// The whole session must finish within this time, ms.
    pub timeout_ms: u64,
    /// Yaw change from the starting pose that counts as a turn, degrees.
    pub turn_degrees: f32,
    /// Face-width growth from the start that counts as moving closer.
    pub closer_ratio: f32,
    /// The start must be roughly frontal: |yaw| at most this, degrees.
    pub start_max_yaw: f32,
    /// Blink: eyes count as closed below this fraction of their open level
    /// (the most open they were seen during the action) ...
    pub blink_closed_ratio: f32,
    /// ... and as open again at or above this fraction.
    pub blink_open_ratio: f32,
    /// Blink: frames with |yaw| above this, degrees, are not judged.
    pub blink_max_yaw: f32,
    /// False-match rate of the same-face check (a calibrated operating point).
    pub same_face_fmr: f64,
    /// A face whose landmarks move less than this (RMS, in interocular
    /// distances) over `still_window_ms` is a still image.
    pub still_rms: f32,
    pub still_window_ms: u64,
    /// Before each prompt the face holds still and frontal for a random time
    /// in this range, ms (CSPRNG, 10 ms grid; a stated choice: long enough to
    /// be unpredictable, short enough not to annoy).
    pub hold_min_ms: u32,
    pub hold_max_ms: u32,
    /// An action seen sooner than this after its prompt began before it, ms
    /// (visual reaction times are 200-250 ms; a stated choice).
    pub min_reaction_ms: u32,
    /// Each action must be seen within this time after its prompt, ms.
    pub action_window_ms: u32,
}

impl ChallengeConfig {
    /// Refuses settings no session can be judged with.
    pub fn check(&self) -> Result<(), SessionError> {
        let (closed, open) = (self.blink_closed_ratio, self.blink_open_ratio);
        if !(closed > 0.0 && closed < open && open <= 1.0) {
            return Err(SessionError::Config("blink ratios must satisfy 0 < closed < open <= 1"));
        }
        if operating_point(self.same_face_fmr).is_none() {
            return Err(SessionError::Config("same_face_fmr must be a calibrated operating point"));
        }
        if self.hold_min_ms > self.hold_max_ms || self.hold_max_ms > 10_000 {
            return Err(SessionError::Config("hold times must satisfy min <= max <= 10000 ms"));
        }
        if self.min_reaction_ms >= self.action_window_ms {
            return Err(SessionError::Config("the reaction time must be shorter than the action window"));
        }
        Ok(())
    }
}

impl Default for ChallengeConfig {
    fn default() -> Self {
        ChallengeConfig {
            actions: 2,
            timeout_ms: 30_000,
            turn_degrees: 20.0,
            closer_ratio: 1.3,
            start_max_yaw: 15.0,
            blink_closed_ratio: 0.55,
            blink_open_ratio: 0.75,
            blink_max_yaw: 25.0,
            same_face_fmr: 1e-2,
            still_rms: 0.002,
            still_window_ms: 1_500,
            hold_min_ms: 700,
            hold_max_ms: 2_000,
            min_reaction_ms: 250,
            action_window_ms: 4_000,
        }
    }
}

/// Why a session failed. String codes are a public contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailReason {
    /// The face in view is not the one the session started with.
    FaceChanged,
    /// More than one face is in view.
    SeveralFaces,
    /// The face does not move at all: a photo or a frozen screen.
    StillImage,
    /// The action was seen sooner after its prompt than a person can react:
    /// it began before the prompt (a recording playing on).
    PrematureAction,
}

impl FailReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            FailReason::FaceChanged => "face_changed",
            FailReason::SeveralFaces => "several_faces",
            FailReason::StillImage => "still_image",
            FailReason::PrematureAction => "premature_action",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Waiting for a usable frontal face to start from.
    Starting,
    /// `done` actions performed; the face must hold still and look at the
    /// camera until the next prompt (its moment is random).
    Holding {
        done: usize,
    },
    /// `done` actions performed; `current` is the one asked now.
    InProgress {
        done: usize,
        current: Action,
    },
    Passed,
    Failed(FailReason),
    /// The session, or the current action's window, ran out of time.
    TimedOut,
}

impl SessionState {
    /// A stable code (the CLI's JSON): `starting`, `holding`, `in_progress`,
    /// `passed`, `failed` (why: `FailReason::as_str`) or `timed_out`.
    pub fn as_str(&self) -> &'static str {
        match self {
            SessionState::Starting => "starting",
            SessionState::Holding { .. } => "holding",
            SessionState::InProgress { .. } => "in_progress",
            SessionState::Passed => "passed",
            SessionState::Failed(_) => "failed",
            SessionState::TimedOut => "timed_out",
        }
    }

    pub fn is_final(&self) -> bool {
        matches!(self, SessionState::Passed | SessionState::Failed(_) | SessionState::TimedOut)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("frame at {got} ms is not after the previous frame at {last} ms")]
    OutOfOrder { last: u64, got: u64 },
    #[error("the session is over ({0:?}): start a new one")]
    Finished(SessionState),
    #[error("configuration is invalid: {0}")]
    Config(&'static str),
    #[error(transparent)]
    Face(#[from] FaceError),
}

/// What a session learns from one frame. For a camera frame it is computed
/// when needed ([`LiveFrame`]: the eyes only while a blink is asked, the
/// embedding only at the start and when an action completes); recorded
/// footage can be observed once and judged against many challenges.
pub trait Observe {
    /// The detector's faces.
    fn faces(&mut self) -> Result<&[Face], FaceError>;
    /// Mean eye openness of `face` (see `trustshot_face::eyes`).
    fn eye_openness(&mut self, face: &Face) -> Result<f32, FaceError>;
    fn embedding(&mut self, face: &Face) -> Result<Embedding, FaceError>;
}

/// A camera frame, observed through the engine as the session asks; its
/// faces found by a [`Tracker`] (near the previous frame's face, with
/// whole-frame searches at least every 500 ms).
pub struct LiveFrame<'a> {
    engine: &'a FaceEngine,
    frame: &'a Frame,
    tracker: &'a mut Tracker,
    timestamp_ms: u64,
    faces: Option<Vec<Face>>,
}

impl<'a> LiveFrame<'a> {
    pub fn new(engine: &'a FaceEngine, frame: &'a Frame, tracker: &'a mut Tracker, timestamp_ms: u64) -> LiveFrame<'a> {
        LiveFrame { engine, frame, tracker, timestamp_ms, faces: None }
    }
}

impl Observe for LiveFrame<'_> {
    fn faces(&mut self) -> Result<&[Face], FaceError> {
        if self.faces.is_none() {
            self.faces = Some(self.tracker.detect(self.engine, self.frame, self.timestamp_ms)?.0);
        }
        Ok(self.faces.as_deref().unwrap_or_default())
    }

    fn eye_openness(&mut self, face: &Face) -> Result<f32, FaceError> {
        Ok(self.engine.eye_openness(self.frame, face)?.mean())
    }

    fn embedding(&mut self, face: &Face) -> Result<Embedding, FaceError> {
        self.engine.embed_face(self.frame, face)
    }
}

/// The first usable frame: where every action is measured from.
struct Baseline {
    yaw: f32,
    width: f32,
    embedding: Embedding,
}

/// Eye openness seen during a blink action: open, then closed, then open.
#[derive(Debug, Default, Clone, Copy)]
struct Blink {
    /// The most open the eyes were seen so far (the face's own open level).
    open_level: f32,
    closed_seen: bool,
}

impl Blink {
    /// Takes one frame's openness; true when it completes the blink.
    fn step(&mut self, openness: f32, config: &ChallengeConfig) -> bool {
        if self.closed_seen && openness >= config.blink_open_ratio * self.open_level {
            return true;
        }
        if self.open_level > 0.0 && openness < config.blink_closed_ratio * self.open_level {
            self.closed_seen = true;
        }
        self.open_level = self.open_level.max(openness);
        false
    }
}

/// Where the current action stands.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for the face to hold still and frontal for `hold_ms`; since
    /// when it has (None: it is not now).
    Holding { neutral_since: Option<u64>, hold_ms: u32 },
    /// The action was prompted at `at`.
    Prompted { at: u64 },
}

/// The actions asked and the hold before each prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub actions: Vec<Action>,
    /// Hold before each action's prompt, ms (one per action).
    pub holds_ms: Vec<u32>,
}

impl Challenge {
    /// `config.actions` distinct actions in random order, random holds
    /// (OS CSPRNG, rejection sampling).
    pub fn draw(config: &ChallengeConfig) -> Result<Challenge, SessionError> {
        if config.actions == 0 || config.actions > Action::ALL.len() {
            return Err(SessionError::Config("between 1 and 4 actions"));
        }
        let rng = ring::rand::SystemRandom::new();
        let unavailable = |_| SessionError::Config("randomness unavailable");
        let mut pool = Action::ALL.to_vec();
        let (mut actions, mut holds_ms) = (Vec::new(), Vec::new());
        while actions.len() < config.actions {
            actions.push(pool.remove(random::uniform(&rng, pool.len() as u32).map_err(unavailable)? as usize));
            let hold = random::duration_ms(config.hold_min_ms, config.hold_max_ms, |n| random::uniform(&rng, n));
            holds_ms.push(hold.map_err(unavailable)?);
        }
        Ok(Challenge { actions, holds_ms })
    }
}

pub struct ChallengeSession {
    engine: Arc<FaceEngine>,
    /// Follows the face between frames (for `push_frame`).
    tracker: Tracker,
    config: ChallengeConfig,
    challenge: Challenge,
    same_face_threshold: f32,
    baseline: Option<Baseline>,
    first_frame_ms: Option<u64>,
    last_ms: Option<u64>,
    done: usize,
    phase: Phase,
    /// The blink being watched, while the current action is a blink.
    blink: Blink,
    /// (timestamp, landmarks normalised by the interocular distance) of recent frames.
    recent: Vec<(u64, [f32; 10])>,
    state: SessionState,
}

impl ChallengeSession {
    /// A session with `config.actions` actions and holds drawn at random (OS randomness).
    pub fn new(engine: Arc<FaceEngine>, config: ChallengeConfig) -> Result<ChallengeSession, SessionError> {
        let challenge = Challenge::draw(&config)?;
        ChallengeSession::with_challenge(engine, config, challenge)
    }

    /// A session asking exactly `actions`, each prompted after the shortest
    /// hold (tests, or a server-chosen challenge).
    pub fn with_actions(
        engine: Arc<FaceEngine>,
        config: ChallengeConfig,
        actions: Vec<Action>,
    ) -> Result<ChallengeSession, SessionError> {
        let holds_ms = vec![config.hold_min_ms; actions.len()];
        ChallengeSession::with_challenge(engine, config, Challenge { actions, holds_ms })
    }

    /// A session asking exactly `challenge` (a server-drawn one must come from a CSPRNG too).
    pub fn with_challenge(
        engine: Arc<FaceEngine>,
        config: ChallengeConfig,
        challenge: Challenge,
    ) -> Result<ChallengeSession, SessionError> {
        if challenge.actions.is_empty() || challenge.actions.len() != challenge.holds_ms.len() {
            return Err(SessionError::Config("at least one action, and one hold per action"));
        }
        config.check()?;
        let same_face_threshold = operating_point(config.same_face_fmr)
            .ok_or(SessionError::Config("same_face_fmr must be a calibrated operating point"))?
            .threshold;
        Ok(ChallengeSession {
            engine,
            tracker: Tracker::default(),
            config,
            challenge,
            same_face_threshold,
            baseline: None,
            first_frame_ms: None,
            last_ms: None,
            done: 0,
            phase: Phase::Holding { neutral_since: None, hold_ms: 0 },
            blink: Blink::default(),
            recent: Vec::new(),
            state: SessionState::Starting,
        })
    }

    pub fn actions(&self) -> &[Action] {
        &self.challenge.actions
    }

    /// The actions and the hold before each prompt.
    pub fn challenge(&self) -> &Challenge {
        &self.challenge
    }

    pub fn state(&self) -> SessionState {
        self.state
    }

    /// The embedding of the face the session started with (None before the start).
    pub fn baseline_embedding(&self) -> Option<&Embedding> {
        self.baseline.as_ref().map(|b| &b.embedding)
    }

    /// Feeds one camera frame taken at `timestamp_ms` (any monotonic clock).
    pub fn push_frame(&mut self, frame: &Frame, timestamp_ms: u64) -> Result<SessionState, SessionError> {
        let (engine, mut tracker) = (self.engine.clone(), self.tracker);
        let state = self.push_observed(&mut LiveFrame::new(&engine, frame, &mut tracker, timestamp_ms), timestamp_ms);
        self.tracker = tracker;
        state
    }

    /// Feeds one observed frame taken at `timestamp_ms`.
    pub fn push_observed(&mut self, frame: &mut dyn Observe, timestamp_ms: u64) -> Result<SessionState, SessionError> {
        if self.state.is_final() {
            return Err(SessionError::Finished(self.state));
        }
        if let Some(last) = self.last_ms {
            if timestamp_ms <= last {
                return Err(SessionError::OutOfOrder { last, got: timestamp_ms });
            }
        }
        self.last_ms = Some(timestamp_ms);
        let first = *self.first_frame_ms.get_or_insert(timestamp_ms);
        if timestamp_ms - first > self.config.timeout_ms {
            self.state = SessionState::TimedOut;
            return Ok(self.state);
        }
        self.state = self.step(frame, timestamp_ms)?;
        Ok(self.state)
    }

    fn step(&mut self, frame: &mut dyn Observe, now: u64) -> Result<SessionState, SessionError> {
        let faces = frame.faces()?;
        let Some(face) = faces.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area())).copied() else {
            return Ok(self.waiting(now));
        };
        if faces.iter().filter(|f| f.bbox.w >= 0.5 * face.bbox.w).count() > 1 {
            return Ok(SessionState::Failed(FailReason::SeveralFaces));
        }
        let Some(p) = face.pose() else { return Ok(self.waiting(now)) };
        if self.is_still(&face, now) {
            return Ok(SessionState::Failed(FailReason::StillImage));
        }
        let Some(baseline) = &self.baseline else {
            if p.yaw.abs() > self.config.start_max_yaw {
                return Ok(SessionState::Starting);
            }
            let embedding = frame.embedding(&face)?;
            self.baseline = Some(Baseline { yaw: p.yaw, width: face.bbox.w, embedding });
            self.phase = Phase::Holding { neutral_since: None, hold_ms: self.challenge.holds_ms[0] };
            return Ok(self.hold(&face, p.yaw, now));
        };
        let current = self.challenge.actions[self.done];
        let at = match self.phase {
            Phase::Holding { .. } => return Ok(self.hold(&face, p.yaw, now)),
            Phase::Prompted { at } => at,
        };
        let performed = match current {
            Action::TurnLeft => p.yaw - baseline.yaw >= self.config.turn_degrees,
            Action::TurnRight => baseline.yaw - p.yaw >= self.config.turn_degrees,
            Action::MoveCloser => face.bbox.w >= baseline.width * self.config.closer_ratio,
            Action::Blink => {
                p.yaw.abs() <= self.config.blink_max_yaw && self.blink.step(frame.eye_openness(&face)?, &self.config)
            }
        };
        if !performed {
            return Ok(self.waiting(now));
        }
        if now - at < u64::from(self.config.min_reaction_ms) {
            return Ok(SessionState::Failed(FailReason::PrematureAction));
        }
        // The action happened: it must be the same person who started.
        let embedding = frame.embedding(&face)?;
        if embedding.cosine(&baseline.embedding) < self.same_face_threshold {
            return Ok(SessionState::Failed(FailReason::FaceChanged));
        }
        self.done += 1;
        self.blink = Blink::default();
        Ok(match self.challenge.holds_ms.get(self.done) {
            Some(&hold_ms) => {
                self.phase = Phase::Holding { neutral_since: None, hold_ms };
                SessionState::Holding { done: self.done }
            }
            None => SessionState::Passed,
        })
    }

    /// The state while nothing decisive happened in this frame: unchanged,
    /// unless the current action's window has run out. (Holding has no
    /// window of its own: the session's timeout ends a hold never kept.)
    fn waiting(&self, now: u64) -> SessionState {
        match self.phase {
            Phase::Prompted { at } if now - at > u64::from(self.config.action_window_ms) => SessionState::TimedOut,
            _ => self.state,
        }
    }

    /// While holding: prompts the next action once the face has been
    /// neutral (frontal, at its starting size) for the drawn hold time.
    fn hold(&mut self, face: &Face, yaw: f32, now: u64) -> SessionState {
        let Phase::Holding { neutral_since, hold_ms } = self.phase else { return self.state };
        let baseline = self.baseline.as_ref().expect("holding starts after the baseline");
        let neutral = (yaw - baseline.yaw).abs() < self.config.turn_degrees / 2.0
            && face.bbox.w < baseline.width * (1.0 + (self.config.closer_ratio - 1.0) / 2.0);
        let since = if neutral { Some(neutral_since.unwrap_or(now)) } else { None };
        self.phase = Phase::Holding { neutral_since: since, hold_ms };
        match since {
            Some(t) if now - t >= u64::from(hold_ms) => {
                self.phase = Phase::Prompted { at: now };
                SessionState::InProgress { done: self.done, current: self.challenge.actions[self.done] }
            }
            _ => SessionState::Holding { done: self.done },
        }
    }

    /// Records the face's landmarks and tells whether they have stayed still
    /// (RMS motion below `still_rms` interocular distances) for the whole
    /// `still_window_ms` just ended.
    fn is_still(&mut self, face: &Face, now: u64) -> bool {
        let iod = face.interocular().max(1.0);
        let c = face.landmarks[0].midpoint(face.landmarks[1]);
        let mut normalised = [0f32; 10];
        for (i, p) in face.landmarks.iter().enumerate() {
            normalised[2 * i] = (p.x - c.x) / iod;
            normalised[2 * i + 1] = (p.y - c.y) / iod;
        }
        self.recent.push((now, normalised));
        let window = self.config.still_window_ms;
        // The window is covered once some recorded frame is at least that old.
        let covered = now - self.recent[0].0 >= window;
        self.recent.retain(|(t, _)| now - t <= window);
        if !covered || self.recent.len() < 3 {
            return false;
        }
        let n = self.recent.len() as f32;
        let mut mean = [0f32; 10];
        for (_, l) in &self.recent {
            (0..10).for_each(|k| mean[k] += l[k] / n);
        }
        let var: f32 =
            self.recent.iter().map(|(_, l)| (0..10).map(|k| (l[k] - mean[k]).powi(2)).sum::<f32>()).sum::<f32>() / n;
        (var / 5.0).sqrt() < self.config.still_rms
    }
}
