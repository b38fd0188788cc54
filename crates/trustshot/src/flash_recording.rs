//! Recording a colour-flash session to a folder, for calibrating the flash
//! thresholds on a real device (`trustshot eval flash --session DIR` judges
//! it again on a computer).
//!
//! A recording holds face pictures in the clear: it is a calibration tool for
//! test devices and consenting testers, never for production sessions.
//!
//! The folder holds one JPEG per camera frame (`frame-00000.jpg`, quality 95,
//! no metadata) and `session.tsv`, UTF-8, one record per line, fields
//! separated by one tab (written `<TAB>` below):
//!
//! ```text
//! trustshot-flash-session<TAB>1
//! step<TAB><index><TAB><colour><TAB><duration_ms><TAB><displayed_ms or ->
//! frame<TAB><file name><TAB><timestamp_ms>
//! ```
//! Steps come in order (index 0, 1, ...); colours are `FlashColour::as_str`
//! codes; a step not yet displayed has `-`; frames come in timestamp order.

use crate::delivery::encode_jpeg;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use trustshot_face::Frame;
use trustshot_identity::{FlashColour, FlashStep};

const MAGIC: &str = "trustshot-flash-session\t1";
pub const SESSION_FILE: &str = "session.tsv";
/// Longest session file read back (a 60 s session at 60 fps is ~120 KB).
const MAX_SESSION_BYTES: u64 = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("recording folder: {0}")]
    Io(#[from] std::io::Error),
    #[error("session.tsv line {line}: {what}")]
    Malformed { line: usize, what: &'static str },
    #[error("could not encode a frame: {0}")]
    Encode(String),
}

/// What a recorded session holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recording {
    pub sequence: Vec<FlashStep>,
    /// When each step appeared; shorter than `sequence` if the session stopped early.
    pub displayed_ms: Vec<u64>,
    /// (file name in the folder, timestamp).
    pub frames: Vec<(String, u64)>,
}

impl Recording {
    pub fn to_tsv(&self) -> String {
        let mut out = format!("{MAGIC}\n");
        for (i, s) in self.sequence.iter().enumerate() {
            let shown = self.displayed_ms.get(i).map_or("-".to_string(), |t| t.to_string());
            let _ = writeln!(out, "step\t{i}\t{}\t{}\t{shown}", s.colour.as_str(), s.duration_ms);
        }
        for (file, t) in &self.frames {
            let _ = writeln!(out, "frame\t{file}\t{t}");
        }
        out
    }

    pub fn parse(text: &str) -> Result<Recording, RecordingError> {
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        if lines.next().map(|(_, l)| l) != Some(MAGIC) {
            return Err(RecordingError::Malformed { line: 1, what: "not a trustshot flash session, version 1" });
        }
        let mut r = Recording::default();
        for (line, text) in lines {
            let bad = |what| RecordingError::Malformed { line, what };
            let number = |v: &str, what| v.parse::<u64>().map_err(|_| bad(what));
            let fields: Vec<&str> = text.split('\t').collect();
            match fields.as_slice() {
                ["step", index, colour, duration, shown] => {
                    if number(index, "step index is not a number")? != r.sequence.len() as u64 {
                        return Err(bad("steps out of order"));
                    }
                    let colour = FlashColour::from_code(colour).ok_or(bad("unknown colour"))?;
                    let duration_ms = u32::try_from(number(duration, "duration is not a number")?)
                        .map_err(|_| bad("duration too large"))?;
                    r.sequence.push(FlashStep { colour, duration_ms });
                    if *shown != "-" {
                        if r.displayed_ms.len() + 1 != r.sequence.len() {
                            return Err(bad("a step displayed after one that was not"));
                        }
                        r.displayed_ms.push(number(shown, "display time is not a number")?);
                    }
                }
                ["frame", file, t] => {
                    let safe = !file.is_empty() && file.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
                    if !safe || file.starts_with('.') {
                        return Err(bad("frame file name must be a plain name in the folder"));
                    }
                    r.frames.push((file.to_string(), number(t, "frame time is not a number")?));
                }
                [""] => {}
                _ => return Err(bad("expected a step or frame record")),
            }
        }
        Ok(r)
    }

    /// Reads `dir/session.tsv`.
    pub fn read(dir: &Path) -> Result<Recording, RecordingError> {
        let path = dir.join(SESSION_FILE);
        if std::fs::metadata(&path)?.len() > MAX_SESSION_BYTES {
            return Err(RecordingError::Malformed { line: 0, what: "session.tsv is larger than 4 MiB" });
        }
        Recording::parse(&std::fs::read_to_string(path)?)
    }
}

/// Writes frames and the session file into a folder as the session goes.
pub struct Recorder {
    dir: PathBuf,
    recording: Recording,
}

impl Recorder {
    /// Creates `dir` (and its parents) for a session showing `sequence`.
    pub fn create(dir: &Path, sequence: &[FlashStep]) -> Result<Recorder, RecordingError> {
        std::fs::create_dir_all(dir)?;
        let recorder = Recorder {
            dir: dir.to_path_buf(),
            recording: Recording { sequence: sequence.to_vec(), ..Recording::default() },
        };
        recorder.save()?;
        Ok(recorder)
    }

    pub fn displayed(&mut self, timestamp_ms: u64) -> Result<(), RecordingError> {
        self.recording.displayed_ms.push(timestamp_ms);
        self.save()
    }

    pub fn frame(&mut self, frame: &Frame, timestamp_ms: u64) -> Result<(), RecordingError> {
        let name = format!("frame-{:05}.jpg", self.recording.frames.len());
        let jpeg = encode_jpeg(frame, 95).map_err(|e| RecordingError::Encode(e.to_string()))?;
        std::fs::write(self.dir.join(&name), jpeg)?;
        self.recording.frames.push((name, timestamp_ms));
        self.save()
    }

    /// Rewrites session.tsv whole (write to a temporary name, then rename),
    /// so an interrupted session leaves a readable file.
    fn save(&self) -> Result<(), RecordingError> {
        let tmp = self.dir.join(format!("{SESSION_FILE}.tmp"));
        std::fs::write(&tmp, self.recording.to_tsv())?;
        std::fs::rename(tmp, self.dir.join(SESSION_FILE))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_reads_back_and_bad_lines_are_refused_by_line() {
        let r = Recording {
            sequence: vec![
                FlashStep { colour: FlashColour::Red, duration_ms: 300 },
                FlashStep { colour: FlashColour::Cyan, duration_ms: 450 },
            ],
            displayed_ms: vec![1_000],
            frames: vec![("frame-00000.jpg".into(), 1_033)],
        };
        assert_eq!(Recording::parse(&r.to_tsv()).unwrap(), r);
        let cases = [
            ("nonsense\n", 1),
            ("trustshot-flash-session\t1\nstep\t1\tred\t300\t-\n", 2),
            ("trustshot-flash-session\t1\nstep\t0\tpurple\t300\t-\n", 2),
            ("trustshot-flash-session\t1\nstep\t0\tred\t99999999999\t-\n", 2),
            ("trustshot-flash-session\t1\nstep\t0\tred\t300\t-\nstep\t1\tred\t300\t5\n", 3),
            ("trustshot-flash-session\t1\nframe\t../../etc/passwd\t5\n", 2),
            ("trustshot-flash-session\t1\nframe\tf.jpg\t-5\n", 2),
            ("trustshot-flash-session\t1\nframe\tf.jpg\n", 2),
        ];
        for (text, line) in cases {
            match Recording::parse(text) {
                Err(RecordingError::Malformed { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }
}
