//! The C2SP CCTV age test vectors that apply to this format's age layer
//! (tests/vectors/cctv-age/SOURCES.md): header grammar, header MAC and STREAM,
//! each vector opened with its `file key` (the recipient stanzas in them are
//! X25519, which the evidence format does not use).
//!
//! The vectors' outcomes map onto the reader's steps: `header failure` is
//! `Header::read` or the payload nonce (`StreamReader::new`) refusing,
//! `HMAC failure` is `verify_header_mac`, `payload failure` is a chunk
//! refused after every earlier chunk decrypted; `success` decrypts to EOF.
//! All plaintext released before a failure must match the vector's hash, and
//! every header that parses re-encodes to its exact bytes.

use std::io::{BufRead, Read};
use trustshot_evidence::age::{self, Header, StreamReader};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Success,
    HeaderFailure,
    HmacFailure,
    PayloadFailure,
}

struct Vector {
    name: String,
    expect: Outcome,
    /// Absent on some `header failure` vectors: nothing may be released.
    payload_sha256: Option<[u8; 32]>,
    /// Absent on some `header failure` vectors, which must fail before it is needed.
    file_key: Option<[u8; 16]>,
    age_file: Vec<u8>,
}

fn hex<const N: usize>(text: &str) -> [u8; N] {
    assert_eq!(text.len(), 2 * N, "{text}");
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

/// Parses the textual header (`key: value` lines, a blank line) and the age
/// file after it, inflating it where the vector says `compressed: zlib`.
fn parse(name: &str, bytes: &[u8]) -> Vector {
    let mut input = bytes;
    let (mut expect, mut payload, mut file_key, mut zlib) = (None, None, None, false);
    loop {
        let mut line = String::new();
        input.read_line(&mut line).unwrap();
        let line = line.trim_end_matches('\n');
        if line.is_empty() {
            break;
        }
        let (key, value) = line.split_once(": ").unwrap_or_else(|| panic!("{name}: header line {line:?}"));
        match key {
            "expect" => {
                expect = Some(match value {
                    "success" => Outcome::Success,
                    "header failure" => Outcome::HeaderFailure,
                    "HMAC failure" => Outcome::HmacFailure,
                    "payload failure" => Outcome::PayloadFailure,
                    other => panic!("{name}: outcome {other:?} is not one the kept vectors use"),
                })
            }
            "payload" => payload = Some(hex::<32>(value)),
            "file key" => file_key = Some(hex::<16>(value)),
            "compressed" => zlib = value == "zlib",
            _ => {} // identity, comment, …: not needed with the file key
        }
    }
    let age_file = if zlib {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(input).read_to_end(&mut out).unwrap();
        out
    } else {
        input.to_vec()
    };
    Vector {
        name: name.to_owned(),
        expect: expect.unwrap_or_else(|| panic!("{name}: no expect")),
        payload_sha256: payload,
        file_key,
        age_file,
    }
}

/// Runs one vector through the reader: the outcome and the plaintext released.
fn open(v: &Vector) -> (Outcome, Vec<u8>) {
    let mut input = &v.age_file[..];
    let Ok((header, length)) = Header::read(&mut input) else {
        return (Outcome::HeaderFailure, Vec::new());
    };
    assert_eq!(header.encode(), v.age_file[..length], "{}: the header does not re-encode to its bytes", v.name);
    let file_key =
        v.file_key.unwrap_or_else(|| panic!("{}: the header parsed, but the vector has no file key", v.name));
    if age::verify_header_mac(&file_key, &header).is_err() {
        return (Outcome::HmacFailure, Vec::new());
    }
    let Ok(mut stream) = StreamReader::new(&file_key, input) else {
        return (Outcome::HeaderFailure, Vec::new());
    };
    let mut released = Vec::new();
    loop {
        match stream.next_chunk() {
            Ok(Some(chunk)) => released.extend(chunk),
            Ok(None) => return (Outcome::Success, released),
            Err(_) => return (Outcome::PayloadFailure, released),
        }
    }
}

#[test]
fn the_applicable_cctv_age_vectors_pass() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/cctv-age");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "SOURCES.md" && n != "LICENSE")
        .collect();
    names.sort();
    assert_eq!(names.len(), 53, "the kept subset is listed in SOURCES.md");
    let mut failures = Vec::new();
    for name in &names {
        let v = parse(name, &std::fs::read(dir.join(name)).unwrap());
        let (outcome, released) = open(&v);
        let hash = ring::digest::digest(&ring::digest::SHA256, &released);
        let released_as_expected = match v.payload_sha256 {
            Some(expected) => hash.as_ref() == expected,
            None => released.is_empty(),
        };
        if outcome != v.expect {
            failures.push(format!("{name}: expected {:?}, got {outcome:?}", v.expect));
        } else if !released_as_expected {
            failures.push(format!("{name}: {outcome:?} as expected, but the released plaintext differs"));
        }
    }
    assert!(failures.is_empty(), "{} of {} vectors fail:\n{}", failures.len(), names.len(), failures.join("\n"));
}
