//! Proof of delivery before sealing, on real photos: metadata is dropped, faces
//! are made unrecognisable, and the policy refuses a photo before reading it.

#[path = "../../trustshot-face/tests/support/mod.rs"]
mod support;

use support::*;
use trustshot::delivery::{pixelate_faces, prepare_photo, seal_delivery, PhotoPrivacy};
use trustshot::evidence::{EvidenceError, Kind, Manifest, Policy, SoftwareSigner};
use trustshot_face::Decision;

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
    let prepared = prepare_photo(engine(), &original, PhotoPrivacy { blur_faces: false, jpeg_quality: 90 }).unwrap();
    assert!(!contains(&prepared.jpeg, b"Exif"));
    assert!(!contains(&prepared.jpeg, b"GPS 48.8584N"));
    assert!(!contains(&prepared.jpeg, b"secret maker note"));
    // Still the same picture.
    let a = engine().analyze(&engine().decode(&prepared.jpeg).unwrap()).unwrap();
    let b = engine().analyze(&sample("obama.jpg")).unwrap();
    assert_eq!(engine().verify(&a, &[b]).unwrap().decision, Decision::Match);
}

#[test]
fn pixelated_faces_are_no_longer_recognisable() {
    let photo = sample("obama.jpg");
    let (blurred, count) = pixelate_faces(&photo, engine()).unwrap();
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
    let manifest = Manifest::new(Kind::ProofOfDelivery, "D-5", 1_790_000_000);
    let policy = Policy { photo_opt_out: true, ..Policy::default() };
    let mut out = Vec::new();
    let err = seal_delivery(
        engine(),
        manifest.clone(),
        Some(b"not a photo"),
        policy,
        PhotoPrivacy::default(),
        &[operator.public],
        &signer,
        &mut out,
    )
    .err()
    .unwrap();
    assert!(matches!(err, trustshot::delivery::DeliveryError::Evidence(EvidenceError::PhotoNotAllowed(_))), "{err}");
    assert!(out.is_empty());
    let receipt =
        seal_delivery(engine(), manifest, None, policy, PhotoPrivacy::default(), &[operator.public], &signer, &mut out)
            .unwrap();
    assert!(receipt.manifest.photo.is_none() && !out.is_empty());
}
