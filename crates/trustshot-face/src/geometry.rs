//! Plane geometry and resampling: points, boxes, similarity transforms,
//! bilinear warps and anti-aliased resizing.
//!
//! Pixel centres sit on integer coordinates (the OpenCV convention the models'
//! reference pipelines use), so a transform fitted on landmarks maps straight
//! onto sampling positions.

use crate::Frame;

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

impl Point {
    pub const fn new(x: f32, y: f32) -> Point {
        Point { x, y }
    }

    pub fn distance(self, other: Point) -> f32 {
        ((self.x - other.x).powi(2) + (self.y - other.y).powi(2)).sqrt()
    }

    pub fn midpoint(self, other: Point) -> Point {
        Point::new((self.x + other.x) / 2.0, (self.y + other.y) / 2.0)
    }
}

/// An axis-aligned box: top-left corner, width and height, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl Rect {
    pub fn area(&self) -> f32 {
        self.w.max(0.0) * self.h.max(0.0)
    }

    pub fn center(&self) -> Point {
        Point::new(self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    pub fn intersection(&self, o: &Rect) -> f32 {
        let w = (self.x + self.w).min(o.x + o.w) - self.x.max(o.x);
        let h = (self.y + self.h).min(o.y + o.h) - self.y.max(o.y);
        w.max(0.0) * h.max(0.0)
    }

    pub fn iou(&self, o: &Rect) -> f32 {
        let inter = self.intersection(o);
        let union = self.area() + o.area() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }

    /// The same box scaled by `factor` around its centre.
    pub fn scaled(&self, factor: f32) -> Rect {
        let c = self.center();
        let (w, h) = (self.w * factor, self.h * factor);
        Rect { x: c.x - w / 2.0, y: c.y - h / 2.0, w, h }
    }
}

/// A 2x3 affine map: `[x', y'] = [[a, b, tx], [c, d, ty]] * [x, y, 1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    pub m: [[f32; 3]; 2],
}

impl Affine {
    pub fn apply(&self, p: Point) -> Point {
        let m = &self.m;
        Point::new(m[0][0] * p.x + m[0][1] * p.y + m[0][2], m[1][0] * p.x + m[1][1] * p.y + m[1][2])
    }

    /// The inverse map, or `None` when the map is degenerate.
    pub fn invert(&self) -> Option<Affine> {
        let [[a, b, tx], [c, d, ty]] = self.m;
        let det = a * d - b * c;
        if det.abs() < 1e-12 || !det.is_finite() {
            return None;
        }
        let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
        Some(Affine { m: [[ia, ib, -(ia * tx + ib * ty)], [ic, id, -(ic * tx + id * ty)]] })
    }

    /// Uniform scale factor of a similarity transform.
    pub fn scale(&self) -> f32 {
        (self.m[0][0] * self.m[1][1] - self.m[0][1] * self.m[1][0]).abs().sqrt()
    }
}

/// Least-squares similarity (rotation, uniform scale, translation; no reflection)
/// taking `src` onto `dst` — Umeyama's estimate, written with complex numbers:
/// the best `z` in `dst - mean = z * (src - mean)` is `sum(conj(a) b) / sum(|a|^2)`.
pub(crate) fn similarity(src: &[Point], dst: &[Point]) -> Option<Affine> {
    let n = src.len().min(dst.len());
    if n < 2 {
        return None;
    }
    let mean = |ps: &[Point]| {
        let (sx, sy) = ps[..n].iter().fold((0.0f64, 0.0f64), |(x, y), p| (x + p.x as f64, y + p.y as f64));
        (sx / n as f64, sy / n as f64)
    };
    let (msx, msy) = mean(src);
    let (mdx, mdy) = mean(dst);
    let (mut re, mut im, mut norm) = (0.0f64, 0.0f64, 0.0f64);
    for (s, d) in src.iter().zip(dst).take(n) {
        let (ax, ay) = (s.x as f64 - msx, s.y as f64 - msy);
        let (bx, by) = (d.x as f64 - mdx, d.y as f64 - mdy);
        re += ax * bx + ay * by;
        im += ax * by - ay * bx;
        norm += ax * ax + ay * ay;
    }
    if norm < 1e-9 || !norm.is_finite() {
        return None;
    }
    let (a, b) = (re / norm, im / norm);
    let tx = mdx - (a * msx - b * msy);
    let ty = mdy - (b * msx + a * msy);
    Some(Affine { m: [[a as f32, -b as f32, tx as f32], [b as f32, a as f32, ty as f32]] })
}

/// Samples `frame` through `to_output` (a map from source to output coordinates)
/// into a `width` x `height` frame, bilinear, black outside the source.
pub fn warp_affine(frame: &Frame, to_output: &Affine, width: u32, height: u32) -> Frame {
    let inv = to_output.invert().unwrap_or(Affine { m: [[0.0; 3]; 2] });
    let mut out = vec![0u8; width as usize * height as usize * 3];
    for (v, row) in out.chunks_exact_mut(width as usize * 3).enumerate() {
        for (u, o) in row.chunks_exact_mut(3).enumerate() {
            let p = inv.apply(Point::new(u as f32, v as f32));
            o.copy_from_slice(&bilinear(frame, p.x, p.y));
        }
    }
    Frame::from_rgb(width, height, out).expect("buffer sized from width and height")
}

/// Bilinear sample at (x, y); pixels outside the frame count as black.
#[inline(always)]
pub(crate) fn bilinear(frame: &Frame, x: f32, y: f32) -> [u8; 3] {
    let (w, h) = (frame.width() as i64, frame.height() as i64);
    if !(x > -1.0 && y > -1.0 && x < w as f32 && y < h as f32) {
        return [0, 0, 0];
    }
    let (x0, y0) = (floor_above_minus_one(x), floor_above_minus_one(y));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let mix = |p00: [u8; 3], p10: [u8; 3], p01: [u8; 3], p11: [u8; 3]| -> [u8; 3] {
        let channel = |c: usize| blend([p00[c], p10[c], p01[c], p11[c]], fx, fy);
        [channel(0), channel(1), channel(2)]
    };
    if x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h {
        // All four taps inside: the common case, without a check per tap.
        let (rgb, stride) = (frame.rgb(), w as usize * 3);
        let i = (y0 as usize * w as usize + x0 as usize) * 3;
        let tap = |j: usize| [rgb[j], rgb[j + 1], rgb[j + 2]];
        return mix(tap(i), tap(i + 3), tap(i + stride), tap(i + stride + 3));
    }
    let px = |xx: i64, yy: i64| -> [u8; 3] {
        if xx < 0 || yy < 0 || xx >= w || yy >= h {
            [0; 3]
        } else {
            frame.pixel(xx as u32, yy as u32)
        }
    };
    mix(px(x0, y0), px(x0 + 1, y0), px(x0, y0 + 1), px(x0 + 1, y0 + 1))
}

/// The bilinear blend of four samples (top left, top right, bottom left,
/// bottom right) at fractions `fx`, `fy`, rounded: rows first, then columns.
#[inline(always)]
fn blend([p00, p10, p01, p11]: [u8; 4], fx: f32, fy: f32) -> u8 {
    let (p00, p10, p01, p11) = (p00 as f32, p10 as f32, p01 as f32, p11 as f32);
    let top = p00 + (p10 - p00) * fx;
    let bottom = p01 + (p11 - p01) * fx;
    round_to_u8(top + (bottom - top) * fy)
}

/// `v.floor()` for `v > -1`, without a call into libm (x86_64's baseline has
/// no rounding instruction, and this runs per output pixel).
#[inline]
fn floor_above_minus_one(v: f32) -> i64 {
    let t = v as i64;
    if (t as f32) > v {
        t - 1
    } else {
        t
    }
}

/// `v.round()` (half away from zero) saturated to 0..=255, without libm:
/// the integer part plus one when the fraction (exact below 2^23) is at least a half.
#[inline(always)]
fn round_to_u8(v: f32) -> u8 {
    // Zero, negative or NaN.
    if v.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return 0;
    }
    let t = (v as u32).min(255);
    (t + (v - t as f32 >= 0.5) as u32).min(255) as u8
}

/// The rectangle [x0, x0 + w) x [y0, y0 + h) of `frame`, which must lie inside it.
pub(crate) fn crop(frame: &Frame, x0: u32, y0: u32, w: u32, h: u32) -> crate::Result<Frame> {
    if w == 0 || h == 0 || x0 + w > frame.width() || y0 + h > frame.height() {
        return Err(crate::FaceError::BufferGeometry("crop rectangle outside the frame"));
    }
    let row = frame.width() as usize * 3;
    let mut rgb = Vec::with_capacity(w as usize * h as usize * 3);
    for y in y0..y0 + h {
        let start = y as usize * row + x0 as usize * 3;
        rgb.extend_from_slice(&frame.rgb()[start..start + w as usize * 3]);
    }
    Frame::from_rgb(w, h, rgb)
}

/// Resizes to `width` x `height`. Shrinking by 2x or more first averages whole
/// blocks of pixels (so fine texture does not alias into false edges), then
/// finishes with a bilinear pass.
pub fn resize(frame: &Frame, width: u32, height: u32) -> Frame {
    let k = (frame.width() / width.max(1)).min(frame.height() / height.max(1));
    let source = if k >= 2 { box_shrink(frame, k) } else { frame.clone() };
    if source.width() == width && source.height() == height {
        return source;
    }
    // Align pixel areas (not centres) so the picture does not shift. The
    // taps and weights of each column and row are computed once.
    let taps = |out: u32, src: u32| -> Vec<(usize, usize, f32)> {
        let scale = src as f32 / out as f32;
        (0..out)
            .map(|i| {
                let p = ((i as f32 + 0.5) * scale - 0.5).max(0.0).min(src as f32 - 1.0);
                let p0 = p.floor() as u32;
                (p0 as usize, (p0 + 1).min(src - 1) as usize, p - p0 as f32)
            })
            .collect()
    };
    let (columns, rows) = (taps(width, source.width()), taps(height, source.height()));
    let (rgb, stride) = (source.rgb(), source.width() as usize * 3);
    let mut out = vec![0u8; width as usize * height as usize * 3];
    for (out_row, &(y0, y1, fy)) in out.chunks_exact_mut(width as usize * 3).zip(&rows) {
        let (r0, r1) = (&rgb[y0 * stride..(y0 + 1) * stride], &rgb[y1 * stride..(y1 + 1) * stride]);
        for (o, &(x0, x1, fx)) in out_row.chunks_exact_mut(3).zip(&columns) {
            for c in 0..3 {
                o[c] = blend([r0[x0 * 3 + c], r0[x1 * 3 + c], r1[x0 * 3 + c], r1[x1 * 3 + c]], fx, fy);
            }
        }
    }
    Frame::from_rgb(width, height, out).expect("buffer sized from width and height")
}

/// The square of side `max(w, h)` centred on `bbox`, resampled to `size` x
/// `size`, black outside the frame (as MTCNN pads its crops). Shrinking
/// averages the whole source cell of each output pixel (every `step`-th pixel
/// of it for very large boxes: at most about 8 x 8 per cell), so a large face
/// does not alias; enlarging (a box under twice `size`) samples bilinearly.
pub fn square_crop(frame: &Frame, bbox: &Rect, size: u32) -> Frame {
    let side = bbox.w.max(bbox.h).max(1.0);
    let centre = bbox.center();
    let (left, top) = (centre.x - side / 2.0, centre.y - side / 2.0);
    let cell = side / size as f32;
    let size = size as usize;
    let mut out = Vec::with_capacity(size * size * 3);
    if cell < 2.0 {
        for v in 0..size {
            for u in 0..size {
                let (x, y) = (left + (u as f32 + 0.5) * cell - 0.5, top + (v as f32 + 0.5) * cell - 0.5);
                out.extend(bilinear(frame, x, y));
            }
        }
        return Frame::from_rgb(size as u32, size as u32, out).expect("buffer sized from size");
    }
    let step = ((cell / 8.0) as i64).max(1);
    // Source pixel ranges [start, end) of each output column / row, before clipping.
    let bounds = |origin: f32| -> Vec<(i64, i64)> {
        (0..size)
            .map(|i| ((origin + i as f32 * cell).round() as i64, (origin + (i + 1) as f32 * cell).round() as i64))
            .collect()
    };
    let (columns, rows) = (bounds(left), bounds(top));
    let (w, h) = (frame.width() as i64, frame.height() as i64);
    let rgb = frame.rgb();
    for &(y0, y1) in &rows {
        for &(x0, x1) in &columns {
            let (mut sum, mut count) = ([0u32; 3], 0u32);
            for y in (y0..y1).step_by(step as usize) {
                for x in (x0..x1).step_by(step as usize) {
                    count += 1;
                    if (0..w).contains(&x) && (0..h).contains(&y) {
                        let i = ((y * w + x) * 3) as usize;
                        (0..3).for_each(|c| sum[c] += rgb[i + c] as u32);
                    }
                }
            }
            let count = count.max(1);
            out.extend(sum.map(|s| ((s + count / 2) / count) as u8));
        }
    }
    Frame::from_rgb(size as u32, size as u32, out).expect("buffer sized from size")
}

/// Averages `k` x `k` blocks (the last partial row/column of blocks is dropped).
fn box_shrink(frame: &Frame, k: u32) -> Frame {
    // The camera and photo sizes onto the detector's canvases (1280 px to
    // 640 or 256: 2 and 5; 1920: 3 and 7; 4000: 6) get a constant block
    // size, so the division per pixel becomes a multiplication.
    match k {
        2 => box_shrink_by::<2>(frame),
        3 => box_shrink_by::<3>(frame),
        4 => box_shrink_by::<4>(frame),
        5 => box_shrink_by::<5>(frame),
        6 => box_shrink_by::<6>(frame),
        7 => box_shrink_by::<7>(frame),
        8 => box_shrink_by::<8>(frame),
        _ => box_shrink_any::<u32>(frame, k as usize),
    }
}

fn box_shrink_by<const K: usize>(frame: &Frame) -> Frame {
    box_shrink_any::<u16>(frame, K)
}

/// Sums `k` rows column by column (one pass the compiler vectorises; `T`
/// holds `k` x 255), then `k` neighbouring pixels of that sum per output pixel.
#[inline(always)]
fn box_shrink_any<T>(frame: &Frame, k: usize) -> Frame
where
    T: Copy + Default + From<u8> + Into<u32> + std::ops::AddAssign,
{
    let (w, h) = (frame.width() as usize / k, frame.height() as usize / k);
    let (src, stride) = (frame.rgb(), frame.width() as usize * 3);
    let span = w * k * 3;
    let n = (k * k) as u32;
    let mut out = vec![0u8; w * h * 3];
    let mut columns = vec![T::default(); span];
    for (by, out_row) in out.chunks_exact_mut(w * 3).enumerate() {
        columns.fill(T::default());
        for y in by * k..(by + 1) * k {
            for (sum, &v) in columns.iter_mut().zip(&src[y * stride..y * stride + span]) {
                *sum += T::from(v);
            }
        }
        for (o, block) in out_row.chunks_exact_mut(3).zip(columns.chunks_exact(3 * k)) {
            for c in 0..3 {
                let sum: u32 = (0..k).map(|i| block[i * 3 + c].into()).sum();
                o[c] = ((sum + n / 2) / n) as u8;
            }
        }
    }
    Frame::from_rgb(w as u32, h as u32, out).expect("buffer sized from width and height")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_recovers_a_known_transform() {
        let truth = Affine { m: [[0.8, -0.6, 10.0], [0.6, 0.8, -5.0]] };
        let src = [Point::new(0.0, 0.0), Point::new(10.0, 0.0), Point::new(3.0, 7.0), Point::new(-4.0, 2.0)];
        let dst: Vec<Point> = src.iter().map(|p| truth.apply(*p)).collect();
        let fit = similarity(&src, &dst).unwrap();
        for r in 0..2 {
            for c in 0..3 {
                assert!((fit.m[r][c] - truth.m[r][c]).abs() < 1e-4, "{fit:?}");
            }
        }
        assert!((fit.scale() - 1.0).abs() < 1e-4);
        let inv = fit.invert().unwrap();
        let p = inv.apply(fit.apply(Point::new(3.0, 4.0)));
        assert!((p.x - 3.0).abs() < 1e-4 && (p.y - 4.0).abs() < 1e-4);
    }

    #[test]
    fn degenerate_points_give_no_transform() {
        let p = [Point::new(1.0, 1.0); 5];
        assert!(similarity(&p, &p).is_none());
    }

    #[test]
    fn iou_of_boxes() {
        let a = Rect { x: 0.0, y: 0.0, w: 10.0, h: 10.0 };
        let b = Rect { x: 5.0, y: 0.0, w: 10.0, h: 10.0 };
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(a.iou(&Rect { x: 20.0, ..a }), 0.0);
    }

    #[test]
    fn square_crop_is_centred_square_and_black_outside_the_frame() {
        // Left half red, right half blue, 100x60.
        let rgb: Vec<u8> = (0..100 * 60).flat_map(|i| if i % 100 < 50 { [255, 0, 0] } else { [0, 0, 255] }).collect();
        let f = Frame::from_rgb(100, 60, rgb).unwrap();
        // A 40x20 box centred at (50, 30) becomes a 40x40 square: red | blue.
        let c = square_crop(&f, &Rect { x: 30.0, y: 20.0, w: 40.0, h: 20.0 }, 8);
        assert_eq!((c.width(), c.height()), (8, 8));
        assert_eq!(c.pixel(1, 4), [255, 0, 0]);
        assert_eq!(c.pixel(6, 4), [0, 0, 255]);
        // A box hanging over the top-left corner: the outside is black.
        let c = square_crop(&f, &Rect { x: -20.0, y: -20.0, w: 40.0, h: 40.0 }, 8);
        assert_eq!(c.pixel(0, 0), [0, 0, 0]);
        assert_eq!(c.pixel(7, 7), [255, 0, 0]);
        // Enlarging (a 4-pixel box to 8x8) keeps the colour.
        let c = square_crop(&f, &Rect { x: 10.0, y: 10.0, w: 4.0, h: 4.0 }, 8);
        assert!(c.rgb().chunks_exact(3).all(|p| p == [255, 0, 0]));
        // A 1-pixel checkerboard shrunk 8x becomes its mean.
        let checker: Vec<u8> =
            (0..64 * 64).flat_map(|i| if (i % 64 + i / 64) % 2 == 0 { [255; 3] } else { [0; 3] }).collect();
        let f = Frame::from_rgb(64, 64, checker).unwrap();
        let c = square_crop(&f, &Rect { x: 0.0, y: 0.0, w: 64.0, h: 64.0 }, 8);
        assert!(c.rgb().iter().all(|&v| (127..=128).contains(&v)), "{:?}", c.rgb());
    }

    #[test]
    fn the_rounding_helpers_are_std_floor_and_round() {
        for i in 0..400_000u32 {
            let v = i as f32 / 1021.0 - 30.0;
            assert_eq!(round_to_u8(v), v.round().clamp(0.0, 255.0) as u8, "{v}");
            let half = i as f32 * 0.5 - 20.0;
            assert_eq!(round_to_u8(half), half.round().clamp(0.0, 255.0) as u8, "{half}");
            if v > -1.0 {
                assert_eq!(floor_above_minus_one(v), v.floor() as i64, "{v}");
            }
        }
        assert_eq!(round_to_u8(f32::NAN), 0);
        assert_eq!(round_to_u8(1e9), 255);
    }

    #[test]
    fn every_block_size_shrinks_as_the_general_code_does() {
        let (w, h) = (131u32, 77u32);
        let mut seed = 1u32;
        let rgb: Vec<u8> = (0..w * h * 3)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 24) as u8
            })
            .collect();
        let f = Frame::from_rgb(w, h, rgb).unwrap();
        for k in 2..=9 {
            let general = box_shrink_any::<u32>(&f, k as usize);
            assert_eq!(box_shrink(&f, k).rgb(), general.rgb(), "k {k}");
            assert_eq!((general.width(), general.height()), (w / k, h / k));
        }
    }

    #[test]
    fn resize_keeps_flat_colour_and_averages_blocks() {
        let f = Frame::from_rgb(64, 32, vec![200; 64 * 32 * 3]).unwrap();
        let r = resize(&f, 13, 7);
        assert!(r.rgb().iter().all(|&c| c == 200));
        // A 1-pixel checkerboard shrunk 4x becomes its mean, not a random phase of it.
        let checker: Vec<u8> =
            (0..64 * 64).flat_map(|i| if (i % 64 + i / 64) % 2 == 0 { [255; 3] } else { [0; 3] }).collect();
        let f = Frame::from_rgb(64, 64, checker).unwrap();
        let r = resize(&f, 16, 16);
        assert!(r.rgb().iter().all(|&c| (127..=128).contains(&c)));
    }
}
