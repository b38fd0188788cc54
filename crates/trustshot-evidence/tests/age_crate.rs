//! The age layer against a well-kept implementation: the `age` crate 0.12
//! (rage's library), whose native `p256tag` recipient is the one the evidence
//! format uses (a dev-dependency only; the phone seals with ring).
//!
//! - the `age` crate encrypts to our operator's `age1tag1…` recipient, and our
//!   reader (header, stanza unwrapping, header MAC, STREAM) decrypts it;
//! - our writer's files are read by the `age` crate's parser and STREAM
//!   (with an identity that unwraps our stanza through our own code: the crate
//!   ships no p256tag identity, only the recipient), for every chunk boundary
//!   case: empty, one byte short of a chunk, exactly one chunk, several.
#![cfg(feature = "open")]

use std::io::{Read, Write};
use trustshot_evidence::age::{self, Header, Identity, StreamReader, StreamWriter};
use trustshot_evidence::keys;

fn payloads() -> Vec<Vec<u8>> {
    let chunk = age::CHUNK;
    [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk + 17]
        .into_iter()
        .map(|n| (0..n).map(|i| (i * 31 % 251) as u8).collect())
        .collect()
}

/// Our reader over a whole age file.
fn our_decrypt(file: &[u8], identity: &Identity) -> Vec<u8> {
    let mut input = std::io::BufReader::new(file);
    let (header, _) = Header::read(&mut input).unwrap();
    let file_key = identity.unwrap(&header.stanzas).unwrap();
    age::verify_header_mac(&file_key, &header).unwrap();
    let mut stream = StreamReader::new(&file_key, input).unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next_chunk().unwrap() {
        out.extend(chunk);
    }
    out
}

#[test]
fn the_age_crate_encrypts_to_our_recipient_and_our_reader_decrypts() {
    let pair = keys::generate().unwrap();
    let identity = Identity::from_pkcs8_pem(&pair.private_pem).unwrap();
    let recipient: ::age::tag::Recipient = pair.public.age_recipient().parse().unwrap();
    for payload in payloads() {
        let encryptor =
            ::age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn ::age::Recipient)).unwrap();
        let mut file = Vec::new();
        let mut writer = encryptor.wrap_output(&mut file).unwrap();
        writer.write_all(&payload).unwrap();
        writer.finish().unwrap();
        assert_eq!(our_decrypt(&file, &identity), payload, "{} bytes", payload.len());
    }
}

/// Unwraps `p256tag` stanzas with our code, for the `age` crate's decryptor.
struct OurIdentity(Identity);

impl ::age::Identity for OurIdentity {
    fn unwrap_stanza(
        &self,
        stanza: &age_core::format::Stanza,
    ) -> Option<Result<age_core::format::FileKey, ::age::DecryptError>> {
        let args = std::iter::once(stanza.tag.clone()).chain(stanza.args.iter().cloned()).collect();
        let ours = age::Stanza { args, body: stanza.body.clone() };
        let key = self.0.unwrap(&[ours]).ok()?;
        Some(Ok(age_core::format::FileKey::new(Box::new(key))))
    }
}

#[test]
fn our_writer_is_read_by_the_age_crate() {
    let pair = keys::generate().unwrap();
    let identity = OurIdentity(Identity::from_pkcs8_pem(&pair.private_pem).unwrap());
    let file_key = [7u8; 16];
    for payload in payloads() {
        let mut random = trustshot_evidence::hpke::EphemeralEcdh(ring::rand::SystemRandom::new());
        let stanza = age::wrap_p256tag(&mut random, &pair.public, &file_key).unwrap();
        let header = Header { mac: age::header_mac(&file_key, std::slice::from_ref(&stanza)), stanzas: vec![stanza] };
        let mut file = header.encode();
        let mut writer = StreamWriter::new(&file_key, &[9u8; 16], &mut file).unwrap();
        writer.write_all(&payload).unwrap();
        writer.finish().unwrap();
        let decryptor = ::age::Decryptor::new_buffered(&file[..]).unwrap();
        let mut reader = decryptor.decrypt(std::iter::once(&identity as &dyn ::age::Identity)).unwrap();
        let mut got = Vec::new();
        reader.read_to_end(&mut got).unwrap();
        assert_eq!(got, payload, "{} bytes", payload.len());
    }
}
