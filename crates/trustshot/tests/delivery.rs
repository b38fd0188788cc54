//! Proof of delivery before sealing, on real photos: metadata is dropped, faces
//! are made unrecognisable, and the policy refuses a photo before reading it.

use std::sync::OnceLock;
use trustshot::delivery::{pixelate_faces, seal_receipt, DeliveryError};
use trustshot::evidence::{EvidenceError, Kind, Policy, SoftwareSigner};
use trustshot::{EvidenceRequest, FaceRedaction, GeoPoint, Image, Sdk, SdkConfig, SealOptions};
use trustshot_face::Decision;
use trustshot_testkit::*;

fn sdk() -> &'static Sdk {
    static SDK: OnceLock<Sdk> = OnceLock::new();
    SDK.get_or_init(|| Sdk::load(&model_dir(), SdkConfig::default()).expect("run scripts/setup"))
}

fn request(id: &str) -> EvidenceRequest {
    EvidenceRequest {
        kind: Kind::ProofOfDelivery,
        subject_id: id.into(),
        captured_at: 1_790_000_000,
        location: None,
        retention_days: 30,
        verdict: None,
    }
}

/// The sample JPEG with an EXIF segment holding a GPS position and a maker note.
fn photo_with_gps() -> Vec<u8> {
    let jpeg = sample_bytes("obama.jpg");
    let mut tiff = b"II*\x00\x08\x00\x00\x00".to_vec();
    tiff.extend_from_slice(&2u16.to_le_bytes());
    for (tag, value) in [(0x8825u16, 38u32), (0x927c, 38)] {
        // GPSInfo IFD pointer and MakerNote, both pointing at the GPS IFD below.
        tiff.extend_from_slice(&tag.to_le_bytes());
        tiff.extend_from_slice(&4u16.to_le_bytes());
        tiff.extend_from_slice(&1u32.to_le_bytes());
        tiff.extend_from_slice(&value.to_le_bytes());
    }
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(b"GPS 48.8584N 2.2945E secret maker note");
    with_app1(&jpeg, &[b"Exif\x00\x00".as_slice(), &tiff].concat())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn re_encoding_drops_exif_gps_and_maker_notes() {
    let original = photo_with_gps();
    assert!(contains(&original, b"Exif") && contains(&original, b"GPS 48.8584N"));
    let frame = sdk().frame(&Image::Encoded(&original)).unwrap();
    let prepared = sdk().prepare_photo(frame, FaceRedaction::Keep).unwrap();
    assert!(!contains(&prepared, b"Exif"));
    assert!(!contains(&prepared, b"GPS 48.8584N"));
    assert!(!contains(&prepared, b"secret maker note"));
    // Still the same picture.
    let a = engine().analyze(&engine().decode(&prepared).unwrap()).unwrap();
    let b = engine().analyze(&sample("obama.jpg")).unwrap();
    assert_eq!(engine().verify(&a, &[b]).unwrap().decision, Decision::Match);
}

#[test]
fn pixelated_faces_are_no_longer_recognisable() {
    let photo = sample("obama.jpg");
    let (blurred, count) = pixelate_faces(photo.clone(), engine()).unwrap();
    assert_eq!(count, 1);
    let reference = engine().analyze(&sample("obama3.jpg")).unwrap();
    let after = engine().analyze(&blurred).unwrap();
    match after.main {
        None => {}
        Some(_) if after.embedding.is_none() => {}
        Some(_) => {
            let v = engine().verify(&after, &[reference]).unwrap();
            assert_eq!(v.decision, Decision::NoMatch, "{v:?}");
        }
    }
    // Outside the face, the picture is untouched.
    assert_eq!(blurred.pixel(10, 10), photo.pixel(10, 10));
    assert_eq!(
        blurred.pixel(photo.width() - 5, photo.height() - 5),
        photo.pixel(photo.width() - 5, photo.height() - 5)
    );
}

#[test]
fn policy_refuses_the_photo_but_not_the_receipt() {
    let operator = trustshot::evidence::keys::generate().unwrap();
    let device = trustshot::evidence::keys::generate().unwrap();
    let signer = SoftwareSigner::from_pkcs8_pem(&device.private_pem).unwrap();
    let policy = Policy { photo_opt_out: true, ..Policy::default() };
    let options = SealOptions { faces: FaceRedaction::Pixelate, policy };
    let mut out = Vec::new();
    // Refused before the bytes are read: they are not even a picture.
    let photo = Image::Encoded(b"not a photo");
    let err = sdk().seal_delivery(&request("D-5"), &photo, options, &[operator.public], &signer, &mut out).unwrap_err();
    assert!(matches!(err, DeliveryError::Evidence(EvidenceError::PhotoNotAllowed(_))), "{err}");
    assert!(out.is_empty());
    let receipt = seal_receipt(&request("D-5"), policy, &[operator.public], &signer, &mut out).unwrap();
    assert!(receipt.manifest.photo.is_none() && !out.is_empty());
    // A confidential address takes no location, on a receipt either.
    let confidential = Policy { confidential_address: true, ..Policy::default() };
    let placed = EvidenceRequest {
        location: Some(GeoPoint { latitude: 52.52, longitude: 13.405, precision_m: 100 }),
        ..request("D-6")
    };
    let err = seal_receipt(&placed, confidential, &[operator.public], &signer, &mut Vec::new()).unwrap_err();
    assert!(matches!(err, EvidenceError::LocationNotAllowed), "{err}");
}

#[test]
fn a_sealed_delivery_names_the_models_and_pixelates_by_default() {
    let operator = trustshot::evidence::keys::generate().unwrap();
    let device = trustshot::evidence::keys::generate().unwrap();
    let signer = SoftwareSigner::from_pkcs8_pem(&device.private_pem).unwrap();
    let photo = sample_bytes("obama.jpg");
    let mut out = Vec::new();
    let summary = sdk()
        .seal_delivery(
            &request("D-7"),
            &Image::Encoded(&photo),
            SealOptions::default(),
            &[operator.public],
            &signer,
            &mut out,
        )
        .unwrap();
    let ids: Vec<&str> = summary.manifest.models.iter().map(|m| m.id.as_str()).collect();
    assert!(ids.contains(&"sface-2021dec") && ids.contains(&"yunet-2023mar"), "{ids:?}");
    // The sealed photo is the pixelated one: the face no longer matches.
    let identity = trustshot::evidence::Identity::from_pkcs8_pem(&operator.private_pem).unwrap();
    let mut sealed_photo = Vec::new();
    trustshot::evidence::open(&mut out.as_slice(), &identity, &device.public, &mut sealed_photo).unwrap();
    let after = engine().analyze(&engine().decode(&sealed_photo).unwrap()).unwrap();
    let reference = engine().analyze(&sample("obama3.jpg")).unwrap();
    assert!(after.embedding.is_none() || engine().verify(&after, &[reference]).unwrap().decision != Decision::Match);
}

/// Issue 15, defect 3: on a 4000x3000 doorstep-sized photo, bystanders'
/// faces 32 to 80 px wide must be pixelated (the stated guarantee: 16 px at
/// the 2048 px tile-search scale, so 32 px on a 4000 px photo); 24 px faces
/// are in the scene too and reported, not required. The whole-frame pass (a
/// 640 px canvas) misses faces up to 56 px. The scene is a composite of real photos:
/// the sample portraits' faces (with their surroundings) shrunk and pasted at
/// known places into a real photo enlarged to 4000x3000.
#[test]
fn small_bystanders_in_a_large_photo_are_pixelated() {
    let mut scene = trustshot_face::resize(&sample("obama3.jpg"), 4000, 3000).rgb().to_vec();
    let (sw, sh) = (4000usize, 3000usize);
    let mut pasted = Vec::new();
    let donors = ["obama.jpg", "obama2.jpg", "biden.jpg", "obama_partial_face2.jpg"];
    let widths = [24.0f32, 32.0, 40.0, 56.0, 80.0];
    for (i, &width) in widths.iter().enumerate() {
        for (j, donor) in donors.iter().enumerate().take(2 + i % 2) {
            let photo = sample(donor);
            let face = engine().detect(&photo).unwrap()[0];
            let context = face.bbox.scaled(1.6);
            let (cx, cy) = (context.x.max(0.0) as u32, context.y.max(0.0) as u32);
            let (cw, ch) = ((context.w as u32).min(photo.width() - cx), (context.h as u32).min(photo.height() - cy));
            let f = width / face.bbox.w;
            let (pw, ph) = (((cw as f32) * f).round() as u32, ((ch as f32) * f).round() as u32);
            let small = trustshot_face::resize(&crop(&photo, cx, cy, cw, ch), pw, ph);
            // Spread over the scene, away from the enlarged portrait's own face.
            let (x0, y0) = (200 + 700 * i as u32, 2200 + 300 * j as u32);
            for y in 0..ph {
                let src = (y * pw * 3) as usize;
                let dst = ((y0 + y) as usize * sw + x0 as usize) * 3;
                scene[dst..dst + pw as usize * 3].copy_from_slice(&small.rgb()[src..src + pw as usize * 3]);
            }
            let bx = x0 as f32 + (face.bbox.x - cx as f32) * f;
            let by = y0 as f32 + (face.bbox.y - cy as f32) * f;
            pasted.push((width, bx, by, face.bbox.h * f));
        }
    }
    let scene = trustshot_face::Frame::from_rgb(sw as u32, sh as u32, scene).unwrap();
    let covered = |faces: &[trustshot_face::Face], (w, x, y, h): (f32, f32, f32, f32)| {
        let (cx, cy) = (x + w / 2.0, y + h / 2.0);
        faces.iter().any(|f| f.bbox.x <= cx && cx <= f.bbox.x + f.bbox.w && f.bbox.y <= cy && cy <= f.bbox.y + f.bbox.h)
    };
    let whole_frame = engine().face_candidates(&scene).unwrap();
    let everywhere = engine().face_candidates_everywhere(&scene).unwrap();
    let missed_before: Vec<f32> = pasted.iter().filter(|p| !covered(&whole_frame, **p)).map(|p| p.0).collect();
    let missed_now: Vec<f32> = pasted.iter().filter(|p| !covered(&everywhere, **p)).map(|p| p.0).collect();
    eprintln!("{} faces pasted; whole frame misses widths {missed_before:?}; tiles miss {missed_now:?}", pasted.len());
    assert!(missed_before.iter().any(|&w| w >= 32.0), "the scene must hold faces the whole-frame pass misses");
    assert!(missed_now.iter().all(|&w| w < 32.0), "faces of widths {missed_now:?} px were not found");
    // And the pixelation reaches them: each pasted face's centre changed.
    let (blurred, _) = pixelate_faces(scene.clone(), engine()).unwrap();
    for &(w, x, y, h) in pasted.iter().filter(|p| p.0 >= 32.0) {
        let (cx, cy) = ((x + w / 2.0) as u32, (y + h / 2.0) as u32);
        let around = |f: &trustshot_face::Frame| -> Vec<[u8; 3]> {
            (0..4).flat_map(|d| [f.pixel(cx + d, cy), f.pixel(cx, cy + d)]).collect()
        };
        assert_ne!(around(&blurred), around(&scene), "face of width {w} at ({x}, {y}) not pixelated");
    }
}
