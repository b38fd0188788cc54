//! Is this JPEG whole? A walk of its entropy-coded data, before decoding.
//!
//! A JPEG decoder that runs out of scan data fills the missing blocks with
//! grey and reports success; one that meets garbage in the middle of a scan
//! decodes garbage. Neither may reach the face pipeline or sealed evidence.
//! An end-of-image marker proves nothing either way: appended to a cut file
//! it hides the cut, and complete files from real cameras and scanners
//! sometimes lack it (or have their only one inside an embedded thumbnail).
//!
//! So the check does what libjpeg does when it warns "premature end of data"
//! or "extraneous bytes before marker": it Huffman-decodes every block of
//! every scan (no dequantisation, no IDCT) and requires that
//! - every MCU of every scan is decoded from real data, never from the end
//!   of the file or from a marker ([`JpegDefect::Truncated`]);
//! - each scan (and each restart interval) ends where its data ends: no whole
//!   byte is left over ([`JpegDefect::ExtraneousData`]), restart markers come
//!   in order ([`JpegDefect::RestartMarker`]), every code is in its table
//!   ([`JpegDefect::BadHuffmanCode`]);
//! - a file without an end-of-image marker carries all of its picture: every
//!   component scanned, and in a progressive file every coefficient brought
//!   to full precision.
//!
//! Baseline, extended and progressive Huffman coding are checked; other
//! coding processes (lossless, arithmetic, hierarchical) are refused as
//! [`JpegDefect::Unsupported`], as the decoder cannot read them either.
//! Segment lengths are followed, so markers inside APPn segments (an EXIF
//! thumbnail) are never mistaken for the picture's own.

/// What is wrong with a JPEG. Messages name the defect, never the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JpegDefect {
    #[error("JPEG is truncated: scan data ends before the last block of the picture")]
    Truncated,
    #[error("JPEG is corrupt: {bytes} byte(s) of scan data left over after the last block (damaged data)")]
    ExtraneousData { bytes: usize },
    #[error("JPEG is corrupt: restart marker out of order or missing")]
    RestartMarker,
    #[error("JPEG is corrupt: a Huffman code is not in its table")]
    BadHuffmanCode,
    #[error("JPEG is corrupt: malformed {0} segment")]
    Malformed(&'static str),
    #[error("JPEG uses a coding process this SDK does not read (lossless, arithmetic or hierarchical)")]
    Unsupported,
}

impl JpegDefect {
    /// A stable snake_case code (see [`crate::FaceError::code`]).
    pub fn code(&self) -> &'static str {
        match self {
            JpegDefect::Truncated => "jpeg_truncated",
            JpegDefect::ExtraneousData { .. } => "jpeg_extraneous_data",
            JpegDefect::RestartMarker => "jpeg_restart_marker",
            JpegDefect::BadHuffmanCode => "jpeg_bad_huffman_code",
            JpegDefect::Malformed(_) => "jpeg_malformed",
            JpegDefect::Unsupported => "jpeg_unsupported",
        }
    }
}

type Result<T> = std::result::Result<T, JpegDefect>;

/// Checks that `bytes` is a whole JPEG (see the module header).
pub(crate) fn check_complete(bytes: &[u8]) -> Result<()> {
    if bytes.len() < 4 || bytes[..2] != [0xFF, 0xD8] {
        return Err(JpegDefect::Malformed("start-of-image"));
    }
    let mut state = State::default();
    let mut pos = 2;
    loop {
        // Fill bytes (FF) may precede a marker.
        while pos < bytes.len() && bytes[pos] == 0xFF && bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        if pos + 1 >= bytes.len() {
            break; // the file ends after a whole segment or scan
        }
        if bytes[pos] != 0xFF {
            return Err(JpegDefect::Malformed("marker"));
        }
        let marker = bytes[pos + 1];
        pos += 2;
        match marker {
            0xD9 => {
                state.seen_end = true;
                break;
            }
            // Stand-alone markers: restart markers outside a scan, TEM.
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let len = u16::from_be_bytes([
            *bytes.get(pos).ok_or(JpegDefect::Truncated)?,
            *bytes.get(pos + 1).ok_or(JpegDefect::Truncated)?,
        ]) as usize;
        if len < 2 {
            return Err(JpegDefect::Malformed("segment length"));
        }
        let body = bytes.get(pos + 2..pos + len).ok_or(JpegDefect::Truncated)?;
        pos += len;
        match marker {
            0xC0..=0xC2 => state.frame = Some(Frame::parse(body, marker == 0xC2)?),
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return Err(JpegDefect::Unsupported),
            0xC4 => state.read_huffman_tables(body)?,
            0xDD => {
                state.restart_interval = u16::from_be_bytes(body.try_into().map_err(|_| JpegDefect::Malformed("DRI"))?)
            }
            0xDA => pos = state.scan(body, bytes, pos)?,
            _ => {} // DQT, APPn, COM, DNL: not needed to walk the scan data
        }
    }
    state.finish()
}

/// The picture's geometry, from the start-of-frame segment.
struct Frame {
    progressive: bool,
    width: usize,
    height: usize,
    components: Vec<Component>,
    h_max: usize,
    v_max: usize,
}

struct Component {
    id: u8,
    h: usize,
    v: usize,
    /// Scanned at all (sequential), or coefficient k at full precision (progressive): bit k.
    done: u64,
    /// Progressive only: which coefficients of each block are non-zero so far
    /// (an AC refinement scan reads one correction bit for each of them).
    nonzero: Vec<u64>,
}

impl Frame {
    fn parse(b: &[u8], progressive: bool) -> Result<Frame> {
        let bad = JpegDefect::Malformed("start-of-frame");
        if b.len() < 6 {
            return Err(bad);
        }
        let (height, width, n) =
            (u16::from_be_bytes([b[1], b[2]]) as usize, u16::from_be_bytes([b[3], b[4]]) as usize, b[5] as usize);
        if height == 0 {
            return Err(JpegDefect::Unsupported); // height given later by DNL
        }
        if width == 0 || n == 0 || b.len() != 6 + 3 * n {
            return Err(bad);
        }
        let mut components = Vec::with_capacity(n);
        for c in b[6..].chunks_exact(3) {
            let (h, v) = ((c[1] >> 4) as usize, (c[1] & 15) as usize);
            if !(1..=4).contains(&h) || !(1..=4).contains(&v) {
                return Err(bad);
            }
            components.push(Component { id: c[0], h, v, done: 0, nonzero: Vec::new() });
        }
        let h_max = components.iter().map(|c| c.h).max().unwrap_or(1);
        let v_max = components.iter().map(|c| c.v).max().unwrap_or(1);
        let mut frame = Frame { progressive, width, height, components, h_max, v_max };
        if progressive {
            let (mx, my) = frame.mcus();
            for c in &mut frame.components {
                c.nonzero = vec![0; mx * c.h * my * c.v];
            }
        }
        Ok(frame)
    }

    /// MCUs across and down an interleaved scan.
    fn mcus(&self) -> (usize, usize) {
        (self.width.div_ceil(8 * self.h_max), self.height.div_ceil(8 * self.v_max))
    }

    /// Blocks across and down a non-interleaved scan of component `c`.
    fn blocks(&self, c: &Component) -> (usize, usize) {
        ((self.width * c.h).div_ceil(self.h_max).div_ceil(8), (self.height * c.v).div_ceil(self.v_max).div_ceil(8))
    }
}

#[derive(Default)]
struct State {
    frame: Option<Frame>,
    dc: [Option<Huffman>; 4],
    ac: [Option<Huffman>; 4],
    restart_interval: u16,
    seen_end: bool,
}

/// One scan's header (start-of-scan segment).
struct Scan {
    /// (component index in the frame, DC table, AC table)
    components: Vec<(usize, usize, usize)>,
    ss: usize,
    se: usize,
    ah: u8,
    al: u8,
}

impl State {
    fn read_huffman_tables(&mut self, mut b: &[u8]) -> Result<()> {
        let bad = JpegDefect::Malformed("Huffman table");
        while !b.is_empty() {
            if b.len() < 17 {
                return Err(bad);
            }
            let (class, id) = (b[0] >> 4, (b[0] & 15) as usize);
            let counts: [u8; 16] = b[1..17].try_into().expect("16 bytes");
            let total: usize = counts.iter().map(|&c| c as usize).sum();
            let symbols = b.get(17..17 + total).ok_or(bad)?;
            let table = Huffman::new(&counts, symbols).ok_or(bad)?;
            match (class, id) {
                (0, 0..=3) => self.dc[id] = Some(table),
                (1, 0..=3) => self.ac[id] = Some(table),
                _ => return Err(bad),
            }
            b = &b[17 + total..];
        }
        Ok(())
    }

    fn parse_scan(&self, b: &[u8]) -> Result<Scan> {
        let bad = JpegDefect::Malformed("start-of-scan");
        let frame = self.frame.as_ref().ok_or(bad)?;
        let n = *b.first().ok_or(bad)? as usize;
        if !(1..=4).contains(&n) || b.len() != 4 + 2 * n {
            return Err(bad);
        }
        let mut components = Vec::with_capacity(n);
        for c in b[1..1 + 2 * n].chunks_exact(2) {
            let index = frame.components.iter().position(|fc| fc.id == c[0]).ok_or(bad)?;
            let (dc, ac) = ((c[1] >> 4) as usize, (c[1] & 15) as usize);
            if dc > 3 || ac > 3 {
                return Err(bad);
            }
            components.push((index, dc, ac));
        }
        let tail = &b[1 + 2 * n..];
        let (ss, se, ah, al) = (tail[0] as usize, tail[1] as usize, tail[2] >> 4, tail[2] & 15);
        let valid = if frame.progressive {
            ss <= se && se <= 63 && (ss == 0) == (se == 0) && (ss == 0 || n == 1) && al <= 13
        } else {
            ss == 0 && se == 63 && ah == 0 && al == 0
        };
        if !valid {
            return Err(bad);
        }
        Ok(Scan { components, ss, se, ah, al })
    }

    /// Walks one scan's entropy-coded data starting at `start`; returns where
    /// the data ends (the next marker, or the end of the file).
    fn scan(&mut self, header: &[u8], bytes: &[u8], start: usize) -> Result<usize> {
        let scan = self.parse_scan(header)?;
        let frame = self.frame.as_ref().expect("parse_scan checked the frame");
        // The tables each block needs, looked up once.
        let table =
            |t: &[Option<Huffman>; 4], i: usize| t[i].clone().ok_or(JpegDefect::Malformed("Huffman table reference"));
        let needs_dc = scan.ss == 0 && scan.ah == 0;
        let needs_ac = scan.se > 0;
        let mut tables = Vec::new();
        for &(_, dc, ac) in &scan.components {
            let dc = if needs_dc { Some(table(&self.dc, dc)?) } else { None };
            let ac = if needs_ac { Some(table(&self.ac, ac)?) } else { None };
            tables.push((dc, ac));
        }
        // The units of this scan: MCUs (interleaved) or single blocks.
        let (units_x, units_y) = if scan.components.len() > 1 {
            frame.mcus()
        } else {
            frame.blocks(&frame.components[scan.components[0].0])
        };
        let units = units_x * units_y;
        let interval = self.restart_interval as usize;
        let mcus_x = frame.mcus().0;
        let interleaved = scan.components.len() > 1;
        let frame = self.frame.as_mut().expect("checked");
        let mut bits = BitReader::new(bytes, start);
        let mut eob_run = 0u32;
        let mut next_restart = 0u8;
        for unit in 0..units {
            if interval > 0 && unit > 0 && unit % interval == 0 {
                bits.restart(next_restart)?;
                next_restart = (next_restart + 1) % 8;
                eob_run = 0;
            }
            let (ux, uy) = (unit % units_x, unit / units_x);
            for (ci, &(index, _, _)) in scan.components.iter().enumerate() {
                let c = &mut frame.components[index];
                let (dc, ac) = &tables[ci];
                // Blocks of this component in this unit, and where they sit in its block grid.
                let (bw, bh) = if interleaved { (c.h, c.v) } else { (1, 1) };
                let grid_w = mcus_x * c.h;
                for by in 0..bh {
                    for bx in 0..bw {
                        let (gx, gy) = if interleaved { (ux * c.h + bx, uy * c.v + by) } else { (ux, uy) };
                        match (frame.progressive, dc, ac) {
                            (false, Some(dc), Some(ac)) => sequential_block(&mut bits, dc, ac)?,
                            _ => {
                                let nonzero = c.nonzero.get_mut(gy * grid_w + gx);
                                block(&mut bits, &scan, dc.as_ref(), ac.as_ref(), nonzero, &mut eob_run)?
                            }
                        }
                    }
                }
            }
        }
        let end = bits.finish()?;
        for &(index, _, _) in &scan.components {
            let c = &mut frame.components[index];
            c.done |= if !frame.progressive {
                u64::MAX
            } else if scan.al == 0 {
                coefficient_mask(scan.ss, scan.se)
            } else {
                0
            };
        }
        Ok(end)
    }

    fn finish(self) -> Result<()> {
        let frame = self.frame.ok_or(JpegDefect::Malformed("start-of-frame"))?;
        let whole = frame.components.iter().all(|c| c.done == u64::MAX);
        // With an end marker the encoder said it was done, and a progressive
        // file may leave high coefficients out (they decode as zero); without
        // one, every coefficient of every component must be there.
        let complete =
            if frame.progressive && self.seen_end { frame.components.iter().all(|c| c.done & 1 == 1) } else { whole };
        if complete {
            Ok(())
        } else {
            Err(JpegDefect::Truncated)
        }
    }
}

fn coefficient_mask(ss: usize, se: usize) -> u64 {
    let width = se - ss + 1;
    let ones = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
    ones << ss
}

/// Decodes one block of a sequential scan (ITU T.81 F.2.2): the hot path.
/// The bits are kept in registers for the block (the reader's own fields
/// would live in memory across its calls), at least 32 of them before each
/// symbol, enough for a code and the bits after it; whether the block read
/// past the data is asked once, at its end.
#[inline]
fn sequential_block(bits: &mut BitReader, dc: &Huffman, ac: &Huffman) -> Result<()> {
    let (mut acc, mut count) = (bits.acc, bits.count);
    if count < 32 {
        (acc, count) = bits.refill_from(acc, count);
    }
    let (symbol, length) = dc.lookup(acc)?;
    if symbol > 15 {
        return Err(JpegDefect::BadHuffmanCode);
    }
    acc <<= length;
    count -= length;
    let mut k = 1;
    while k < 64 {
        if count < 32 {
            (acc, count) = bits.refill_from(acc, count);
        }
        let step = ac.ac_steps[(acc >> (64 - LOOKUP_BITS)) as usize];
        let (taken, advance) = if step == 0 {
            let (rs, length) = ac.lookup(acc)?; // a code longer than the table's
            (length, ac_advance(rs))
        } else if k + (step >> 8 & 0xFF) as usize >= 64 {
            (step & 0xFF, 64) // the block ends with the first symbol
        } else {
            (step >> 16 & 0xFF, step >> 24)
        };
        acc <<= taken;
        count -= taken;
        k += advance as usize;
    }
    (bits.acc, bits.count) = (acc, count);
    if count < bits.fill {
        return Err(JpegDefect::Truncated);
    }
    Ok(())
}

/// How far an AC symbol of a sequential scan moves along the block: past
/// its run of zeros and its coefficient, 16 zeros for ZRL (F0), to the end
/// for an end of block (any other symbol with no coefficient bits).
fn ac_advance(rs: u8) -> u32 {
    match (rs >> 4, rs & 15) {
        (run, 1..) => run as u32 + 1,
        (15, 0) => 16,
        _ => 64,
    }
}

/// Decodes one block's share of a progressive scan (ITU T.81 G.1.2).
fn block(
    bits: &mut BitReader,
    scan: &Scan,
    dc: Option<&Huffman>,
    ac: Option<&Huffman>,
    nonzero: Option<&mut u64>,
    eob_run: &mut u32,
) -> Result<()> {
    let mut scratch = 0u64;
    let nonzero = nonzero.unwrap_or(&mut scratch);
    if scan.ss == 0 {
        if scan.ah == 0 {
            let s = dc.expect("DC table looked up").decode(bits)?;
            if s > 15 {
                return Err(JpegDefect::BadHuffmanCode);
            }
        } else {
            bits.skip(1)?; // DC refinement: one bit
        }
        if scan.se == 0 {
            return Ok(());
        }
    }
    let ac = ac.expect("AC table looked up");
    let (first, last) = (scan.ss.max(1), scan.se);
    if scan.ah == 0 {
        // Sequential AC, or a first progressive AC scan.
        if *eob_run > 0 {
            *eob_run -= 1;
            return Ok(());
        }
        let mut k = first;
        while k <= last {
            let rs = ac.decode(bits)?;
            let (r, s) = ((rs >> 4) as usize, (rs & 15) as u32);
            if s == 0 {
                if r == 15 {
                    k += 16;
                    continue;
                }
                if r > 0 {
                    // EOB run (progressive only; sequential codes have r = 0 here).
                    *eob_run = (1u32 << r) + bits.take(r as u32)? - 1;
                }
                break;
            }
            k += r;
            if k < 64 {
                *nonzero |= 1 << k;
            }
            k += 1;
        }
        return Ok(());
    }
    // Progressive AC refinement (libjpeg's decode_mcu_AC_refine).
    let mut k = first;
    if *eob_run == 0 {
        while k <= last {
            let rs = ac.decode(bits)?;
            // decode() has read the sign bit of a new coefficient (s = 1).
            let (mut r, s) = ((rs >> 4) as i32, rs & 15);
            if s > 1 {
                return Err(JpegDefect::BadHuffmanCode);
            }
            if s == 0 && r != 15 {
                *eob_run = 1u32 << r;
                if r > 0 {
                    *eob_run += bits.take(r as u32)?;
                }
                break;
            }
            while k <= last {
                if *nonzero & (1 << k) != 0 {
                    bits.skip(1)?; // correction bit
                } else {
                    r -= 1;
                    if r < 0 {
                        break;
                    }
                }
                k += 1;
            }
            if s != 0 && k <= last {
                *nonzero |= 1 << k;
            }
            k += 1;
        }
    }
    if *eob_run > 0 {
        while k <= last {
            if *nonzero & (1 << k) != 0 {
                bits.skip(1)?;
            }
            k += 1;
        }
        *eob_run -= 1;
    }
    Ok(())
}

/// Codes up to this many bits are decoded by one table look-up.
const LOOKUP_BITS: u32 = 11;

/// A canonical Huffman table (ITU T.81 C, F.2.2.3).
#[derive(Clone)]
struct Huffman {
    /// Largest code of each length 1..=16 (index l - 1), or -1.
    max_code: [i32; 16],
    /// Index into `symbols` of the first code of each length, minus that code.
    offset: [i32; 16],
    symbols: Vec<u8>,
    /// For the next LOOKUP_BITS bits: (bits taken << 8 | symbol), 0 when the
    /// code is longer; the bits taken are the code's and the symbol's low
    /// nibble's worth after it, summed here to keep that off the hot path.
    lookup: Box<[u16; 1 << LOOKUP_BITS]>,
    /// For a sequential scan's AC table, the next LOOKUP_BITS bits as one or
    /// two whole symbols (code and coefficient bits), when they hold them:
    /// `bits₁ | advance₁ << 8 | bits << 16 | advance << 24` (see
    /// [`ac_advance`]; a second symbol is taken only after a coefficient or
    /// ZRL), 0 when the first code is longer. Two symbols per look-up halve
    /// the chain of dependent look-ups that bounds the walk's speed.
    ac_steps: Box<[u32; 1 << LOOKUP_BITS]>,
}

impl Huffman {
    fn new(counts: &[u8; 16], symbols: &[u8]) -> Option<Huffman> {
        let (mut max_code, mut offset) = ([-1i32; 16], [0i32; 16]);
        let (mut code, mut index) = (0i32, 0i32);
        for (l, &n) in counts.iter().enumerate() {
            let n = n as i32;
            offset[l] = index - code;
            if n > 0 {
                code += n;
                index += n;
                max_code[l] = code - 1;
            }
            // Codes of length l + 1 must fit in l + 1 bits.
            if code > 1 << (l + 1) {
                return None;
            }
            code <<= 1;
        }
        let mut lookup = Box::new([0u16; 1 << LOOKUP_BITS]);
        let (mut code, mut index) = (0usize, 0usize);
        for (l, &n) in counts.iter().enumerate().take(LOOKUP_BITS as usize) {
            let shift = LOOKUP_BITS as usize - (l + 1);
            for _ in 0..n {
                let symbol = symbols[index] as u16;
                let entry = ((l as u16 + 1 + (symbol & 15)) << 8) | symbol;
                lookup[code << shift..(code + 1) << shift].fill(entry);
                code += 1;
                index += 1;
            }
            code <<= 1;
        }
        let mut ac_steps = Box::new([0u32; 1 << LOOKUP_BITS]);
        for (index, step) in ac_steps.iter_mut().enumerate() {
            let first = lookup[index];
            let (bits1, advance1) = ((first >> 8) as u32, ac_advance(first as u8));
            if first == 0 || bits1 > LOOKUP_BITS {
                continue; // only whole symbols: the coefficient bits too
            }
            let (mut bits, mut advance) = (bits1, advance1);
            let second = lookup[(index << bits1) & ((1 << LOOKUP_BITS) - 1)];
            let bits2 = (second >> 8) as u32;
            if advance1 < 64 && second != 0 && bits1 + bits2 <= LOOKUP_BITS {
                (bits, advance) = (bits1 + bits2, advance1 + ac_advance(second as u8));
            }
            *step = bits1 | advance1 << 8 | bits << 16 | advance << 24;
        }
        Some(Huffman { max_code, offset, symbols: symbols.to_vec(), lookup, ac_steps })
    }

    /// Decodes one symbol and skips the bits that follow its code: as many as
    /// the symbol's low nibble (a DC category, an AC size; zero for EOB, ZRL
    /// and EOB runs, whose run-length bits the caller reads).
    #[inline]
    fn decode(&self, bits: &mut BitReader) -> Result<u8> {
        let peek = bits.peek16();
        let (symbol, length) = self.lookup((peek as u64) << 48)?;
        bits.skip(length)?;
        Ok(symbol)
    }

    /// The symbol whose code starts `acc` (its top 16 bits), and how many
    /// bits it takes with the bits that follow the code.
    #[inline]
    fn lookup(&self, acc: u64) -> Result<(u8, u32)> {
        let entry = self.lookup[(acc >> (64 - LOOKUP_BITS)) as usize];
        if entry != 0 {
            return Ok((entry as u8, (entry >> 8) as u32));
        }
        let (length, symbol) = self.decode_long((acc >> 48) as i32)?;
        Ok((symbol, length + (symbol & 15) as u32))
    }

    /// Codes longer than the look-up table (ITU T.81 F.2.2.3).
    #[cold]
    fn decode_long(&self, peek: i32) -> Result<(u32, u8)> {
        for l in LOOKUP_BITS as usize..16 {
            let code = peek >> (15 - l);
            if code <= self.max_code[l] {
                return Ok((l as u32 + 1, self.symbols[(self.offset[l] + code) as usize]));
            }
        }
        Err(JpegDefect::BadHuffmanCode)
    }
}

/// Whether any of the low `n` bytes (1..=8) of `word` is FF.
#[inline]
fn has_ff_byte(word: u64, n: usize) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // A zero byte of !word is an FF byte of word; bytes above n are made non-zero.
    let inverted = !word | if n == 8 { 0 } else { u64::MAX << (8 * n) };
    inverted.wrapping_sub(ONES) & !inverted & (ONES << 7) != 0
}

/// Reads entropy-coded bits, unstuffing FF 00, stopping at the first marker.
/// Past the data it supplies zero bits (so a code can be looked at), but
/// consuming one of them is [`JpegDefect::Truncated`].
struct BitReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    acc: u64,
    /// Bits in `acc`, from the top.
    count: u32,
    /// How many of the lowest `count` bits are zero fill past the data.
    fill: u32,
    /// Where the data stopped: a marker's FF, or the end of the file.
    stop: Option<usize>,
}

impl<'a> BitReader<'a> {
    fn new(bytes: &'a [u8], pos: usize) -> BitReader<'a> {
        BitReader { bytes, pos, acc: 0, count: 0, fill: 0, stop: None }
    }

    /// The next data byte, or None at a marker or the end of the file.
    fn next_byte(&mut self) -> Option<u8> {
        if self.stop.is_some() {
            return None;
        }
        let b = self.bytes;
        let Some(&byte) = b.get(self.pos) else {
            self.stop = Some(b.len());
            return None;
        };
        if byte != 0xFF {
            self.pos += 1;
            return Some(byte);
        }
        let mut q = self.pos + 1;
        while b.get(q) == Some(&0xFF) {
            q += 1;
        }
        match b.get(q) {
            Some(0x00) => {
                self.pos = q + 1;
                Some(0xFF)
            }
            Some(_) => {
                self.stop = Some(q - 1);
                None
            }
            None => {
                self.stop = Some(b.len());
                None
            }
        }
    }

    #[inline]
    fn refill(&mut self) {
        (self.acc, self.count) = self.refill_from(self.acc, self.count);
    }

    /// Tops up `acc` (holding `count` bits) to at least 57 bits: the reader's
    /// `acc` and `count` are not read, so a caller may keep them in registers.
    #[inline]
    fn refill_from(&mut self, mut acc: u64, count: u32) -> (u64, u32) {
        // Fast path: the bytes that fit hold no FF (no stuffing, no marker).
        let take = (64 - count as usize) / 8;
        if self.stop.is_none() {
            if let Some(word) = self.bytes.get(self.pos..self.pos + 8) {
                let word = u64::from_be_bytes(word.try_into().expect("8 bytes"));
                let wanted = word >> (64 - 8 * take);
                if !has_ff_byte(wanted, take) {
                    acc |= wanted << (64 - count as usize - 8 * take);
                    self.pos += take;
                    return (acc, count + 8 * take as u32);
                }
            }
        }
        self.refill_slow(acc, count)
    }

    #[cold]
    fn refill_slow(&mut self, mut acc: u64, mut count: u32) -> (u64, u32) {
        while count <= 56 {
            let byte = match self.next_byte() {
                Some(b) => b,
                None => {
                    self.fill += 8;
                    0
                }
            };
            acc |= (byte as u64) << (56 - count);
            count += 8;
        }
        (acc, count)
    }

    #[inline]
    fn peek16(&mut self) -> u32 {
        if self.count < 16 {
            self.refill();
        }
        (self.acc >> 48) as u32
    }

    #[inline]
    fn skip(&mut self, n: u32) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        if self.count < n {
            self.refill();
        }
        self.acc <<= n;
        self.count -= n;
        if self.count < self.fill {
            return Err(JpegDefect::Truncated);
        }
        Ok(())
    }

    fn take(&mut self, n: u32) -> Result<u32> {
        let v = (self.peek16() >> (16 - n)) & ((1 << n) - 1);
        self.skip(n)?;
        Ok(v)
    }

    /// Ends a stretch of data: only the padding bits of the last byte may be
    /// left. Returns where the stretch stopped.
    fn finish(&mut self) -> Result<usize> {
        let mut left = (self.count - self.fill) as usize / 8;
        while self.next_byte().is_some() {
            left += 1;
        }
        if left > 0 {
            return Err(JpegDefect::ExtraneousData { bytes: left });
        }
        Ok(self.stop.expect("next_byte returned None at a stop"))
    }

    /// Crosses the restart marker RST`n` that must end this interval.
    fn restart(&mut self, n: u8) -> Result<()> {
        let at = self.finish()?;
        match self.bytes.get(at..at + 2) {
            Some([0xFF, m]) if *m == 0xD0 + n => {}
            Some([0xFF, 0xD0..=0xD7]) => return Err(JpegDefect::RestartMarker),
            Some(_) => return Err(JpegDefect::Truncated),
            None => return Err(JpegDefect::Truncated),
        }
        *self = BitReader::new(self.bytes, at + 2);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Huffman tables of a real baseline JPEG (the fuzzer's seed).
    fn real_tables() -> State {
        let jpeg: &[u8] = include_bytes!("../fuzz/seeds/decode/baseline.jpg");
        let mut state = State::default();
        let mut pos = 2;
        while let [0xFF, marker, high, low, ..] = jpeg[pos..] {
            let len = u16::from_be_bytes([high, low]) as usize;
            if marker == 0xC4 {
                state.read_huffman_tables(&jpeg[pos + 4..pos + 2 + len]).unwrap();
            }
            if marker == 0xDA {
                break;
            }
            pos += 2 + len;
        }
        assert!(state.dc.iter().any(Option::is_some) && state.ac.iter().any(Option::is_some));
        state
    }

    #[test]
    fn an_ff_byte_is_found_only_among_the_bytes_asked_about() {
        assert!(!has_ff_byte(0, 8));
        assert!(has_ff_byte(0xFF, 1));
        assert!(has_ff_byte(0xFF00_0000_0000_0000, 8));
        assert!(!has_ff_byte(0xFF00_0000_0000_0000, 7));
        assert!(!has_ff_byte(0x00FF_FE00, 2));
        assert!(has_ff_byte(0x00FF_FE00, 3));
        // Every byte position and every byte value, against the plain reading.
        for n in 1..=8 {
            for at in 0..8 {
                for value in [0x00u64, 0x01, 0x7F, 0x80, 0xFE, 0xFF] {
                    let word = 0x1234_5678_9ABC_DEF0u64 & !(0xFF << (8 * at)) | value << (8 * at);
                    let plain = word.to_le_bytes()[..n].contains(&0xFF);
                    assert_eq!(has_ff_byte(word, n), plain, "word {word:#x}, {n} bytes");
                }
            }
        }
    }

    /// The two-symbol steps of the sequential walk against the progressive
    /// walk's one symbol at a time, on the tables of a real JPEG and random
    /// scan data: every block ends at the same bit, with the same verdict.
    #[test]
    fn the_sequential_walk_reads_blocks_as_the_symbol_by_symbol_walk() {
        let state = real_tables();
        let sequential = Scan { components: vec![(0, 0, 0)], ss: 0, se: 63, ah: 0, al: 0 };
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for trial in 0..400 {
            // Random scan data without FF (no stuffing, no markers), of random length.
            let len = 16 + trial % 300;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (seed >> 24) as u8 % 0xFF
                })
                .collect();
            for (dc, ac) in state.dc.iter().zip(&state.ac) {
                let (Some(dc), Some(ac)) = (dc, ac) else { continue };
                let (mut fast, mut slow) = (BitReader::new(&data, 0), BitReader::new(&data, 0));
                loop {
                    let a = sequential_block(&mut fast, dc, ac);
                    let b = block(&mut slow, &sequential, Some(dc), Some(ac), None, &mut 0);
                    assert_eq!(a, b, "trial {trial}");
                    if a.is_err() {
                        break;
                    }
                    let consumed = |r: &BitReader| r.pos * 8 - (r.count - r.fill) as usize;
                    assert_eq!(consumed(&fast), consumed(&slow), "trial {trial}");
                }
            }
        }
    }
}
