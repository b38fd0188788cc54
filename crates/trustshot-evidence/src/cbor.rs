//! The CBOR (RFC 8949) subset the evidence format uses, with one encoding per
//! value so that a signed manifest cannot be re-encoded:
//!
//! - integers, lengths and tags in their shortest form;
//! - definite lengths only;
//! - map keys in bytewise order of their encodings, no duplicates;
//! - real numbers always as float64 (major type 7, additional info 27).
//!
//! The decoder accepts exactly what the encoder writes and nothing else, with
//! bounded depth and sizes (it reads untrusted data).

/// A CBOR data item.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Uint(u64),
    /// A negative integer, stored as its value (-1 ..= -2^63).
    Nint(i64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Value>),
    /// Entries in canonical order (the encoder sorts them).
    Map(Vec<(Value, Value)>),
    Tag(u64, Box<Value>),
    Float(f64),
    Bool(bool),
}

impl Value {
    pub fn int(v: i64) -> Value {
        if v >= 0 {
            Value::Uint(v as u64)
        } else {
            Value::Nint(v)
        }
    }

    pub fn text(s: impl Into<String>) -> Value {
        Value::Text(s.into())
    }

    /// A map from (key, value) pairs; keys are put in canonical order.
    pub fn map(entries: Vec<(Value, Value)>) -> Value {
        let mut keyed: Vec<(Vec<u8>, (Value, Value))> =
            entries.into_iter().map(|(k, v)| (encode(&k), (k, v))).collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Map(keyed.into_iter().map(|(_, kv)| kv).collect())
    }

    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Uint(u) => i64::try_from(u).ok(),
            Value::Nint(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The value under text key `key` of a map.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.as_text() == Some(key)).map(|(_, v)| v),
            _ => None,
        }
    }
}

fn head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    match arg {
        0..=23 => out.push(m | arg as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, arg as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(arg as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend_from_slice(&(arg as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&arg.to_be_bytes());
        }
    }
}

fn encode_into(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Uint(u) => head(out, 0, *u),
        Value::Nint(n) => head(out, 1, (-1 - *n) as u64),
        Value::Bytes(b) => {
            head(out, 2, b.len() as u64);
            out.extend_from_slice(b);
        }
        Value::Text(s) => {
            head(out, 3, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        Value::Array(items) => {
            head(out, 4, items.len() as u64);
            items.iter().for_each(|i| encode_into(out, i));
        }
        Value::Map(entries) => {
            head(out, 5, entries.len() as u64);
            for (k, v) in entries {
                encode_into(out, k);
                encode_into(out, v);
            }
        }
        Value::Tag(t, inner) => {
            head(out, 6, *t);
            encode_into(out, inner);
        }
        Value::Float(f) => {
            out.push(0xfb);
            out.extend_from_slice(&f.to_bits().to_be_bytes());
        }
        Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
    }
}

pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(&mut out, v);
    out
}

/// Why bytes are not canonical CBOR of the supported subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

const MAX_DEPTH: usize = 16;
const MAX_ITEMS: usize = 4096;

struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
    items: usize,
}

impl Decoder<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        if self.data.len() - self.pos < n {
            return Err(DecodeError("truncated"));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Major type and argument, refusing non-shortest forms.
    fn head(&mut self) -> Result<(u8, u8, u64), DecodeError> {
        let b = self.take(1)?[0];
        let (major, info) = (b >> 5, b & 31);
        let arg = match info {
            0..=23 => info as u64,
            24 => self.take(1)?[0] as u64,
            25 => u16::from_be_bytes(self.take(2)?.try_into().expect("2")) as u64,
            26 => u32::from_be_bytes(self.take(4)?.try_into().expect("4")) as u64,
            27 => u64::from_be_bytes(self.take(8)?.try_into().expect("8")),
            _ => return Err(DecodeError("indefinite length or reserved value")),
        };
        let shortest = match info {
            24 => arg >= 24,
            25 => arg > 0xff,
            26 => arg > 0xffff,
            27 => arg > 0xffff_ffff,
            _ => true,
        };
        // Major type 7 with 27 is a float64: its bits are not a length.
        if !shortest && major != 7 {
            return Err(DecodeError("integer or length not in shortest form"));
        }
        Ok((major, info, arg))
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError("nested too deeply"));
        }
        self.items += 1;
        if self.items > MAX_ITEMS {
            return Err(DecodeError("too many items"));
        }
        let (major, info, arg) = self.head()?;
        let len = |arg: u64, remaining: usize| -> Result<usize, DecodeError> {
            usize::try_from(arg).ok().filter(|&n| n <= remaining).ok_or(DecodeError("length exceeds the data"))
        };
        Ok(match major {
            0 => Value::Uint(arg),
            1 => Value::Nint(
                i64::try_from(arg).map(|a| -1 - a).map_err(|_| DecodeError("negative integer out of range"))?,
            ),
            2 => {
                let n = len(arg, self.data.len() - self.pos)?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            3 => {
                let n = len(arg, self.data.len() - self.pos)?;
                Value::Text(String::from_utf8(self.take(n)?.to_vec()).map_err(|_| DecodeError("text is not UTF-8"))?)
            }
            4 => {
                let n = len(arg, self.data.len() - self.pos)?;
                let mut items = Vec::with_capacity(n.min(64));
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                Value::Array(items)
            }
            5 => {
                let n = len(arg, self.data.len() - self.pos)?;
                let mut entries: Vec<(Value, Value)> = Vec::with_capacity(n.min(64));
                let mut previous: Option<Vec<u8>> = None;
                for _ in 0..n {
                    let start = self.pos;
                    let k = self.value(depth + 1)?;
                    let encoded = self.data[start..self.pos].to_vec();
                    if previous.as_ref().is_some_and(|p| *p >= encoded) {
                        return Err(DecodeError("map keys out of canonical order or repeated"));
                    }
                    previous = Some(encoded);
                    entries.push((k, self.value(depth + 1)?));
                }
                Value::Map(entries)
            }
            6 => Value::Tag(arg, Box::new(self.value(depth + 1)?)),
            7 => match (info, arg) {
                (20, _) => Value::Bool(false),
                (21, _) => Value::Bool(true),
                (27, bits) => Value::Float(f64::from_bits(bits)),
                _ => return Err(DecodeError("simple value or float width not supported")),
            },
            _ => unreachable!("major type is 3 bits"),
        })
    }
}

/// Decodes exactly one canonical item spanning all of `data`.
pub fn decode(data: &[u8]) -> Result<Value, DecodeError> {
    let mut d = Decoder { data, pos: 0, items: 0 };
    let v = d.value(0)?;
    if d.pos != data.len() {
        return Err(DecodeError("trailing bytes"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8949_examples() {
        let cases: [(Value, &str); 9] = [
            (Value::Uint(0), "00"),
            (Value::Uint(23), "17"),
            (Value::Uint(24), "1818"),
            (Value::Uint(1_000_000), "1a000f4240"),
            (Value::Nint(-1), "20"),
            (Value::Nint(-1000), "3903e7"),
            (Value::text("IETF"), "6449455446"),
            (Value::Float(1.1), "fb3ff199999999999a"),
            (Value::Array(vec![Value::Uint(1), Value::Array(vec![Value::Uint(2), Value::Uint(3)])]), "8201820203"),
        ];
        for (v, hex) in cases {
            let bytes = encode(&v);
            assert_eq!(crate::keys::hex(&bytes), hex);
            assert_eq!(decode(&bytes).unwrap(), v);
        }
    }

    #[test]
    fn maps_are_sorted_and_strictly_checked() {
        let m = Value::map(vec![
            (Value::text("bb"), Value::Uint(1)),
            (Value::text("a"), Value::Uint(2)),
            (Value::Uint(1), Value::Bool(true)),
        ]);
        let bytes = encode(&m);
        // Key 1 (0x01) < "a" (0x6161) < "bb" (0x626262).
        assert_eq!(crate::keys::hex(&bytes), "a301f561610262626201");
        assert_eq!(decode(&bytes).unwrap(), m);
        // Out of order, duplicated, non-shortest, indefinite, trailing: refused.
        for bad in ["a2616201616102", "a2616101616101", "1817", "9f01ff", "0000", "5a00000001"] {
            let bytes: Vec<u8> =
                (0..bad.len() / 2).map(|i| u8::from_str_radix(&bad[2 * i..2 * i + 2], 16).unwrap()).collect();
            assert!(decode(&bytes).is_err(), "{bad}");
        }
    }
}
