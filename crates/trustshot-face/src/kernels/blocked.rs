//! Maps in blocks of sixteen channels between our operators, on a CPU with
//! AVX-512 (issue 14: YuNet on its large canvases).
//!
//! A planar map `[1, c, h, w]` (one plane per channel) is held here as
//! `[1, c / 16, h, w, 16]`: each pixel's sixteen channels of a block are one
//! vector register. A 1x1 convolution then reads one stream and writes one
//! per block of channels, where over planes it reads and writes one per
//! channel; with 16 to 64 planes of 4–8 MB (YuNet at 640x640) those streams
//! no longer stay in the caches and the planar sum ran at half
//! onnxruntime's speed (which keeps its maps in the same blocks, NCHWc). On
//! YuNet 640x640's first 1x1 convolution, 16 → 16 channels at 320x320:
//! 0.45–0.60 ms over planes, 0.24–0.34 ms in blocks (onnxruntime 0.27–0.29;
//! models/README.md, "YuNet's maps in blocks of sixteen channels").
//!
//! [`use_in`] runs after the planar rewrites: a region of blocks starts at
//! an [`ImageConv3x3`] with a multiple of 16 output channels whose output
//! something with a blocked form reads (the image is the only input
//! converted, and it is converted while the first convolution is
//! computed) and grows through every node whose inputs are
//! all blocks and which has a blocked form here: our 1x1 convolution and
//! stride-1 depthwise convolution, our max pooling, tract's integer nearest
//! upsampling and an addition of two maps of the same shape (tract's own
//! operator: it does not care about the layout). Whatever reads a region's
//! map and has no blocked form (YuNet's heads' split) reads it through a
//! [`ToPlanar`]. Every operator here computes the planar one's values to the
//! bit: the same products summed in the same order, the same activations.

use super::*;
use std::arch::x86_64::*;
use tract_core::ops::nn::NearestUpsample;

/// Channels per block: one AVX-512 register of f32.
const LANES: usize = 16;

/// Turns the regions of `model` (already holding our planar operators) that
/// can run in blocks into blocks, on a CPU with AVX-512F and FMA; returns
/// how many nodes now run in blocks.
pub(super) fn use_in(model: &mut TypedModel) -> TractResult<usize> {
    if !has_avx512() || !has_fma() {
        return Ok(0);
    }
    let mut blocked = 0;
    for id in model.eval_order()? {
        let node = &model.nodes[id];
        let Some((op, inputs)) = in_blocks(model, node)? else { continue };
        let rank = node.outputs[0].fact.rank();
        let orientation = node.op_as::<Pointwise>().map_or(Orientation::AsInput, |pw| pw.orientation);
        let mut patch = TypedModelPatch::default();
        let inputs = inputs.iter().map(|&i| patch.tap_model(model, i)).collect::<TractResult<TVec<_>>>()?;
        let blocks = patch.wire_node(&node.name, op, &inputs)?[0];
        let planar = patch.wire_node(format!("{}.planar", node.name), ToPlanar { rank, orientation }, &[blocks])?[0];
        patch.shunt_outside(model, OutletId::new(id, 0), planar)?;
        patch.apply(model)?;
        blocked += 1;
    }
    // Drops the planar nodes replaced and the conversions nothing reads.
    model.compact()?;
    Ok(blocked)
}

/// An operator computing a node's output in blocks, and the maps in blocks it reads.
type InBlocks = (Box<dyn TypedOp>, TVec<OutletId>);

/// `node`'s blocked form and the blocked maps it reads, when it has one.
fn in_blocks(model: &TypedModel, node: &TypedNode) -> TractResult<Option<InBlocks>> {
    if let Some(conv) = node.op_as::<ImageConv3x3>() {
        let shape = model.outlet_fact(node.inputs[0])?.shape.as_concrete().map(TVec::from);
        let image = matches!(shape.as_deref(), Some([1, _, _, _] | [_, _, _]));
        // A region only where what follows reads blocks (not MiniFASNet's
        // first convolution: its map would only be converted back).
        let mut read_in_blocks = false;
        for successor in &node.outputs[0].successors {
            read_in_blocks |= blocked_form(model, model.node(successor.node))?.is_some();
        }
        if !image || conv.bias.len() % LANES != 0 || !read_in_blocks {
            return Ok(None);
        }
        let op = BlockedImageConv3x3 {
            weights: transposed(&conv.weights)?,
            bias: conv.bias.clone(),
            activation: conv.activation.clone(),
        };
        return Ok(Some((Box::new(op), tvec![node.inputs[0]])));
    }
    // Every input the output of a region, through its conversion (one that
    // does not transpose the plane: the map in blocks is not transposed).
    let mut blocks = TVec::new();
    for &input in &node.inputs {
        let producer = model.node(input.node);
        if producer.op_as::<ToPlanar>().is_none_or(|to| to.orientation != Orientation::AsInput) {
            return Ok(None);
        }
        blocks.push(producer.inputs[0]);
    }
    Ok(blocked_form(model, node)?.map(|op| (op, blocks)))
}

/// The operator computing `node`'s output in blocks from its inputs in
/// blocks, when there is one.
fn blocked_form(model: &TypedModel, node: &TypedNode) -> TractResult<Option<Box<dyn TypedOp>>> {
    let shape = |o: OutletId| model.outlet_fact(o).map(|f| f.shape.clone());
    Ok(Some(if let Some(pw) = node.op_as::<Pointwise>() {
        let [m, k] = pw.weights.shape() else { return Ok(None) };
        if m % LANES != 0 || k % LANES != 0 {
            return Ok(None);
        }
        Box::new(BlockedPointwise {
            weights: transposed(&pw.weights)?,
            bias: pw.bias.clone(),
            activation: pw.activation.clone(),
        })
    } else if let Some(dw) = node.op_as::<Depthwise3x3>() {
        if dw.stride != 1 || dw.bias.len() % LANES != 0 {
            return Ok(None);
        }
        Box::new(BlockedDepthwise {
            taps: interleaved_taps(&dw.taps)?,
            bias: dw.bias.clone(),
            activation: dw.activation.clone(),
        })
    } else if let Some(pool) = node.op_as::<StridedMaxPool>() {
        Box::new(BlockedMaxPool { size: pool.size, out_plane: pool.out_plane })
    } else if let Some(upsample) = node.op_as::<NearestUpsample>() {
        let Some((batch_and_channels, &[sh, sw])) = upsample.scales.split_last_chunk::<2>() else { return Ok(None) };
        if batch_and_channels.len() > 2 || batch_and_channels.iter().any(|&s| s != 1) || sh == 0 || sw == 0 {
            return Ok(None);
        }
        Box::new(BlockedUpsample { scales: (sh, sw) })
    } else if binary::<Add>(node).is_some()
        && node.inputs.len() == 2
        && shape(node.inputs[0])? == shape(node.inputs[1])?
    {
        node.op.clone()
    } else {
        return Ok(None);
    }))
}

/// `[m, k]` weights as `[k, m]`: input channel k's weights for sixteen
/// output channels are one load.
fn transposed(weights: &Tensor) -> TractResult<Arc<Tensor>> {
    Ok(Arc::new(weights.clone().permute_axes(&[1, 0])?.into_shape(&[weights.shape()[1], weights.shape()[0]])?))
}

/// `[c, 9]` taps as `[c / 16, 9, 16]`: a tap of sixteen channels is one load.
fn interleaved_taps(taps: &Tensor) -> TractResult<Arc<Tensor>> {
    let c = taps.shape()[0];
    let taps = taps.clone().into_shape(&[c / LANES, LANES, 9])?.permute_axes(&[0, 2, 1])?;
    Ok(Arc::new(taps.into_shape(&[c / LANES, 9, LANES])?))
}

/// `(c, h, w)` of a blocked map `[1, c / 16, h, w, 16]`.
fn blocked_dims(shape: &[usize]) -> TractResult<(usize, usize, usize)> {
    match *shape {
        [1, blocks, h, w, LANES] if h > 0 && w > 0 => Ok((blocks * LANES, h, w)),
        _ => bail!("expected a map in blocks of 16 channels, got shape {shape:?}"),
    }
}

/// The blocked shape of a map of `c` channels (a multiple of 16), `h` x `w`.
fn blocked_shape(c: usize, h: usize, w: usize) -> TVec<usize> {
    tvec![1, c / LANES, h, w, LANES]
}

/// A new blocked map of `shape`, filled by `kernel` from the input's values,
/// which must write every element.
fn blocked_output(input: &Tensor, shape: &[usize], kernel: impl FnOnce(&[f32], &mut [f32])) -> TractResult<Tensor> {
    ensure!(has_avx512() && has_fma(), "this CPU has no AVX-512F and FMA");
    // SAFETY: `kernel` writes every element before anything reads it.
    let mut output = unsafe { Tensor::uninitialized::<f32>(shape)? };
    let x = input.try_as_plain_ram()?;
    let mut out = output.try_as_plain_ram_mut()?;
    kernel(x.as_slice::<f32>()?, out.as_slice_mut::<f32>()?);
    Ok(output)
}

/// The output channels' activations as the blocked kernels apply them: the
/// kind a kernel is compiled for ([`sum_kind`]), and each channel's slope
/// of its negative values (1 for none, 0 for a ReLU), used under
/// [`PER_CHANNEL`]. Worked out once per call of an operator.
struct LaneActs {
    kind: u8,
    slopes: Vec<f32>,
}

impl LaneActs {
    fn of(activation: &Activation, channels: usize) -> TractResult<LaneActs> {
        let acts = activation.per_channel(channels)?;
        let slope = |act: &Act| match *act {
            Act::Identity => 1.0,
            Act::Relu => 0.0,
            Act::Prelu(slope) => slope,
        };
        Ok(LaneActs { kind: sum_kind(&acts), slopes: acts.iter().map(slope).collect() })
    }
}

/// [`Act::apply`] to sixteen lanes, each its own slope under [`PER_CHANNEL`].
#[target_feature(enable = "avx512f")]
#[inline]
fn act_lanes<const KIND: u8>(v: __m512, slopes: __m512) -> __m512 {
    match KIND {
        EVERY_IDENTITY => v,
        EVERY_RELU => _mm512_max_ps(v, _mm512_setzero_ps()),
        _ => _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask::<_CMP_LT_OQ>(v, _mm512_setzero_ps()), v, slopes),
    }
}

/// Our stride-2 image convolution ([`ImageConv3x3`]) writing blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BlockedImageConv3x3 {
    /// `[c · 9, m]`.
    weights: Arc<Tensor>,
    /// `[m]`.
    bias: Arc<Tensor>,
    activation: Activation,
}

impl Op for BlockedImageConv3x3 {
    fn name(&self) -> StaticName {
        "TrustshotBlockedImageConv3x3".into()
    }

    fn validation(&self) -> Validation {
        Validation::Rounding
    }

    op_as_typed_op!();
}

impl EvalOp for BlockedImageConv3x3 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let [n, c, h, w] = nchw(input.shape())?;
        let (weights, bias) = (self.weights.try_as_plain_ram()?, self.bias.try_as_plain_ram()?);
        let (weights, bias) = (weights.as_slice::<f32>()?, bias.as_slice::<f32>()?);
        let m = bias.len();
        ensure!(n == 1 && weights.len() == m * c * 9, "weights {m}x{c}x3x3 for shape {:?}", input.shape());
        ensure!(m.is_multiple_of(LANES), "{m} output channels are not whole blocks of {LANES}");
        let acts = LaneActs::of(&self.activation, m)?;
        let (oh, ow) = ((h - 1) / 2 + 1, (w - 1) / 2 + 1);
        let output = blocked_output(&input, &blocked_shape(m, oh, ow), |x, out| {
            let sum = |oy: usize, taps: &[&[f32]]| {
                let rows: Vec<*const f32> = taps.iter().map(|t| t.as_ptr()).collect();
                let into = Blocks { at: out[oy * ow * LANES..].as_mut_ptr(), block: oh * ow * LANES };
                // SAFETY: the CPU has AVX-512F and FMA (`blocked_output`); each row is ow
                // long, each block of the output holds ow pixels from row oy on.
                unsafe { blocked_sum(&rows, 1, weights, bias, &acts, into, ow) };
            };
            // SAFETY: the CPU has AVX2, as it has AVX-512F.
            unsafe { image_conv_rows(x, [c, h, w], (oh, ow), sum) };
        })?;
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for BlockedImageConv3x3 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = inputs[0].shape.as_concrete().context("a concrete input shape")?;
        let [_, _, h, w] = nchw(shape)?;
        Ok(tvec!(f32::fact(blocked_shape(self.bias.len(), (h - 1) / 2 + 1, (w - 1) / 2 + 1))))
    }

    as_op!();
}

/// Our 1x1 convolution ([`Pointwise`]) of blocks into blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BlockedPointwise {
    /// `[k, m]`.
    weights: Arc<Tensor>,
    /// `[m]`.
    bias: Arc<Tensor>,
    activation: Activation,
}

impl Op for BlockedPointwise {
    fn name(&self) -> StaticName {
        "TrustshotBlockedPointwise".into()
    }

    fn validation(&self) -> Validation {
        Validation::Rounding
    }

    op_as_typed_op!();
}

impl EvalOp for BlockedPointwise {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let (k, h, w) = blocked_dims(input.shape())?;
        let (weights, bias) = (self.weights.try_as_plain_ram()?, self.bias.try_as_plain_ram()?);
        let (weights, bias) = (weights.as_slice::<f32>()?, bias.as_slice::<f32>()?);
        let m = bias.len();
        ensure!(weights.len() == k * m, "weights {k}x{m} for shape {:?}", input.shape());
        ensure!(m.is_multiple_of(LANES), "{m} output channels are not whole blocks of {LANES}");
        let acts = LaneActs::of(&self.activation, m)?;
        let pixels = h * w;
        let output = blocked_output(&input, &blocked_shape(m, h, w), |x, out| {
            // Input channel i of pixel p is at i / 16 · pixels · 16 + p · 16 + i % 16.
            let channels: Vec<*const f32> =
                (0..k).map(|i| x[i / LANES * pixels * LANES + i % LANES..].as_ptr()).collect();
            let into = Blocks { at: out.as_mut_ptr(), block: pixels * LANES };
            // SAFETY: the CPU has AVX-512F and FMA (`blocked_output`); every channel
            // holds `pixels` values 16 apart, every output block `pixels` pixels.
            unsafe { blocked_sum(&channels, LANES, weights, bias, &acts, into, pixels) };
        })?;
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for BlockedPointwise {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = inputs[0].shape.as_concrete().context("a concrete input shape")?;
        let (_, h, w) = blocked_dims(shape)?;
        Ok(tvec!(f32::fact(blocked_shape(self.bias.len(), h, w))))
    }

    as_op!();
}

/// Where a blocked sum writes: pixel p of output block b at `at + b · block + p · 16`.
#[derive(Clone, Copy)]
struct Blocks {
    at: *mut f32,
    block: usize,
}

/// `out[m][p] = act(bias[m] + Σ_i weights[i][m] · x_i[p · step])` for every
/// output channel m (in blocks of 16) and pixel `p < pixels`, `x_i` input
/// channel i's first value: one to four blocks of output channels by up to
/// eight pixels at a time in registers, each input value broadcast once
/// per block of pixels. The products are added in the planar sum's order
/// ([`pointwise`]: bias first, then channel by channel), so the values are
/// the same to the bit.
///
/// # Safety
/// The CPU must have AVX-512F and FMA; each `x_i` must hold `pixels` values
/// `step` apart, and each of the `m / 16` output blocks `pixels` pixels.
unsafe fn blocked_sum(
    x: &[*const f32],
    step: usize,
    weights: &[f32],
    bias: &[f32],
    acts: &LaneActs,
    out: Blocks,
    pixels: usize,
) {
    let m = bias.len();
    assert!(m.is_multiple_of(LANES) && weights.len() == x.len() * m && acts.slopes.len() == m);
    let sum = Sum { x, step, weights, m, bias, slopes: &acts.slopes, out };
    let kind = acts.kind;
    let mut block = 0;
    while block < m / LANES {
        // SAFETY: the caller's contract; each call stays within blocks `block..block + G`.
        block += unsafe {
            match ((m / LANES - block).min(4), kind) {
                (4, EVERY_IDENTITY) => sum.blocks::<4, 6, EVERY_IDENTITY>(block, pixels),
                (4, EVERY_RELU) => sum.blocks::<4, 6, EVERY_RELU>(block, pixels),
                (4, _) => sum.blocks::<4, 6, PER_CHANNEL>(block, pixels),
                (2 | 3, EVERY_IDENTITY) => sum.blocks::<2, 8, EVERY_IDENTITY>(block, pixels),
                (2 | 3, EVERY_RELU) => sum.blocks::<2, 8, EVERY_RELU>(block, pixels),
                (2 | 3, _) => sum.blocks::<2, 8, PER_CHANNEL>(block, pixels),
                (_, EVERY_IDENTITY) => sum.blocks::<1, 8, EVERY_IDENTITY>(block, pixels),
                (_, EVERY_RELU) => sum.blocks::<1, 8, EVERY_RELU>(block, pixels),
                (_, _) => sum.blocks::<1, 8, PER_CHANNEL>(block, pixels),
            }
        };
    }
}

/// The operands of [`blocked_sum`].
struct Sum<'a> {
    x: &'a [*const f32],
    step: usize,
    /// `[k, m]`.
    weights: &'a [f32],
    m: usize,
    bias: &'a [f32],
    slopes: &'a [f32],
    out: Blocks,
}

impl Sum<'_> {
    /// Output blocks `first..first + G`, `P` pixels at a time, then one at a
    /// time; returns `G`.
    ///
    /// # Safety
    /// As [`blocked_sum`]'s, and `first + G ≤ m / 16`.
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn blocks<const G: usize, const P: usize, const KIND: u8>(&self, first: usize, pixels: usize) -> usize {
        let mut p = 0;
        while p + P <= pixels {
            // SAFETY: the caller's contract; pixels p..p + P.
            unsafe { self.tile::<G, P, KIND>(first, p) };
            p += P;
        }
        while p < pixels {
            // SAFETY: as above, pixel p.
            unsafe { self.tile::<G, 1, KIND>(first, p) };
            p += 1;
        }
        G
    }

    /// Output blocks `first..first + G` of pixels `p..p + P`.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    unsafe fn tile<const G: usize, const P: usize, const KIND: u8>(&self, first: usize, p: usize) {
        // SAFETY (every access below): the callers' contract bounds the
        // blocks, the pixels, the channels and the weights' rows.
        unsafe {
            let mut acc = [[_mm512_setzero_ps(); P]; G];
            let mut slopes = [_mm512_setzero_ps(); G];
            for (g, (acc, slopes)) in acc.iter_mut().zip(&mut slopes).enumerate() {
                let at = (first + g) * LANES;
                *acc = [_mm512_loadu_ps(self.bias.as_ptr().add(at)); P];
                *slopes = _mm512_loadu_ps(self.slopes.as_ptr().add(at));
            }
            let mut i = 0;
            while i < self.x.len() {
                let x = self.x.get_unchecked(i).add(p * self.step);
                let row = self.weights.as_ptr().add(i * self.m + first * LANES);
                let mut w = [_mm512_setzero_ps(); G];
                for (g, w) in w.iter_mut().enumerate() {
                    *w = _mm512_loadu_ps(row.add(g * LANES));
                }
                for j in 0..P {
                    let v = _mm512_set1_ps(*x.add(j * self.step));
                    for (acc, w) in acc.iter_mut().zip(w) {
                        acc[j] = _mm512_fmadd_ps(v, w, acc[j]);
                    }
                }
                i += 1;
            }
            for (g, (acc, slopes)) in acc.iter().zip(slopes).enumerate() {
                let block = self.out.at.add((first + g) * self.out.block + p * LANES);
                for (j, acc) in acc.iter().enumerate() {
                    _mm512_storeu_ps(block.add(j * LANES), act_lanes::<KIND>(*acc, slopes));
                }
            }
        }
    }
}

/// Our stride-1 depthwise convolution ([`Depthwise3x3`]) of blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BlockedDepthwise {
    /// `[c / 16, 9, 16]`: tap t of sixteen channels.
    taps: Arc<Tensor>,
    /// `[c]`.
    bias: Arc<Tensor>,
    activation: Activation,
}

impl Op for BlockedDepthwise {
    fn name(&self) -> StaticName {
        "TrustshotBlockedDepthwise3x3".into()
    }

    fn validation(&self) -> Validation {
        Validation::Rounding
    }

    op_as_typed_op!();
}

impl EvalOp for BlockedDepthwise {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let (c, h, w) = blocked_dims(input.shape())?;
        let (taps, bias) = (self.taps.try_as_plain_ram()?, self.bias.try_as_plain_ram()?);
        let (taps, bias) = (taps.as_slice::<f32>()?, bias.as_slice::<f32>()?);
        ensure!(taps.len() == 9 * c && bias.len() == c, "weights for {} channels, the input has {c}", bias.len());
        let LaneActs { kind, slopes } = LaneActs::of(&self.activation, c)?;
        let output = blocked_output(&input, input.shape(), |x, out| {
            let planes = Planes { x, out, channels: c, h, w };
            // SAFETY: the CPU has AVX-512F and FMA (`blocked_output`).
            unsafe {
                match kind {
                    EVERY_IDENTITY => depthwise_blocks::<EVERY_IDENTITY>(planes, taps, bias, &slopes),
                    EVERY_RELU => depthwise_blocks::<EVERY_RELU>(planes, taps, bias, &slopes),
                    _ => depthwise_blocks::<PER_CHANNEL>(planes, taps, bias, &slopes),
                }
            }
        })?;
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for BlockedDepthwise {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(inputs[0].without_value()))
    }

    as_op!();
}

/// Each output pixel of a block: for each kernel row its left, centre and
/// right taps (the first row's after the bias), the three rows' sums then
/// added, as [`depthwise_s1_avx512`] adds them (the same values); columns
/// and rows outside the map are zero.
/// The three columns under the kernel move along the row in registers: one
/// new load per kernel row per pixel.
///
/// # Safety
/// The CPU must have AVX-512F and FMA.
#[target_feature(enable = "avx512f,fma")]
unsafe fn depthwise_blocks<const KIND: u8>(planes: Planes, taps: &[f32], bias: &[f32], slopes: &[f32]) {
    let Planes { x, out, channels, h, w } = planes;
    let map = h * w * LANES;
    // The unchecked loads and stores below rely on these.
    assert!(x.len() == channels / LANES * map && out.len() == x.len());
    assert!(taps.len() == 9 * channels && bias.len() == channels && slopes.len() == channels);
    let zero_row = vec![0f32; w * LANES];
    // SAFETY (every access below): rows are w · 16 long and within the
    // block's map (or the zero row), pixels x < w, blocks < channels / 16.
    unsafe {
        let zero = _mm512_setzero_ps();
        for block in 0..channels / LANES {
            let mut t = [zero; 9];
            for (k, t) in t.iter_mut().enumerate() {
                *t = _mm512_loadu_ps(taps.as_ptr().add((block * 9 + k) * LANES));
            }
            let b = _mm512_loadu_ps(bias.as_ptr().add(block * LANES));
            let s = _mm512_loadu_ps(slopes.as_ptr().add(block * LANES));
            let (x, out) = (x.as_ptr().add(block * map), out.as_mut_ptr().add(block * map));
            for y in 0..h {
                let row = |dy: usize| match (y + dy).checked_sub(1).filter(|&r| r < h) {
                    Some(r) => x.add(r * w * LANES),
                    None => zero_row.as_ptr(),
                };
                let rows = [row(0), row(1), row(2)];
                let o = out.add(y * w * LANES);
                let mut left = [zero; 3];
                let mut centre = [_mm512_loadu_ps(rows[0]), _mm512_loadu_ps(rows[1]), _mm512_loadu_ps(rows[2])];
                let mut ox = 0;
                while ox < w {
                    let mut right = [zero; 3];
                    if ox + 1 < w {
                        for r in 0..3 {
                            right[r] = _mm512_loadu_ps(rows[r].add((ox + 1) * LANES));
                        }
                    }
                    // One sum per kernel row, added at the end, as the planar kernel adds them.
                    let mut acc = [b, zero, zero];
                    for r in 0..3 {
                        acc[r] = _mm512_fmadd_ps(t[3 * r], left[r], acc[r]);
                        acc[r] = _mm512_fmadd_ps(t[3 * r + 1], centre[r], acc[r]);
                        acc[r] = _mm512_fmadd_ps(t[3 * r + 2], right[r], acc[r]);
                    }
                    let sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), acc[2]);
                    _mm512_storeu_ps(o.add(ox * LANES), act_lanes::<KIND>(sum, s));
                    left = centre;
                    centre = right;
                    ox += 1;
                }
            }
        }
    }
}

/// Our max pooling ([`StridedMaxPool`]) of blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BlockedMaxPool {
    size: usize,
    out_plane: (usize, usize),
}

impl Op for BlockedMaxPool {
    fn name(&self) -> StaticName {
        "TrustshotBlockedMaxPool".into()
    }

    op_as_typed_op!();
}

impl EvalOp for BlockedMaxPool {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let (c, h, w) = blocked_dims(input.shape())?;
        let (oh, ow) = self.out_plane;
        let windows = |len: usize, out: usize| out > 0 && 2 * (out - 1) < len;
        ensure!(windows(h, oh) && windows(w, ow), "{oh}x{ow} windows in a {h}x{w} plane");
        let size = self.size;
        let output = blocked_output(&input, &blocked_shape(c, oh, ow), |x, out| {
            let planes = Planes { x, out, channels: c, h, w };
            // SAFETY: the CPU has AVX-512F (`blocked_output`), every window starts inside (checked).
            unsafe {
                match size {
                    2 => max_pool_blocks::<2>(planes, (oh, ow)),
                    _ => max_pool_blocks::<3>(planes, (oh, ow)),
                }
            }
        })?;
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for BlockedMaxPool {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = inputs[0].shape.as_concrete().context("a concrete input shape")?;
        let (c, _, _) = blocked_dims(shape)?;
        Ok(tvec!(f32::fact(blocked_shape(c, self.out_plane.0, self.out_plane.1))))
    }

    as_op!();
}

/// Each output pixel: the maximum of its `K` x `K` window from `(2·oy,
/// 2·ox)`, of what the window covers at the bottom and right edges.
///
/// # Safety
/// The CPU must have AVX-512F; every window must start inside the map.
#[target_feature(enable = "avx512f")]
unsafe fn max_pool_blocks<const K: usize>(planes: Planes, (oh, ow): (usize, usize)) {
    let Planes { x, out, channels, h, w } = planes;
    let blocks = channels / LANES;
    assert!(x.len() == blocks * h * w * LANES && out.len() == blocks * oh * ow * LANES);
    assert!(2 * (oh - 1) < h && 2 * (ow - 1) < w);
    // Output columns whose window lies wholly inside a row.
    let whole = if w >= K { ((w - K) / 2 + 1).min(ow) } else { 0 };
    // SAFETY: every window starts inside the map (asserted) and is cut at its edges.
    unsafe {
        for block in 0..blocks {
            let (x, out) = (x.as_ptr().add(block * h * w * LANES), out.as_mut_ptr().add(block * oh * ow * LANES));
            for oy in 0..oh {
                let rows = (h - 2 * oy).min(K);
                let (x, out) = (x.add(2 * oy * w * LANES), out.add(oy * ow * LANES));
                let mut ox = 0;
                if rows == K {
                    while ox < whole {
                        let first = x.add(2 * ox * LANES);
                        let mut m = _mm512_loadu_ps(first);
                        for dy in 0..K {
                            for dx in 0..K {
                                m = _mm512_max_ps(m, _mm512_loadu_ps(first.add((dy * w + dx) * LANES)));
                            }
                        }
                        _mm512_storeu_ps(out.add(ox * LANES), m);
                        ox += 1;
                    }
                }
                while ox < ow {
                    let (first, columns) = (x.add(2 * ox * LANES), (w - 2 * ox).min(K));
                    let mut m = _mm512_loadu_ps(first);
                    for dy in 0..rows {
                        for dx in 0..columns {
                            m = _mm512_max_ps(m, _mm512_loadu_ps(first.add((dy * w + dx) * LANES)));
                        }
                    }
                    _mm512_storeu_ps(out.add(ox * LANES), m);
                    ox += 1;
                }
            }
        }
    }
}

/// tract's integer nearest upsampling (`NearestUpsample`, scales `[1, 1,
/// sh, sw]`) of blocks: each pixel's sixteen values copied `sw` times along
/// the row, each row `sh` times.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BlockedUpsample {
    scales: (usize, usize),
}

impl Op for BlockedUpsample {
    fn name(&self) -> StaticName {
        "TrustshotBlockedUpsample".into()
    }

    op_as_typed_op!();
}

impl EvalOp for BlockedUpsample {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let (c, h, w) = blocked_dims(input.shape())?;
        let (sh, sw) = self.scales;
        let ow = w * sw;
        let output = blocked_output(&input, &blocked_shape(c, h * sh, ow), |x, out| {
            for (row, out) in x.chunks_exact(w * LANES).zip(out.chunks_exact_mut(sh * ow * LANES)) {
                let (first, rest) = out.split_at_mut(ow * LANES);
                for (pixel, copies) in row.chunks_exact(LANES).zip(first.chunks_exact_mut(sw * LANES)) {
                    for copy in copies.chunks_exact_mut(LANES) {
                        copy.copy_from_slice(pixel);
                    }
                }
                for copy in rest.chunks_exact_mut(ow * LANES) {
                    copy.copy_from_slice(first);
                }
            }
        })?;
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for BlockedUpsample {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = inputs[0].shape.as_concrete().context("a concrete input shape")?;
        let (c, h, w) = blocked_dims(shape)?;
        Ok(tvec!(f32::fact(blocked_shape(c, h * self.scales.0, w * self.scales.1))))
    }

    as_op!();
}

/// A blocked map back in planes, `[1, c / 16, h, w, 16]` → `[1, c, h, w]`
/// (or `[c, h, w]`: the planar node's rank, as tract's graph drops or adds
/// the batch axis of one; the plane transposed, `[1, c, w, h]`, after a 1x1
/// convolution whose output is), for what has no blocked form.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ToPlanar {
    rank: usize,
    orientation: Orientation,
}

impl ToPlanar {
    fn shape(&self, (c, h, w): (usize, usize, usize)) -> TVec<usize> {
        let (h, w) = self.orientation.plane(h, w);
        if self.rank == 3 {
            tvec![c, h, w]
        } else {
            tvec![1, c, h, w]
        }
    }
}

impl Op for ToPlanar {
    fn name(&self) -> StaticName {
        "TrustshotToPlanar".into()
    }

    op_as_typed_op!();
}

impl EvalOp for ToPlanar {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let (c, h, w) = blocked_dims(input.shape())?;
        let pixels = h * w;
        let mut too_wide = None;
        let output = blocked_output(&input, &self.shape((c, h, w)), |x, out| {
            for (blocks, planes) in x.chunks_exact(pixels * LANES).zip(out.chunks_exact_mut(pixels * LANES)) {
                // SAFETY: the CPU has AVX-512F (`blocked_output`); both hold h x w x 16 values.
                too_wide = unsafe { to_planes(blocks, planes, (h, w), self.orientation) }.err();
            }
        })?;
        if let Some(width) = too_wide {
            bail!("a map {width} pixels wide cannot be transposed by gathers");
        }
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for ToPlanar {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = inputs[0].shape.as_concrete().context("a concrete input shape")?;
        Ok(tvec!(f32::fact(self.shape(blocked_dims(shape)?))))
    }

    as_op!();
}

/// One block's sixteen planes from its `h` x `w` x 16 values, transposed
/// or not: sixteen values of a lane gathered at a time along an output row
/// (the last 1 to 15 under a mask), from pixels one apart along an input
/// row, or `w` apart down a column when transposed.
///
/// Fails, with the row's width, when sixteen pixels down a column span more
/// than an i32 counts.
///
/// # Safety
/// The CPU must have AVX-512F; `blocks` and `planes` hold `h · w · 16` values.
#[target_feature(enable = "avx512f")]
unsafe fn to_planes(
    blocks: &[f32],
    planes: &mut [f32],
    (h, w): (usize, usize),
    orientation: Orientation,
) -> Result<(), usize> {
    let pixels = h * w;
    assert!(blocks.len() == pixels * LANES && planes.len() == pixels * LANES);
    // Output rows and their length; the step between their values' pixels and between rows'.
    let (rows, len, along, down) = match orientation {
        Orientation::AsInput => (1, pixels, 1, 0),
        Orientation::Transposed => (w, h, w, 1),
    };
    // The gather's offsets (in values) of sixteen pixels `along` apart; a
    // transposed plane's columns are rows of any width, whose offsets must fit an i32.
    let Ok(last) = i32::try_from(15 * along * LANES) else { return Err(along) };
    let step = _mm512_set1_epi32(last / 15);
    let across = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), step);
    for row in 0..rows {
        let mut i = 0;
        while i < len {
            let mask: __mmask16 = if i + LANES <= len { 0xFFFF } else { (1 << (len - i)) - 1 };
            let pixel = row * down + i * along;
            for lane in 0..LANES {
                // SAFETY: lanes past the row are masked off, the others inside both slices.
                unsafe {
                    let from = blocks.as_ptr().add(pixel * LANES + lane);
                    let v = _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), mask, across, from);
                    _mm512_mask_storeu_ps(planes.as_mut_ptr().add(lane * pixels + row * len + i), mask, v);
                }
            }
            i += LANES;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{full_conv_model, values};
    use super::*;
    use tract_core::ops::cnn::{Conv, KernelFormat, MaxPool, PaddingSpec, PoolSpec};
    use tract_core::ops::nn::DataFormat;

    /// A planar `[1, c, h, w]` map as blocks (the layout's definition, element by element).
    fn to_blocks(planar: &Tensor) -> Tensor {
        let [_, c, h, w] = nchw(planar.shape()).unwrap();
        let x = planar.try_as_plain_ram().unwrap();
        let x = x.as_slice::<f32>().unwrap();
        let mut out = vec![0f32; x.len()];
        for ch in 0..c {
            for p in 0..h * w {
                out[(ch / LANES * h * w + p) * LANES + ch % LANES] = x[ch * h * w + p];
            }
        }
        tensor1(&out).into_shape(&blocked_shape(c, h, w)).unwrap()
    }

    fn eval(op: &dyn TypedOp, input: Tensor) -> Tensor {
        let outputs = op.eval_out_of_plan(tvec![input.into_tvalue()]).unwrap().unwrap();
        outputs[0].clone().into_tensor()
    }

    /// `blocked` on the input in blocks, back in planes, against `planar`
    /// on the planar input: the same values to the bit.
    fn assert_same(planar: &dyn TypedOp, blocked: &dyn TypedOp, input: &Tensor, what: &str) {
        assert_same_as(planar, (blocked, Orientation::AsInput), input, what)
    }

    fn assert_same_as(
        planar: &dyn TypedOp,
        (blocked, orientation): (&dyn TypedOp, Orientation),
        input: &Tensor,
        what: &str,
    ) {
        let expected = eval(planar, input.clone());
        let ours = eval(&ToPlanar { rank: 4, orientation }, eval(blocked, to_blocks(input)));
        assert_eq!(expected.shape(), ours.shape(), "{what}");
        let (a, b) = (expected.try_as_plain_ram().unwrap(), ours.try_as_plain_ram().unwrap());
        let (a, b) = (a.as_slice::<f32>().unwrap(), b.as_slice::<f32>().unwrap());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert_eq!(x.to_bits(), y.to_bits(), "{what}: element {i}: planar {x}, blocked {y}");
        }
    }

    fn activations(c: usize) -> [Activation; 3] {
        let slopes = values(c, 5).iter().map(|v| v * 0.5).collect::<Vec<_>>();
        [Activation::Identity, Activation::Relu, Activation::Prelu(Arc::new(tensor1(&slopes)))]
    }

    fn map(c: usize, h: usize, w: usize, seed: u64) -> Tensor {
        tensor1(&values(c * h * w, seed)).into_shape(&[1, c, h, w]).unwrap()
    }

    /// Planes of one pixel, of a row or a column, and of a few rows
    /// narrower and wider than a block of pixels.
    const PLANES: [(usize, usize); 6] = [(1, 1), (1, 9), (7, 1), (2, 3), (5, 17), (9, 33)];

    #[test]
    fn the_blocked_1x1_and_depthwise_convolutions_give_the_planar_values_to_the_bit() {
        if !has_avx512() || !has_fma() {
            return;
        }
        for (k, m) in [(16, 16), (16, 32), (32, 64), (64, 16), (48, 48), (64, 128)] {
            for (h, w) in PLANES {
                let orientations = [Orientation::AsInput, Orientation::Transposed];
                for (activation, orientation) in
                    activations(m).into_iter().flat_map(|a| orientations.map(|o| (a.clone(), o)))
                {
                    let what = format!("1x1 {k} -> {m} at {h}x{w}, {}, {orientation:?}", activation.name());
                    let weights = tensor1(&values(m * k, 3)).into_shape(&[m, k]).unwrap();
                    let bias = Arc::new(tensor1(&values(m, 4)));
                    let planar = Pointwise {
                        weights: Arc::new(weights.clone()),
                        bias: bias.clone(),
                        output_rank: 4,
                        orientation,
                        activation: activation.clone(),
                    };
                    let blocked = BlockedPointwise { weights: transposed(&weights).unwrap(), bias, activation };
                    assert_same_as(&planar, (&blocked, orientation), &map(k, h, w, 6), &what);
                }
            }
        }
        for c in [16, 32, 64] {
            for (h, w) in PLANES {
                for activation in activations(c) {
                    let what = format!("depthwise {c} at {h}x{w}, {}", activation.name());
                    let taps = tensor1(&values(9 * c, 7)).into_shape(&[c, 9]).unwrap();
                    let bias = Arc::new(tensor1(&values(c, 8)));
                    let planar = Depthwise3x3 {
                        stride: 1,
                        taps: Arc::new(taps.clone()),
                        bias: bias.clone(),
                        activation: activation.clone(),
                    };
                    let blocked = BlockedDepthwise { taps: interleaved_taps(&taps).unwrap(), bias, activation };
                    assert_same(&planar, &blocked, &map(c, h, w, 9), &what);
                }
            }
        }
    }

    #[test]
    fn the_blocked_image_convolution_pooling_and_upsampling_give_the_planar_values_to_the_bit() {
        if !has_avx512() || !has_fma() {
            return;
        }
        for m in [16, 32] {
            for (h, w) in PLANES {
                for activation in activations(m) {
                    let what = format!("image 3 -> {m} at {h}x{w}, {}", activation.name());
                    let weights = tensor1(&values(m * 27, 10)).into_shape(&[m, 27]).unwrap();
                    let bias = Arc::new(tensor1(&values(m, 11)));
                    let planar = ImageConv3x3 {
                        weights: Arc::new(weights.clone()),
                        bias: bias.clone(),
                        activation: activation.clone(),
                    };
                    let blocked = BlockedImageConv3x3 { weights: transposed(&weights).unwrap(), bias, activation };
                    // The blocked convolution reads the planar image.
                    let image = map(3, h, w, 12);
                    let expected = eval(&planar, image.clone());
                    assert_eq!(
                        eval(&ToPlanar { rank: 4, orientation: Orientation::AsInput }, eval(&blocked, image)),
                        expected,
                        "{what}"
                    );
                }
            }
        }
        for (h, w) in PLANES {
            for size in [2, 3] {
                if h < size || w < size {
                    continue;
                }
                // Windows from every even row and column: the last may reach past the edge.
                let out_plane = ((h - size).div_ceil(2) + 1, (w - size).div_ceil(2) + 1);
                let planar = StridedMaxPool { size, out_plane };
                let blocked = BlockedMaxPool { size, out_plane };
                assert_same(&planar, &blocked, &map(32, h, w, 13), &format!("{size}x{size} pooling at {h}x{w}"));
            }
            for (sh, sw) in [(2, 2), (1, 2), (3, 1)] {
                let planar = NearestUpsample { scales: tvec![1, 1, sh, sw] };
                let blocked = BlockedUpsample { scales: (sh, sw) };
                assert_same(&planar, &blocked, &map(16, h, w, 14), &format!("upsampling {h}x{w} by {sh}x{sw}"));
            }
        }
    }

    /// A small YuNet: its first convolution with a ReLU, a 1x1 and a
    /// depthwise convolution, a pooling, another 1x1, an upsampling added
    /// to the map before the pooling, a head (1x1) split in two (which
    /// tract makes two heads of 5 and 11 channels, read from planes).
    fn small_yunet(h: usize, w: usize) -> TypedModel {
        let mut model = TypedModel::default();
        let konst = |model: &mut TypedModel, name: &str, shape: &[usize], seed: u64| {
            let len = shape.iter().product();
            model.add_const(name, tensor1(&values(len, seed)).into_shape(shape).unwrap()).unwrap()
        };
        let spec = |kernel: usize, stride: usize, padding: PaddingSpec, c: usize, m: usize| PoolSpec {
            data_format: DataFormat::NCHW,
            kernel_shape: tvec![kernel, kernel],
            padding,
            dilations: None,
            strides: Some(tvec![stride, stride]),
            input_channels: c,
            output_channels: m,
        };
        let one = || PaddingSpec::Explicit(tvec![1, 1], tvec![1, 1]);
        let conv = |pool_spec, group| Conv { pool_spec, kernel_fmt: KernelFormat::OIHW, group, q_params: None };
        let x = model.add_source("x", f32::fact([1, 3, h, w])).unwrap();
        let (k, b) = (konst(&mut model, "k1", &[16, 3, 3, 3], 21), konst(&mut model, "b1", &[16], 22));
        let y = model.wire_node("image", conv(spec(3, 2, one(), 3, 16), 1), &[x, k, b]).unwrap()[0];
        let zero = model.add_const("zero", tensor0(0f32).broadcast_into_rank(4).unwrap()).unwrap();
        let y = model.wire_node("relu", tract_core::ops::math::max(), &[y, zero]).unwrap()[0];
        let (k, b) = (konst(&mut model, "k2", &[32, 16, 1, 1], 23), konst(&mut model, "b2", &[32], 24));
        let y = model.wire_node("pw1", conv(spec(1, 1, PaddingSpec::Valid, 16, 32), 1), &[y, k, b]).unwrap()[0];
        let (k, b) = (konst(&mut model, "k3", &[32, 1, 3, 3], 25), konst(&mut model, "b3", &[32], 26));
        let before = model.wire_node("dw", conv(spec(3, 1, one(), 32, 32), 32), &[y, k, b]).unwrap()[0];
        let pool = MaxPool { pool_spec: spec(2, 2, PaddingSpec::Valid, 32, 32), with_index_outputs: None };
        let y = model.wire_node("pool", pool, &[before]).unwrap()[0];
        let (k, b) = (konst(&mut model, "k4", &[32, 32, 1, 1], 27), konst(&mut model, "b4", &[32], 28));
        let y = model.wire_node("pw2", conv(spec(1, 1, PaddingSpec::Valid, 32, 32), 1), &[y, k, b]).unwrap()[0];
        let y = model.wire_node("up", NearestUpsample { scales: tvec![1, 1, 2, 2] }, &[y]).unwrap()[0];
        let y = model.wire_node("add", tract_core::ops::math::add(), &[y, before]).unwrap()[0];
        let (k, b) = (konst(&mut model, "k5", &[16, 32, 1, 1], 30), konst(&mut model, "b5", &[16], 31));
        let y = model.wire_node("head", conv(spec(1, 1, PaddingSpec::Valid, 32, 16), 1), &[y, k, b]).unwrap()[0];
        let first = model.wire_node("first", tract_core::ops::array::Slice::new(1, 0, 5), &[y]).unwrap()[0];
        let rest = model.wire_node("rest", tract_core::ops::array::Slice::new(1, 5, 16), &[y]).unwrap()[0];
        model.select_output_outlets(&[first, rest]).unwrap();
        model
    }

    #[test]
    fn a_small_yunet_runs_in_blocks_with_the_planar_values_to_the_bit() {
        if !has_avx512() || !has_fma() {
            return;
        }
        let input = map(3, 24, 40, 29);
        let run = |blocks: bool| {
            let mut model = small_yunet(24, 40).into_decluttered().unwrap();
            // tract splits the head's weights: two 1x1 convolutions, of 5 and 11 channels.
            assert_eq!(use_planar_in(&mut model).unwrap(), 8, "every convolution, the ReLU and the pooling are ours");
            let blocked = if blocks { use_in(&mut model).unwrap() } else { 0 };
            model.optimize().unwrap();
            let ops: Vec<String> = model.nodes.iter().map(|n| n.op.name().to_string()).collect();
            let outputs = model.into_runnable().unwrap().run(tvec![input.clone().into_tvalue()]).unwrap();
            (outputs.into_iter().map(|o| o.into_tensor()).collect::<Vec<_>>(), blocked, ops)
        };
        let (planar, _, _) = run(false);
        let (blocked, count, ops) = run(true);
        assert_eq!(count, 7, "all but the heads in blocks: {ops:?}");
        assert_eq!(
            ops.iter().filter(|o| *o == "TrustshotToPlanar").count(),
            1,
            "one conversion, for the heads: {ops:?}"
        );
        assert_eq!(planar, blocked);
        // An image convolution that nothing reads in blocks (MiniFASNet's) starts no region.
        let mut lone =
            full_conv_model(&[1, 3, 24, 40], DataFormat::NCHW, 32, 3, Activation::Identity).into_decluttered().unwrap();
        assert_eq!(use_planar_in(&mut lone).unwrap(), 1);
        assert_eq!(use_in(&mut lone).unwrap(), 0);
    }
}
