//! Encoded images as apps hand them over: any bytes through `decode` (format
//! sniffing, size limits, the whole-JPEG check, the JPEG and PNG decoders,
//! EXIF orientation). Any panic, hang or out-of-limit allocation is a bug; a
//! decoded frame must be as large as it says. Seeds (seeds/decode): small real
//! photos in each layout the check walks (written by `cargo run --example
//! fuzz_seeds -p trustshot-frame`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustshot_frame::{decode, Limits};

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = decode(data, &Limits::default()) {
        assert_eq!(frame.rgb().len(), frame.width() as usize * frame.height() as usize * 3);
    }
});
