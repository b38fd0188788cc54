//! The face pipeline on real models and real photos: verification decisions,
//! every quality reason that real pictures can produce, bad input, EXIF
//! orientation, camera buffers and thread safety.

use trustshot_face::resize;
use trustshot_face::Analysis;
use trustshot_face::{CameraBuffer, PixelFormat, PlaneView, Rotation, YuvMatrix, YuvPlanes, YuvRange};
use trustshot_face::{Decision, FaceError, Frame, ReasonCode};
use trustshot_testkit::*;

fn analyze(frame: &Frame) -> Analysis {
    engine().analyze(frame).unwrap()
}

fn reasons(a: &Analysis) -> Vec<ReasonCode> {
    a.quality.reasons.iter().map(|r| r.code).collect()
}

/// The quality reason `code` of `a`, whose measured value must be on the wrong side of its threshold.
fn assert_reason(a: &Analysis, code: ReasonCode) {
    let r =
        a.quality.reasons.iter().find(|r| r.code == code).unwrap_or_else(|| panic!("no {code:?} in {:?}", reasons(a)));
    assert!(r.measured.is_finite() && r.measured != r.threshold, "{r:?}");
    assert!(a.embedding.is_none(), "a refused capture is not embedded");
}

#[test]
fn same_person_matches_and_another_does_not() {
    let obama = analyze(&sample("obama.jpg"));
    let references = [analyze(&sample("obama2.jpg")), analyze(&sample("obama3.jpg"))];
    assert!(obama.quality.passed(), "{:?}", reasons(&obama));
    let same = engine().verify(&obama, &references).unwrap();
    assert_eq!(same.decision, Decision::Match, "{same:?}");
    assert!(same.score.unwrap() > same.threshold + 0.2, "{same:?}");
    assert!(same.reasons.is_empty());

    let biden = analyze(&sample("biden.jpg"));
    let other = engine().verify(&biden, &references).unwrap();
    assert_eq!(other.decision, Decision::NoMatch, "{other:?}");
    assert!(other.score.unwrap() < other.threshold, "{other:?}");
    assert_eq!(other.fmr, 1e-4);
    assert!(matches!(engine().verify(&obama, &[]), Err(FaceError::NoReference)));
}

#[test]
fn a_refused_capture_is_rejected_with_its_reasons() {
    let dark = analyze(&map_pixels(&sample("obama.jpg"), |v| (v as f32 * 0.25) as u8));
    let reference = analyze(&sample("obama3.jpg"));
    let v = engine().verify(&dark, &[reference]).unwrap();
    assert_eq!(v.decision, Decision::Rejected);
    assert!(v.score.is_none());
    assert!(v.reasons.iter().any(|r| r.reason.code == ReasonCode::TooDark), "{v:?}");
}

#[test]
fn too_dark_and_too_bright() {
    let photo = sample("obama.jpg");
    assert_reason(&analyze(&map_pixels(&photo, |v| (v as f32 * 0.25) as u8)), ReasonCode::TooDark);
    assert_reason(&analyze(&map_pixels(&photo, |v| (v as f32 * 0.35 + 170.0) as u8)), ReasonCode::TooBright);
}

#[test]
fn blurry() {
    // Shrink 16x and scale back: the face keeps its place and size, but has
    // the detail of a 15-pixel thumbnail.
    let photo = sample("obama.jpg");
    let soft = resize(&resize(&photo, photo.width() / 16, photo.height() / 16), photo.width(), photo.height());
    let a = analyze(&soft);
    assert_reason(&a, ReasonCode::Blurry);
    assert!(!reasons(&a).contains(&ReasonCode::FaceTooSmall));
}

#[test]
fn face_too_small() {
    let photo = sample("obama.jpg");
    let far = resize(&photo, photo.width() / 5, photo.height() / 5);
    assert_reason(&analyze(&far), ReasonCode::FaceTooSmall);
}

#[test]
fn several_faces() {
    // Two real portraits side by side, at the same height.
    let (a, b) = (sample("obama.jpg"), sample("biden.jpg"));
    let b = resize(&b, b.width() * a.height() / b.height(), a.height());
    let width = a.width() + b.width();
    let mut rgb = Vec::with_capacity((width * a.height() * 3) as usize);
    for y in 0..a.height() {
        rgb.extend_from_slice(&a.rgb()[(y * a.width() * 3) as usize..((y + 1) * a.width() * 3) as usize]);
        rgb.extend_from_slice(&b.rgb()[(y * b.width() * 3) as usize..((y + 1) * b.width() * 3) as usize]);
    }
    let both = analyze(&Frame::from_rgb(width, a.height(), rgb).unwrap());
    assert_eq!(both.faces.len(), 2);
    assert_reason(&both, ReasonCode::SeveralFaces);
}

#[test]
fn face_cut_off_by_the_edge() {
    let photo = sample("obama.jpg");
    let face = analyze(&photo).faces[0];
    // Cut the picture through the face, 35% of its width in from the left.
    let x0 = (face.bbox.x + 0.35 * face.bbox.w) as u32;
    let cut = crop(&photo, x0, 0, photo.width() - x0, photo.height());
    assert_reason(&analyze(&cut), ReasonCode::FaceCutOff);
}

#[test]
fn no_face() {
    // The lower part of the portrait: suit and hands, no face.
    let photo = sample("obama.jpg");
    let body = crop(&photo, 0, photo.height() * 6 / 10, photo.width(), photo.height() * 4 / 10);
    let a = analyze(&body);
    assert!(a.faces.is_empty() && a.main.is_none());
    assert_eq!(reasons(&a), vec![ReasonCode::NoFace]);
}

#[test]
fn a_dogs_face_is_a_detector_candidate_but_not_a_face() {
    let Some(path) = shared("face_detection/dlib_faces/dogs.jpg") else { return };
    let dogs = engine().decode(&std::fs::read(path).unwrap()).unwrap();
    // YuNet alone takes the dog for a face, as confidently as a real one...
    let candidates = engine().face_candidates(&dogs).unwrap();
    assert!(candidates.iter().any(|f| f.score > 0.8), "{candidates:?}");
    // ...the second look does not, so nothing is reported.
    let threshold = engine().config().detector.face_threshold;
    assert!(candidates.iter().all(|f| f.face_probability < threshold), "{candidates:?}");
    let a = analyze(&dogs);
    assert!(a.faces.is_empty());
    assert_eq!(reasons(&a), vec![ReasonCode::NoFace]);
    // Real faces pass it with room to spare.
    for name in ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"] {
        let faces = engine().detect(&sample(name)).unwrap();
        assert_eq!(faces.len(), 1, "{name}");
        assert!(faces[0].face_probability > 0.95, "{name}: {:?}", faces[0]);
    }
}

#[test]
fn head_turned_on_real_profile_photos() {
    for name in ["Franz_Muentefering/Franz_Muentefering_0003.jpg", "George_Clooney/George_Clooney_0002.jpg"] {
        let Some(path) = shared(&format!("lfw/images/{name}")) else { return };
        let a = analyze(&engine().decode(&std::fs::read(path).unwrap()).unwrap());
        assert_reason(&a, ReasonCode::HeadTurned);
    }
}

#[test]
fn frontal_sample_photos_pass_the_gate() {
    for name in ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"] {
        let a = analyze(&sample(name));
        assert!(a.quality.passed(), "{name}: {:?}", a.quality);
        assert!(a.quality.measures.pose.yaw.abs() < 30.0);
    }
}

#[test]
fn bad_input_gets_a_typed_error_never_a_panic() {
    let e = engine();
    let photo = sample_bytes("obama.jpg");
    assert!(matches!(e.decode(&[]), Err(FaceError::EmptyInput)));
    for cut in [photo.len() / 2, photo.len() - 10, 100, 2] {
        let err = e.decode(&photo[..cut]).unwrap_err();
        assert!(
            matches!(err, FaceError::Decode(_) | FaceError::CorruptJpeg(_) | FaceError::UnsupportedFormat),
            "truncated at {cut}: {err:?}"
        );
    }
    // Bytes after the end-of-image marker are harmless (some cameras append data).
    assert!(e.decode(&[photo.clone(), b"trailing".to_vec()].concat()).is_ok());
    // A PNG header that claims 50000 x 50000 pixels: refused before any allocation.
    let huge = png_header(50_000, 50_000);
    assert!(matches!(e.decode(&huge), Err(FaceError::ImageTooLarge { width: 50_000, height: 50_000, .. })));
    // 1x1: a valid PNG, too small to hold a face.
    let one = {
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(&[0, 0, 0], 1, 1, image::ExtendedColorType::Rgb8)
            .unwrap();
        out
    };
    assert!(matches!(e.decode(&one), Err(FaceError::ImageTooSmall { width: 1, height: 1, .. })));
    // A camera buffer one row short.
    let buf = vec![0u8; 640 * 4 * 479];
    let cam = CameraBuffer {
        data: &buf,
        width: 640,
        height: 480,
        row_stride: 640 * 4,
        format: PixelFormat::Rgba8888,
        rotation: Rotation::R0,
    };
    assert!(matches!(cam.to_frame(&Default::default()), Err(FaceError::BufferLength { .. })));
    // Black and white frames: a clean "no face", nothing NaN.
    for level in [0u8, 255] {
        let flat = Frame::from_rgb(1280, 720, vec![level; 1280 * 720 * 3]).unwrap();
        let a = analyze(&flat);
        assert!(a.faces.is_empty(), "level {level}: {:?}", a.faces);
        assert_eq!(reasons(&a), vec![ReasonCode::NoFace]);
    }
}

use image::ImageEncoder;

/// A well-formed PNG claiming `w` x `h` RGB pixels: IHDR, a tiny IDAT, IEND.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in
        [(b"IHDR", ihdr), (b"IDAT", vec![0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]), (b"IEND", vec![])]
    {
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(&data);
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(&chunk);
        out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A JPEG with an EXIF APP1 segment holding only the orientation tag.
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"II*\x00\x08\x00\x00\x00".to_vec();
    tiff.extend_from_slice(&1u16.to_le_bytes()); // one IFD entry
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes()); // count
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    with_app1(jpeg, &[b"Exif\x00\x00".as_slice(), &tiff].concat())
}

#[test]
fn exif_orientation_is_applied() {
    let upright = sample("obama.jpg");
    // Store the picture turned 90 degrees anticlockwise and say so in EXIF
    // (orientation 6: rotate 90 degrees clockwise to display), as phones do.
    let stored = upright.clone().rotated(Rotation::R270);
    let bytes = with_exif_orientation(&jpeg(&stored), 6);
    let decoded = engine().decode(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (upright.width(), upright.height()));
    let (a, b) = (analyze(&decoded), analyze(&upright));
    assert!(a.quality.passed(), "{:?}", a.quality);
    let v = engine().verify(&a, &[b]).unwrap();
    assert!(v.score.unwrap() > 0.9, "{v:?}");
    // Without the tag the same bytes are a sideways face.
    let sideways = analyze(&engine().decode(&jpeg(&stored)).unwrap());
    assert!(sideways.main.is_none_or(|m| sideways.faces[m].landmarks[0].y != a.faces[0].landmarks[0].y));
}

/// RGB -> full-range BT.601 YUV, as a phone camera produces it.
fn yuv(p: [u8; 3]) -> (u8, u8, u8) {
    let (r, g, b) = (p[0] as f32, p[1] as f32, p[2] as f32);
    let y = 0.299 * r + 0.587 * g + 0.114 * b;
    let u = 128.0 + (b - y) * 0.564;
    let v = 128.0 + (r - y) * 0.713;
    (y.round().clamp(0.0, 255.0) as u8, u.round().clamp(0.0, 255.0) as u8, v.round().clamp(0.0, 255.0) as u8)
}

#[test]
fn camera_buffers_give_the_same_face() {
    let upright = sample("obama.jpg");
    let reference = analyze(&upright);
    // A sensor that delivers frames rotated: stored 90 degrees anticlockwise, rotation 90.
    let stored = upright.clone().rotated(Rotation::R270);
    let (w, h) = (stored.width() as usize, stored.height() as usize);
    let stride = w + 64 + (w % 2);
    // NV21 with padded rows: Y plane, then interleaved V/U at half resolution.
    let mut nv21 = vec![0u8; stride * h + stride * h.div_ceil(2)];
    for y in 0..h {
        for x in 0..w {
            let (luma, u, v) = yuv(stored.pixel(x as u32, y as u32));
            nv21[y * stride + x] = luma;
            if y % 2 == 0 && x % 2 == 0 {
                let i = stride * h + (y / 2) * stride + x;
                nv21[i] = v;
                nv21[i + 1] = u;
            }
        }
    }
    // BGRA with padded rows.
    let bstride = w * 4 + 32;
    let mut bgra = vec![0u8; bstride * h];
    for y in 0..h {
        for x in 0..w {
            let [r, g, b] = stored.pixel(x as u32, y as u32);
            bgra[y * bstride + x * 4..y * bstride + x * 4 + 4].copy_from_slice(&[b, g, r, 255]);
        }
    }
    for (format, data, row_stride) in [(PixelFormat::Nv21, &nv21, stride), (PixelFormat::Bgra8888, &bgra, bstride)] {
        let cam = CameraBuffer {
            data,
            width: w as u32,
            height: h as u32,
            row_stride: row_stride as u32,
            format,
            rotation: Rotation::R90,
        };
        let frame = cam.to_frame(&Default::default()).unwrap();
        assert_eq!((frame.width(), frame.height()), (upright.width(), upright.height()));
        let a = analyze(&frame);
        let v = engine().verify(&a, std::slice::from_ref(&reference)).unwrap();
        assert!(v.score.unwrap() > 0.9, "{format:?}: {v:?}");
    }
}

/// RGB -> YUV of a range and matrix (ITU-R BT.601 / BT.709), as a camera encodes it.
fn yuv_of(p: [u8; 3], range: YuvRange, matrix: YuvMatrix) -> [f32; 3] {
    let (kr, kb) = match matrix {
        YuvMatrix::Bt601 => (0.299f32, 0.114f32),
        YuvMatrix::Bt709 => (0.2126, 0.0722),
    };
    let (r, g, b) = (p[0] as f32, p[1] as f32, p[2] as f32);
    let y = kr * r + (1.0 - kr - kb) * g + kb * b;
    let (u, v) = ((b - y) / (2.0 * (1.0 - kb)), (r - y) / (2.0 * (1.0 - kr)));
    match range {
        YuvRange::Full => [y, 128.0 + u, 128.0 + v],
        YuvRange::Limited => [16.0 + y * 219.0 / 255.0, 128.0 + u * 224.0 / 255.0, 128.0 + v * 224.0 / 255.0],
    }
}

/// `frame` as three YUV 4:2:0 planes: Y with `y_stride`, chroma with
/// `c_stride` and `pixel_stride` (2: U and V interleaved in one buffer, as
/// Android's YUV_420_888 usually is; the last row without its padding).
fn planes_of(
    frame: &Frame,
    y_stride: usize,
    c_stride: usize,
    pixel_stride: usize,
    range: YuvRange,
    matrix: YuvMatrix,
) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let q = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    let mut y = vec![0u8; (h - 1) * y_stride + w];
    for row in 0..h {
        for col in 0..w {
            y[row * y_stride + col] = q(yuv_of(frame.pixel(col as u32, row as u32), range, matrix)[0]);
        }
    }
    let chroma_len = (ch - 1) * c_stride + (cw - 1) * pixel_stride + 1;
    let (mut u, mut v) = (vec![0u8; chroma_len + pixel_stride - 1], vec![0u8; chroma_len]);
    for row in 0..ch {
        for col in 0..cw {
            let mut sum = [0f32; 3];
            let mut n = 0.0;
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let (x, yy) = ((2 * col + dx).min(w - 1), (2 * row + dy).min(h - 1));
                let c = yuv_of(frame.pixel(x as u32, yy as u32), range, matrix);
                (0..3).for_each(|k| sum[k] += c[k]);
                n += 1.0;
            }
            let i = row * c_stride + col * pixel_stride;
            u[i] = q(sum[1] / n);
            v[i] = q(sum[2] / n);
        }
    }
    // Interleaved chroma: one buffer, V one byte after U (how the two planes overlap on Android).
    if pixel_stride == 2 {
        for i in (0..chroma_len).step_by(2) {
            u[i + 1] = v[i];
        }
        let interleaved = u.clone();
        return (y, u[..chroma_len].to_vec(), interleaved[1..].to_vec());
    }
    u.truncate(chroma_len);
    (y, u, v)
}

/// Issue 16: frames as phones deliver them, in separate planes with their own
/// strides, full or limited range, BT.601 or BT.709, give the faces and the
/// embedding of the same picture as a JPEG (cosine > 0.98 to it).
#[test]
fn planar_yuv_frames_give_the_same_face_and_embedding() {
    let upright = sample("obama2.jpg");
    let reference = analyze(&upright);
    let stored = upright.clone().rotated(Rotation::R270);
    let w = stored.width() as usize;
    for (y_stride, c_stride, pixel_stride, range, matrix) in [
        (w, w.div_ceil(2), 1, YuvRange::Full, YuvMatrix::Bt601),
        (w + 64, w + 64, 2, YuvRange::Full, YuvMatrix::Bt601),
        (w + 32, w.div_ceil(2) + 16, 1, YuvRange::Limited, YuvMatrix::Bt601),
        (w + 64, w + 64, 2, YuvRange::Limited, YuvMatrix::Bt709),
        (w, w + w % 2, 2, YuvRange::Full, YuvMatrix::Bt709),
    ] {
        let (y, u, v) = planes_of(&stored, y_stride, c_stride, pixel_stride, range, matrix);
        let plane = |data, row_stride: usize| PlaneView { data, row_stride: row_stride as u32, pixel_stride: 1 };
        let chroma = |data, row_stride: usize| PlaneView {
            data,
            row_stride: row_stride as u32,
            pixel_stride: pixel_stride as u32,
        };
        let planes = YuvPlanes {
            y: plane(&y, y_stride),
            u: chroma(&u, c_stride),
            v: chroma(&v, c_stride),
            width: stored.width(),
            height: stored.height(),
            range,
            matrix,
            rotation: Rotation::R90,
        };
        let frame = planes.to_frame(&Default::default()).unwrap();
        assert_eq!((frame.width(), frame.height()), (upright.width(), upright.height()));
        // The colours come back (range and matrix decoded as encoded): mean
        // error under 3 levels (measured 0.6; chroma is at half resolution);
        // read as full-range BT.601 instead, the others are off by 3.7-15x more.
        let error = |f: &Frame| {
            f.rgb().iter().zip(upright.rgb()).map(|(a, b)| (*a as f32 - *b as f32).abs()).sum::<f32>()
                / f.rgb().len() as f32
        };
        assert!(error(&frame) < 3.0, "{range:?} {matrix:?}: mean error {}", error(&frame));
        if (range, matrix) != (YuvRange::Full, YuvMatrix::Bt601) {
            let misread = YuvPlanes { range: YuvRange::Full, matrix: YuvMatrix::Bt601, ..planes };
            let wrong = error(&misread.to_frame(&Default::default()).unwrap());
            assert!(wrong > 3.0 * error(&frame), "{range:?} {matrix:?}: misread {wrong}");
        }
        let a = analyze(&frame);
        assert_eq!(a.faces.len(), reference.faces.len());
        assert!(a.faces[0].bbox.iou(&reference.faces[0].bbox) > 0.9);
        let cosine = a.embedding.as_ref().unwrap().cosine(reference.embedding.as_ref().unwrap());
        assert!(cosine > 0.98, "{range:?} {matrix:?} pixel stride {pixel_stride}: cosine {cosine}");
        // Wrong lengths and strides are typed errors naming the plane.
        let short = PlaneView { data: &u[..u.len() - 1], ..planes.u };
        let err = YuvPlanes { u: short, ..planes }.to_frame(&Default::default()).unwrap_err();
        assert!(matches!(err, FaceError::PlaneGeometry { plane: "U", .. }), "{err}");
        let narrow = PlaneView { row_stride: (w - 1) as u32, ..planes.y };
        let err = YuvPlanes { y: narrow, ..planes }.to_frame(&Default::default()).unwrap_err();
        assert!(matches!(err, FaceError::PlaneGeometry { plane: "Y", .. }), "{err}");
        let bad_step = PlaneView { pixel_stride: 0, ..planes.v };
        assert!(YuvPlanes { v: bad_step, ..planes }.to_frame(&Default::default()).is_err());
    }
}

#[test]
fn one_engine_serves_many_threads_with_identical_results() {
    let probe = sample("obama.jpg");
    let reference = analyze(&sample("obama3.jpg"));
    let expected = engine().verify(&analyze(&probe), std::slice::from_ref(&reference)).unwrap();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| engine().verify(&analyze(&probe), std::slice::from_ref(&reference)).unwrap()))
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), expected);
        }
    });
}

/// Portrait frames run the transposed YuNet plan (detect.rs): the same picture
/// padded to a square runs the ordinary plan at the same scale, and both must
/// find the same face.
#[test]
fn a_portrait_frame_finds_the_face_the_square_plan_finds() {
    let photo = sample("obama.jpg");
    // A 3:5 portrait cut around the face, then the same pixels on a black square.
    let face = engine().detect(&photo).unwrap()[0];
    let h = photo.height();
    let w = (h * 3 / 5).min(photo.width());
    let x0 = ((face.bbox.x + face.bbox.w / 2.0) as i64 - w as i64 / 2).clamp(0, (photo.width() - w) as i64) as u32;
    let portrait = crop(&photo, x0, 0, w, h);
    let mut square = vec![0u8; (h * h * 3) as usize];
    for (y, row) in portrait.rgb().chunks_exact(w as usize * 3).enumerate() {
        square[y * h as usize * 3..][..row.len()].copy_from_slice(row);
    }
    let square = Frame::from_rgb(h, h, square).unwrap();

    let (p, s) = (engine().detect(&portrait).unwrap(), engine().detect(&square).unwrap());
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(s.len(), 1, "{s:?}");
    assert!(p[0].bbox.iou(&s[0].bbox) > 0.95, "{p:?} vs {s:?}");
    assert!((p[0].score - s[0].score).abs() < 0.02, "{p:?} vs {s:?}");
    for (a, b) in p[0].landmarks.iter().zip(&s[0].landmarks) {
        assert!(a.distance(*b) < 0.02 * p[0].bbox.w, "{p:?} vs {s:?}");
    }
}

#[test]
fn the_eye_model_is_loaded_on_first_use_and_its_absence_is_a_typed_error() {
    // A model directory with everything but the eye model (links to the real files).
    let dir = std::env::temp_dir().join(format!("trustshot-no-eyes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for spec in trustshot_face::model_specs() {
        let file = spec.bundle.unwrap_or(spec.nnef);
        let link = dir.join(file);
        if spec.id != trustshot_face::IRIS_SPEC.id && !link.exists() {
            std::os::unix::fs::symlink(model_dir().join(file), link).unwrap();
        }
    }
    let without_eyes = trustshot_face::FaceEngine::load(&dir, trustshot_face::EngineConfig::default()).unwrap();
    let frame = sample("obama.jpg");
    let face = without_eyes.detect(&frame).unwrap()[0];
    assert!(!without_eyes.models().iter().any(|m| m.id == "mediapipe-iris"));
    assert!(matches!(without_eyes.eye_openness(&frame, &face), Err(FaceError::ModelMissing(_))));
    std::fs::remove_dir_all(&dir).unwrap();

    // With the model present: loaded at the first call, then listed. (The
    // sample's eyes are open but narrowed by a smile: 0.16 and 0.14.)
    let open = engine().eye_openness(&frame, &face).unwrap();
    assert!([open.image_left, open.image_right].iter().all(|o| (0.1..0.5).contains(o)), "{open:?}");
    assert!(engine().models().iter().any(|m| m.id == "mediapipe-iris"));
}

/// Issue 15: a model file other than the pinned one is refused at load, with
/// a typed error naming it (here the embedder's file replaced by another real
/// network, as a swapped or tampered file would be); and every pin in the
/// specs is the one models/*.toml records.
#[test]
fn a_swapped_model_file_is_refused_and_the_pins_match_the_manifests() {
    let dir = std::env::temp_dir().join(format!("trustshot-swapped-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let files: std::collections::BTreeSet<&str> =
        trustshot_face::model_specs().iter().map(|s| s.bundle.unwrap_or(s.nnef)).collect();
    for file in files {
        std::os::unix::fs::symlink(model_dir().join(file), dir.join(file)).unwrap();
    }
    let sface = trustshot_face::SFACE_SPEC.nnef;
    std::fs::remove_file(dir.join(sface)).unwrap();
    std::fs::copy(model_dir().join(trustshot_face::ONET_SPEC.nnef), dir.join(sface)).unwrap();
    match trustshot_face::FaceEngine::load(&dir, trustshot_face::EngineConfig::default()) {
        Err(FaceError::ModelMismatch { model, file }) => assert_eq!((model, file), ("sface-2021dec", sface)),
        Err(other) => panic!("expected ModelMismatch, got {other}"),
        Ok(_) => panic!("a swapped embedder was loaded"),
    }
    // The detector's bundle (every canvas's graph) swapped: refused at load too.
    std::fs::remove_file(dir.join(sface)).unwrap();
    std::os::unix::fs::symlink(model_dir().join(sface), dir.join(sface)).unwrap();
    let bundle = trustshot_face::YUNET_BUNDLE;
    std::fs::remove_file(dir.join(bundle)).unwrap();
    std::fs::copy(model_dir().join(trustshot_face::ONET_SPEC.nnef), dir.join(bundle)).unwrap();
    match trustshot_face::FaceEngine::load(&dir, trustshot_face::EngineConfig::default()) {
        Err(FaceError::ModelMismatch { model, file }) => assert_eq!((model, file), ("yunet-2023mar", bundle)),
        Err(other) => panic!("expected ModelMismatch, got {other}"),
        Ok(_) => panic!("a swapped detector bundle was loaded"),
    }
    // One byte appended is refused the same way.
    let mut bytes = std::fs::read(model_dir().join(sface)).unwrap();
    bytes.push(0);
    let err = trustshot_face::Model::from_bytes(&trustshot_face::SFACE_SPEC, &bytes).unwrap_err();
    assert!(matches!(err, FaceError::ModelMismatch { .. }), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();

    let manifests: String = std::fs::read_dir(workspace().join("models"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    for spec in trustshot_face::model_specs() {
        let file = spec.bundle.unwrap_or(spec.nnef);
        let line = format!("\"{file}\" = \"{}\"", spec.nnef_sha256);
        assert!(manifests.contains(&line), "{file} is not pinned as {} in models/*.toml", spec.nnef_sha256);
    }
}

/// Issue 15: PNGs of every sample layout decode to the same 8-bit RGB
/// pixels (16-bit samples reduced while decoding, alpha dropped, grey
/// expanded); the CLI's peak memory on a large 16-bit RGBA PNG is in
/// models/README.md ("PNG decoding").
#[test]
fn png_layouts_decode_to_the_same_rgb() {
    use image::{ImageBuffer, Luma, LumaA, Rgb, Rgba};
    let photo = sample("obama2.jpg");
    let (w, h) = (photo.width(), photo.height());
    let px = |x: u32, y: u32| photo.pixel(x, y);
    let encode = |write: &dyn Fn(&mut Vec<u8>)| {
        let mut out = Vec::new();
        write(&mut out);
        out
    };
    let png = |out: &mut Vec<u8>, buf: &[u8], color: image::ExtendedColorType| {
        image::codecs::png::PngEncoder::new(out).write_image(buf, w, h, color).unwrap()
    };
    let rgba16: ImageBuffer<Rgba<u16>, Vec<u16>> = ImageBuffer::from_fn(w, h, |x, y| {
        Rgba([px(x, y)[0] as u16 * 257, px(x, y)[1] as u16 * 257, px(x, y)[2] as u16 * 257, 40000])
    });
    let rgb16: ImageBuffer<Rgb<u16>, Vec<u16>> = ImageBuffer::from_fn(w, h, |x, y| {
        Rgb([px(x, y)[0] as u16 * 257, px(x, y)[1] as u16 * 257, px(x, y)[2] as u16 * 257])
    });
    let rgba8: ImageBuffer<Rgba<u8>, Vec<u8>> =
        ImageBuffer::from_fn(w, h, |x, y| Rgba([px(x, y)[0], px(x, y)[1], px(x, y)[2], 7]));
    let bytes16 = |v: &[u16]| v.iter().flat_map(|s| s.to_ne_bytes()).collect::<Vec<u8>>();
    for (name, file) in [
        ("rgba16", encode(&|o| png(o, &bytes16(rgba16.as_raw()), image::ExtendedColorType::Rgba16))),
        ("rgb16", encode(&|o| png(o, &bytes16(rgb16.as_raw()), image::ExtendedColorType::Rgb16))),
        ("rgba8", encode(&|o| png(o, rgba8.as_raw(), image::ExtendedColorType::Rgba8))),
        ("rgb8", encode(&|o| png(o, photo.rgb(), image::ExtendedColorType::Rgb8))),
    ] {
        assert_eq!(engine().decode(&file).unwrap(), photo, "{name}");
    }
    let grey: ImageBuffer<Luma<u16>, Vec<u16>> = ImageBuffer::from_fn(w, h, |x, y| Luma([px(x, y)[1] as u16 * 257]));
    let grey_alpha: ImageBuffer<LumaA<u8>, Vec<u8>> = ImageBuffer::from_fn(w, h, |x, y| LumaA([px(x, y)[1], 3]));
    let expected: Vec<u8> = photo.rgb().chunks_exact(3).flat_map(|p| [p[1]; 3]).collect();
    for (name, file) in [
        ("grey16", encode(&|o| png(o, &bytes16(grey.as_raw()), image::ExtendedColorType::L16))),
        ("grey_alpha8", encode(&|o| png(o, grey_alpha.as_raw(), image::ExtendedColorType::La8))),
    ] {
        assert_eq!(engine().decode(&file).unwrap().rgb(), &expected[..], "{name}");
    }
    // A PNG cut short is a typed error.
    let whole = encode(&|o| png(o, photo.rgb(), image::ExtendedColorType::Rgb8));
    assert!(matches!(engine().decode(&whole[..whole.len() / 2]), Err(FaceError::Decode(_))));
}

/// A 1280x720 camera frame: `photo` scaled to 720 rows, at column `x`, and
/// optionally a second person (`other`, scaled to 360 rows) at the right.
fn camera_frame(photo: &Frame, x: u32, other: Option<&Frame>) -> Frame {
    use trustshot_face::resize;
    let mut rgb = vec![40u8; 1280 * 720 * 3];
    let mut paste = |f: &Frame, x0: u32, y0: u32| {
        for y in 0..f.height().min(720 - y0) {
            let w = f.width().min(1280 - x0) as usize;
            let src = (y * f.width()) as usize * 3;
            let dst = ((y0 + y) * 1280 + x0) as usize * 3;
            rgb[dst..dst + w * 3].copy_from_slice(&f.rgb()[src..src + w * 3]);
        }
    };
    paste(&resize(photo, photo.width() * 720 / photo.height(), 720), x, 0);
    if let Some(o) = other {
        paste(&resize(o, o.width() * 360 / o.height(), 360), 1280 - o.width() * 360 / o.height(), 180);
    }
    Frame::from_rgb(1280, 720, rgb).unwrap()
}

/// Following a face (the camera loop of challenge and flash sessions): found
/// where the whole-frame search finds it, its landmarks within 4% of the face
/// width of that search's (measured: at most 3%; the whole-frame search
/// itself moves them by up to 4% between two frames shifted 4 px, as its grid
/// of anchors moves over the face), and a second person stepping into view
/// found by the next whole-frame search.
#[test]
fn a_followed_face_is_found_as_the_whole_frame_finds_it_and_a_newcomer_within_half_a_second() {
    use trustshot_face::{Search, Tracker, FULL_EVERY_MS};
    let (photo, other) = (sample("obama.jpg"), crop(&sample("biden.jpg"), 1300, 0, 904, 970));
    let mut tracker = Tracker::default();
    let mut near = 0;
    let mut newcomer_seen_at = None;
    for i in 0..40u32 {
        let t = u64::from(i) * 33;
        // The head moves 4 px a frame; from frame 20 (660 ms) someone else is in view too.
        let frame = camera_frame(&photo, 4 * i, (i >= 20).then_some(&other));
        let (faces, search) = tracker.detect(engine(), &frame, t).unwrap();
        near += usize::from(search == Search::NearLastFace);
        let whole = engine().detect(&frame).unwrap();
        let main =
            |f: &[trustshot_face::Face]| *f.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area())).unwrap();
        let (a, b) = (main(&faces), main(&whole));
        assert!(a.bbox.iou(&b.bbox) > 0.85, "frame {i}: {:?} vs {:?}", a.bbox, b.bbox);
        for (p, q) in a.landmarks.iter().zip(&b.landmarks) {
            assert!((p.x - q.x).hypot(p.y - q.y) < 0.04 * b.bbox.w, "frame {i}: landmark {p:?} vs {q:?}");
        }
        if i >= 20 && faces.len() == 2 && newcomer_seen_at.is_none() {
            newcomer_seen_at = Some(t - 660);
        }
    }
    assert!(near >= 30, "only {near} of 40 frames searched near the last face");
    let seen = newcomer_seen_at.expect("the second person was never found");
    assert!(seen <= FULL_EVERY_MS, "the second person was found {seen} ms after appearing");
}
