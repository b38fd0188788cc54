//! Fuzz target: the store file's decoder. A mutated store file never gets
//! past the AES-GCM tag, so each input is also sealed as the plaintext of a
//! well-formed file under a test key and opened: every input reaches the
//! decoder. Whatever decodes must encode back to the same bytes (the format
//! has one encoding), so a decoder that accepts a template the writer would
//! not write, or drops bytes, is found as well as a panic. Seeds: plaintexts
//! of real store files (fuzz/seeds/store, written by the store's tests and by
//! the SDK's enrollment test from real templates).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ring::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
use trustshot_store::format::{decode, encode, seal, unseal, Contents};

fuzz_target!(|data: &[u8]| {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7; 32]).unwrap());
    // The raw input as a whole file (magic, nonce and tag checks).
    let _ = unseal(&key, data);
    // The input as the plaintext of an authentic file, current and v1 format.
    if let Ok(contents) = decode(data, true) {
        assert_eq!(encode(&contents), data, "decode then encode must give the input back");
        let file = seal(&key, &contents, [1; 12]).expect("what the reader accepts, the writer writes");
        assert_eq!(unseal(&key, &file).expect("a sealed file opens"), contents);
    }
    if let Ok(Contents { templates, .. }) = decode(data, false) {
        assert_eq!(encode(&Contents { generation: 0, templates })[8..], *data);
    }
});
