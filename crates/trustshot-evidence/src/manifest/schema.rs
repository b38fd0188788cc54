//! The manifest's schema: every key once ([`FIELDS`]), with its CBOR shape,
//! presence and rule. It drives the reader's shape check, the check of the
//! writer's output, manifest.json and the table in docs/evidence-format.md §6.

use crate::cbor::Value;
use crate::error::{EvidenceError, Result};

/// The CBOR shape of a manifest key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Unsigned integer.
    Uint,
    /// Integer, either sign.
    Int,
    Text,
    /// Byte string of exactly 32 bytes.
    Bytes32,
    /// Map with exactly the keys listed under it.
    Map,
    /// Array of maps, each with exactly the keys listed under `key[]`.
    MapArray,
    /// Map of text keys to float64.
    FloatMap,
    /// Array of text.
    TextArray,
}

impl Shape {
    fn spec_name(self) -> &'static str {
        match self {
            Shape::Uint => "uint",
            Shape::Int => "int",
            Shape::Text => "text",
            Shape::Bytes32 => "bstr (32)",
            Shape::Map => "map",
            Shape::MapArray => "array of maps",
            Shape::FloatMap => "map text → float",
            Shape::TextArray => "array of text",
        }
    }

    pub(super) fn fits(self, v: &Value) -> bool {
        match self {
            Shape::Uint => matches!(v, Value::Uint(_)),
            Shape::Int => v.as_i64().is_some(),
            Shape::Text => matches!(v, Value::Text(_)),
            Shape::Bytes32 => matches!(v, Value::Bytes(b) if b.len() == 32),
            Shape::Map => matches!(v, Value::Map(_)),
            Shape::MapArray => matches!(v, Value::Array(items) if items.iter().all(|i| matches!(i, Value::Map(_)))),
            Shape::FloatMap => matches!(v, Value::Map(entries)
                if entries.iter().all(|(k, v)| matches!((k, v), (Value::Text(_), Value::Float(_))))),
            Shape::TextArray => matches!(v, Value::Array(items) if items.iter().all(|i| matches!(i, Value::Text(_)))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Required,
    Optional,
}

/// One key of the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// `key` at the top level, `parent.key` in a map, `parent[].key` in an array's maps.
    pub path: &'static str,
    pub shape: Shape,
    /// Whether the key must be present when its parent is.
    pub presence: Presence,
    /// The value rule beyond the shape (checked by [`Manifest::check`]), or "".
    pub rule: &'static str,
    pub meaning: &'static str,
}

const fn field(
    path: &'static str,
    shape: Shape,
    presence: Presence,
    rule: &'static str,
    meaning: &'static str,
) -> Field {
    Field { path, shape, presence, rule, meaning }
}

use Presence::{Optional, Required};

/// Every key of manifest v1, in the order of docs/evidence-format.md §6 and
/// of manifest.json; a reader refuses any other key at any level.
#[rustfmt::skip]
pub const FIELDS: [Field; 22] = [
    field("v", Shape::Uint, Required, "1", "manifest version"),
    field("kind", Shape::Text, Required, "`proof_of_delivery`, `identity_check` or `document_check`", "what was checked"),
    field("subject", Shape::Text, Required, "1–256 bytes", "delivery id or verification subject id, opaque"),
    field("captured_at", Shape::Int, Required, "0 ..= 253402300799", "capture time, Unix seconds (up to 9999-12-31T23:59:59Z)"),
    field("sdk", Shape::Text, Required, "", "the SDK that sealed, e.g. `trustshot/0.1.0`"),
    field("location", Shape::Map, Optional, "", "where, rounded before sealing (the exact position never enters)"),
    field("location.lat_e7", Shape::Int, Required, "−900000000 ..= 900000000", "latitude of the rounding cell's centre, 1e-7 degrees"),
    field("location.lon_e7", Shape::Int, Required, "−1800000000 ..= 1800000000", "longitude of the rounding cell's centre, 1e-7 degrees"),
    field("location.precision_m", Shape::Uint, Required, "1 ..= 100000", "cell size, metres"),
    field("photo", Shape::Map, Optional, "", "the photo the package carries (absent for receipts)"),
    field("photo.sha256", Shape::Bytes32, Required, "", "SHA-256 of the photo's exact bytes"),
    field("photo.length", Shape::Uint, Required, "1 ..= 536870912 (512 MiB)", "the photo's length in bytes"),
    field("photo.media_type", Shape::Text, Required, "1–64 bytes", "e.g. `image/jpeg`"),
    field("verdict", Shape::Map, Optional, "", "the decision as the phone made it, for audit"),
    field("verdict.decision", Shape::Text, Required, "", "e.g. `approve`, `reject`, `manual_review`"),
    field("verdict.scores", Shape::FloatMap, Required, "", "every score, by name"),
    field("verdict.thresholds", Shape::FloatMap, Required, "", "the threshold each score was judged against"),
    field("verdict.reasons", Shape::TextArray, Required, "", "reason codes"),
    field("models", Shape::MapArray, Optional, "", "the models the verdicts came from"),
    field("models[].id", Shape::Text, Required, "", "model id, e.g. `sface-2021dec`"),
    field("models[].sha256", Shape::Text, Required, "", "hex SHA-256 of the model file"),
    field("expires_at", Shape::Int, Optional, "`captured_at` ..= 253402300799; an integer (a float is refused)", "when the operator should delete the evidence, Unix seconds"),
];

/// The fields directly under `parent` ("" for the top level).
fn children(parent: &str) -> impl Iterator<Item = &'static Field> + '_ {
    FIELDS.iter().filter(move |f| match f.path.rsplit_once('.') {
        Some((p, _)) => p == parent,
        None => parent.is_empty(),
    })
}

fn key_of(field: &Field) -> &'static str {
    field.path.rsplit_once('.').map_or(field.path, |(_, k)| k)
}

/// Refuses a map with a key that [`FIELDS`] does not list under `parent`.
pub(super) fn only_known_keys(map: &Value, parent: &str) -> Result<()> {
    let Value::Map(entries) = map else { return Err(EvidenceError::MalformedBundle("manifest field is not a map")) };
    if entries.iter().any(|(k, _)| !k.as_text().is_some_and(|k| children(parent).any(|f| key_of(f) == k))) {
        return Err(EvidenceError::MalformedBundle("manifest has an unknown key"));
    }
    Ok(())
}

/// Checks a map against [`FIELDS`] at every level: no unknown key, every
/// required key present, every value of its shape.
pub(super) fn conform(map: &Value, parent: &str) -> Result<()> {
    let bad = EvidenceError::MalformedBundle;
    only_known_keys(map, parent)?;
    for field in children(parent) {
        let Some(value) = map.get(key_of(field)) else {
            if field.presence == Required {
                return Err(bad("manifest field missing"));
            }
            continue;
        };
        if !field.shape.fits(value) {
            return Err(bad("manifest field has the wrong type"));
        }
        match (field.shape, value) {
            (Shape::Map, _) => conform(value, field.path)?,
            (Shape::MapArray, Value::Array(items)) => {
                let nested = format!("{}[]", field.path);
                items.iter().try_for_each(|item| conform(item, &nested))?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// JSON for the map at `parent`, walking [`FIELDS`].
pub(super) fn json_of(map: &Value, parent: &str) -> String {
    let mut members = Vec::new();
    if parent == "location" {
        for (name, key) in [("lat", "lat_e7"), ("lon", "lon_e7")] {
            let degrees = map.get(key).and_then(Value::as_i64).unwrap_or(0) as f64 / 1e7;
            members.push(format!("\"{name}\":{degrees}"));
        }
    }
    for field in children(parent) {
        let Some(value) = map.get(key_of(field)) else { continue };
        let rendered = match (field.shape, value) {
            (Shape::Map, _) => json_of(value, field.path),
            (Shape::MapArray, Value::Array(items)) => {
                let nested = format!("{}[]", field.path);
                format!("[{}]", items.iter().map(|i| json_of(i, &nested)).collect::<Vec<_>>().join(","))
            }
            (Shape::FloatMap, Value::Map(entries)) => {
                // Text order, as a BTreeMap holds them (CBOR's canonical order is by length first).
                let mut reals: Vec<(&str, f64)> = entries
                    .iter()
                    .filter_map(|(k, v)| match (k, v) {
                        (Value::Text(k), Value::Float(f)) => Some((k.as_str(), *f)),
                        _ => None,
                    })
                    .collect();
                reals.sort_by(|a, b| a.0.cmp(b.0));
                let items: Vec<String> =
                    reals.iter().map(|(k, v)| format!("{}:{}", json_string(k), json_number(*v))).collect();
                format!("{{{}}}", items.join(","))
            }
            (Shape::TextArray, Value::Array(items)) => {
                let items: Vec<String> = items.iter().filter_map(Value::as_text).map(json_string).collect();
                format!("[{}]", items.join(","))
            }
            (_, Value::Bytes(b)) => json_string(&crate::keys::hex(b)),
            (_, Value::Text(t)) => json_string(t),
            (_, v) => v.as_i64().map_or_else(|| "null".to_string(), |n| n.to_string()),
        };
        members.push(format!("{}:{}", json_string(key_of(field)), rendered));
    }
    format!("{{{}}}", members.join(","))
}

/// The table of docs/evidence-format.md §6, from [`FIELDS`].
pub fn spec_table() -> String {
    let mut out = String::from("| key | CBOR type | presence | rule | meaning |\n|---|---|---|---|---|\n");
    for f in &FIELDS {
        let presence = match f.presence {
            Required if f.path.contains('.') => "required in its map",
            Required => "required",
            Optional => "optional",
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            f.path,
            f.shape.spec_name(),
            presence,
            f.rule,
            f.meaning
        ));
    }
    out
}

fn json_number(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".into()
    }
}

pub fn json_string(v: &str) -> String {
    let mut out = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
