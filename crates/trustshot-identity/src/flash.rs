//! Screen colour-flash challenge: the phone's screen shows an unpredictable
//! sequence of saturated colours, and the face must return that light, in
//! order and in time.
//!
//! Why it stops replays: the sequence is drawn from the OS CSPRNG when the
//! session starts, so a video recorded earlier cannot contain its reflection.
//! A screen or print held up to the camera is flat: the phone's light falls
//! on it evenly (glass or paper, not a face in front of a distant background),
//! so the face and the area beside it change together; on a real face at
//! arm's length the background is much farther away and returns far less.
//!
//! How a session is judged, from the frames the app feeds with timestamps and
//! the times each colour actually appeared on the display (same clock):
//! - per frame, the mean linear RGB of the face's skin (cheeks and nose,
//!   between the eyes and the mouth) and of two strips beside the face, as
//!   chromaticity (r, g, b) / (r + g + b), so auto-exposure's brightness
//!   changes drop out;
//! - the response is face chroma minus background chroma (room light that
//!   changes both cancels), compared with the emitted colour's chroma at
//!   `t - lag`, for every lag from 0 to `max_lag_ms` (camera latency plus
//!   exposure lag): the lag with the highest Pearson correlation is the
//!   estimate;
//! - it passes only if the response is there at all, correlates with the
//!   emitted sequence, names the right colour for most steps (order), and the
//!   face responds clearly more than the background (not a flat surface).
//!
//! The thresholds below are a first setting checked on SIMULATED captures
//! (real face photos relit by a documented reflection model,
//! `trustshot-testkit/src/flash_sim.rs`): there is no real device capture here. They must
//! be calibrated on device recordings (`trustshot eval flash --session DIR`).

use crate::random::{duration_ms, uniform};
use ring::rand::SecureRandom;
use trustshot_face::landmark;
use trustshot_face::{Face, Frame};

/// The palette: saturated hues a phone screen can show at full brightness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlashColour {
    Red,
    Yellow,
    Green,
    Cyan,
    Blue,
    Magenta,
}

impl FlashColour {
    pub const ALL: [FlashColour; 6] = [
        FlashColour::Red,
        FlashColour::Yellow,
        FlashColour::Green,
        FlashColour::Cyan,
        FlashColour::Blue,
        FlashColour::Magenta,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            FlashColour::Red => "red",
            FlashColour::Yellow => "yellow",
            FlashColour::Green => "green",
            FlashColour::Cyan => "cyan",
            FlashColour::Blue => "blue",
            FlashColour::Magenta => "magenta",
        }
    }

    pub fn from_code(code: &str) -> Option<FlashColour> {
        FlashColour::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// The sRGB colour to fill the screen with.
    pub fn rgb(&self) -> [u8; 3] {
        match self {
            FlashColour::Red => [255, 0, 0],
            FlashColour::Yellow => [255, 255, 0],
            FlashColour::Green => [0, 255, 0],
            FlashColour::Cyan => [0, 255, 255],
            FlashColour::Blue => [0, 0, 255],
            FlashColour::Magenta => [255, 0, 255],
        }
    }

    /// Chromaticity of the emitted light (linear RGB over its sum).
    pub fn chroma(&self) -> [f32; 3] {
        let [r, g, b] = self.rgb().map(|v| f32::from(v) / 255.0);
        let sum = r + g + b;
        [r / sum, g / sum, b / sum]
    }
}

/// One colour of the sequence and how long the app shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlashStep {
    pub colour: FlashColour,
    pub duration_ms: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlashConfig {
    /// Colours per session. 10 colours of 6 hues with no repeat in a row is
    /// 6 * 5^9 = 11.7 million sequences before timing; what bounds a replay
    /// is how many steps it must name, with `min_step_agreement`.
    pub steps: usize,
    /// Each colour is shown for a random time in this range, ms (10 ms grid).
    pub min_step_ms: u32,
    pub max_step_ms: u32,
    /// Largest delay between a colour appearing and the camera seeing it:
    /// camera pipeline latency plus exposure lag, ms (a stated choice: phone
    /// camera pipelines deliver frames 60-250 ms late).
    pub max_lag_ms: u32,
    /// After each colour change (plus the lag) frames are not used to name
    /// that step's colour for this long, ms: the exposure is still settling.
    pub settle_ms: u32,
    /// The response must be at least this large: RMS of the face-minus-
    /// background chromaticity around its session mean.
    pub min_response: f32,
    /// Pearson correlation of the response with the emitted chroma at the
    /// estimated lag.
    pub min_correlation: f32,
    /// Share of steps whose response names the emitted colour. With the
    /// defaults (8 of 10) frames recorded under another sequence passed 0 of
    /// 20,000 other sequences on SIMULATED captures (8 steps at 75%: 9 of
    /// 10,000), models/README.md.
    pub min_step_agreement: f32,
    /// The face's response (regression gain on the emitted chroma) must be at
    /// least this many times the background's.
    pub min_face_to_background: f32,
    /// Frames with a measured face needed per step, on average.
    pub min_frames_per_step: f32,
}

impl Default for FlashConfig {
    fn default() -> Self {
        FlashConfig {
            steps: 10,
            min_step_ms: 300,
            max_step_ms: 500,
            max_lag_ms: 400,
            settle_ms: 100,
            min_response: 0.004,
            min_correlation: 0.6,
            min_step_agreement: 0.8,
            min_face_to_background: 3.0,
            min_frames_per_step: 3.0,
        }
    }
}

impl FlashConfig {
    /// Refuses settings no session can be judged with.
    pub fn check(&self) -> Result<(), FlashError> {
        if !(4..=16).contains(&self.steps) {
            return Err(FlashError::Config("between 4 and 16 steps"));
        }
        if !(100 <= self.min_step_ms && self.min_step_ms <= self.max_step_ms && self.max_step_ms <= 2_000) {
            return Err(FlashError::Config("step times must satisfy 100 <= min <= max <= 2000 ms"));
        }
        if self.max_lag_ms > 1_000 || self.settle_ms >= self.min_step_ms {
            return Err(FlashError::Config("max lag at most 1000 ms, settle shorter than a step"));
        }
        let unit = |v: f32| v.is_finite() && v > 0.0 && v <= 1.0;
        if !(unit(self.min_correlation) && unit(self.min_step_agreement) && unit(self.min_response)) {
            return Err(FlashError::Config("correlation, agreement and response thresholds in (0, 1]"));
        }
        if !(self.min_face_to_background.is_finite() && self.min_face_to_background >= 1.0) {
            return Err(FlashError::Config("face-to-background ratio at least 1"));
        }
        if !(self.min_frames_per_step.is_finite() && self.min_frames_per_step >= 1.0) {
            return Err(FlashError::Config("at least one frame per step"));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FlashError {
    #[error("configuration is invalid: {0}")]
    Config(&'static str),
    #[error("the OS random generator is unavailable")]
    Randomness,
    #[error("step {got} reported as displayed, expected step {expected}")]
    StepOutOfOrder { expected: usize, got: usize },
    #[error("timestamp {got} ms is before the previous one at {last} ms")]
    TimeOutOfOrder { last: u64, got: u64 },
    #[error("the sequence is not finished: {shown} of {steps} colours displayed, or the last not yet over")]
    NotFinished { shown: usize, steps: usize },
}

/// Why a finished session did not pass. String codes are a public contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlashFailure {
    /// Too few frames with a measurable face while the colours were shown.
    TooFewFrames,
    /// The face's colour did not change with the screen.
    NoResponse,
    /// The face's colour changed, but not with this session's sequence.
    WrongSequence,
    /// Too many steps answered with the wrong colour.
    WrongOrder,
    /// The area beside the face changed as much as the face: a flat surface
    /// (a screen or print held up), not a face in front of a background.
    FlatSurface,
}

impl FlashFailure {
    pub fn as_str(&self) -> &'static str {
        match self {
            FlashFailure::TooFewFrames => "too_few_frames",
            FlashFailure::NoResponse => "no_response",
            FlashFailure::WrongSequence => "wrong_sequence",
            FlashFailure::WrongOrder => "wrong_order",
            FlashFailure::FlatSurface => "flat_surface",
        }
    }
}

/// Every measured value of a judged session, with the thresholds it was held to.
#[derive(Debug, Clone, PartialEq)]
pub struct FlashVerdict {
    pub passed: bool,
    pub failure: Option<FlashFailure>,
    pub frames_used: usize,
    /// Estimated camera lag, ms.
    pub lag_ms: u32,
    pub correlation: f32,
    pub response: f32,
    pub step_agreement: f32,
    /// Regression gains of the face's and the background's chroma on the emitted chroma.
    pub face_gain: f32,
    pub background_gain: f32,
    pub config: FlashConfig,
}

/// Mean linear RGB of the face's skin and of the background beside it in one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LightSample {
    pub face: [f32; 3],
    pub background: [f32; 3],
}

impl LightSample {
    /// Measures `face` in `frame`; None when the skin or the background area
    /// is too small or falls outside the picture (face too close or at an edge).
    pub fn measure(frame: &Frame, face: &Face) -> Option<LightSample> {
        let l = &face.landmarks;
        let (le, re) = (l[landmark::EYE_IMAGE_LEFT], l[landmark::EYE_IMAGE_RIGHT]);
        let mouth_y = (l[landmark::MOUTH_IMAGE_LEFT].y + l[landmark::MOUTH_IMAGE_RIGHT].y) / 2.0;
        let iod = face.interocular();
        // Cheeks and nose: between the eyes' columns, from below the eyes to the mouth.
        let skin = region_mean(frame, le.x.min(re.x), (le.y + re.y) / 2.0 + 0.3 * iod, le.x.max(re.x), mouth_y)?;
        // Two strips beside the face, at the face's height: usually the room.
        let (cx, w, b) = (face.bbox.center().x, face.bbox.w, &face.bbox);
        let left = region_mean(frame, cx - 1.3 * w, b.y, cx - 0.8 * w, b.y + b.h);
        let right = region_mean(frame, cx + 0.8 * w, b.y, cx + 1.3 * w, b.y + b.h);
        let background = match (left, right) {
            (Some(a), Some(b)) => a.add(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => return None,
        };
        Some(LightSample { face: skin.mean(), background: background.mean() })
    }
}

/// A running sum of linear RGB over some pixels.
#[derive(Debug, Clone, Copy)]
struct Sum {
    rgb: [f64; 3],
    n: u64,
}

impl Sum {
    fn add(self, o: Sum) -> Sum {
        Sum { rgb: [self.rgb[0] + o.rgb[0], self.rgb[1] + o.rgb[1], self.rgb[2] + o.rgb[2]], n: self.n + o.n }
    }

    fn mean(&self) -> [f32; 3] {
        self.rgb.map(|v| (v / self.n as f64) as f32)
    }
}

/// Minimum pixels sampled for a region to count.
const MIN_REGION_PIXELS: u64 = 64;

/// Sum of linear RGB over [x0, x1) x [y0, y1) clipped to the frame, sampled
/// on a grid of at most ~64 x 64 points; None when too little is inside.
fn region_mean(frame: &Frame, x0: f32, y0: f32, x1: f32, y1: f32) -> Option<Sum> {
    let clip = |v: f32, max: u32| (v.max(0.0) as u32).min(max);
    let (x0, x1) = (clip(x0, frame.width()), clip(x1, frame.width()));
    let (y0, y1) = (clip(y0, frame.height()), clip(y1, frame.height()));
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let (sx, sy) = (((x1 - x0) / 64).max(1), ((y1 - y0) / 64).max(1));
    let lut = linear_lut();
    let mut sum = Sum { rgb: [0.0; 3], n: 0 };
    for y in (y0..y1).step_by(sy as usize) {
        for x in (x0..x1).step_by(sx as usize) {
            let p = frame.pixel(x, y);
            (0..3).for_each(|c| sum.rgb[c] += f64::from(lut[p[c] as usize]));
            sum.n += 1;
        }
    }
    (sum.n >= MIN_REGION_PIXELS).then_some(sum)
}

/// An sRGB value (0..255) in linear light: reflected light adds in linear units.
pub fn srgb_to_linear(v: u8) -> f32 {
    linear_lut()[v as usize]
}

fn linear_lut() -> &'static [f32; 256] {
    static LUT: std::sync::OnceLock<[f32; 256]> = std::sync::OnceLock::new();
    LUT.get_or_init(|| {
        std::array::from_fn(|i| {
            let v = i as f32 / 255.0;
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        })
    })
}

fn chroma(rgb: [f32; 3]) -> [f32; 3] {
    let sum = (rgb[0] + rgb[1] + rgb[2]).max(1e-6);
    rgb.map(|v| v / sum)
}

/// Draws a sequence from `rng` (the OS CSPRNG in the SDK).
pub fn draw_sequence(config: &FlashConfig, rng: &dyn SecureRandom) -> Result<Vec<FlashStep>, FlashError> {
    sequence_from(config, |n| uniform(rng, n).map_err(|_| FlashError::Randomness))
}

/// The sequence rules, over `pick(n)`, a uniform integer in 0..n: uniform
/// colours with no colour twice in a row, uniform durations on a 10 ms grid.
/// The SDK picks from the OS CSPRNG (`draw_sequence`); tests from a seeded
/// generator, so that they judge the same sessions on every run.
pub fn sequence_from(
    config: &FlashConfig,
    mut pick: impl FnMut(u32) -> Result<u32, FlashError>,
) -> Result<Vec<FlashStep>, FlashError> {
    config.check()?;
    let mut steps: Vec<FlashStep> = Vec::with_capacity(config.steps);
    while steps.len() < config.steps {
        let allowed: Vec<FlashColour> =
            FlashColour::ALL.into_iter().filter(|c| steps.last().is_none_or(|prev| prev.colour != *c)).collect();
        let colour = allowed[pick(allowed.len() as u32)? as usize];
        let duration_ms = duration_ms(config.min_step_ms, config.max_step_ms, &mut pick)?;
        steps.push(FlashStep { colour, duration_ms });
    }
    Ok(steps)
}

/// Where a session stands, after each call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlashProgress {
    /// Colours reported as displayed so far.
    pub shown: usize,
    pub steps: usize,
    /// Frames in which the face could be measured.
    pub frames_measured: usize,
    /// Every colour was shown and the last one is over: `verdict` can judge.
    pub finished: bool,
}

pub struct FlashSession {
    config: FlashConfig,
    sequence: Vec<FlashStep>,
    displayed_ms: Vec<u64>,
    samples: Vec<(u64, LightSample)>,
    last_frame_ms: Option<u64>,
}

impl FlashSession {
    /// A session with a fresh sequence from the OS CSPRNG.
    pub fn new(config: FlashConfig) -> Result<FlashSession, FlashError> {
        let sequence = draw_sequence(&config, &ring::rand::SystemRandom::new())?;
        FlashSession::with_sequence(config, sequence)
    }

    /// A session showing exactly `sequence` (tests, a recorded session, or a
    /// server-drawn challenge, which must come from a CSPRNG too).
    pub fn with_sequence(config: FlashConfig, sequence: Vec<FlashStep>) -> Result<FlashSession, FlashError> {
        config.check()?;
        if sequence.len() < 4 {
            return Err(FlashError::Config("a sequence of at least 4 colours"));
        }
        Ok(FlashSession { config, sequence, displayed_ms: Vec::new(), samples: Vec::new(), last_frame_ms: None })
    }

    pub fn sequence(&self) -> &[FlashStep] {
        &self.sequence
    }

    pub fn config(&self) -> &FlashConfig {
        &self.config
    }

    /// The app reports that colour `step` appeared on the display at
    /// `timestamp_ms` (the clock the camera frames are stamped with).
    pub fn displayed(&mut self, step: usize, timestamp_ms: u64) -> Result<FlashProgress, FlashError> {
        let expected = self.displayed_ms.len();
        if step != expected {
            return Err(FlashError::StepOutOfOrder { expected, got: step });
        }
        if let Some(&last) = self.displayed_ms.last() {
            if timestamp_ms <= last {
                return Err(FlashError::TimeOutOfOrder { last, got: timestamp_ms });
            }
        }
        self.displayed_ms.push(timestamp_ms);
        Ok(self.progress())
    }

    /// Feeds one camera frame's measurement (None: no measurable face).
    pub fn push_sample(&mut self, timestamp_ms: u64, sample: Option<LightSample>) -> Result<FlashProgress, FlashError> {
        if let Some(last) = self.last_frame_ms {
            if timestamp_ms <= last {
                return Err(FlashError::TimeOutOfOrder { last, got: timestamp_ms });
            }
        }
        self.last_frame_ms = Some(timestamp_ms);
        if let Some(sample) = sample.filter(|s| s.face.iter().chain(&s.background).all(|v| v.is_finite())) {
            self.samples.push((timestamp_ms, sample));
        }
        Ok(self.progress())
    }

    /// Feeds one camera frame and the face found in it (None: no face).
    pub fn push_frame(
        &mut self,
        frame: &Frame,
        face: Option<&Face>,
        timestamp_ms: u64,
    ) -> Result<FlashProgress, FlashError> {
        self.push_sample(timestamp_ms, face.and_then(|f| LightSample::measure(frame, f)))
    }

    /// The camera stopped: no frame will follow. Once every colour was
    /// reported as displayed, the session is finished at the last colour's
    /// end (the frames it did not see count as frames without a face).
    pub fn close(&mut self) -> Result<FlashProgress, FlashError> {
        let progress = self.progress();
        if progress.finished {
            return Ok(progress);
        }
        let end = self.end_ms().ok_or(FlashError::NotFinished { shown: progress.shown, steps: progress.steps })?;
        let after_last = self.last_frame_ms.map_or(end, |t| end.max(t + 1));
        self.push_sample(after_last, None)
    }

    pub fn progress(&self) -> FlashProgress {
        FlashProgress {
            shown: self.displayed_ms.len(),
            steps: self.sequence.len(),
            frames_measured: self.samples.len(),
            finished: self.end_ms().zip(self.last_frame_ms).is_some_and(|(end, last)| last >= end),
        }
    }

    /// When the last colour's time is over, once every colour was shown.
    fn end_ms(&self) -> Option<u64> {
        (self.displayed_ms.len() == self.sequence.len())
            .then(|| self.displayed_ms.last().map(|t| t + u64::from(self.sequence.last().unwrap().duration_ms)))
            .flatten()
    }

    /// Judges the finished session.
    pub fn verdict(&self) -> Result<FlashVerdict, FlashError> {
        let progress = self.progress();
        if !progress.finished {
            return Err(FlashError::NotFinished { shown: progress.shown, steps: progress.steps });
        }
        let c = &self.config;
        let mut best: Option<Alignment> = None;
        for lag in (0..=c.max_lag_ms).step_by(10) {
            let a = self.align(lag);
            if best.as_ref().is_none_or(|b| a.correlation > b.correlation) {
                best = Some(a);
            }
        }
        let a = best.expect("the lag range is never empty");
        let verdict = |failure: Option<FlashFailure>| FlashVerdict {
            passed: failure.is_none(),
            failure,
            frames_used: a.frames,
            lag_ms: a.lag_ms,
            correlation: a.correlation,
            response: a.response,
            step_agreement: a.step_agreement,
            face_gain: a.face_gain,
            background_gain: a.background_gain,
            config: *c,
        };
        let failure = if (a.frames as f32) < c.min_frames_per_step * self.sequence.len() as f32 {
            Some(FlashFailure::TooFewFrames)
        } else if a.response < c.min_response {
            Some(FlashFailure::NoResponse)
        } else if a.correlation < c.min_correlation {
            Some(FlashFailure::WrongSequence)
        } else if a.step_agreement < c.min_step_agreement {
            Some(FlashFailure::WrongOrder)
        } else if a.face_gain < c.min_face_to_background * a.background_gain.max(0.0) {
            Some(FlashFailure::FlatSurface)
        } else {
            None
        };
        Ok(verdict(failure))
    }

    /// The step shown at `t` (display time), with the time since it appeared.
    fn step_at(&self, t: i64) -> Option<(usize, i64)> {
        let end = self.end_ms()? as i64;
        if t >= end {
            return None;
        }
        let i = self.displayed_ms.iter().rposition(|&d| d as i64 <= t)?;
        Some((i, t - self.displayed_ms[i] as i64))
    }

    /// The session's measurements against the sequence delayed by `lag_ms`.
    fn align(&self, lag_ms: u32) -> Alignment {
        // (step, settled, response, face chroma, background chroma, emitted chroma)
        let mut rows = Vec::new();
        for (t, s) in &self.samples {
            if let Some((step, since)) = self.step_at(*t as i64 - i64::from(lag_ms)) {
                let (f, b) = (chroma(s.face), chroma(s.background));
                let response = [f[0] - b[0], f[1] - b[1], f[2] - b[2]];
                let settled = since >= i64::from(self.config.settle_ms);
                rows.push((step, settled, response, f, b, self.sequence[step].colour.chroma()));
            }
        }
        let frames = rows.len();
        let mean = |pick: &dyn Fn(&Row) -> [f32; 3]| -> [f32; 3] {
            let mut m = [0f32; 3];
            rows.iter().for_each(|r| (0..3).for_each(|k| m[k] += pick(r)[k] / frames.max(1) as f32));
            m
        };
        let (mr, mf, mb, me) = (mean(&|r| r.2), mean(&|r| r.3), mean(&|r| r.4), mean(&|r| r.5));
        let (mut see, mut srr, mut ser, mut sef, mut seb) = (0f64, 0f64, 0f64, 0f64, 0f64);
        for r in &rows {
            for k in 0..3 {
                let e = f64::from(r.5[k] - me[k]);
                let x = f64::from(r.2[k] - mr[k]);
                see += e * e;
                srr += x * x;
                ser += e * x;
                sef += e * f64::from(r.3[k] - mf[k]);
                seb += e * f64::from(r.4[k] - mb[k]);
            }
        }
        let correlation = if see > 0.0 && srr > 0.0 { (ser / (see * srr).sqrt()) as f32 } else { 0.0 };
        let gain = |s: f64| if see > 0.0 { (s / see) as f32 } else { 0.0 };
        let response = if frames > 0 { (srr / (3 * frames) as f64).sqrt() as f32 } else { 0.0 };
        Alignment {
            lag_ms,
            frames,
            correlation,
            response,
            step_agreement: self.step_agreement(&rows, mr),
            face_gain: gain(sef),
            background_gain: gain(seb),
        }
    }

    /// Share of steps whose mean settled response, around the session mean,
    /// points closest to the emitted colour (among the palette, each around
    /// the sequence's mean chroma).
    fn step_agreement(&self, rows: &[Row], mean_response: [f32; 3]) -> f32 {
        let n = self.sequence.len() as f32;
        let mean_emitted: [f32; 3] = {
            let mut m = [0f32; 3];
            self.sequence.iter().for_each(|s| (0..3).for_each(|k| m[k] += s.colour.chroma()[k] / n));
            m
        };
        let mut agree = 0;
        for (i, step) in self.sequence.iter().enumerate() {
            let settled: Vec<&Row> = rows.iter().filter(|r| r.0 == i && r.1).collect();
            if settled.is_empty() {
                continue;
            }
            let mut v = [0f32; 3];
            settled
                .iter()
                .for_each(|r| (0..3).for_each(|k| v[k] += (r.2[k] - mean_response[k]) / settled.len() as f32));
            let cosine = |c: FlashColour| {
                let e = c.chroma();
                let d: [f32; 3] = std::array::from_fn(|k| e[k] - mean_emitted[k]);
                let dot: f32 = (0..3).map(|k| d[k] * v[k]).sum();
                dot / (d.iter().map(|x| x * x).sum::<f32>().sqrt() + 1e-9)
            };
            let named = FlashColour::ALL.into_iter().max_by(|a, b| cosine(*a).total_cmp(&cosine(*b)));
            if named == Some(step.colour) {
                agree += 1;
            }
        }
        agree as f32 / n
    }
}

/// One frame's row in an alignment: step, settled, response, face, background, emitted.
type Row = (usize, bool, [f32; 3], [f32; 3], [f32; 3], [f32; 3]);

struct Alignment {
    lag_ms: u32,
    frames: usize,
    correlation: f32,
    response: f32,
    step_agreement: f32,
    face_gain: f32,
    background_gain: f32,
}
