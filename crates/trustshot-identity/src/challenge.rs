//! Active liveness: a random challenge (turn left, turn right, move closer,
//! blink) performed in front of the camera, judged from the landmarks over
//! time, while the same face (by embedding) stays in view.
//!
//! The app asks for the actions in order and feeds camera frames with their
//! timestamps. The session answers in progress / passed / failed(reason) /
//! timed out. A held-up photo fails: it cannot turn, and its landmarks do not
//! even jitter (a live face always moves a little, a still image never does).
//!
//! A blink is judged from eye openness (MediaPipe Iris, `trustshot_face::eyes`)
//! relative to the face's own open level during the action: the eyes must be
//! seen open, then closed, then open again. Frames with the head turned far
//! are not judged (the lids look narrower from the side). A replayed video of
//! the person blinks too: blinking defeats prints and still images, passive
//! liveness is what looks for screens.

use std::sync::Arc;
use trustshot_face::detect::Face;
use trustshot_face::matcher::operating_point;
use trustshot_face::{pose, Embedding, FaceEngine, FaceError, Frame};

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

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChallengeConfig {
    /// Number of actions asked (drawn at random, no repeats).
    pub actions: usize,
    /// The whole session must finish within this time.
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
        Ok(())
    }
}

impl Default for ChallengeConfig {
    fn default() -> Self {
        ChallengeConfig {
            actions: 2,
            timeout_ms: 20_000,
            turn_degrees: 20.0,
            closer_ratio: 1.3,
            start_max_yaw: 15.0,
            blink_closed_ratio: 0.55,
            blink_open_ratio: 0.75,
            blink_max_yaw: 25.0,
            same_face_fmr: 1e-2,
            still_rms: 0.002,
            still_window_ms: 1_500,
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
}

impl FailReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            FailReason::FaceChanged => "face_changed",
            FailReason::SeveralFaces => "several_faces",
            FailReason::StillImage => "still_image",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Waiting for a usable frontal face to start from.
    Starting,
    /// `done` actions performed; `current` is the one asked now.
    InProgress {
        done: usize,
        current: Action,
    },
    Passed,
    Failed(FailReason),
    TimedOut,
}

impl SessionState {
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

pub struct ChallengeSession {
    engine: Arc<FaceEngine>,
    config: ChallengeConfig,
    actions: Vec<Action>,
    same_face_threshold: f32,
    baseline: Option<Baseline>,
    first_frame_ms: Option<u64>,
    last_ms: Option<u64>,
    done: usize,
    /// The blink being watched, while the current action is a blink.
    blink: Blink,
    /// (timestamp, landmarks normalised by the interocular distance) of recent frames.
    recent: Vec<(u64, [f32; 10])>,
    state: SessionState,
}

impl ChallengeSession {
    /// A session with `config.actions` actions drawn at random (OS randomness).
    pub fn new(engine: Arc<FaceEngine>, config: ChallengeConfig) -> Result<ChallengeSession, SessionError> {
        use ring::rand::SecureRandom;
        if config.actions == 0 || config.actions > Action::ALL.len() {
            return Err(SessionError::Config("between 1 and 4 actions"));
        }
        let mut pool = Action::ALL.to_vec();
        let mut actions = Vec::new();
        let rng = ring::rand::SystemRandom::new();
        while actions.len() < config.actions {
            let mut b = [0u8; 1];
            rng.fill(&mut b).map_err(|_| SessionError::Config("randomness unavailable"))?;
            actions.push(pool.remove(b[0] as usize % pool.len()));
        }
        ChallengeSession::with_actions(engine, config, actions)
    }

    /// A session asking exactly `actions` (tests, or a server-chosen challenge).
    pub fn with_actions(
        engine: Arc<FaceEngine>,
        config: ChallengeConfig,
        actions: Vec<Action>,
    ) -> Result<ChallengeSession, SessionError> {
        if actions.is_empty() {
            return Err(SessionError::Config("at least one action"));
        }
        config.check()?;
        let same_face_threshold = operating_point(config.same_face_fmr)
            .ok_or(SessionError::Config("same_face_fmr must be a calibrated operating point"))?
            .threshold;
        Ok(ChallengeSession {
            engine,
            config,
            actions,
            same_face_threshold,
            baseline: None,
            first_frame_ms: None,
            last_ms: None,
            done: 0,
            blink: Blink::default(),
            recent: Vec::new(),
            state: SessionState::Starting,
        })
    }

    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    pub fn state(&self) -> SessionState {
        self.state
    }

    /// Feeds one frame taken at `timestamp_ms` (any monotonic clock).
    pub fn push_frame(&mut self, frame: &Frame, timestamp_ms: u64) -> Result<SessionState, SessionError> {
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

    fn step(&mut self, frame: &Frame, now: u64) -> Result<SessionState, SessionError> {
        let faces = self.engine.detect(frame)?;
        let Some(face) = faces.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area())).copied() else {
            return Ok(self.state);
        };
        if faces.iter().filter(|f| f.bbox.w >= 0.5 * face.bbox.w).count() > 1 {
            return Ok(SessionState::Failed(FailReason::SeveralFaces));
        }
        let Some(p) = pose::estimate(&face) else { return Ok(self.state) };
        if self.is_still(&face, now) {
            return Ok(SessionState::Failed(FailReason::StillImage));
        }
        let Some(baseline) = &self.baseline else {
            if p.yaw.abs() > self.config.start_max_yaw {
                return Ok(SessionState::Starting);
            }
            let embedding = self.engine.embed_face(frame, &face)?;
            self.baseline = Some(Baseline { yaw: p.yaw, width: face.bbox.w, embedding });
            return Ok(SessionState::InProgress { done: 0, current: self.actions[0] });
        };
        let current = self.actions[self.done];
        let performed = match current {
            Action::TurnLeft => p.yaw - baseline.yaw >= self.config.turn_degrees,
            Action::TurnRight => baseline.yaw - p.yaw >= self.config.turn_degrees,
            Action::MoveCloser => face.bbox.w >= baseline.width * self.config.closer_ratio,
            Action::Blink => {
                p.yaw.abs() <= self.config.blink_max_yaw
                    && self.blink.step(self.engine.eye_openness(frame, &face)?.mean(), &self.config)
            }
        };
        if !performed {
            return Ok(SessionState::InProgress { done: self.done, current });
        }
        // The action happened: it must be the same person who started.
        let embedding = self.engine.embed_face(frame, &face)?;
        if embedding.cosine(&baseline.embedding) < self.same_face_threshold {
            return Ok(SessionState::Failed(FailReason::FaceChanged));
        }
        self.done += 1;
        self.blink = Blink::default();
        Ok(match self.actions.get(self.done) {
            Some(&next) => SessionState::InProgress { done: self.done, current: next },
            None => SessionState::Passed,
        })
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
