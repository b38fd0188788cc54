//! Recording a liveness session to a folder, to calibrate its thresholds on a
//! real device and to judge it again on a computer (`trustshot eval flash
//! --session DIR`, `trustshot verify-id --session DIR`).
//!
//! A recording holds face pictures in the clear: it is a calibration tool for
//! test devices and consenting testers, never for production sessions.
//!
//! A folder holds one JPEG per camera frame (`frame-00000.jpg`, quality 95,
//! no metadata) and one session file, UTF-8, one record per line, fields
//! separated by one tab (written `<TAB>` below). A colour-flash session
//! (`FlashRun::record_to`) writes `session.tsv`:
//!
//! ```text
//! trustshot-flash-session<TAB>1
//! step<TAB><index><TAB><colour><TAB><duration_ms><TAB><displayed_ms or ->
//! frame<TAB><file name><TAB><timestamp_ms>
//! ```
//! Steps come in order (index 0, 1, ...); colours are `FlashColour::as_str`
//! codes; a step not yet displayed has `-`.
//!
//! A challenge session (`ChallengeRun::record_to`) writes `challenge.tsv`:
//!
//! ```text
//! trustshot-challenge-session<TAB>1
//! action<TAB><index><TAB><action><TAB><hold_ms>
//! frame<TAB><file name><TAB><timestamp_ms>
//! ```
//! Actions come in order; actions are `Action::as_str` codes; `hold_ms` is
//! the hold before that action's prompt. In both files frames come in
//! timestamp order.
//!
//! A high-assurance capture (challenge, then colour flash) is a folder with
//! the two recordings in [`CHALLENGE_DIR`] and [`FLASH_DIR`].

use crate::delivery::encode_jpeg;
use crate::liveness::{ChallengeRun, ChallengeRunError, FlashRun, FlashRunError};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use trustshot_face::Frame;
use trustshot_identity::challenge::Challenge;
use trustshot_identity::{Action, FlashColour, FlashStep};

pub const SESSION_FILE: &str = "session.tsv";
pub const CHALLENGE_FILE: &str = "challenge.tsv";
/// The sub-folders of a recorded high-assurance capture.
pub const CHALLENGE_DIR: &str = "challenge";
pub const FLASH_DIR: &str = "flash";
const FLASH_MAGIC: &str = "trustshot-flash-session\t1";
const CHALLENGE_MAGIC: &str = "trustshot-challenge-session\t1";
/// Longest session file read back (a 60 s session at 60 fps is ~120 KB).
const MAX_SESSION_BYTES: u64 = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("recording folder: {0}")]
    Io(#[from] std::io::Error),
    #[error("{file} line {line}: {what}")]
    Malformed { file: &'static str, line: usize, what: &'static str },
    #[error("could not encode a frame: {0}")]
    Encode(String),
}

/// A session file's contents: what was asked, and the frames.
pub trait SessionFile: Sized {
    /// The file's name in the folder.
    const FILE: &'static str;
    fn to_tsv(&self) -> String;
    fn parse(text: &str) -> Result<Self, RecordingError>;
    /// (file name in the folder, timestamp).
    fn frames_mut(&mut self) -> &mut Vec<(String, u64)>;

    /// Reads the session file of `dir`.
    fn read(dir: &Path) -> Result<Self, RecordingError> {
        let path = dir.join(Self::FILE);
        if std::fs::metadata(&path)?.len() > MAX_SESSION_BYTES {
            return Err(RecordingError::Malformed { file: Self::FILE, line: 0, what: "larger than 4 MiB" });
        }
        Self::parse(&std::fs::read_to_string(path)?)
    }
}

/// What a recorded colour-flash session holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlashRecording {
    pub sequence: Vec<FlashStep>,
    /// When each step appeared; shorter than `sequence` if the session stopped early.
    pub displayed_ms: Vec<u64>,
    pub frames: Vec<(String, u64)>,
}

impl SessionFile for FlashRecording {
    const FILE: &'static str = SESSION_FILE;

    fn to_tsv(&self) -> String {
        let mut out = format!("{FLASH_MAGIC}\n");
        for (i, s) in self.sequence.iter().enumerate() {
            let shown = self.displayed_ms.get(i).map_or("-".to_string(), |t| t.to_string());
            let _ = writeln!(out, "step\t{i}\t{}\t{}\t{shown}", s.colour.as_str(), s.duration_ms);
        }
        write_frames(&mut out, &self.frames);
        out
    }

    fn parse(text: &str) -> Result<FlashRecording, RecordingError> {
        let mut r = FlashRecording::default();
        parse_lines::<Self>(text, FLASH_MAGIC, &mut r.frames, |fields, bad| match fields {
            ["step", index, colour, duration, shown] => {
                if number(index, bad("step index is not a number"))? != r.sequence.len() as u64 {
                    return Err(bad("steps out of order"));
                }
                let colour = FlashColour::from_code(colour).ok_or(bad("unknown colour"))?;
                let duration_ms = u32::try_from(number(duration, bad("duration is not a number"))?)
                    .map_err(|_| bad("duration too large"))?;
                r.sequence.push(FlashStep { colour, duration_ms });
                if *shown != "-" {
                    if r.displayed_ms.len() + 1 != r.sequence.len() {
                        return Err(bad("a step displayed after one that was not"));
                    }
                    r.displayed_ms.push(number(shown, bad("display time is not a number"))?);
                }
                Ok(())
            }
            _ => Err(bad("expected a step or frame record")),
        })?;
        Ok(r)
    }

    fn frames_mut(&mut self) -> &mut Vec<(String, u64)> {
        &mut self.frames
    }
}

/// What a recorded challenge session holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeRecording {
    pub challenge: Challenge,
    pub frames: Vec<(String, u64)>,
}

impl SessionFile for ChallengeRecording {
    const FILE: &'static str = CHALLENGE_FILE;

    fn to_tsv(&self) -> String {
        let mut out = format!("{CHALLENGE_MAGIC}\n");
        for (i, (action, hold)) in self.challenge.actions.iter().zip(&self.challenge.holds_ms).enumerate() {
            let _ = writeln!(out, "action\t{i}\t{}\t{hold}", action.as_str());
        }
        write_frames(&mut out, &self.frames);
        out
    }

    fn parse(text: &str) -> Result<ChallengeRecording, RecordingError> {
        let mut challenge = Challenge { actions: Vec::new(), holds_ms: Vec::new() };
        let mut frames = Vec::new();
        parse_lines::<Self>(text, CHALLENGE_MAGIC, &mut frames, |fields, bad| match fields {
            ["action", index, action, hold] => {
                if number(index, bad("action index is not a number"))? != challenge.actions.len() as u64 {
                    return Err(bad("actions out of order"));
                }
                let action = Action::ALL.into_iter().find(|a| a.as_str() == *action).ok_or(bad("unknown action"))?;
                let hold =
                    u32::try_from(number(hold, bad("hold is not a number"))?).map_err(|_| bad("hold too large"))?;
                challenge.actions.push(action);
                challenge.holds_ms.push(hold);
                Ok(())
            }
            _ => Err(bad("expected an action or frame record")),
        })?;
        Ok(ChallengeRecording { challenge, frames })
    }

    fn frames_mut(&mut self) -> &mut Vec<(String, u64)> {
        &mut self.frames
    }
}

fn write_frames(out: &mut String, frames: &[(String, u64)]) {
    for (file, t) in frames {
        let _ = writeln!(out, "frame\t{file}\t{t}");
    }
}

fn number(v: &str, bad: RecordingError) -> Result<u64, RecordingError> {
    v.parse::<u64>().map_err(|_| bad)
}

/// Checks the magic line, reads `frame` records into `frames` and hands every
/// other record to `record` (with a constructor of its line's error).
fn parse_lines<S: SessionFile>(
    text: &str,
    magic: &str,
    frames: &mut Vec<(String, u64)>,
    mut record: impl FnMut(&[&str], &dyn Fn(&'static str) -> RecordingError) -> Result<(), RecordingError>,
) -> Result<(), RecordingError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    if lines.next().map(|(_, l)| l) != Some(magic) {
        return Err(RecordingError::Malformed { file: S::FILE, line: 1, what: "not this kind of session, version 1" });
    }
    for (line, text) in lines {
        let bad = |what| RecordingError::Malformed { file: S::FILE, line, what };
        let fields: Vec<&str> = text.split('\t').collect();
        match fields.as_slice() {
            ["frame", file, t] => {
                let safe = !file.is_empty() && file.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
                if !safe || file.starts_with('.') {
                    return Err(bad("frame file name must be a plain name in the folder"));
                }
                frames.push((file.to_string(), number(t, bad("frame time is not a number"))?));
            }
            [""] => {}
            fields => record(fields, &bad)?,
        }
    }
    Ok(())
}

/// Writes frames and the session file into a folder as the session goes.
pub struct Recorder<S: SessionFile> {
    dir: PathBuf,
    recording: S,
}

impl<S: SessionFile> Recorder<S> {
    /// Creates `dir` (and its parents) for a session recorded as `recording`
    /// (what it asks, no frames yet).
    pub fn create(dir: &Path, recording: S) -> Result<Recorder<S>, RecordingError> {
        std::fs::create_dir_all(dir)?;
        let recorder = Recorder { dir: dir.to_path_buf(), recording };
        recorder.save()?;
        Ok(recorder)
    }

    pub fn frame(&mut self, frame: &Frame, timestamp_ms: u64) -> Result<(), RecordingError> {
        let name = format!("frame-{:05}.jpg", self.recording.frames_mut().len());
        let jpeg = encode_jpeg(frame, 95).map_err(|e| RecordingError::Encode(e.to_string()))?;
        std::fs::write(self.dir.join(&name), jpeg)?;
        self.recording.frames_mut().push((name, timestamp_ms));
        self.save()
    }

    /// Rewrites the session file whole (write to a temporary name, then
    /// rename), so an interrupted session leaves a readable file.
    fn save(&self) -> Result<(), RecordingError> {
        let tmp = self.dir.join(format!("{}.tmp", S::FILE));
        std::fs::write(&tmp, self.recording.to_tsv())?;
        std::fs::rename(tmp, self.dir.join(S::FILE))?;
        Ok(())
    }
}

impl Recorder<FlashRecording> {
    pub fn flash(dir: &Path, sequence: &[FlashStep]) -> Result<Self, RecordingError> {
        Recorder::create(dir, FlashRecording { sequence: sequence.to_vec(), ..FlashRecording::default() })
    }

    pub fn displayed(&mut self, timestamp_ms: u64) -> Result<(), RecordingError> {
        self.recording.displayed_ms.push(timestamp_ms);
        self.save()
    }
}

impl Recorder<ChallengeRecording> {
    pub fn challenge(dir: &Path, challenge: &Challenge) -> Result<Self, RecordingError> {
        Recorder::create(dir, ChallengeRecording { challenge: challenge.clone(), frames: Vec::new() })
    }
}

/// The frames of a recording that could not be read back (file name and why).
pub type Unreadable<E> = Vec<(String, E)>;

impl FlashRecording {
    /// Feeds the recording into `run` as the device did (display reports and
    /// frames in time order), then closes it: a sequence that outlasts the
    /// recording is judged on what was recorded. `load` reads a frame file.
    pub fn replay<E>(
        &self,
        run: &mut FlashRun,
        mut load: impl FnMut(&str) -> Result<Frame, E>,
    ) -> Result<Unreadable<E>, FlashRunError> {
        let (mut shown, mut unreadable) = (0, Vec::new());
        for (file, t) in &self.frames {
            while shown < self.displayed_ms.len() && self.displayed_ms[shown] <= *t {
                run.displayed(shown, self.displayed_ms[shown])?;
                shown += 1;
            }
            match load(file) {
                Ok(frame) => {
                    run.push_frame(&frame, *t)?;
                }
                Err(e) => unreadable.push((file.clone(), e)),
            }
        }
        while shown < self.displayed_ms.len() {
            run.displayed(shown, self.displayed_ms[shown])?;
            shown += 1;
        }
        run.close()?;
        Ok(unreadable)
    }
}

impl ChallengeRecording {
    /// Feeds the recorded frames into `run` (one over `self.challenge`) until
    /// the session is over. `load` reads a frame file.
    pub fn replay<E>(
        &self,
        run: &mut ChallengeRun,
        mut load: impl FnMut(&str) -> Result<Frame, E>,
    ) -> Result<Unreadable<E>, ChallengeRunError> {
        let mut unreadable = Vec::new();
        for (file, t) in &self.frames {
            if run.state().is_final() {
                break;
            }
            match load(file) {
                Ok(frame) => {
                    run.push_frame(&frame, *t)?;
                }
                Err(e) => unreadable.push((file.clone(), e)),
            }
        }
        Ok(unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_at<S: SessionFile + std::fmt::Debug>(text: &str, line: usize) {
        match S::parse(text) {
            Err(RecordingError::Malformed { line: l, file, .. }) => {
                assert_eq!((l, file), (line, S::FILE), "{text:?}")
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }

    #[test]
    fn a_flash_recording_reads_back_and_bad_lines_are_refused_by_line() {
        let r = FlashRecording {
            sequence: vec![
                FlashStep { colour: FlashColour::Red, duration_ms: 300 },
                FlashStep { colour: FlashColour::Cyan, duration_ms: 450 },
            ],
            displayed_ms: vec![1_000],
            frames: vec![("frame-00000.jpg".into(), 1_033)],
        };
        assert_eq!(FlashRecording::parse(&r.to_tsv()).unwrap(), r);
        let cases = [
            ("nonsense\n", 1),
            ("trustshot-challenge-session\t1\n", 1),
            ("trustshot-flash-session\t1\nstep\t1\tred\t300\t-\n", 2),
            ("trustshot-flash-session\t1\nstep\t0\tpurple\t300\t-\n", 2),
            ("trustshot-flash-session\t1\nstep\t0\tred\t99999999999\t-\n", 2),
            ("trustshot-flash-session\t1\nstep\t0\tred\t300\t-\nstep\t1\tred\t300\t5\n", 3),
            ("trustshot-flash-session\t1\nframe\t../../etc/passwd\t5\n", 2),
            ("trustshot-flash-session\t1\nframe\tf.jpg\t-5\n", 2),
            ("trustshot-flash-session\t1\nframe\tf.jpg\n", 2),
            ("trustshot-flash-session\t1\naction\t0\tblink\t300\n", 2),
        ];
        for (text, line) in cases {
            refused_at::<FlashRecording>(text, line);
        }
    }

    /// Every prefix of a valid file, and the file with each byte replaced by
    /// a tab, a newline, a digit, a letter or a non-ASCII byte, reads as a
    /// recording or is refused as malformed: never a panic (the parsers'
    /// bounded stand-in for a fuzzer; their crate links the models).
    fn survives_damage<S: SessionFile>(valid: &str) {
        let bytes = valid.as_bytes();
        let mut texts: Vec<Vec<u8>> = (0..bytes.len()).map(|n| bytes[..n].to_vec()).collect();
        for i in 0..bytes.len() {
            for b in [b'\t', b'\n', b'9', b'x', 0xC3] {
                let mut t = bytes.to_vec();
                t[i] = b;
                texts.push(t);
            }
        }
        for t in texts {
            match S::parse(&String::from_utf8_lossy(&t)) {
                Ok(_) | Err(RecordingError::Malformed { .. }) => {}
                Err(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn damaged_session_files_are_read_or_refused_never_a_panic() {
        let flash = FlashRecording {
            sequence: vec![FlashStep { colour: FlashColour::Red, duration_ms: 300 }],
            displayed_ms: vec![1_000],
            frames: vec![("frame-00000.jpg".into(), 1_033)],
        };
        survives_damage::<FlashRecording>(&flash.to_tsv());
        let challenge = ChallengeRecording {
            challenge: Challenge { actions: vec![Action::Blink], holds_ms: vec![400] },
            frames: vec![("frame-00000.jpg".into(), 5)],
        };
        survives_damage::<ChallengeRecording>(&challenge.to_tsv());
    }

    #[test]
    fn a_challenge_recording_reads_back_and_bad_lines_are_refused_by_line() {
        let r = ChallengeRecording {
            challenge: Challenge { actions: vec![Action::Blink, Action::TurnLeft], holds_ms: vec![400, 1_250] },
            frames: vec![("frame-00000.jpg".into(), 5), ("frame-00001.jpg".into(), 38)],
        };
        assert_eq!(ChallengeRecording::parse(&r.to_tsv()).unwrap(), r);
        let cases = [
            ("trustshot-flash-session\t1\n", 1),
            ("trustshot-challenge-session\t1\naction\t1\tblink\t300\n", 2),
            ("trustshot-challenge-session\t1\naction\t0\twink\t300\n", 2),
            ("trustshot-challenge-session\t1\naction\t0\tblink\t4294967296\n", 2),
            ("trustshot-challenge-session\t1\naction\t0\tblink\n", 2),
            ("trustshot-challenge-session\t1\naction\t0\tblink\t300\nframe\t/abs.jpg\t5\n", 3),
            ("trustshot-challenge-session\t1\nstep\t0\tred\t300\t-\n", 2),
        ];
        for (text, line) in cases {
            refused_at::<ChallengeRecording>(text, line);
        }
    }
}
