//! The signed manifest: what a package claims, bound by the device signature.
//!
//! Encoded as canonical CBOR (see `cbor.rs`) with text keys; optional fields are
//! absent, never null. Reals are float64; places are integer 1e-7 degrees.
//!
//! [`FIELDS`] lists every key once, with its CBOR shape, presence and rule. It
//! drives the reader's shape check (unknown, missing and mistyped keys at every
//! level), the check of the writer's output, the JSON rendering and the table
//! in docs/evidence-format.md §6 (a test keeps the two equal). The value rules
//! the shapes cannot express are [`Manifest::check`], shared by writer and reader.

mod schema;

use crate::cbor::{self, Value};
use crate::error::{EvidenceError, Result};
use schema::{conform, json_of, only_known_keys};
pub use schema::{json_string, spec_table, Field, Presence, Shape, FIELDS};
use std::collections::BTreeMap;

pub const MANIFEST_VERSION: i64 = 1;
/// Largest photo a package may carry.
pub const MAX_PHOTO_BYTES: u64 = 512 << 20;
/// Latest time a manifest may name: 9999-12-31T23:59:59Z, Unix seconds.
pub const MAX_TIME: i64 = 253_402_300_799;
/// Longest retention a writer accepts (about 100 years), in days.
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// `captured_at + retention_days` days, checked: retention is 1 to
/// [`MAX_RETENTION_DAYS`] days and the result no later than [`MAX_TIME`].
pub fn expiry(captured_at: i64, retention_days: u32) -> Result<i64> {
    if !(1..=MAX_RETENTION_DAYS).contains(&retention_days) {
        return Err(EvidenceError::Manifest("retention must be 1 to 36500 days"));
    }
    captured_at
        .checked_add(retention_days as i64 * 86_400)
        .filter(|e| *e <= MAX_TIME)
        .ok_or(EvidenceError::Manifest("capture time plus retention is after the year 9999"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ProofOfDelivery,
    IdentityCheck,
    DocumentCheck,
}

impl Kind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::ProofOfDelivery => "proof_of_delivery",
            Kind::IdentityCheck => "identity_check",
            Kind::DocumentCheck => "document_check",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::ProofOfDelivery, Kind::IdentityCheck, Kind::DocumentCheck].into_iter().find(|k| k.as_str() == s)
    }
}

/// A place, already rounded to `precision_m` metres.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub lat_e7: i64,
    pub lon_e7: i64,
    pub precision_m: u32,
}

impl Location {
    /// Rounds (lat, lon) to a grid of `precision_m` metres (1 m ..= 100 km):
    /// the centre of the grid cell is kept, the exact position is not.
    pub fn rounded(lat: f64, lon: f64, precision_m: u32) -> Result<Location> {
        if !(lat.is_finite() && lon.is_finite() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)) {
            return Err(EvidenceError::Manifest("latitude must be in -90..90 and longitude in -180..180"));
        }
        if !(1..=100_000).contains(&precision_m) {
            return Err(EvidenceError::Manifest("location precision must be 1 m to 100 km"));
        }
        const METRES_PER_DEGREE: f64 = 111_320.0;
        let step_lat = precision_m as f64 / METRES_PER_DEGREE;
        let lat_r = ((lat / step_lat).floor() + 0.5) * step_lat;
        let lat_r = lat_r.clamp(-90.0, 90.0);
        // Longitude degrees shrink with the cosine of the latitude (floored near the poles).
        let step_lon = (step_lat / lat_r.to_radians().cos().max(0.01)).min(360.0);
        let lon_r = (((lon + 180.0) / step_lon).floor() + 0.5) * step_lon - 180.0;
        let lon_r = lon_r.clamp(-180.0, 180.0);
        Ok(Location { lat_e7: (lat_r * 1e7).round() as i64, lon_e7: (lon_r * 1e7).round() as i64, precision_m })
    }
}

/// The photo a package carries: its exact bytes are bound by hash and length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoRef {
    pub sha256: [u8; 32],
    pub length: u64,
    pub media_type: String,
}

/// A model a verdict came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRef {
    pub id: String,
    pub sha256: String,
}

/// A verification decision as the phone made it, for later audit.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Verdict {
    pub decision: String,
    pub scores: BTreeMap<String, f64>,
    pub thresholds: BTreeMap<String, f64>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub kind: Kind,
    /// Delivery id or verification subject id (opaque to the SDK).
    pub subject: String,
    /// Capture time, Unix seconds.
    pub captured_at: i64,
    pub location: Option<Location>,
    /// Set by sealing from the photo actually sealed; absent for receipts.
    pub photo: Option<PhotoRef>,
    pub verdict: Option<Verdict>,
    pub models: Vec<ModelRef>,
    /// The SDK that sealed, e.g. `trustshot/0.1.0`.
    pub sdk: String,
    /// When the operator should delete the evidence, Unix seconds.
    pub expires_at: Option<i64>,
}

impl Manifest {
    pub fn new(kind: Kind, subject: impl Into<String>, captured_at: i64) -> Manifest {
        Manifest {
            kind,
            subject: subject.into(),
            captured_at,
            location: None,
            photo: None,
            verdict: None,
            models: Vec::new(),
            sdk: concat!("trustshot/", env!("CARGO_PKG_VERSION")).into(),
            expires_at: None,
        }
    }

    /// The rules of docs/evidence-format.md §6 that the types do not already
    /// enforce. The writer checks them before signing and the reader after
    /// decoding: one function, so that the two cannot disagree.
    pub fn check(&self) -> std::result::Result<(), &'static str> {
        if self.subject.is_empty() || self.subject.len() > 256 {
            return Err("subject id must be 1 to 256 bytes");
        }
        if !(0..=MAX_TIME).contains(&self.captured_at) {
            return Err("captured_at must be 0 to 253402300799 (year 9999)");
        }
        if self.expires_at.is_some_and(|e| e < self.captured_at || e > MAX_TIME) {
            return Err("expires_at must be between captured_at and 253402300799");
        }
        if let Some(l) = &self.location {
            if !(-900_000_000..=900_000_000).contains(&l.lat_e7)
                || !(-1_800_000_000..=1_800_000_000).contains(&l.lon_e7)
            {
                return Err("location out of range (latitude -90..90, longitude -180..180)");
            }
            if !(1..=100_000).contains(&l.precision_m) {
                return Err("location precision must be 1 m to 100 km");
            }
        }
        if let Some(p) = &self.photo {
            if p.length == 0 || p.length > MAX_PHOTO_BYTES {
                return Err("photo must be 1 byte to 512 MiB");
            }
            if p.media_type.is_empty() || p.media_type.len() > 64 {
                return Err("photo media type must be 1 to 64 bytes");
            }
        }
        Ok(())
    }

    pub fn to_cbor(&self) -> Result<Vec<u8>> {
        self.check().map_err(EvidenceError::Manifest)?;
        let value = self.to_value();
        // The writer's output meets the same shape rules the reader applies.
        conform(&value, "").map_err(|_| EvidenceError::Manifest("manifest does not match its schema"))?;
        Ok(cbor::encode(&value))
    }

    /// The manifest as a CBOR map: the keys of [`FIELDS`].
    fn to_value(&self) -> Value {
        let t = |s: &str| Value::text(s);
        let mut entries = vec![
            (t("v"), Value::int(MANIFEST_VERSION)),
            (t("kind"), t(self.kind.as_str())),
            (t("subject"), t(&self.subject)),
            (t("captured_at"), Value::int(self.captured_at)),
            (t("sdk"), t(&self.sdk)),
        ];
        if let Some(l) = &self.location {
            let location = vec![
                (t("lat_e7"), Value::int(l.lat_e7)),
                (t("lon_e7"), Value::int(l.lon_e7)),
                (t("precision_m"), Value::int(l.precision_m as i64)),
            ];
            entries.push((t("location"), Value::map(location)));
        }
        if let Some(p) = &self.photo {
            let photo = vec![
                (t("sha256"), Value::Bytes(p.sha256.to_vec())),
                (t("length"), Value::Uint(p.length)),
                (t("media_type"), t(&p.media_type)),
            ];
            entries.push((t("photo"), Value::map(photo)));
        }
        if let Some(v) = &self.verdict {
            let reals =
                |m: &BTreeMap<String, f64>| Value::map(m.iter().map(|(k, v)| (t(k), Value::Float(*v))).collect());
            let verdict = vec![
                (t("decision"), t(&v.decision)),
                (t("scores"), reals(&v.scores)),
                (t("thresholds"), reals(&v.thresholds)),
                (t("reasons"), Value::Array(v.reasons.iter().map(|r| t(r)).collect())),
            ];
            entries.push((t("verdict"), Value::map(verdict)));
        }
        if !self.models.is_empty() {
            let model = |m: &ModelRef| Value::map(vec![(t("id"), t(&m.id)), (t("sha256"), t(&m.sha256))]);
            entries.push((t("models"), Value::Array(self.models.iter().map(model).collect())));
        }
        if let Some(e) = self.expires_at {
            entries.push((t("expires_at"), Value::int(e)));
        }
        Value::map(entries)
    }

    /// Reads a manifest: canonical CBOR, the version, the shapes of
    /// [`FIELDS`] at every level, then the value rules of [`Manifest::check`].
    pub fn from_cbor(bytes: &[u8]) -> Result<Manifest> {
        let bad = EvidenceError::MalformedBundle;
        let v = cbor::decode(bytes).map_err(|_| bad("manifest is not canonical CBOR"))?;
        // Unknown top-level keys are refused before the version is read (as
        // the Python opener does); `conform` then checks every level.
        only_known_keys(&v, "")?;
        if v.get("v").and_then(Value::as_i64) != Some(MANIFEST_VERSION) {
            return Err(EvidenceError::UnknownVersion(format!("manifest v{:?}", v.get("v").and_then(Value::as_i64))));
        }
        conform(&v, "")?;
        let manifest = Manifest::from_conforming(&v).ok_or(bad("manifest field has the wrong type"))?;
        manifest.check().map_err(bad)?;
        Ok(manifest)
    }

    /// The manifest from a map that [`conform`] accepted (`None` only if it did not).
    fn from_conforming(v: &Value) -> Option<Manifest> {
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_text).map(str::to_owned);
        let int = |v: &Value, key: &str| v.get(key).and_then(Value::as_i64);
        let reals = |v: &Value, key: &str| match v.get(key) {
            Some(Value::Map(m)) => m
                .iter()
                .map(|(k, v)| match (k, v) {
                    (Value::Text(k), Value::Float(f)) => Some((k.clone(), *f)),
                    _ => None,
                })
                .collect::<Option<BTreeMap<_, _>>>(),
            _ => None,
        };
        let location = match v.get("location") {
            None => None,
            Some(l) => Some(Location {
                lat_e7: int(l, "lat_e7")?,
                lon_e7: int(l, "lon_e7")?,
                // Out of u32's range breaks the precision rule: 0 is refused by `check`.
                precision_m: u32::try_from(int(l, "precision_m")?).unwrap_or(0),
            }),
        };
        let photo = match v.get("photo") {
            None => None,
            Some(p) => Some(PhotoRef {
                sha256: match p.get("sha256") {
                    Some(Value::Bytes(hash)) => hash.as_slice().try_into().ok()?,
                    _ => return None,
                },
                length: match p.get("length") {
                    Some(Value::Uint(length)) => *length,
                    _ => return None,
                },
                media_type: text(p, "media_type")?,
            }),
        };
        let verdict = match v.get("verdict") {
            None => None,
            Some(d) => Some(Verdict {
                decision: text(d, "decision")?,
                scores: reals(d, "scores")?,
                thresholds: reals(d, "thresholds")?,
                reasons: match d.get("reasons") {
                    Some(Value::Array(reasons)) => {
                        reasons.iter().map(|r| r.as_text().map(str::to_owned)).collect::<Option<_>>()?
                    }
                    _ => return None,
                },
            }),
        };
        let models = match v.get("models") {
            None => Vec::new(),
            Some(Value::Array(ms)) => ms
                .iter()
                .map(|m| Some(ModelRef { id: text(m, "id")?, sha256: text(m, "sha256")? }))
                .collect::<Option<_>>()?,
            Some(_) => return None,
        };
        Some(Manifest {
            kind: Kind::parse(&text(v, "kind")?)?,
            subject: text(v, "subject")?,
            captured_at: int(v, "captured_at")?,
            location,
            photo,
            verdict,
            models,
            sdk: text(v, "sdk")?,
            expires_at: match v.get("expires_at") {
                None => None,
                Some(e) => Some(e.as_i64()?),
            },
        })
    }

    /// The manifest as JSON (what `evidence open` writes to manifest.json):
    /// the keys of [`FIELDS`] in their order, byte strings as hex, and the
    /// location also in degrees (`lat`, `lon`).
    pub fn to_json(&self) -> String {
        json_of(&self.to_value(), "")
    }
}

/// What the customer and the address allow, decided by the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    /// The customer opted out of delivery photos.
    pub photo_opt_out: bool,
    /// The address is confidential (e.g. a gift-registry delivery).
    pub confidential_address: bool,
}

impl Policy {
    /// Refuses a photo when the policy forbids one (a receipt without a photo is still allowed).
    pub fn check_photo(&self) -> Result<()> {
        if self.photo_opt_out {
            return Err(EvidenceError::PhotoNotAllowed("the customer opted out of delivery photos"));
        }
        if self.confidential_address {
            return Err(EvidenceError::PhotoNotAllowed("the delivery address is confidential"));
        }
        Ok(())
    }

    /// Refuses a location when the address is confidential: even rounded, a
    /// place can reveal what the customer asked to keep secret (a shelter, a
    /// gift recipient). An opted-out photo does not hide the place: a receipt
    /// without a photo still proves where the parcel was left.
    pub fn check_location(&self, location: Option<&Location>) -> Result<()> {
        if self.confidential_address && location.is_some() {
            return Err(EvidenceError::LocationNotAllowed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Manifest {
        let mut m = Manifest::new(Kind::IdentityCheck, "seller-42", 1_790_000_000);
        m.location = Some(Location::rounded(52.520_008, 13.404_954, 100).unwrap());
        m.photo = Some(PhotoRef { sha256: [7; 32], length: 1234, media_type: "image/jpeg".into() });
        m.verdict = Some(Verdict {
            decision: "manual_review".into(),
            scores: [("face_match".to_string(), 0.42), ("liveness".to_string(), 0.97)].into_iter().collect(),
            thresholds: [("face_match".to_string(), 0.36)].into_iter().collect(),
            reasons: vec!["low_document_quality".into()],
        });
        m.models = vec![ModelRef { id: "sface-2021dec".into(), sha256: "ab".repeat(32) }];
        m.expires_at = Some(1_800_000_000);
        m
    }

    #[test]
    fn cbor_round_trip_is_exact() {
        let m = full();
        let bytes = m.to_cbor().unwrap();
        assert_eq!(Manifest::from_cbor(&bytes).unwrap(), m);
        assert_eq!(Manifest::from_cbor(&bytes).unwrap().to_cbor().unwrap(), bytes);
        let minimal = Manifest::new(Kind::ProofOfDelivery, "d-1", 0);
        assert_eq!(Manifest::from_cbor(&minimal.to_cbor().unwrap()).unwrap(), minimal);
    }

    #[test]
    fn rounding_keeps_the_cell_not_the_position() {
        let a = Location::rounded(52.520_008, 13.404_954, 1000).unwrap();
        let b = Location::rounded(52.521_500, 13.405_800, 1000).unwrap();
        assert_eq!(a, b, "two doors 150 m apart share a 1 km cell");
        let fine = Location::rounded(52.520_008, 13.404_954, 1).unwrap();
        assert!((fine.lat_e7 - 525_200_080).abs() < 100 && (fine.lon_e7 - 134_049_540).abs() < 200);
        assert!(Location::rounded(f64::NAN, 0.0, 10).is_err());
        assert!(Location::rounded(91.0, 0.0, 10).is_err());
        assert!(Location::rounded(0.0, 0.0, 0).is_err());
    }

    #[test]
    fn policy_refuses_photos_only() {
        assert!(Policy::default().check_photo().is_ok());
        let place = Location::rounded(52.5, 13.4, 100).unwrap();
        let confidential = Policy { confidential_address: true, ..Policy::default() };
        assert_eq!(confidential.check_location(Some(&place)), Err(EvidenceError::LocationNotAllowed));
        assert!(confidential.check_location(None).is_ok());
        assert!(Policy { photo_opt_out: true, ..Policy::default() }.check_location(Some(&place)).is_ok());
        assert!(matches!(
            Policy { photo_opt_out: true, ..Policy::default() }.check_photo(),
            Err(EvidenceError::PhotoNotAllowed(_))
        ));
        assert!(matches!(
            Policy { confidential_address: true, ..Policy::default() }.check_photo(),
            Err(EvidenceError::PhotoNotAllowed(_))
        ));
    }

    #[test]
    fn the_spec_table_is_the_schema() {
        let spec = include_str!("../../../../docs/evidence-format.md");
        assert!(
            spec.contains(&spec_table()),
            "docs/evidence-format.md §6 must hold the table of manifest::FIELDS:\n{}",
            spec_table()
        );
    }

    #[test]
    fn the_writer_writes_every_field_of_the_schema() {
        let written = full().to_value();
        for f in &FIELDS {
            let mut path = f.path.split('.');
            let mut v = written.get(path.next().unwrap().trim_end_matches("[]"));
            if f.path.starts_with("models[]") {
                v = match v {
                    Some(Value::Array(items)) => items.first(),
                    _ => None,
                };
            }
            for key in path {
                v = v.and_then(|m| m.get(key));
            }
            assert!(v.is_some_and(|v| f.shape.fits(v)), "{} is not written as {:?}", f.path, f.shape);
        }
    }

    #[test]
    fn the_reader_refuses_missing_and_mistyped_fields() {
        let bytes = full().to_cbor().unwrap();
        let Value::Map(entries) = cbor::decode(&bytes).unwrap() else { panic!() };
        let without = |key: &str| {
            cbor::encode(&Value::map(entries.iter().filter(|(k, _)| k.as_text() != Some(key)).cloned().collect()))
        };
        assert_eq!(Manifest::from_cbor(&without("sdk")), Err(EvidenceError::MalformedBundle("manifest field missing")));
        let retyped: Vec<(Value, Value)> = entries
            .iter()
            .map(
                |(k, v)| {
                    if k.as_text() == Some("subject") {
                        (k.clone(), Value::int(7))
                    } else {
                        (k.clone(), v.clone())
                    }
                },
            )
            .collect();
        assert_eq!(
            Manifest::from_cbor(&cbor::encode(&Value::map(retyped))),
            Err(EvidenceError::MalformedBundle("manifest field has the wrong type"))
        );
    }

    #[test]
    fn json_escapes() {
        assert_eq!(json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
        let json = full().to_json();
        assert!(json.contains("\"kind\":\"identity_check\"") && json.contains("\"precision_m\":100"));
    }
}
