//! Whole JPEGs only (issue 15, defect 2; issue 17, first point), on real photos:
//! a cut file stays refused when an end marker is appended to it, damaged scan
//! data is refused, and complete files without a final end marker (or whose
//! only one sits in an EXIF thumbnail) decode to the same pixels as with it.
//! Every JPEG of ../shared/data is decoded as well: none may be refused.

use trustshot_face::{decode, Limits};
use trustshot_face::{FaceError, JpegDefect};
use trustshot_testkit::*;

const EOI: [u8; 2] = [0xFF, 0xD9];

fn defect(bytes: &[u8]) -> Option<JpegDefect> {
    match decode(bytes, &Limits::default()) {
        Ok(_) => None,
        Err(FaceError::CorruptJpeg(d)) => Some(d),
        Err(other) => panic!("expected a JPEG defect, got {other:?}"),
    }
}

/// Where the picture's scan data starts and ends (the last SOS to the final EOI).
fn scan_span(jpeg: &[u8]) -> (usize, usize) {
    let sos = jpeg.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap();
    assert_eq!(jpeg[jpeg.len() - 2..], EOI, "fixture must end with its end marker");
    (sos + 20, jpeg.len() - 2)
}

/// A small real JPEG inside an EXIF APP1 segment (as cameras store thumbnails),
/// inserted after SOI: its FF D8 ... FF D9 must not be taken for the picture's.
fn with_exif_thumbnail(jpeg: &[u8], thumbnail: &[u8]) -> Vec<u8> {
    let exif = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    with_app1(jpeg, &[exif.as_slice(), thumbnail].concat())
}

fn thumbnail() -> Vec<u8> {
    let small = trustshot_face::resize(&sample("obama2.jpg"), 64, 48);
    jpeg(&small)
}

#[test]
fn a_cut_file_with_an_end_marker_appended_is_refused() {
    // The reproduction: head -c 139961 obama.jpg, then FF D9.
    let photo = sample_bytes("obama.jpg");
    let (start, end) = scan_span(&photo);
    for cut in [139_961, start + 10, (start + end) / 2, end - 300] {
        let padded = [&photo[..cut], &EOI].concat();
        assert_eq!(defect(&padded), Some(JpegDefect::Truncated), "cut at {cut}");
        // Without the marker it is refused the same way.
        assert_eq!(defect(&photo[..cut]), Some(JpegDefect::Truncated), "cut at {cut}, no marker");
    }
    // The encoder of the test support writes no restart markers: cut that too.
    let plain = jpeg(&sample("biden.jpg"));
    let (start, end) = scan_span(&plain);
    let padded = [&plain[..(start + end) / 2], &EOI].concat();
    assert_eq!(defect(&padded), Some(JpegDefect::Truncated));
}

#[test]
fn damaged_scan_data_is_refused() {
    for name in ["obama.jpg", "biden.jpg"] {
        let photo = sample_bytes(name);
        let (start, end) = scan_span(&photo);
        for at in [start + 5_000, (start + end) / 2, end - 5_000] {
            let mut zeroed = photo.clone();
            zeroed[at..at + 1024].fill(0);
            assert!(defect(&zeroed).is_some(), "{name}: 1 KB of zeros at {at} was accepted");
        }
        // Restart markers: obama.jpg has them; renumbering one is refused.
        if let Some(i) = photo[start..end].windows(2).position(|w| w == [0xFF, 0xD3]) {
            let mut bad = photo.clone();
            bad[start + i + 1] = 0xD5;
            assert_eq!(defect(&bad), Some(JpegDefect::RestartMarker), "{name}");
        }
    }
}

#[test]
fn complete_files_without_a_final_end_marker_decode_to_the_same_pixels() {
    let limits = Limits::default();
    for name in ["obama.jpg", "biden.jpg", "obama2.jpg"] {
        let photo = sample_bytes(name);
        let whole = decode(&photo, &limits).unwrap();
        let no_end = &photo[..photo.len() - 2];
        assert_eq!(decode(no_end, &limits).unwrap(), whole, "{name} without its end marker");
        // Its only end marker inside an EXIF thumbnail, as in the passport photo of issue 17.
        let with_thumb = with_exif_thumbnail(no_end, &thumbnail());
        assert_eq!(decode(&with_thumb, &limits).unwrap(), whole, "{name}: thumbnail holds the only end marker");
        // ...and a cut file with such a thumbnail is still refused.
        let (start, end) = scan_span(&photo);
        let cut = with_exif_thumbnail(&photo[..(start + end) / 2], &thumbnail());
        assert_eq!(defect(&cut), Some(JpegDefect::Truncated), "{name}: cut, thumbnail present");
    }
}

/// Every JPEG in ../shared/data (baseline, progressive, with restart
/// intervals; cameras, scanners and web encoders) passes the check, and the
/// progressive and restart-interval ones are refused once cut.
#[test]
fn every_real_jpeg_of_the_shared_data_passes_and_cut_ones_do_not() {
    let Some(root) = shared("") else { return };
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("jpg") || x.eq_ignore_ascii_case("jpeg")) {
                files.push(p);
            }
        }
    }
    files.sort();
    let (mut checked, mut progressive, mut restarts, mut refused) = (0, 0, 0, Vec::new());
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        if bytes.get(..2) != Some(&[0xFF, 0xD8]) {
            continue; // not a JPEG inside (one .jpg of the set is a WebP)
        }
        checked += 1;
        match decode(&bytes, &Limits::default()) {
            Ok(_) => {}
            Err(e) => refused.push(format!("{}: {e}", path.display())),
        }
        let is_progressive = bytes.windows(2).any(|w| w == [0xFF, 0xC2]);
        let has_restarts = bytes.windows(2).any(|w| w == [0xFF, 0xDD]);
        if (is_progressive && progressive < 10) || (has_restarts && restarts < 10) {
            progressive += is_progressive as usize;
            restarts += has_restarts as usize;
            // The last scan's data (an EXIF block may hold FF DA bytes before
            // the picture's first scan, never after its last), cut in the
            // middle and an end marker appended.
            let sos = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap();
            let cut = sos + (bytes.len() - sos) / 2;
            let padded = [&bytes[..cut], &EOI].concat();
            assert!(
                matches!(decode(&padded, &Limits::default()), Err(FaceError::CorruptJpeg(JpegDefect::Truncated))),
                "{}: cut at {cut} accepted",
                path.display()
            );
        }
    }
    eprintln!("{checked} JPEGs checked ({progressive} progressive, {restarts} with restart intervals cut and refused)");
    assert!(checked > 1000 && progressive > 0 && restarts > 0, "{checked} {progressive} {restarts}");
    assert!(refused.is_empty(), "{} real JPEGs refused:\n{}", refused.len(), refused.join("\n"));
}

/// A bounded mutation run (not coverage-guided fuzzing: a fixed-seed sample
/// of bit flips, byte overwrites, insertions, deletions and cuts of real
/// JPEGs, baseline and with restart markers): the check and the decoder
/// behind it must return a picture or a typed error, never panic, and never
/// accept a cut file with an end marker appended.
#[test]
fn mutated_real_jpegs_give_a_picture_or_a_typed_error() {
    let small = jpeg(&trustshot_face::resize(&sample("obama2.jpg"), 320, 240));
    let restarts = sample_bytes("obama.jpg");
    let limits = Limits::default();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let (mut pictures, mut errors) = (0, 0);
    for (original, runs) in [(&small, 3000), (&restarts, 300)] {
        for _ in 0..runs {
            let mut m = original.clone();
            let at = next(m.len());
            match next(5) {
                0 => m[at] ^= 1 << next(8),
                1 => m[at] = [0x00, 0xFF, 0xD9, 0xDA, 0xD0][next(5)],
                2 => m.insert(at, [0x00, 0xFF, 0xD9][next(3)]),
                3 => drop(m.remove(at)),
                _ => {
                    m.truncate(at.max(2));
                    m.extend_from_slice(&EOI);
                    match decode(&m, &limits) {
                        Ok(_) if at + 2 < original.len() - 2 => panic!("a file cut at {at} was accepted"),
                        _ => {}
                    }
                    continue;
                }
            }
            match decode(&m, &limits) {
                Ok(_) => pictures += 1,
                Err(_) => errors += 1,
            }
        }
    }
    // JPEG carries no checksum: a flipped bit inside a coefficient's value
    // bits changes the picture without changing the code stream's shape, and
    // no decoder can tell. What the check guarantees is the shape: every
    // block present, nothing left over, restart markers in order.
    eprintln!("mutations: {pictures} decoded, {errors} refused with a typed error");
    assert!(errors > 0 && pictures > 0, "{pictures} decoded, {errors} refused");
}
