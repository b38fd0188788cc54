//! Fuzz target: everything that reads untrusted package bytes — the age header
//! parser, inspect, the full opener (with the known-answer keys, so inputs
//! derived from the committed vectors reach the payload, bundle and COSE code),
//! and the CBOR, COSE and manifest decoders on their own. Any panic, hang or
//! unbounded allocation is a finding; errors are the expected outcome.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use trustshot_evidence::{cbor, cose, inspect, open, Identity, Manifest, PublicKey};

struct Keys {
    operator: Identity,
    device: PublicKey,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let kat: &str = include_str!("../../tests/vectors/kat.json");
        let pem = |label: &str, role: &str| -> String {
            // kat.json holds the PEM strings with escaped newlines.
            let key = format!("\"{role}\"");
            let at = kat.find(&key).unwrap();
            let field = format!("\"{label}\": \"");
            let start = kat[at..].find(&field).unwrap() + at + field.len();
            let end = kat[start..].find('"').unwrap() + start;
            kat[start..end].replace("\\n", "\n")
        };
        Keys {
            operator: Identity::from_pkcs8_pem(&pem("private_key_pem", "operator")).unwrap(),
            device: PublicKey::from_pem(&pem("public_key_pem", "device")).unwrap(),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let k = keys();
    let _ = inspect(&mut &data[..], &[*k.operator.public()]);
    let mut sink = std::io::sink();
    let _ = open(&mut &data[..], &k.operator, &k.device, &mut sink);
    let _ = cbor::decode(data);
    let _ = cose::parse_sign1(data);
    let _ = Manifest::from_cbor(data);
});
