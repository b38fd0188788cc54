//! Fuzz target: what lies behind the header MAC. A mutated package never gets
//! past the MAC, so the `opener` target cannot reach the bundle framing, the
//! COSE_Sign1 and the manifest decoder with arbitrary bytes. Here each input
//! is sealed as the payload of a well-formed age file for the known-answer
//! operator key (one fixed header, built once), then opened: every input
//! reaches those parsers. Seeds: the bundles of the crafted manifests
//! (fuzz/seeds/bundle, written by tests/manifest_rules.rs and, with an
//! attestation chain, tests/attestation.rs). The raw input also goes to the key
//! parsers (PEM, SPKI, PKCS#8), the DER signature decoder and, as a
//! certificate, to the attestation check (X.509 and the Key Attestation
//! extension: what a device sends the backend); an opened package's chain goes
//! there too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use trustshot_evidence::age::{self, Header, StreamWriter};
use trustshot_evidence::attestation::{self, Roots};
use trustshot_evidence::hpke::EphemeralEcdh;
use trustshot_evidence::{cose, open, Identity, PublicKey, SoftwareSigner};

struct Fixture {
    operator: Identity,
    device: PublicKey,
    file_key: [u8; 16],
    header: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let kat: &str = include_str!("../../tests/vectors/kat.json");
        let pem = |label: &str, role: &str| -> String {
            let at = kat.find(&format!("\"{role}\"")).unwrap();
            let field = format!("\"{label}\": \"");
            let start = kat[at..].find(&field).unwrap() + at + field.len();
            let end = kat[start..].find('"').unwrap() + start;
            kat[start..end].replace("\\n", "\n")
        };
        let operator = Identity::from_pkcs8_pem(&pem("private_key_pem", "operator")).unwrap();
        let device = PublicKey::from_pem(&pem("public_key_pem", "device")).unwrap();
        let file_key = [0x42; 16];
        let mut random = EphemeralEcdh(ring::rand::SystemRandom::new());
        let stanzas = vec![age::wrap_p256tag(&mut random, operator.public(), &file_key).unwrap()];
        let header = Header { mac: age::header_mac(&file_key, &stanzas), stanzas }.encode();
        Fixture { operator, device, file_key, header }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let mut package = f.header.clone();
    let mut stream = StreamWriter::new(&f.file_key, &[0x43; 16], &mut package).unwrap();
    stream.write_all(data).unwrap();
    stream.finish().unwrap();
    if let Ok(opened) = open(&mut &package[..], &f.operator, &f.device, &mut std::io::sink()) {
        let _ = attestation::verify(&opened.attestation_chain, &f.device, &Roots::none(), 0);
    }
    let _ = attestation::verify(&[data.to_vec()], &f.device, &Roots::none(), 0);

    if let Ok(text) = std::str::from_utf8(data) {
        let _ = PublicKey::from_pem(text);
        let _ = Identity::from_pkcs8_pem(text);
        let _ = SoftwareSigner::from_pkcs8_pem(text);
    }
    let _ = PublicKey::from_spki_der(data);
    let _ = cose::der_to_raw(data);
});
