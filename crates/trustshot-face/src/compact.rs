//! Compact weights: how the shipped NNEF archives keep their large tensors
//! small on disk, expanded to f32 once, when the model is loaded.
//!
//! `models/build.py` (step `compact`) replaces a tensor file `NAME.dat` of an
//! NNEF archive by `NAME.tsw` in one of two encodings:
//! - **block int8**, where the f32 weights are exactly the dequantized int8
//!   weights of the source network (SFace ships as int8 with one scale and
//!   zero point per block): expanding gives back the very same f32 values, so
//!   nothing changes but the size (a quarter);
//! - **f16**, for networks that ship as f32 (YuNet, O-Net, MiniFASNet, Iris):
//!   half the size, each weight rounded to the nearest f16 (relative error at
//!   most 2^-11); the parity test and the accuracy checks are run on it.
//!
//! Format (little-endian):
//! ```text
//! "TSW1"                      4 bytes magic
//! encoding                    u8: 1 = f16, 2 = block int8
//! rank                        u8, 1..=8
//! reserved                    2 bytes, zero
//! dims                        u32 x rank; elements n = product (checked)
//! f16:        values          u16 (IEEE half) x n
//! block int8: block           u32 >= 1; blocks b = ceil(n / block)
//!             scales          f32 x b
//!             zero points     i8 x b
//!             values          i8 x n;  x[i] = (q[i] - zero[i / block]) * scale[i / block]
//! ```
//! Nothing else may follow. A malformed file is refused with what was wrong.

use std::path::Path;
use std::sync::Arc;
use tract_core::internal::*;
use tract_nnef::internal::{Nnef, Resource, ResourceLoader};

/// The file extension of a compact tensor.
pub(crate) const EXTENSION: &str = "tsw";
const MAGIC: &[u8; 4] = b"TSW1";
/// Largest tensor accepted, in elements (SFace's largest has 6.4 M).
const MAX_ELEMENTS: usize = 1 << 26;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CompactError {
    #[error("not a compact tensor (bad magic)")]
    Magic,
    #[error("unknown encoding {0}")]
    Encoding(u8),
    #[error("rank {0} is outside 1..=8")]
    Rank(u8),
    #[error("reserved bytes are not zero")]
    Reserved,
    #[error("shape has more than {MAX_ELEMENTS} elements or overflows")]
    TooLarge,
    #[error("block length is zero")]
    Block,
    #[error("file is {got} bytes, the header says {expected}")]
    Length { got: usize, expected: usize },
    #[error("a scale is not finite")]
    Scale,
}

/// A little-endian reader over a byte slice that never reads past its end.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
}

/// Decodes one compact tensor to f32 (the shape and the values): for the tests.
#[cfg(test)]
fn decode(data: &[u8]) -> Result<(Vec<usize>, Vec<f32>), CompactError> {
    let tensor = decode_tensor(data)?;
    let view = tensor.try_as_plain_ram().map_err(|_| CompactError::TooLarge)?;
    let values = view.as_slice::<f32>().map_err(|_| CompactError::TooLarge)?.to_vec();
    Ok((tensor.shape().to_vec(), values))
}

/// Decodes one compact tensor straight into an f32 tensor (no intermediate
/// copy: SFace's largest is 25 MB as f32, and load-time peak memory counts).
pub(crate) fn decode_tensor(data: &[u8]) -> Result<Tensor, CompactError> {
    let mut r = Bytes(data);
    let short = |r: &Bytes, expected: usize| CompactError::Length {
        got: data.len(),
        expected: data.len() - r.0.len() + expected,
    };
    if r.take(4) != Some(MAGIC.as_slice()) {
        return Err(CompactError::Magic);
    }
    let head = r.take(4).ok_or(CompactError::Magic)?;
    let (encoding, rank) = (head[0], head[1]);
    if !(1..=8).contains(&rank) {
        return Err(CompactError::Rank(rank));
    }
    if head[2] != 0 || head[3] != 0 {
        return Err(CompactError::Reserved);
    }
    let mut dims = Vec::with_capacity(rank as usize);
    for _ in 0..rank {
        dims.push(r.u32().ok_or_else(|| short(&r, 4))? as usize);
    }
    let n = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).filter(|&n| n <= MAX_ELEMENTS);
    let n = n.ok_or(CompactError::TooLarge)?;
    let mut tensor = Tensor::zero::<f32>(&dims).map_err(|_| CompactError::TooLarge)?;
    let mut view = tensor.try_as_plain_ram_mut().map_err(|_| CompactError::TooLarge)?;
    let values = view.as_slice_mut::<f32>().map_err(|_| CompactError::TooLarge)?;
    match encoding {
        1 => {
            let raw = r.take(2 * n).ok_or_else(|| short(&r, 2 * n))?;
            for (v, h) in values.iter_mut().zip(raw.chunks_exact(2)) {
                *v = f16::from_bits(u16::from_le_bytes([h[0], h[1]])).to_f32();
            }
        }
        2 => {
            let block = r.u32().ok_or_else(|| short(&r, 4))? as usize;
            if block == 0 {
                return Err(CompactError::Block);
            }
            let blocks = n.div_ceil(block);
            let scales = r.take(4 * blocks).ok_or_else(|| short(&r, 4 * blocks + blocks + n))?;
            let scales: Vec<f32> =
                scales.chunks_exact(4).map(|s| f32::from_le_bytes([s[0], s[1], s[2], s[3]])).collect();
            if !scales.iter().all(|s| s.is_finite()) {
                return Err(CompactError::Scale);
            }
            let zeros = r.take(blocks).ok_or_else(|| short(&r, blocks + n))?;
            let q = r.take(n).ok_or_else(|| short(&r, n))?;
            // The same arithmetic as the build's dequantization: (q - zero) in
            // f32 (exact), times the scale, one rounding.
            for (i, (v, &q)) in values.iter_mut().zip(q).enumerate() {
                *v = ((q as i8 as f32) - (zeros[i / block] as i8 as f32)) * scales[i / block];
            }
        }
        other => return Err(CompactError::Encoding(other)),
    }
    if !r.0.is_empty() {
        return Err(CompactError::Length { got: data.len(), expected: data.len() - r.0.len() });
    }
    Ok(tensor)
}

/// The tract resource loader for `.tsw` files (registered by the model loader).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CompactLoader;

impl ResourceLoader for CompactLoader {
    fn name(&self) -> StaticName {
        "trustshot compact weights".into()
    }

    fn try_load(
        &self,
        path: &Path,
        reader: &mut dyn std::io::Read,
        _framework: &Nnef,
    ) -> TractResult<Option<(String, Arc<dyn Resource>)>> {
        if path.extension().is_none_or(|e| e != EXTENSION) {
            return Ok(None);
        }
        let mut data = Vec::new();
        reader.read_to_end(&mut data)?;
        let tensor = decode_tensor(&data).map_err(|e| format_err!("{}: {e}", path.display()))?;
        let id = tract_nnef::resource::resource_path_to_id(path)?;
        Ok(Some((id, Arc::new(tensor))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(encoding: u8, dims: &[u32]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend([encoding, dims.len() as u8, 0, 0]);
        dims.iter().for_each(|d| out.extend(d.to_le_bytes()));
        out
    }

    #[test]
    fn block_int8_expands_exactly_as_dequantized() {
        let mut file = header(2, &[2, 3]);
        file.extend(4u32.to_le_bytes());
        for s in [0.5f32, 0.25] {
            file.extend(s.to_le_bytes());
        }
        file.extend([1u8, (-2i8) as u8]);
        file.extend([3i8, -1, 1, 7, -128, 127].map(|q| q as u8));
        let (dims, values) = decode(&file).unwrap();
        assert_eq!(dims, [2, 3]);
        // Block 0: elements 0..4 (zero 1, scale 0.5); block 1: elements 4..6 (zero -2, scale 0.25).
        assert_eq!(values, [1.0, -1.0, 0.0, 3.0, -31.5, 32.25]);
    }

    #[test]
    fn f16_expands_to_the_nearest_values() {
        let mut file = header(1, &[3]);
        for v in [1.0f32, -0.333_333, 65504.0] {
            file.extend(f16::from_f32(v).to_bits().to_le_bytes());
        }
        let (_, values) = decode(&file).unwrap();
        assert_eq!(values[0], 1.0);
        assert!((values[1] + 0.333_333).abs() < 2e-4);
        assert_eq!(values[2], 65504.0);
    }

    #[test]
    fn malformed_files_are_refused_with_what_is_wrong() {
        let good = {
            let mut f = header(1, &[2]);
            f.extend([0, 60, 0, 60]);
            f
        };
        assert!(decode(&good).is_ok());
        assert_eq!(decode(b"TSW"), Err(CompactError::Magic));
        assert_eq!(decode(&good[..good.len() - 1]), Err(CompactError::Length { got: 15, expected: 16 }));
        assert_eq!(decode(&[good.as_slice(), &[0]].concat()), Err(CompactError::Length { got: 17, expected: 16 }));
        assert_eq!(decode(&header(3, &[1])), Err(CompactError::Encoding(3)));
        assert_eq!(decode(&header(1, &[])), Err(CompactError::Rank(0)));
        assert_eq!(decode(&header(1, &[u32::MAX, u32::MAX, u32::MAX])), Err(CompactError::TooLarge));
        let mut zero_block = header(2, &[4]);
        zero_block.extend(0u32.to_le_bytes());
        assert_eq!(decode(&zero_block), Err(CompactError::Block));
        let mut nan = header(2, &[1]);
        nan.extend(1u32.to_le_bytes());
        nan.extend(f32::NAN.to_le_bytes());
        nan.extend([0, 0]);
        assert_eq!(decode(&nan), Err(CompactError::Scale));
        let mut reserved = header(1, &[1]);
        reserved[6] = 1;
        assert_eq!(decode(&reserved), Err(CompactError::Reserved));
    }
}
