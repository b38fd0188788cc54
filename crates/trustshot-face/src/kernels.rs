//! Our own x86_64 code for the operators tract 0.23 runs far below the
//! machine's speed in the shipped networks (issue 14): the 3x3 depthwise
//! convolution with one pixel of zero padding (stride 1 or 2, optionally with
//! its ReLU: YuNet, SFace, MiniFASNet, Iris), the 2x2 and 3x3 max poolings
//! with stride 2 (YuNet, Iris, O-Net), the per-channel PReLU (SFace,
//! MiniFASNet, Iris, O-Net), the 1x1 convolution with at most 16 channels in
//! and out (YuNet's first blocks; up to 256 with AVX-512), the stride-2 3x3
//! convolution of the RGB image that starts YuNet and MiniFASNet, with its
//! ReLU, and with AVX-512 the unpadded 3x3 convolution (O-Net's first two);
//! a batch normalisation after a depthwise or 1x1 convolution is folded in,
//! and so is a PReLU after one (a ReLU after a depthwise one). With AVX-512,
//! YuNet's maps then pass between these operators in blocks of sixteen
//! channels rather than channel planes ([`blocked`]).
//!
//! Why they were slow, measured with `tract-profile` (README "Measured"):
//! - tract's x86 matrix kernels (AVX-512 here) return with the upper halves of
//!   the vector registers dirty, and the legacy-SSE code tract compiles its
//!   other operators to then pays the AVX-SSE transition penalty on every
//!   instruction: SFace took 28.9 ms as shipped and 24.2 ms when `vzeroupper`
//!   ran after each node. Code compiled for AVX2 (VEX-encoded) does not pay
//!   it, and LLVM ends such a function with `vzeroupper`.
//! - a stride-2 pooling checks the bounds of every tap (1.5 ms for YuNet's
//!   64x96x160 map, 0.1 ms here; O-Net's three, 0.114 ms of its 0.34, here
//!   0.019);
//! - a PReLU, written by `models/build.py` as `Relu(x) + slope · Min(x, 0)`,
//!   is two elementwise passes over the tensor, here one.
//! - a 1x1 convolution is a matrix product whose input tract first copies
//!   into its kernel's panel layout: with 16 channels that copy costs as much
//!   as the product (YuNet 640x384's first 1x1 convolution: 0.46 ms packing,
//!   0.41 ms product; read straight from the planes, 0.46 ms in all). With
//!   more channels tract's AVX-512 product is faster than an AVX2 sum, not
//!   than an AVX-512 one: ours takes up to 16 channels on an AVX2 CPU, up to
//!   256 on an AVX-512 one ([`pointwise_max_channels`]). A network's first
//!   3x3 convolution of the RGB image is the same sum over 27 shifted rows
//!   of the image.
//!
//! Each kernel is plain Rust whose inner loops run over contiguous slices
//! (a depthwise output row is the sum of nine shifted input rows; stride 2
//! first splits each padded row into its even and odd columns), compiled for
//! AVX2 by `#[target_feature]` and used only when the CPU has it. The
//! exceptions are the 1x1 sum, written with AVX2 FMA intrinsics
//! ([`pointwise_avx2`]) and AVX-512 ones ([`pointwise_avx512`], taken where
//! the CPU has it: the same values to the bit), fast only with its
//! accumulators held in registers, which the compiler does not arrange from
//! plain loops; the depthwise convolution with AVX-512
//! ([`depthwise_s1_avx512`], [`depthwise_s2_avx512`]: masked loads make the
//! padding free, where the plain loops spent most of their time on edge
//! columns or copying rows); and the pooling's even/odd lane split.
//!
//! [`use_in`] puts them into a decluttered graph, before tract's codegen,
//! where a node (or a ReLU or PReLU chain) matches exactly what they compute
//! (f32, channels first, constant weights, the output shape tract inferred);
//! anything else stays tract's. The unit tests below check each against
//! tract's own operators; the parity test (`benches/tests/parity.rs`) checks
//! every shipped plan against onnxruntime with them in it.
//!
//! Not on arm64: there tract runs its own NEON kernels, which have no such
//! penalty, and the phone library is built at opt-level "z", which does not
//! vectorise plain loops. Whether NEON versions of these would help a phone
//! needs a measurement on one.

use std::sync::Arc;
use tract_core::internal::*;
use tract_core::ops::binary::{BinMiniOp, TypedBinOp};
use tract_core::ops::cnn::{Conv, KernelFormat, MaxPool, PaddingSpec, PoolSpec};
use tract_core::ops::einsum::EinSum;
use tract_core::ops::math::{Add, Max, Min, Mul};
use tract_core::ops::nn::DataFormat;

mod blocked;

/// Puts these kernels into a decluttered `model` wherever they compute a
/// node (or a small chain of nodes) exactly; returns how many were put in.
pub(crate) fn use_in(model: &mut TypedModel) -> TractResult<usize> {
    let replaced = use_planar_in(model)?;
    // Where the CPU has AVX-512, regions of them then pass maps in blocks of channels.
    blocked::use_in(model)?;
    Ok(replaced)
}

/// [`use_in`] with every map in channel planes.
fn use_planar_in(model: &mut TypedModel) -> TractResult<usize> {
    if !has_avx2() {
        return Ok(0);
    }
    let mut replaced = 0;
    for id in model.eval_order()? {
        let node = &model.nodes[id];
        let Some(rewrite) = Rewrite::at(model, node)? else { continue };
        let mut patch = TypedModelPatch::default();
        let input = patch.tap_model(model, rewrite.input)?;
        let output = patch.wire_node(&node.name, rewrite.op, &[input])?[0];
        patch.shunt_outside(model, OutletId::new(id, 0), output)?;
        patch.apply(model)?;
        replaced += 1;
    }
    // Drops what the rewrites left unused (the replaced nodes, their weights).
    model.compact()?;
    Ok(replaced)
}

/// One of our operators computing, from `input`, what a node's first output
/// holds (the node itself, or the last node of a chain).
struct Rewrite {
    input: OutletId,
    op: Box<dyn TypedOp>,
}

impl Rewrite {
    fn at(model: &TypedModel, node: &TypedNode) -> TractResult<Option<Rewrite>> {
        let with = |op: Box<dyn TypedOp>| Some(Rewrite { input: node.inputs[0], op });
        if let Some(conv) = node.op_as::<Conv>() {
            if let Some(op) = Depthwise3x3::for_node(model, node, conv)? {
                return Ok(with(Box::new(op)));
            }
            if let Some(op) = ImageConv3x3::for_node(model, node, conv)? {
                return Ok(with(Box::new(op)));
            }
            return Ok(ValidConv3x3::for_node(model, node, conv)?.and_then(|op| with(Box::new(op))));
        }
        if let Some(pool) = node.op_as::<MaxPool>() {
            return Ok(StridedMaxPool::for_node(model, node, pool)?.and_then(|op| with(Box::new(op))));
        }
        if let Some(rewrite) = with_folded_relu(model, node, |op: &mut Depthwise3x3| op.activation.fold_relu())? {
            return Ok(Some(rewrite));
        }
        if let Some(rewrite) = with_folded_relu(model, node, |op: &mut ImageConv3x3| op.activation.fold_relu())? {
            return Ok(Some(rewrite));
        }
        if let Some(rewrite) = Depthwise3x3::with_folded_affine(model, node)? {
            return Ok(Some(rewrite));
        }
        if let Some(rewrite) = Pointwise::for_chain(model, node)? {
            return Ok(Some(rewrite));
        }
        ChannelPrelu::for_chain(model, node)
    }
}

fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

fn has_fma() -> bool {
    std::arch::is_x86_feature_detected!("fma")
}

fn has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

/// Clears the upper halves of the vector registers (`vzeroupper`) on a CPU
/// with AVX. tract's x86 matrix kernels (hand-written AVX-512 assembly)
/// return with them dirty, and every legacy-SSE instruction that runs next
/// — tract's other operators, and all of our plain Rust after a plan ran:
/// resizing, alignment, the JPEG check — then pays the AVX-SSE transition
/// penalty. [`crate::models::Model::run`] calls this after every node.
/// Measured on an AMD EPYC (AVX-512), 2026-12-04: the face alignment
/// 0.70 → 0.30 ms when it ran after a detection.
#[inline]
pub(crate) fn clear_upper_vector_state() {
    #[target_feature(enable = "avx")]
    fn vzeroupper() {
        std::arch::x86_64::_mm256_zeroupper();
    }
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX, checked just above.
        unsafe { vzeroupper() }
    }
}

/// The binary operation `B` of `node`, if it is one.
fn binary<B: BinMiniOp>(node: &TypedNode) -> Option<&B> {
    node.op_as::<TypedBinOp>().filter(|op| op.1.is_none()).and_then(|op| op.0.downcast_ref::<B>())
}

/// Whether `outlet` is a constant zero of one element (a broadcast scalar).
fn is_zero(model: &TypedModel, outlet: OutletId) -> TractResult<bool> {
    Ok(match &model.outlet_fact(outlet)?.konst {
        Some(k) => k.len() == 1 && k.datum_type() == f32::datum_type() && k.is_all_zero()?,
        None => false,
    })
}

/// `node` as our convolution `T` with a ReLU, when `node` is `max(x, 0)` of
/// the only reader of a `T`'s output and `fold` takes the ReLU in (the
/// convolution had no activation yet).
fn with_folded_relu<T: TypedOp + Clone>(
    model: &TypedModel,
    node: &TypedNode,
    fold: impl Fn(&mut T) -> bool,
) -> TractResult<Option<Rewrite>> {
    if binary::<Max>(node).is_none() || !is_zero(model, node.inputs[1])? {
        return Ok(None);
    }
    let conv = model.node(node.inputs[0].node);
    let Some(op) = conv.op_as::<T>() else { return Ok(None) };
    let mut op = op.clone();
    if !read_once(model, node.inputs[0])? || !fold(&mut op) {
        return Ok(None);
    }
    Ok(Some(Rewrite { input: conv.inputs[0], op: Box::new(op) }))
}

/// Whether `outlet` is read by exactly one node and is not a model output.
fn read_once(model: &TypedModel, outlet: OutletId) -> TractResult<bool> {
    let node = model.node(outlet.node);
    Ok(node.outputs[outlet.slot].successors.len() == 1 && !model.output_outlets()?.contains(&outlet))
}

/// The input's concrete shape when it is f32 and laid out channels first
/// (NCHW, or CHW), the only layouts these kernels read.
fn channels_first(model: &TypedModel, node: &TypedNode, format: DataFormat) -> TractResult<Option<TVec<usize>>> {
    let fact = model.outlet_fact(node.inputs[0])?;
    let Some(shape) = fact.shape.as_concrete() else { return Ok(None) };
    let layout = matches!((format, shape.len()), (DataFormat::NCHW, 4) | (DataFormat::CHW, 3));
    Ok((layout && fact.datum_type == f32::datum_type()).then(|| shape.into()))
}

/// The stride `spec` takes on both axes, when it is the same on both and
/// nothing is dilated.
fn uniform_stride(spec: &PoolSpec) -> Option<usize> {
    let undilated = spec.dilations.as_ref().is_none_or(|d| d.iter().all(|&d| d == 1));
    match spec.strides.as_deref() {
        None if undilated => Some(1),
        Some(&[a, b]) if undilated && a == b => Some(a),
        _ => None,
    }
}

/// A convolution node's constant f32 kernel, and its constant f32 bias as
/// one value per output channel ([`per_channel`]).
fn conv_weights(model: &TypedModel, node: &TypedNode, channels: usize) -> TractResult<Option<(Arc<Tensor>, Vec<f32>)>> {
    let konst = |i: usize| model.outlet_fact(node.inputs[i]).map(|f| f.konst.clone());
    let (Some(kernel), Some(bias)) = (konst(1)?, konst(2)?) else { return Ok(None) };
    if kernel.datum_type() != f32::datum_type() || bias.datum_type() != f32::datum_type() {
        return Ok(None);
    }
    Ok(per_channel(&bias, channels)?.map(|bias| (kernel, bias)))
}

/// An f32 `bias` as one value per channel: its own values when it has
/// `channels` of them, its one value repeated when it has one.
fn per_channel(bias: &Tensor, channels: usize) -> TractResult<Option<Vec<f32>>> {
    let values: Vec<f32> = bias.to_plain_array_view::<f32>()?.iter().copied().collect();
    Ok(match values.len() {
        1 => Some(vec![values[0]; channels]),
        len if len == channels => Some(values),
        _ => None,
    })
}

/// An f32 constant as one value per channel of an output of `rank` whose
/// channel axis is third from last: broadcast along that axis, or one value.
fn along_channels(values: &Tensor, channels: usize, rank: usize) -> TractResult<Option<Vec<f32>>> {
    if values.datum_type() != f32::datum_type() {
        return Ok(None);
    }
    let along = values.rank() <= rank
        && values.shape().iter().rev().enumerate().all(|(i, &d)| d == 1 || (i == 2 && d == channels));
    Ok(per_channel(values, channels)?.filter(|_| along || values.len() == 1))
}

/// `x · scale + shift` with constant `scale` and `shift`, the two nodes
/// tract's declutter makes of a batch normalisation after a convolution
/// without bias (SFace), the product read by nothing else.
struct Affine {
    x: OutletId,
    scale: Arc<Tensor>,
    shift: Arc<Tensor>,
}

impl Affine {
    fn at(model: &TypedModel, node: &TypedNode) -> TractResult<Option<Affine>> {
        if binary::<Add>(node).is_none() {
            return Ok(None);
        }
        let konst = |o: OutletId| model.outlet_fact(o).map(|f| f.konst.clone());
        let (a, b) = (node.inputs[0], node.inputs[1]);
        for (product, shift) in [(a, b), (b, a)] {
            let mul = model.node(product.node);
            let Some(shift) = konst(shift)? else { continue };
            if binary::<Mul>(mul).is_none() || !read_once(model, product)? {
                continue;
            }
            let (c, d) = (mul.inputs[0], mul.inputs[1]);
            for (x, scale) in [(c, d), (d, c)] {
                if let (None, Some(scale)) = (konst(x)?, konst(scale)?) {
                    return Ok(Some(Affine { x, scale, shift }));
                }
            }
        }
        Ok(None)
    }
}

/// Whether the node's output is the `shape` our operator computes.
fn output_is(node: &TypedNode, shape: &[usize]) -> bool {
    node.outputs.len() == 1 && node.outputs[0].fact.shape.as_concrete() == Some(shape)
}

/// A depthwise (one filter per channel) 3x3 convolution, zero padding of one
/// pixel on every side, stride 1 or 2, with its bias and activation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Depthwise3x3 {
    stride: usize,
    /// `[c, 9]`: each channel's taps, row by row.
    taps: Arc<Tensor>,
    /// `[c]`.
    bias: Arc<Tensor>,
    activation: Activation,
}

/// What is applied to each output as it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Activation {
    Identity,
    /// `max(x, 0)`: a ReLU that read only this convolution, folded in
    /// (YuNet's): one pass over the output instead of two.
    Relu,
    /// `x < 0 ? slope · x : x`, one slope per output channel (`[c]`): a
    /// PReLU that read only this convolution, folded in (SFace's,
    /// MiniFASNet's, Iris's).
    Prelu(Arc<Tensor>),
}

impl Activation {
    /// Takes a following ReLU in, if there is no activation yet.
    fn fold_relu(&mut self) -> bool {
        let folded = *self == Activation::Identity;
        if folded {
            *self = Activation::Relu;
        }
        folded
    }

    /// Each of `channels` output channels' activation, as the kernels apply it.
    fn per_channel(&self, channels: usize) -> TractResult<Vec<Act>> {
        Ok(match self {
            Activation::Identity => vec![Act::Identity; channels],
            Activation::Relu => vec![Act::Relu; channels],
            Activation::Prelu(slopes) => {
                let slopes = slopes.try_as_plain_ram()?;
                let slopes = slopes.as_slice::<f32>()?;
                ensure!(slopes.len() == channels, "{} slopes for {channels} channels", slopes.len());
                slopes.iter().map(|&s| Act::Prelu(s)).collect()
            }
        })
    }

    fn name(&self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "ReLU",
            Activation::Prelu(_) => "PReLU",
        }
    }
}

/// One output channel's [`Activation`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum Act {
    Identity,
    Relu,
    Prelu(f32),
}

impl Act {
    #[inline(always)]
    fn apply(self, v: f32) -> f32 {
        match self {
            Act::Identity => v,
            Act::Relu => max(v, 0.0),
            Act::Prelu(slope) => {
                if v < 0.0 {
                    slope * v
                } else {
                    v
                }
            }
        }
    }
}

/// [`Act::apply`] to sixteen lanes, in a kernel compiled for `KIND`.
///
/// # Safety
/// The CPU must have AVX-512F.
#[target_feature(enable = "avx512f")]
#[inline]
fn act_avx512<const KIND: u8>(v: std::arch::x86_64::__m512, act: Act) -> std::arch::x86_64::__m512 {
    use std::arch::x86_64::*;
    match of_kind::<KIND>(act) {
        Act::Identity => v,
        Act::Relu => _mm512_max_ps(v, _mm512_setzero_ps()),
        Act::Prelu(slope) => {
            let negative = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(v, _mm512_setzero_ps());
            _mm512_mask_mul_ps(v, negative, v, _mm512_set1_ps(slope))
        }
    }
}

/// What the kernels are compiled for, a const parameter so that a sum
/// whose every channel has no activation, or a ReLU, decides nothing per
/// value it stores (YuNet's; a branch per store cost its 1x1 sums 20%):
/// every channel [`Act::Identity`], every channel [`Act::Relu`], or each
/// channel its own.
const EVERY_IDENTITY: u8 = 0;
const EVERY_RELU: u8 = 1;
const PER_CHANNEL: u8 = 2;

/// `act` as a kernel compiled for `KIND` applies it: a constant unless
/// `KIND` is [`PER_CHANNEL`].
#[inline(always)]
fn of_kind<const KIND: u8>(act: Act) -> Act {
    match KIND {
        EVERY_IDENTITY => Act::Identity,
        EVERY_RELU => Act::Relu,
        _ => act,
    }
}

/// The kind of sum `acts` need.
fn sum_kind(acts: &[Act]) -> u8 {
    if acts.iter().all(|&a| a == Act::Identity) {
        EVERY_IDENTITY
    } else if acts.iter().all(|&a| a == Act::Relu) {
        EVERY_RELU
    } else {
        PER_CHANNEL
    }
}

/// [`Act::apply`] to eight lanes, in a kernel compiled for `KIND`.
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
#[inline]
fn act_avx2<const KIND: u8>(v: std::arch::x86_64::__m256, act: Act) -> std::arch::x86_64::__m256 {
    use std::arch::x86_64::*;
    match of_kind::<KIND>(act) {
        Act::Identity => v,
        Act::Relu => _mm256_max_ps(v, _mm256_setzero_ps()),
        Act::Prelu(slope) => {
            let negative = _mm256_cmp_ps::<_CMP_LT_OQ>(v, _mm256_setzero_ps());
            _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(slope)), negative)
        }
    }
}

impl Depthwise3x3 {
    fn for_node(model: &TypedModel, node: &TypedNode, conv: &Conv) -> TractResult<Option<Depthwise3x3>> {
        let spec = &conv.pool_spec;
        let Some(shape) = channels_first(model, node, spec.data_format)? else { return Ok(None) };
        // An empty plane stays tract's.
        let Ok([_, c, _, _]) = nchw(&shape) else { return Ok(None) };
        let Some(stride @ (1 | 2)) = uniform_stride(spec) else { return Ok(None) };
        if conv.q_params.is_some()
            || conv.kernel_fmt != KernelFormat::OIHW
            || node.inputs.len() != 3
            || conv.group != c
            || spec.input_channels != c
            || spec.output_channels != c
            || spec.kernel_shape[..] != [3, 3]
            || spec.padding != PaddingSpec::Explicit(tvec![1, 1], tvec![1, 1])
        {
            return Ok(None);
        }
        let Some((kernel, bias)) = conv_weights(model, node, c)? else { return Ok(None) };
        if kernel.len() != 9 * c {
            return Ok(None);
        }
        // OIHW with one input per group: [c, 1, 3, 3], each channel's nine taps in a row.
        let taps = Tensor::clone(&kernel).into_shape(&[c, 9])?;
        let op = Depthwise3x3 {
            stride,
            taps: Arc::new(taps),
            bias: Arc::new(tensor1(&bias)),
            activation: Activation::Identity,
        };
        Ok(output_is(node, &op.output_shape(&shape)?).then_some(op))
    }
}

impl Op for Depthwise3x3 {
    fn name(&self) -> StaticName {
        "TrustshotDepthwise3x3".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!("stride {}, {}", self.stride, self.activation.name())])
    }

    fn validation(&self) -> Validation {
        Validation::Rounding
    }

    op_as_typed_op!();
}

impl EvalOp for Depthwise3x3 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let (taps, bias) = (self.taps.try_as_plain_ram()?, self.bias.try_as_plain_ram()?);
        let (taps, bias) = (taps.as_slice::<f32>()?, bias.as_slice::<f32>()?);
        let c = nchw(input.shape())?[1];
        ensure!(taps.len() == 9 * c && bias.len() == c, "weights for {} channels, the input has {c}", bias.len());
        let acts = self.activation.per_channel(c)?;
        let output = over_planes(&input, &self.output_shape(input.shape())?, |planes| {
            if self.stride == 1 && has_avx512() {
                // SAFETY: the CPU has AVX-512F, checked just above.
                unsafe { depthwise_s1_avx512(planes, taps, bias, &acts) }
            } else if has_avx512() {
                // SAFETY: as above.
                unsafe { depthwise_s2_avx512(planes, taps, bias, &acts) }
            } else {
                // SAFETY: `over_planes` runs this only on a CPU with AVX2.
                unsafe { depthwise_avx2(planes, self.stride, taps, bias, &acts) }
            }
        })?;
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for Depthwise3x3 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = inputs[0].shape.as_concrete().context("a concrete input shape")?;
        Ok(tvec!(f32::fact(&self.output_shape(shape)?)))
    }

    as_op!();
}

impl Depthwise3x3 {
    /// `node` as one of our depthwise convolutions with the batch
    /// normalisation `node` ends ([`Affine`]) folded into its taps and bias,
    /// when it reads only such a convolution with no activation (SFace's):
    /// one pass over the output instead of two, the same to rounding.
    fn with_folded_affine(model: &TypedModel, node: &TypedNode) -> TractResult<Option<Rewrite>> {
        let Some(affine) = Affine::at(model, node)? else { return Ok(None) };
        let conv = model.node(affine.x.node);
        let Some(op) = conv.op_as::<Depthwise3x3>() else { return Ok(None) };
        let c = op.bias.len();
        let rank = model.outlet_fact(affine.x)?.rank();
        let (Some(scale), Some(shift)) =
            (along_channels(&affine.scale, c, rank)?, along_channels(&affine.shift, c, rank)?)
        else {
            return Ok(None);
        };
        if op.activation != Activation::Identity || !read_once(model, affine.x)? {
            return Ok(None);
        }
        let mut taps = Tensor::clone(&op.taps);
        for (mut row, s) in taps.to_plain_array_view_mut::<f32>()?.outer_iter_mut().zip(&scale) {
            row.mapv_inplace(|t| t * s);
        }
        let bias = op.bias.try_as_plain_ram()?;
        let bias: Vec<f32> =
            bias.as_slice::<f32>()?.iter().zip(&scale).zip(&shift).map(|((b, s), t)| b * s + t).collect();
        let folded = Depthwise3x3 { taps: Arc::new(taps), bias: Arc::new(tensor1(&bias)), ..op.clone() };
        Ok(Some(Rewrite { input: conv.inputs[0], op: Box::new(folded) }))
    }

    fn output_shape(&self, input: &[usize]) -> TractResult<TVec<usize>> {
        let [_, _, h, w] = nchw(input)?;
        with_plane(input, (h - 1) / self.stride + 1, (w - 1) / self.stride + 1)
    }
}

/// `[n, c, h, w]` of an NCHW or CHW shape with a non-empty plane.
fn nchw(shape: &[usize]) -> TractResult<[usize; 4]> {
    match *shape {
        [n, c, h, w] if h > 0 && w > 0 => Ok([n, c, h, w]),
        [c, h, w] if h > 0 && w > 0 => Ok([1, c, h, w]),
        _ => bail!("expected a channels-first image, got shape {shape:?}"),
    }
}

/// `shape` with its plane (the last two axes) made `h` x `w`.
fn with_plane(shape: &[usize], h: usize, w: usize) -> TractResult<TVec<usize>> {
    let mut out: TVec<usize> = shape.into();
    let rank = out.len();
    ensure!(rank >= 2, "shape {shape:?} has no plane");
    (out[rank - 2], out[rank - 1]) = (h, w);
    Ok(out)
}

/// `shape` with its plane made `h` x `w` and its channels (third from last) `m`.
fn with_plane_and_channels(shape: &[usize], h: usize, w: usize, m: usize) -> TractResult<TVec<usize>> {
    let mut out = with_plane(shape, h, w)?;
    let rank = out.len();
    ensure!(rank >= 3, "shape {shape:?} has no channel axis");
    out[rank - 3] = m;
    Ok(out)
}

/// A new tensor of `out_shape` (the output's plane computed from each of
/// `input`'s channel planes) filled by `kernel`, which must write every
/// element of it; run only on a CPU with AVX2, which the kernels are
/// compiled for.
fn over_planes(input: &Tensor, out_shape: &[usize], kernel: impl FnOnce(Planes)) -> TractResult<Tensor> {
    let [_, channels, h, w] = nchw(input.shape())?;
    ensure!(has_avx2(), "this CPU has no AVX2");
    // SAFETY: `kernel` writes every element (each output row whole) before anything reads it.
    let mut output = unsafe { Tensor::uninitialized::<f32>(out_shape)? };
    let x = input.try_as_plain_ram()?;
    let mut out = output.try_as_plain_ram_mut()?;
    kernel(Planes { x: x.as_slice::<f32>()?, out: out.as_slice_mut::<f32>()?, channels, h, w });
    Ok(output)
}

/// The channel planes of an input and of its output, `h` x `w` in, any size
/// out (each channel's output plane is `out.len() / planes` long).
struct Planes<'a> {
    x: &'a [f32],
    out: &'a mut [f32],
    channels: usize,
    h: usize,
    w: usize,
}

/// The depthwise convolution compiled for AVX2 (8 lanes, VEX-encoded: no
/// transition penalty, see the module's header).
#[target_feature(enable = "avx2")]
fn depthwise_avx2(planes: Planes, stride: usize, taps: &[f32], bias: &[f32], acts: &[Act]) {
    depthwise(planes, stride, taps, bias, acts)
}

#[inline(always)]
fn depthwise(planes: Planes, stride: usize, taps: &[f32], bias: &[f32], acts: &[Act]) {
    let Planes { x, out, channels, h, w } = planes;
    if out.is_empty() {
        return;
    }
    let out_plane = out.len() / (x.len() / (h * w));
    // Zeroed once for all planes: every plane writes the same cells of it
    // and never its padding, which stays zero (no memset per plane).
    let mut scratch = Vec::new();
    for (plane, (x, out)) in x.chunks_exact(h * w).zip(out.chunks_exact_mut(out_plane)).enumerate() {
        let ch = plane % channels;
        let k: &[f32; 9] = taps[ch * 9..][..9].try_into().expect("nine taps per channel");
        let plane = Plane { x, h, w, k, bias: bias[ch], activation: acts[ch] };
        match stride {
            1 if w < LONG_ROW => depthwise_s1_run(plane, out, &mut scratch),
            1 => depthwise_s1_rows(plane, out, &mut scratch),
            _ => depthwise_s2(plane, out, &mut scratch),
        }
    }
}

/// `out[i] = bias + Σ k[t] · rows[t][i]` over the nine taps, each row a
/// contiguous slice at least as long as `out`: the loop the compiler
/// vectorises.
#[inline(always)]
fn taps_row(out: &mut [f32], rows: [&[f32]; 9], k: &[f32; 9], bias: f32, activation: Act) {
    match activation {
        // One closure per kind: the compiler vectorises each without a branch per value.
        Act::Identity => taps_row_then(out, rows, k, bias, |v| v),
        Act::Relu => taps_row_then(out, rows, k, bias, |v| Act::Relu.apply(v)),
        Act::Prelu(slope) => taps_row_then(out, rows, k, bias, |v| Act::Prelu(slope).apply(v)),
    }
}

#[inline(always)]
fn taps_row_then(out: &mut [f32], rows: [&[f32]; 9], k: &[f32; 9], bias: f32, activation: impl Fn(f32) -> f32) {
    let n = out.len();
    let [r0, r1, r2, r3, r4, r5, r6, r7, r8] = rows.map(|r| &r[..n]);
    for i in 0..n {
        out[i] = activation(
            bias + k[0] * r0[i]
                + k[1] * r1[i]
                + k[2] * r2[i]
                + k[3] * r3[i]
                + k[4] * r4[i]
                + k[5] * r5[i]
                + k[6] * r6[i]
                + k[7] * r7[i]
                + k[8] * r8[i],
        );
    }
}

/// One channel's input plane (`h` x `w`) and what it is convolved with.
#[derive(Clone, Copy)]
struct Plane<'a> {
    x: &'a [f32],
    h: usize,
    w: usize,
    k: &'a [f32; 9],
    bias: f32,
    activation: Act,
}

/// From this width on, a stride-1 plane is summed row by row in place
/// ([`depthwise_s1_rows`]); narrower ones as one run ([`depthwise_s1_run`]),
/// whose copies cost less than the per-row edge work when rows are short.
/// Measured with `tract-profile`: YuNet's 96x160 planes and wider are faster
/// by rows, its 48x80 and SFace's, MiniFASNet's and Iris's (at most 112
/// wide) as runs (SFace's depthwise convolutions 4.1 → 2.4 ms).
const LONG_ROW: usize = 128;

/// One channel plane, stride 1, read in place: the output's inner columns
/// are slices of three input rows at column offsets 0, 1, 2; its first and
/// last column (where a tap falls on the padding) are summed one by one; the
/// rows above and below the plane are `zeros`.
#[inline(always)]
fn depthwise_s1_rows(plane: Plane, out: &mut [f32], zeros: &mut Vec<f32>) {
    let Plane { x, h, w, k, bias, activation } = plane;
    zeros.resize(w, 0.0);
    let row = |y: usize| if y == 0 || y > h { &zeros[..] } else { &x[(y - 1) * w..][..w] };
    for (oy, out) in out.chunks_exact_mut(w).enumerate() {
        // Padded row oy + dy is input row oy + dy - 1.
        let [a, b, c] = [0, 1, 2].map(|dy| row(oy + dy));
        if w > 2 {
            let rows = [a, &a[1..], &a[2..], b, &b[1..], &b[2..], c, &c[1..], &c[2..]];
            taps_row(&mut out[1..w - 1], rows, k, bias, activation);
        }
        for ox in [0, w - 1] {
            let mut sum = bias;
            for (ky, r) in [a, b, c].into_iter().enumerate() {
                for kx in 0..3 {
                    // Padded column ox + kx is input column ox + kx - 1.
                    if let Some(&v) = (ox + kx).checked_sub(1).and_then(|i| r.get(i)) {
                        sum += k[ky * 3 + kx] * v;
                    }
                }
            }
            out[ox] = activation.apply(sum);
        }
    }
}

/// One channel plane, stride 1, as one run: the plane with a border of
/// zeros, read as a single row of `(h + 2) · (w + 2)` values, so that the
/// output at padded position `y · (w + 2) + x` is the taps at offsets
/// `dy · (w + 2) + dx` from it; the two border columns this also computes
/// in each row are dropped when the rows are copied out.
#[inline(always)]
fn depthwise_s1_run(plane: Plane, out: &mut [f32], scratch: &mut Vec<f32>) {
    let Plane { x, h, w, k, bias, activation } = plane;
    let pw = w + 2;
    let run = h * pw;
    // The padded plane, two zeros more so that the last tap's slice is `run` long, then the run
    // (zeroed on the call's first plane; later planes overwrite the inside and the whole run).
    scratch.resize((h + 2) * pw + 2 + run, 0.0);
    let (padded, sums) = scratch.split_at_mut((h + 2) * pw + 2);
    for (y, row) in x.chunks_exact(w).enumerate() {
        padded[(y + 1) * pw + 1..][..w].copy_from_slice(row);
    }
    let tap = |dy: usize, dx: usize| &padded[dy * pw + dx..];
    let taps = [tap(0, 0), tap(0, 1), tap(0, 2), tap(1, 0), tap(1, 1), tap(1, 2), tap(2, 0), tap(2, 1), tap(2, 2)];
    taps_row(sums, taps, k, bias, activation);
    for (out, sums) in out.chunks_exact_mut(w).zip(sums.chunks_exact(pw)) {
        out.copy_from_slice(&sums[..w]);
    }
}

/// One channel plane, stride 2: each padded row stored as its even columns
/// then its odd columns, so that the taps at padded columns 2j, 2j+1, 2j+2
/// are `even[j]`, `odd[j]`, `even[j + 1]`: contiguous again.
#[inline(always)]
fn depthwise_s2(plane: Plane, out: &mut [f32], scratch: &mut Vec<f32>) {
    let Plane { x, h, w, k, bias, activation } = plane;
    let (ow, pw) = ((w - 1) / 2 + 1, w + 2);
    let evens = pw.div_ceil(2);
    // Zeroed on the call's first plane; later planes overwrite all but the padding.
    scratch.resize((h + 2) * pw, 0.0);
    for (y, row) in x.chunks_exact(w).enumerate() {
        let (even, odd) = scratch[(y + 1) * pw..][..pw].split_at_mut(evens);
        // Input column i is padded column i + 1: even i land in the odd columns.
        for (j, pair) in row.chunks(2).enumerate() {
            odd[j] = pair[0];
            if let Some(&v) = pair.get(1) {
                even[j + 1] = v;
            }
        }
    }
    for (oy, out) in out.chunks_exact_mut(ow).enumerate() {
        let [a, b, c] = [0, 1, 2].map(|dy| scratch[(2 * oy + dy) * pw..][..pw].split_at(evens));
        taps_row(out, [a.0, a.1, &a.0[1..], b.0, b.1, &b.0[1..], c.0, c.1, &c.0[1..]], k, bias, activation);
    }
}

/// The stride-1 depthwise convolution with AVX-512 where the CPU has it,
/// read in place: each output row sixteen columns at a time, every tap a
/// fused multiply-add of one input row's load shifted by -1, 0 or +1
/// columns; the loads that would fall on the padding (the plane's first and
/// last column, the rows above and below it) are masked off or skipped, and
/// the last one to fifteen columns are loaded and stored under a mask.
/// Measured with `tract-profile` (models/README.md): YuNet 640x384's 16
/// channels at 96x160 0.103 → 0.03 ms; the plain loops of
/// [`depthwise_s1_rows`] spent most of their time on the edge columns and
/// row tails one by one.
///
/// # Safety
/// The CPU must have AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn depthwise_s1_avx512(planes: Planes, taps: &[f32], bias: &[f32], acts: &[Act]) {
    use std::arch::x86_64::*;
    let Planes { x, out, channels, h, w } = planes;
    // The loads and stores below are unchecked: these make them safe.
    assert!(x.len() == out.len() && x.len() % (h * w) == 0);
    assert!(taps.len() == 9 * channels && bias.len() == channels && acts.len() == channels);
    // The rows above and below the plane: read like any other, no branch per block.
    let zeros = vec![0f32; w];
    for (plane, (x, out)) in x.chunks_exact(h * w).zip(out.chunks_exact_mut(h * w)).enumerate() {
        let ch = plane % channels;
        let (k, b, act) = (channel_taps(taps, ch), _mm512_set1_ps(bias[ch]), acts[ch]);
        for (oy, out) in out.chunks_exact_mut(w).enumerate() {
            // Output row oy reads input rows oy - 1, oy, oy + 1.
            let rows = rows_around(x, (h, w), oy, &zeros);
            // The sum of the nine taps for columns x0..x0 + 16: lane i reads columns
            // x0 + i - 1, x0 + i, x0 + i + 1 under the masks `left`, `valid`, `right`
            // (masked-off lanes are not accessed: the address one before a row is never read).
            let sum = |x0: usize, masks: Option<[__mmask16; 3]>| {
                // One sum per input row, added at the end: three short chains instead of one of nine.
                let mut acc = [b, _mm512_setzero_ps(), _mm512_setzero_ps()];
                for (dy, (row, acc)) in rows.iter().zip(&mut acc).enumerate() {
                    let p = row.wrapping_add(x0);
                    let [l, c, r] = match masks {
                        None => [_mm512_loadu_ps(p.sub(1)), _mm512_loadu_ps(p), _mm512_loadu_ps(p.add(1))],
                        Some([left, valid, right]) => [
                            _mm512_maskz_loadu_ps(left, p.wrapping_sub(1)),
                            _mm512_maskz_loadu_ps(valid, p),
                            _mm512_maskz_loadu_ps(right, p.wrapping_add(1)),
                        ],
                    };
                    *acc = _mm512_fmadd_ps(k[dy * 3], l, *acc);
                    *acc = _mm512_fmadd_ps(k[dy * 3 + 1], c, *acc);
                    *acc = _mm512_fmadd_ps(k[dy * 3 + 2], r, *acc);
                }
                act_avx512::<PER_CHANNEL>(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), acc[2]), act)
            };
            let o = out.as_mut_ptr();
            // The first block: no column before it; the last too when the row is 16 or narrower.
            let n = w.min(16);
            let valid: __mmask16 = if n == 16 { 0xFFFF } else { (1 << n) - 1 };
            let right = if n == w { valid >> 1 } else { valid };
            _mm512_mask_storeu_ps(o, valid, sum(0, Some([valid & !1, valid, right])));
            // Blocks inside the row, unmasked.
            let mut x0 = 16;
            while x0 + 16 < w {
                _mm512_storeu_ps(o.add(x0), sum(x0, None));
                x0 += 16;
            }
            // The last block, 1 to 16 columns: no column after it.
            if x0 < w {
                let valid: __mmask16 = if w - x0 == 16 { 0xFFFF } else { (1 << (w - x0)) - 1 };
                _mm512_mask_storeu_ps(o.add(x0), valid, sum(x0, Some([valid, valid, valid >> 1])));
            }
        }
    }
}

/// Channel `ch`'s nine taps, each in all sixteen lanes.
///
/// # Safety
/// The CPU must have AVX-512F.
#[target_feature(enable = "avx512f")]
#[inline]
fn channel_taps(taps: &[f32], ch: usize) -> [std::arch::x86_64::__m512; 9] {
    std::array::from_fn(|t| std::arch::x86_64::_mm512_set1_ps(taps[ch * 9 + t]))
}

/// The rows `y - 1`, `y` and `y + 1` of an `h` x `w` plane, `zeros` (a row of
/// zeros) for those outside it: read like any other, no branch per block.
#[inline(always)]
fn rows_around(x: &[f32], (h, w): (usize, usize), y: usize, zeros: &[f32]) -> [*const f32; 3] {
    // Above row 0 is usize::MAX: outside.
    [y.wrapping_sub(1), y, y + 1].map(|y| if y < h { x[y * w..][..w].as_ptr() } else { zeros.as_ptr() })
}

/// The stride-2 depthwise convolution with AVX-512 where the CPU has it,
/// read in place: sixteen output columns need input columns `2·ox - 1`
/// through `2·ox + 31`, two pairs of loads per input row (from `2·ox - 1`
/// and from `2·ox`) whose even and odd lanes, gathered by a permutation,
/// are the left, centre and right taps; loads past the plane's edges are
/// masked off. The AVX2 loops first copy every row into its even and odd
/// columns (SFace's stride-2 convolutions 1.0 ms of its 7.3).
///
/// # Safety
/// The CPU must have AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn depthwise_s2_avx512(planes: Planes, taps: &[f32], bias: &[f32], acts: &[Act]) {
    use std::arch::x86_64::*;
    let Planes { x, out, channels, h, w } = planes;
    let (oh, ow) = ((h - 1) / 2 + 1, (w - 1) / 2 + 1);
    // The loads and stores below are unchecked: these make them safe.
    assert!(x.len() % (h * w) == 0 && out.len() == x.len() / (h * w) * oh * ow);
    assert!(taps.len() == 9 * channels && bias.len() == channels && acts.len() == channels);
    let zeros = vec![0f32; w];
    // Lanes 0, 2, .., 30 and 1, 3, .., 31 of a pair of vectors.
    let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    // The columns `from..to` of the 32 starting at column `start` (which may be -1), as two masks.
    let masks = |start: isize, from: isize, to: isize| -> [__mmask16; 2] {
        let below = |n: isize| match (n - start).clamp(0, 32) {
            32 => u32::MAX,
            n => (1u32 << n) - 1,
        };
        let bits = below(to) & !below(from);
        [bits as u16, (bits >> 16) as u16]
    };
    for (plane, (x, out)) in x.chunks_exact(h * w).zip(out.chunks_exact_mut(oh * ow)).enumerate() {
        let ch = plane % channels;
        let (k, b, act) = (channel_taps(taps, ch), _mm512_set1_ps(bias[ch]), acts[ch]);
        for (oy, out) in out.chunks_exact_mut(ow).enumerate() {
            // Output row oy reads input rows 2·oy - 1, 2·oy, 2·oy + 1.
            let rows = rows_around(x, (h, w), 2 * oy, &zeros);
            let mut ox = 0;
            while ox < ow {
                let n = (ow - ox).min(16);
                let (left, centre) = (2 * ox as isize - 1, 2 * ox as isize);
                // Inside the plane, sixteen outputs: every load whole.
                let inside = ox > 0 && n == 16 && 2 * ox + 32 <= w;
                // Output i's left tap is column left + 2i, its centre and right centre + 2i (+ 1).
                let [l0, l1] = masks(left, 0.max(left), (left + 2 * n as isize - 1).min(w as isize));
                let [c0, c1] = masks(centre, centre, (centre + 2 * n as isize).min(w as isize));
                let mut acc = [b, _mm512_setzero_ps(), _mm512_setzero_ps()];
                for (dy, (row, acc)) in rows.iter().zip(&mut acc).enumerate() {
                    // Masked-off lanes are not accessed: the address one before a row is never read.
                    let (pl, pc) = (row.wrapping_offset(left), row.wrapping_offset(centre));
                    let [a0, a1, b0, b1] = if inside {
                        [
                            _mm512_loadu_ps(pl),
                            _mm512_loadu_ps(pl.add(16)),
                            _mm512_loadu_ps(pc),
                            _mm512_loadu_ps(pc.add(16)),
                        ]
                    } else {
                        [
                            _mm512_maskz_loadu_ps(l0, pl),
                            _mm512_maskz_loadu_ps(l1, pl.wrapping_add(16)),
                            _mm512_maskz_loadu_ps(c0, pc),
                            _mm512_maskz_loadu_ps(c1, pc.wrapping_add(16)),
                        ]
                    };
                    let l = _mm512_permutex2var_ps(a0, even, a1);
                    let c = _mm512_permutex2var_ps(b0, even, b1);
                    let r = _mm512_permutex2var_ps(b0, odd, b1);
                    *acc = _mm512_fmadd_ps(k[dy * 3], l, *acc);
                    *acc = _mm512_fmadd_ps(k[dy * 3 + 1], c, *acc);
                    *acc = _mm512_fmadd_ps(k[dy * 3 + 2], r, *acc);
                }
                let sum = act_avx512::<PER_CHANNEL>(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), acc[2]), act);
                let valid: __mmask16 = if n == 16 { 0xFFFF } else { (1 << n) - 1 };
                _mm512_mask_storeu_ps(out.as_mut_ptr().add(ox), valid, sum);
                ox += 16;
            }
        }
    }
}

/// PReLU with one slope per channel, `x < 0 ? slope · x : x`, in one pass.
/// `models/build.py` writes each PReLU as `Relu(x) + slope · Min(x, 0)`
/// (tract's own PReLU is a compare and a select, slower still), which tract
/// runs as two elementwise chains over the tensor; this is that chain's value
/// exactly (one of its two terms is always zero).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ChannelPrelu {
    /// The axis the slopes run along (the channels).
    axis: usize,
    /// One slope per index of `axis`.
    slopes: Arc<Tensor>,
}

impl ChannelPrelu {
    /// `node` as a [`ChannelPrelu`] of `x` when it is the `Add` ending
    /// `Max(x, 0) + Min(x, 0) · slopes` (operands in either order), with
    /// nothing else reading the chain's inner values.
    fn for_chain(model: &TypedModel, node: &TypedNode) -> TractResult<Option<Rewrite>> {
        if binary::<Add>(node).is_none() {
            return Ok(None);
        }
        let producer = |o: OutletId| model.node(o.node);
        let (a, b) = (node.inputs[0], node.inputs[1]);
        let (pos, scaled) = if binary::<Max>(producer(a)).is_some() { (a, b) } else { (b, a) };
        let (max, mul) = (producer(pos), producer(scaled));
        if binary::<Max>(max).is_none() || binary::<Mul>(mul).is_none() {
            return Ok(None);
        }
        let (c, d) = (mul.inputs[0], mul.inputs[1]);
        let (neg, slopes) = if binary::<Min>(producer(c)).is_some() { (c, d) } else { (d, c) };
        let min = producer(neg);
        let x = max.inputs[0];
        if binary::<Min>(min).is_none()
            || min.inputs[0] != x
            || !is_zero(model, max.inputs[1])?
            || !is_zero(model, min.inputs[1])?
            || !read_once(model, pos)?
            || !read_once(model, scaled)?
            || !read_once(model, neg)?
        {
            return Ok(None);
        }
        let fact = model.outlet_fact(x)?;
        let Some(shape) = fact.shape.as_concrete() else { return Ok(None) };
        let Some(slopes) = model.outlet_fact(slopes)?.konst.clone() else { return Ok(None) };
        // The slopes broadcast along one axis of x: their shape is x's rank,
        // all ones but that axis, where it is x's dimension.
        let axes: Vec<usize> = (0..slopes.rank()).filter(|&i| slopes.shape()[i] != 1).collect();
        let ok = fact.datum_type == f32::datum_type()
            && slopes.datum_type() == f32::datum_type()
            && slopes.rank() == shape.len()
            && axes.len() == 1
            && slopes.shape()[axes[0]] == shape[axes[0]];
        if !ok {
            return Ok(None);
        }
        let slopes = Arc::new(Tensor::clone(&slopes).into_shape(&[slopes.len()])?);
        if let Some(rewrite) = Self::folded(model, x, axes[0], &slopes)? {
            return Ok(Some(rewrite));
        }
        Ok(Some(Rewrite { input: x, op: Box::new(ChannelPrelu { axis: axes[0], slopes }) }))
    }

    /// The PReLU of `slopes` along `axis` of `x` folded into the convolution
    /// of ours that computes `x` (a [`Depthwise3x3`] or [`Pointwise`] with no
    /// activation yet, `axis` its channels), when nothing but the chain's
    /// `Max` and `Min` read `x`: one pass over the output instead of two.
    fn folded(model: &TypedModel, x: OutletId, axis: usize, slopes: &Arc<Tensor>) -> TractResult<Option<Rewrite>> {
        let conv = model.node(x.node);
        let readers = conv.outputs[x.slot].successors.len();
        if readers != 2 || model.output_outlets()?.contains(&x) || axis + 3 != model.outlet_fact(x)?.rank() {
            return Ok(None);
        }
        let prelu = Activation::Prelu(slopes.clone());
        let op: Box<dyn TypedOp> = if let Some(op) = conv.op_as::<Depthwise3x3>() {
            if op.activation != Activation::Identity {
                return Ok(None);
            }
            Box::new(Depthwise3x3 { activation: prelu, ..op.clone() })
        } else if let Some(op) = conv.op_as::<Pointwise>() {
            if op.activation != Activation::Identity {
                return Ok(None);
            }
            Box::new(Pointwise { activation: prelu, ..op.clone() })
        } else {
            return Ok(None);
        };
        Ok(Some(Rewrite { input: conv.inputs[0], op }))
    }
}

impl Op for ChannelPrelu {
    fn name(&self) -> StaticName {
        "TrustshotChannelPrelu".into()
    }

    op_as_typed_op!();
}

impl EvalOp for ChannelPrelu {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let shape = input.shape();
        let slopes = self.slopes.try_as_plain_ram()?;
        let slopes = slopes.as_slice::<f32>()?;
        ensure!(shape.get(self.axis) == Some(&slopes.len()), "{} slopes for shape {shape:?}", slopes.len());
        let run: usize = shape[self.axis + 1..].iter().product();
        // SAFETY: every element is written below before it is read.
        let mut output = unsafe { Tensor::uninitialized::<f32>(shape)? };
        let x = input.try_as_plain_ram()?;
        let mut out = output.try_as_plain_ram_mut()?;
        let (x, out) = (x.as_slice::<f32>()?, out.as_slice_mut::<f32>()?);
        ensure!(has_avx2(), "this CPU has no AVX2");
        // SAFETY: the CPU has AVX2, checked just above.
        unsafe { prelu_avx2(x, out, slopes, run) };
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for ChannelPrelu {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(inputs[0].shape.clone())))
    }

    as_op!();
}

/// The PReLU compiled for AVX2.
#[target_feature(enable = "avx2")]
fn prelu_avx2(x: &[f32], out: &mut [f32], slopes: &[f32], run: usize) {
    prelu(x, out, slopes, run)
}

/// `x` in runs of `run` elements, run `i` scaled (where negative) by slope
/// `i % slopes.len()`.
#[inline(always)]
fn prelu(x: &[f32], out: &mut [f32], slopes: &[f32], run: usize) {
    for (i, (x, out)) in x.chunks(run.max(1)).zip(out.chunks_mut(run.max(1))).enumerate() {
        let slope = slopes[i % slopes.len()];
        for (o, &v) in out.iter_mut().zip(x) {
            *o = Act::Prelu(slope).apply(v);
        }
    }
}

/// A 1x1 convolution with its bias, at most [`pointwise_max_channels`]
/// channels in and out, channels first: `out[m] = bias[m] + Σ_k weights[m][k]
/// · x[k]`, plane by plane.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pointwise {
    /// `[m, k]`.
    weights: Arc<Tensor>,
    /// `[m]`.
    bias: Arc<Tensor>,
    /// The output's rank: the input's, or 3 when tract's graph drops an
    /// NCHW input's batch axis of one (`mk,akbn->mbn`), or 4 when it gives
    /// a CHW input one (`mk,kbn->ambn`).
    output_rank: usize,
    /// The output plane: the input's, or its transpose (`mk,kbn->amnb`:
    /// the portrait YuNet's heads, where tract moved the transposition
    /// `models/build.py` put after them into the sum).
    orientation: Orientation,
    /// Identity, or a PReLU folded in.
    activation: Activation,
}

/// How an output plane lies against its input's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Orientation {
    AsInput,
    /// Rows and columns swapped: output `[.., w, h]` from input `[.., h, w]`.
    Transposed,
}

impl Orientation {
    /// The output plane, `(rows, columns)`, of an input plane `h` x `w`.
    fn plane(self, h: usize, w: usize) -> (usize, usize) {
        match self {
            Orientation::AsInput => (h, w),
            Orientation::Transposed => (w, h),
        }
    }
}

/// Up to this many channels in and out a 1x1 convolution is ours. With
/// AVX2 alone, measured at 160x96 pixels against tract's AVX-512 packing
/// and product (one thread): 16 → 16 channels 0.12 ms against tract's 0.21,
/// 16 → 32 0.24 against 0.27, 32 → 32 0.52 against 0.36, so up to 16. With
/// AVX-512 (twice the lanes and the registers, pixels outside and channels
/// inside), YuNet 640x384's: 16 → 32 at 160x96 0.08 against 0.31 ms,
/// 32 → 32 0.14 against 0.56, 64 → 64 at 80x48 0.12 against 0.19-0.23;
/// SFace's: 32 → 64 at 112x112 0.30 against 0.68, 128 → 128 at 56x56 0.40
/// against 0.63, 256 → 256 at 28x28 0.40 against 0.50, but 512 → 512 at
/// 14x14 0.44 either way and 1024 → 1024 at 7x7 0.59 against 0.52: up to 256.
fn pointwise_max_channels() -> usize {
    if has_avx512() {
        256
    } else {
        16
    }
}

impl Pointwise {
    /// `node` as a [`Pointwise`] of the convolution's input when it is the
    /// bias `Add` after the `EinSum` tract's declutter makes of a 1x1
    /// convolution (`mk,akbn->ambn`, `mk,kan->man`: constant `[m, k]`
    /// weights, the input's channel axis third from last, the output the
    /// input's layout with `m` channels, its batch axis of one dropped or
    /// one added), nothing else reading the sum.
    fn for_chain(model: &TypedModel, node: &TypedNode) -> TractResult<Option<Rewrite>> {
        if binary::<Add>(node).is_none() || !has_fma() {
            return Ok(None);
        }
        let producer = |o: OutletId| model.node(o.node);
        let (a, b) = (node.inputs[0], node.inputs[1]);
        // The sum, its bias and, after a batch normalisation, its per-channel scale.
        let (sum, bias, scale) = match Affine::at(model, node)? {
            Some(affine) if producer(affine.x).op_is::<EinSum>() => (affine.x, affine.shift, Some(affine.scale)),
            _ => {
                let (sum, bias) = if producer(a).op_is::<EinSum>() { (a, b) } else { (b, a) };
                let Some(bias) = model.outlet_fact(bias)?.konst.clone() else { return Ok(None) };
                (sum, bias, None)
            }
        };
        let einsum_node = producer(sum);
        let Some(einsum) = einsum_node.op_as::<EinSum>() else { return Ok(None) };
        if einsum.q_params.is_some()
            || einsum.operating_dt != f32::datum_type()
            || einsum_node.inputs.len() != 2
            || !read_once(model, sum)?
        {
            return Ok(None);
        }
        // One operand is the constant weights, the other the image.
        let konst = |i: usize| model.outlet_fact(einsum_node.inputs[i]).map(|f| f.konst.clone());
        let (weights, x_operand) = match (konst(0)?, konst(1)?) {
            (Some(w), None) => (w, 1),
            (None, Some(w)) => (w, 0),
            _ => return Ok(None),
        };
        let x = einsum_node.inputs[x_operand];
        let fact = model.outlet_fact(x)?;
        let Some(shape) = fact.shape.as_concrete() else { return Ok(None) };
        // The expression: the weights' axes m and k, the image's with k as its
        // channel axis, the output the image's with k made m.
        let expression = einsum.axes.to_string();
        let Some((operands, output)) = expression.split_once("->") else { return Ok(None) };
        let operands: Vec<Vec<char>> = operands.split(',').map(|o| o.chars().collect()).collect();
        let batch_of_one = match shape.len() {
            3 => true,
            4 => shape[0] == 1,
            _ => false,
        };
        if operands.len() != 2 || weights.rank() != 2 || operands[1 - x_operand].len() != 2 || !batch_of_one {
            return Ok(None);
        }
        let (w_axes, x_axes) = (&operands[1 - x_operand], &operands[x_operand]);
        let channel = shape.len() - 3;
        let Some(&k_axis) = x_axes.get(channel) else { return Ok(None) };
        // Weights stored [m, k] or [k, m].
        let (m_axis, weights) = match (w_axes[0] == k_axis, w_axes[1] == k_axis) {
            (false, true) => (w_axes[0], Tensor::clone(&weights)),
            (true, false) => (w_axes[1], Tensor::clone(&weights).permute_axes(&[1, 0])?),
            _ => return Ok(None),
        };
        let renamed: String = x_axes.iter().map(|&a| if a == k_axis { m_axis } else { a }).collect();
        let fresh = |a: char| !x_axes.contains(&a) && !w_axes.contains(&a);
        // The output's rank when its axes are the image's with k made m (and
        // the batch axis of one dropped or added).
        let rank_of = |output: &str| {
            if output == renamed {
                Some(shape.len())
            } else if shape.len() == 4 && renamed.get(1..) == Some(output) {
                Some(3)
            } else if shape.len() == 3
                && output.get(1..) == Some(renamed.as_str())
                && output.chars().next().is_some_and(fresh)
            {
                Some(4)
            } else {
                None
            }
        };
        // The same with the output's last two axes (its plane) swapped back.
        let mut unswapped: Vec<char> = output.chars().collect();
        if let [.., rows, columns] = unswapped.as_mut_slice() {
            std::mem::swap(rows, columns);
        }
        let unswapped: String = unswapped.into_iter().collect();
        let orientations = [(output, Orientation::AsInput), (unswapped.as_str(), Orientation::Transposed)];
        let Some((output_rank, orientation)) =
            orientations.into_iter().find_map(|(output, orientation)| Some((rank_of(output)?, orientation)))
        else {
            return Ok(None);
        };
        let [m, k] = weights.shape() else { return Ok(None) };
        let (m, k) = (*m, *k);
        if x_axes.len() != shape.len()
            || x_axes.contains(&m_axis)
            || fact.datum_type != f32::datum_type()
            || weights.datum_type() != f32::datum_type()
            || bias.datum_type() != f32::datum_type()
            || k != shape[channel]
            || k > pointwise_max_channels()
            || m > pointwise_max_channels()
            || m == 0
        {
            return Ok(None);
        }
        let Some(bias) = along_channels(&bias, m, output_rank)? else { return Ok(None) };
        let mut weights = weights.into_shape(&[m, k])?;
        if let Some(scale) = scale {
            let Some(scale) = along_channels(&scale, m, output_rank)? else { return Ok(None) };
            // Scaled before the sum rather than after: the same to rounding.
            let mut rows = weights.to_plain_array_view_mut::<f32>()?;
            for (mut row, s) in rows.outer_iter_mut().zip(scale) {
                row.mapv_inplace(|w| w * s);
            }
        }
        let op = Pointwise {
            weights: Arc::new(weights),
            bias: Arc::new(tensor1(&bias)),
            output_rank,
            orientation,
            activation: Activation::Identity,
        };
        Ok(output_is(node, &op.output_shape(shape)?).then(|| Rewrite { input: x, op: Box::new(op) }))
    }

    fn output_shape(&self, input: &[usize]) -> TractResult<TVec<usize>> {
        let [_, _, h, w] = nchw(input)?;
        let m = self.weights.shape()[0];
        let (h, w) = self.orientation.plane(h, w);
        Ok(if self.output_rank == 3 { tvec![m, h, w] } else { tvec![1, m, h, w] })
    }
}

impl Op for Pointwise {
    fn name(&self) -> StaticName {
        "TrustshotPointwise".into()
    }

    fn validation(&self) -> Validation {
        Validation::Rounding
    }

    op_as_typed_op!();
}

impl EvalOp for Pointwise {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let (weights, bias) = (self.weights.try_as_plain_ram()?, self.bias.try_as_plain_ram()?);
        let (weights, bias) = (weights.as_slice::<f32>()?, bias.as_slice::<f32>()?);
        let [n, k, h, w] = nchw(input.shape())?;
        ensure!(n == 1 && weights.len() == bias.len() * k, "weights {}x{k} for shape {:?}", bias.len(), input.shape());
        ensure!(has_avx2() && has_fma(), "this CPU has no AVX2 and FMA");
        // SAFETY: every element is written below before it is read.
        let mut output = unsafe { Tensor::uninitialized::<f32>(&self.output_shape(input.shape())?)? };
        let x = input.try_as_plain_ram()?;
        let mut out = output.try_as_plain_ram_mut()?;
        let x: Vec<&[f32]> = x.as_slice::<f32>()?.chunks_exact(h * w).collect();
        let mut out: Vec<&mut [f32]> = out.as_slice_mut::<f32>()?.chunks_exact_mut(h * w).collect();
        let acts = self.activation.per_channel(bias.len())?;
        // SAFETY: the CPU has AVX2 and FMA, checked just above; the planes are h·w long.
        unsafe { pointwise(&x, weights, bias, &mut out, h * w, &acts) };
        if self.orientation == Orientation::Transposed {
            // On a CPU with AVX-512 this sum runs in blocks and the conversion
            // back to planes transposes; here, a copy (w x h, then back in place).
            let mut plane = vec![0f32; h * w];
            for out in out.iter_mut() {
                for (y, row) in out.chunks_exact(w).enumerate() {
                    for (x, &v) in row.iter().enumerate() {
                        plane[x * h + y] = v;
                    }
                }
                out.copy_from_slice(&plane);
            }
        }
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for Pointwise {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = inputs[0].shape.as_concrete().context("a concrete input shape")?;
        Ok(tvec!(f32::fact(&self.output_shape(shape)?)))
    }

    as_op!();
}

/// What [`ImageConv3x3`] and [`ValidConv3x3`] both read from a full (one
/// group) 3x3 convolution of a batch of one image, channels first, with
/// constant f32 weights and bias, at most `max_channels` channels in, at
/// `stride`, with a padding `padding` accepts, on a CPU with FMA.
struct FullConv3x3 {
    input_shape: TVec<usize>,
    /// `[m, c · 9]`: OIHW, each output channel's taps channel by channel, row by row.
    weights: Arc<Tensor>,
    /// `[m]`.
    bias: Arc<Tensor>,
}

impl FullConv3x3 {
    fn for_node(
        model: &TypedModel,
        node: &TypedNode,
        conv: &Conv,
        max_channels: usize,
        stride: usize,
        padding: impl Fn(&PaddingSpec) -> bool,
    ) -> TractResult<Option<FullConv3x3>> {
        let spec = &conv.pool_spec;
        if !has_fma() {
            return Ok(None);
        }
        let Some(input_shape) = channels_first(model, node, spec.data_format)? else { return Ok(None) };
        let Ok([n, c, _, _]) = nchw(&input_shape) else { return Ok(None) };
        if conv.q_params.is_some()
            || conv.kernel_fmt != KernelFormat::OIHW
            || node.inputs.len() != 3
            || n != 1
            || c > max_channels
            || conv.group != 1
            || spec.input_channels != c
            || spec.kernel_shape[..] != [3, 3]
            || uniform_stride(spec) != Some(stride)
            || !padding(&spec.padding)
        {
            return Ok(None);
        }
        let m = spec.output_channels;
        let Some((kernel, bias)) = conv_weights(model, node, m)? else { return Ok(None) };
        if kernel.len() != m * c * 9 {
            return Ok(None);
        }
        let weights = Arc::new(Tensor::clone(&kernel).into_shape(&[m, c * 9])?);
        Ok(Some(FullConv3x3 { input_shape, weights, bias: Arc::new(tensor1(&bias)) }))
    }
}

/// A full 3x3 convolution, stride 2, one pixel of zero padding, of an
/// image with at most [`IMAGE_MAX_CHANNELS`] channels (the first layer of
/// YuNet and MiniFASNet, on the RGB image), with its bias and activation. Each
/// output row is a 1x1 convolution ([`pointwise_avx2`]) of 27 rows: for every
/// channel and kernel row, the padded input row's even columns, its odd
/// columns, and its even columns from the second on (the taps at padded
/// columns 2j, 2j+1, 2j+2, as in [`depthwise_s2`]).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ImageConv3x3 {
    /// `[m, c · 9]`: OIHW, each output channel's taps channel by channel, row by row.
    weights: Arc<Tensor>,
    /// `[m]`.
    bias: Arc<Tensor>,
    activation: Activation,
}

/// An image of up to this many channels (RGB, RGBA, grey).
const IMAGE_MAX_CHANNELS: usize = 4;

impl ImageConv3x3 {
    fn for_node(model: &TypedModel, node: &TypedNode, conv: &Conv) -> TractResult<Option<ImageConv3x3>> {
        let one_pixel = |p: &PaddingSpec| *p == PaddingSpec::Explicit(tvec![1, 1], tvec![1, 1]);
        let Some(full) = FullConv3x3::for_node(model, node, conv, IMAGE_MAX_CHANNELS, 2, one_pixel)? else {
            return Ok(None);
        };
        let op = ImageConv3x3 { weights: full.weights, bias: full.bias, activation: Activation::Identity };
        Ok(output_is(node, &op.output_shape(&full.input_shape)?).then_some(op))
    }

    fn output_shape(&self, input: &[usize]) -> TractResult<TVec<usize>> {
        let [_, _, h, w] = nchw(input)?;
        with_plane_and_channels(input, (h - 1) / 2 + 1, (w - 1) / 2 + 1, self.weights.shape()[0])
    }
}

impl Op for ImageConv3x3 {
    fn name(&self) -> StaticName {
        "TrustshotImageConv3x3".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!("{:?}", self.activation)])
    }

    fn validation(&self) -> Validation {
        Validation::Rounding
    }

    op_as_typed_op!();
}

impl EvalOp for ImageConv3x3 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let (weights, bias) = (self.weights.try_as_plain_ram()?, self.bias.try_as_plain_ram()?);
        let (weights, bias) = (weights.as_slice::<f32>()?, bias.as_slice::<f32>()?);
        let [n, c, h, w] = nchw(input.shape())?;
        let m = bias.len();
        ensure!(n == 1 && weights.len() == m * c * 9, "weights {m}x{c}x3x3 for shape {:?}", input.shape());
        ensure!(has_avx2() && has_fma(), "this CPU has no AVX2 and FMA");
        let acts = self.activation.per_channel(m)?;
        let shape = self.output_shape(input.shape())?;
        let (oh, ow) = (shape[shape.len() - 2], shape[shape.len() - 1]);
        // SAFETY: every element is written below before it is read.
        let mut output = unsafe { Tensor::uninitialized::<f32>(&shape)? };
        let x = input.try_as_plain_ram()?;
        let mut out = output.try_as_plain_ram_mut()?;
        let mut planes: Vec<&mut [f32]> = out.as_slice_mut::<f32>()?.chunks_exact_mut(oh * ow).collect();
        let sum = |oy: usize, taps: &[&[f32]]| {
            let mut rows: Vec<&mut [f32]> = planes.iter_mut().map(|p| &mut p[oy * ow..][..ow]).collect();
            // SAFETY: the CPU has AVX2 and FMA, checked above; every slice is ow long.
            unsafe { pointwise(taps, weights, bias, &mut rows, ow, &acts) };
        };
        // SAFETY: as above.
        unsafe { image_conv_rows(x.as_slice::<f32>()?, [c, h, w], (oh, ow), sum) };
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for ImageConv3x3 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = inputs[0].shape.as_concrete().context("a concrete input shape")?;
        Ok(tvec!(f32::fact(&self.output_shape(shape)?)))
    }

    as_op!();
}

/// For each output row `oy` of a stride-2 3x3 convolution with one pixel
/// of zero padding of `x` (`[c, h, w]` planes, on a CPU with AVX2), the
/// 27 rows [`ImageConv3x3`] sums, `ow` long: for every channel and kernel
/// row, the padded input row's even columns, its odd columns, and its even
/// columns from the second on (the taps at padded columns 2j, 2j+1, 2j+2).
///
/// # Safety
/// The CPU must have AVX2.
unsafe fn image_conv_rows(
    x: &[f32],
    [c, h, w]: [usize; 3],
    (oh, ow): (usize, usize),
    mut sum: impl FnMut(usize, &[&[f32]]),
) {
    // Each padded row split into its even and odd columns, for every channel and kernel row.
    let (pw, evens) = (w + 2, (w + 3) / 2);
    let mut split = vec![0f32; c * 3 * pw];
    for oy in 0..oh {
        for (ch, rows) in split.chunks_exact_mut(3 * pw).enumerate() {
            for (ky, row) in rows.chunks_exact_mut(pw).enumerate() {
                // Padded row 2·oy + ky is input row 2·oy + ky - 1, zeros outside.
                match (2 * oy + ky).checked_sub(1).filter(|&y| y < h) {
                    // SAFETY: the CPU has AVX2 (this function's contract).
                    Some(y) => unsafe { split_row_avx2(&x[(ch * h + y) * w..][..w], row.split_at_mut(evens)) },
                    None => row.fill(0.0),
                }
            }
        }
        let taps: Vec<&[f32]> = split
            .chunks_exact(pw)
            .flat_map(|row| {
                let (even, odd) = row.split_at(evens);
                [&even[..ow], &odd[..ow], &even[1..ow + 1]]
            })
            .collect();
        sum(oy, &taps);
    }
}

/// A full 3x3 convolution, stride 1, no padding, with its bias (O-Net's
/// first two), on a CPU with AVX-512 only. Counted along the input's rows,
/// output pixel `p = oy·w + ox` reads input pixel `p + ky·w + kx` for tap
/// (ky, kx): the whole output is one 1x1 sum ([`pointwise`]) of `c · 9`
/// shifted views of the input planes, over `(oh - 1)·w + ow` pixels (the
/// `w - ow` values at the end of each row are computed and dropped), then
/// copied out row by row. tract packs each input patch first.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ValidConv3x3 {
    /// `[m, c · 9]`: OIHW, each output channel's taps channel by channel, row by row.
    weights: Arc<Tensor>,
    /// `[m]`.
    bias: Arc<Tensor>,
}

/// Up to this many input channels (O-Net's second convolution has 32;
/// its third, 64 channels on a 10x10 map, is as fast in tract).
const VALID_CONV_MAX_CHANNELS: usize = 32;

impl ValidConv3x3 {
    fn for_node(model: &TypedModel, node: &TypedNode, conv: &Conv) -> TractResult<Option<ValidConv3x3>> {
        if !has_avx512() {
            return Ok(None);
        }
        let unpadded = |p: &PaddingSpec| match p {
            PaddingSpec::Valid => true,
            PaddingSpec::Explicit(b, a) => b.iter().chain(a).all(|&p| p == 0),
            _ => false,
        };
        let Some(full) = FullConv3x3::for_node(model, node, conv, VALID_CONV_MAX_CHANNELS, 1, unpadded)? else {
            return Ok(None);
        };
        let op = ValidConv3x3 { weights: full.weights, bias: full.bias };
        let Ok(out_shape) = op.output_shape(&full.input_shape) else { return Ok(None) };
        Ok(output_is(node, &out_shape).then_some(op))
    }

    fn output_shape(&self, input: &[usize]) -> TractResult<TVec<usize>> {
        let [_, _, h, w] = nchw(input)?;
        ensure!(h >= 3 && w >= 3, "a 3x3 convolution of a {h}x{w} plane");
        with_plane_and_channels(input, h - 2, w - 2, self.weights.shape()[0])
    }
}

impl Op for ValidConv3x3 {
    fn name(&self) -> StaticName {
        "TrustshotValidConv3x3".into()
    }

    fn validation(&self) -> Validation {
        Validation::Rounding
    }

    op_as_typed_op!();
}

impl EvalOp for ValidConv3x3 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let (weights, bias) = (self.weights.try_as_plain_ram()?, self.bias.try_as_plain_ram()?);
        let (weights, bias) = (weights.as_slice::<f32>()?, bias.as_slice::<f32>()?);
        let [n, c, h, w] = nchw(input.shape())?;
        let m = bias.len();
        ensure!(n == 1 && weights.len() == m * c * 9, "weights {m}x{c}x3x3 for shape {:?}", input.shape());
        ensure!(has_avx2() && has_fma(), "this CPU has no AVX2 and FMA");
        let shape = self.output_shape(input.shape())?;
        let (oh, ow) = (h - 2, w - 2);
        let len = (oh - 1) * w + ow;
        let x = input.try_as_plain_ram()?;
        let x = x.as_slice::<f32>()?;
        let taps: Vec<&[f32]> =
            x.chunks_exact(h * w).flat_map(|plane| (0..9).map(move |t| &plane[(t / 3) * w + t % 3..][..len])).collect();
        let mut rows = vec![0f32; m * len];
        let mut sums: Vec<&mut [f32]> = rows.chunks_exact_mut(len).collect();
        // SAFETY: the CPU has AVX2 and FMA, checked above; every view and sum is `len` long.
        unsafe { pointwise(&taps, weights, bias, &mut sums, len, &vec![Act::Identity; m]) };
        // SAFETY: every element is written below (each plane's rows whole) before it is read.
        let mut output = unsafe { Tensor::uninitialized::<f32>(&shape)? };
        let mut out = output.try_as_plain_ram_mut()?;
        for (plane, sums) in out.as_slice_mut::<f32>()?.chunks_exact_mut(oh * ow).zip(rows.chunks_exact(len)) {
            for (row, sums) in plane.chunks_exact_mut(ow).zip(sums.chunks(w)) {
                row.copy_from_slice(&sums[..ow]);
            }
        }
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for ValidConv3x3 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = inputs[0].shape.as_concrete().context("a concrete input shape")?;
        Ok(tvec!(f32::fact(&self.output_shape(shape)?)))
    }

    as_op!();
}

/// A padded row's even and odd columns (`even`: `(w + 3) / 2` long, `odd`:
/// `(w + 2) / 2`) from an input row of `w`: input column i is padded column
/// i + 1, so even i land in the odd columns; the padding is zero.
#[target_feature(enable = "avx2")]
fn split_row_avx2(input: &[f32], (even, odd): (&mut [f32], &mut [f32])) {
    let pairs = input.len() / 2;
    even[0] = 0.0;
    for ((o, e), pair) in odd[..pairs].iter_mut().zip(&mut even[1..pairs + 1]).zip(input.chunks_exact(2)) {
        *o = pair[0];
        *e = pair[1];
    }
    if input.len() % 2 == 1 {
        odd[pairs] = input[input.len() - 1];
        even[pairs + 1] = 0.0;
    } else {
        odd[pairs] = 0.0;
    }
}

/// [`pointwise_avx2`]'s sum with AVX-512 where the CPU has it (twice the
/// lanes, and twice the registers for accumulators), the same values to the
/// bit: both add the products in the same order with one rounding each.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
unsafe fn pointwise(x: &[&[f32]], weights: &[f32], bias: &[f32], out: &mut [&mut [f32]], len: usize, acts: &[Act]) {
    // SAFETY: AVX-512F where `has_avx512` says so, AVX2 and FMA by the caller's contract.
    unsafe {
        match (has_avx512(), sum_kind(acts)) {
            (true, EVERY_IDENTITY) => pointwise_avx512::<EVERY_IDENTITY>(x, weights, bias, out, len, acts),
            (true, EVERY_RELU) => pointwise_avx512::<EVERY_RELU>(x, weights, bias, out, len, acts),
            (true, _) => pointwise_avx512::<PER_CHANNEL>(x, weights, bias, out, len, acts),
            (false, EVERY_IDENTITY) => pointwise_avx2::<EVERY_IDENTITY>(x, weights, bias, out, len, acts),
            (false, EVERY_RELU) => pointwise_avx2::<EVERY_RELU>(x, weights, bias, out, len, acts),
            (false, _) => pointwise_avx2::<PER_CHANNEL>(x, weights, bias, out, len, acts),
        }
    }
}

/// The sum of [`pointwise_avx2`] eight output channels by 48 pixels at a
/// time in 24 of AVX-512's 32 registers, then by 16 pixels, then the last
/// up to 15 pixels with masked loads and stores (nothing one by one).
///
/// # Safety
/// The CPU must have AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn pointwise_avx512<const KIND: u8>(
    x: &[&[f32]],
    weights: &[f32],
    bias: &[f32],
    out: &mut [&mut [f32]],
    len: usize,
    acts: &[Act],
) {
    use std::arch::x86_64::*;
    let (k_count, m_count) = (x.len(), out.len());
    // The loads and stores below are unchecked: these make them safe.
    assert!(weights.len() == m_count * k_count && bias.len() == m_count && acts.len() == m_count);
    assert!(x.iter().all(|p| p.len() >= len) && out.iter().all(|p| p.len() >= len));
    // Pixels outside, channels inside: a block of pixels of every input
    // plane (48 x k values) stays in the L1 cache for all output channels.
    // Rows of weights and biases past the last channel repeat it (computed, never stored).
    let row = |m: usize, i: usize| (m + i).min(m_count - 1);
    let mut j = 0;
    // Output channels eight at a time (`ms` of them in the last block) in plain `while`
    // loops: a call out of this function (an iterator's `next` the compiler did not
    // inline) would clear the vector registers.
    while j + 48 <= len {
        let mut m = 0;
        while m < m_count {
            let ms = (m_count - m).min(8);
            let mut acc = [[_mm512_setzero_ps(); 3]; 8];
            for (i, acc) in acc.iter_mut().enumerate() {
                *acc = [_mm512_set1_ps(bias[row(m, i)]); 3];
            }
            for (k, plane) in x.iter().enumerate() {
                let p = plane.as_ptr().add(j);
                let v = [_mm512_loadu_ps(p), _mm512_loadu_ps(p.add(16)), _mm512_loadu_ps(p.add(32))];
                for (i, acc) in acc.iter_mut().enumerate() {
                    let w = _mm512_set1_ps(*weights.get_unchecked(row(m, i) * k_count + k));
                    for (a, v) in acc.iter_mut().zip(v) {
                        *a = _mm512_fmadd_ps(w, v, *a);
                    }
                }
            }
            for (i, acc) in acc.iter().enumerate().take(ms) {
                let o = out[m + i].as_mut_ptr().add(j);
                for (t, a) in acc.iter().enumerate() {
                    _mm512_storeu_ps(o.add(16 * t), act_avx512::<KIND>(*a, acts[m + i]));
                }
            }
            m += 8;
        }
        j += 48;
    }
    while j < len {
        // 16 pixels, or the last 1 to 15 under a mask (masked-off lanes are not accessed).
        let mask: __mmask16 = if j + 16 <= len { 0xFFFF } else { (1u16 << (len - j)) - 1 };
        let mut m = 0;
        while m < m_count {
            let ms = (m_count - m).min(8);
            let mut acc = [_mm512_setzero_ps(); 8];
            for (i, acc) in acc.iter_mut().enumerate() {
                *acc = _mm512_set1_ps(bias[row(m, i)]);
            }
            for (k, plane) in x.iter().enumerate() {
                let v = _mm512_maskz_loadu_ps(mask, plane.as_ptr().add(j));
                for (i, acc) in acc.iter_mut().enumerate() {
                    *acc = _mm512_fmadd_ps(_mm512_set1_ps(*weights.get_unchecked(row(m, i) * k_count + k)), v, *acc);
                }
            }
            for (i, acc) in acc.iter().enumerate().take(ms) {
                _mm512_mask_storeu_ps(out[m + i].as_mut_ptr().add(j), mask, act_avx512::<KIND>(*acc, acts[m + i]));
            }
            m += 8;
        }
        j += 16;
    }
}

/// `out[m][j] = bias[m] + Σ_k weights[m][k] · x[k][j]` for `j < len`, `x[k]`
/// input channel k's plane, `out[m]` output channel m's: four output
/// channels by 24 pixels at a time in twelve registers (then by 8, then
/// one by one), the input read straight from its planes, output channel m's
/// activation `acts[m]` applied as each value is stored (decided at compile
/// time unless `KIND` is [`PER_CHANNEL`]).
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn pointwise_avx2<const KIND: u8>(
    x: &[&[f32]],
    weights: &[f32],
    bias: &[f32],
    out: &mut [&mut [f32]],
    len: usize,
    acts: &[Act],
) {
    use std::arch::x86_64::*;
    let (k_count, m_count) = (x.len(), out.len());
    // The loads and stores below are unchecked: these make them safe.
    assert!(weights.len() == m_count * k_count && bias.len() == m_count && acts.len() == m_count);
    assert!(x.iter().all(|p| p.len() >= len) && out.iter().all(|p| p.len() >= len));
    for m in (0..m_count).step_by(4) {
        let ms = (m_count - m).min(4);
        // Rows of weights and biases past the last channel repeat it (computed, never stored).
        let row = |i: usize| (m + i).min(m_count - 1);
        let mut j = 0;
        while j + 24 <= len {
            let mut acc = [[_mm256_setzero_ps(); 3]; 4];
            for (i, acc) in acc.iter_mut().enumerate() {
                *acc = [_mm256_set1_ps(bias[row(i)]); 3];
            }
            for (k, plane) in x.iter().enumerate() {
                let p = plane.as_ptr().add(j);
                let v = [_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)), _mm256_loadu_ps(p.add(16))];
                for (i, acc) in acc.iter_mut().enumerate() {
                    let w = _mm256_set1_ps(*weights.get_unchecked(row(i) * k_count + k));
                    for (a, v) in acc.iter_mut().zip(v) {
                        *a = _mm256_fmadd_ps(w, v, *a);
                    }
                }
            }
            for (i, acc) in acc.iter().enumerate().take(ms) {
                let o = out[m + i].as_mut_ptr().add(j);
                for (t, a) in acc.iter().enumerate() {
                    _mm256_storeu_ps(o.add(8 * t), act_avx2::<KIND>(*a, acts[m + i]));
                }
            }
            j += 24;
        }
        while j + 8 <= len {
            let mut acc = [_mm256_setzero_ps(); 4];
            for (i, acc) in acc.iter_mut().enumerate() {
                *acc = _mm256_set1_ps(bias[row(i)]);
            }
            for (k, plane) in x.iter().enumerate() {
                let v = _mm256_loadu_ps(plane.as_ptr().add(j));
                for (i, acc) in acc.iter_mut().enumerate() {
                    *acc = _mm256_fmadd_ps(_mm256_set1_ps(*weights.get_unchecked(row(i) * k_count + k)), v, *acc);
                }
            }
            for (i, acc) in acc.iter().enumerate().take(ms) {
                _mm256_storeu_ps(out[m + i].as_mut_ptr().add(j), act_avx2::<KIND>(*acc, acts[m + i]));
            }
            j += 8;
        }
        for j in j..len {
            for i in 0..ms {
                let mut sum = bias[m + i];
                for (k, plane) in x.iter().enumerate() {
                    sum = weights[(m + i) * k_count + k].mul_add(plane[j], sum);
                }
                out[m + i][j] = acts[m + i].apply(sum);
            }
        }
    }
}

/// 2x2 or 3x3 max pooling, stride 2, every window starting inside the
/// plane: windows that reach past the bottom or right edge (`SAME_UPPER`
/// padding, ONNX's ceil mode) take the maximum of what they cover, as
/// padding never wins a max pooling. This is YuNet's and Iris's 2x2
/// pooling, and O-Net's 3x3 and 2x2 poolings.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StridedMaxPool {
    size: usize,
    /// The output plane, `(rows, columns)`, as tract computed it.
    out_plane: (usize, usize),
}

impl StridedMaxPool {
    fn for_node(model: &TypedModel, node: &TypedNode, pool: &MaxPool) -> TractResult<Option<StridedMaxPool>> {
        let spec = &pool.pool_spec;
        let Some(shape) = channels_first(model, node, spec.data_format)? else { return Ok(None) };
        let Ok([_, _, h, w]) = nchw(&shape) else { return Ok(None) };
        let size = spec.kernel_shape[0];
        if pool.with_index_outputs.is_some()
            || spec.kernel_shape[..] != [size, size]
            || !(2..=3).contains(&size)
            || uniform_stride(spec) != Some(2)
        {
            return Ok(None);
        }
        let padded = spec.padding.compute(&[h, w], &spec.kernel_shape, &[1, 1], &[2, 2]);
        if padded.iter().any(|d| d.pad_before != 0) {
            return Ok(None);
        }
        let op = StridedMaxPool { size, out_plane: (padded[0].convoluted, padded[1].convoluted) };
        let Ok(out_shape) = op.output_shape(&shape) else { return Ok(None) };
        Ok(output_is(node, &out_shape).then_some(op))
    }

    /// The input's shape with the output plane, when each output row and
    /// column is a window that starts inside the input, and every whole
    /// window is there.
    fn output_shape(&self, input: &[usize]) -> TractResult<TVec<usize>> {
        let [_, _, h, w] = nchw(input)?;
        let (oh, ow) = self.out_plane;
        let windows =
            |len: usize, out: usize| len >= self.size && out > 0 && 2 * (out - 1) < len && out > (len - self.size) / 2;
        ensure!(windows(h, oh) && windows(w, ow), "{oh}x{ow} windows of {0}x{0} in a {h}x{w} plane", self.size);
        with_plane(input, oh, ow)
    }
}

impl Op for StridedMaxPool {
    fn name(&self) -> StaticName {
        "TrustshotMaxPool".into()
    }

    op_as_typed_op!();
}

impl EvalOp for StridedMaxPool {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let out_plane = self.out_plane;
        let output = over_planes(&input, &self.output_shape(input.shape())?, |planes| {
            // SAFETY: `over_planes` runs this only on a CPU with AVX2.
            unsafe {
                match self.size {
                    2 => max_pool_avx2::<2>(planes, out_plane),
                    _ => max_pool_avx2::<3>(planes, out_plane),
                }
            }
        })?;
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for StridedMaxPool {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = inputs[0].shape.as_concrete().context("a concrete input shape")?;
        Ok(tvec!(f32::fact(&self.output_shape(shape)?)))
    }

    as_op!();
}

/// Each output row: the column maxima of its `K` input rows (fewer at the
/// bottom edge, plain loops the compiler vectorises), then the maxima of
/// `K` of those, two columns apart: eight outputs at a time from sixteen
/// (and the two after) columns split into even and odd lanes.
#[target_feature(enable = "avx2")]
fn max_pool_avx2<const K: usize>(planes: Planes, (oh, ow): (usize, usize)) {
    use std::arch::x86_64::*;
    let Planes { x, out, h, w, .. } = planes;
    // Output columns whose window lies wholly inside the plane, done eight
    // at a time (the last block overlapping the one before) when there are
    // eight: a block from ox loads up to column 2·ox + 14 + K, which is
    // inside the row for every block of them, as 2·inside ≤ w - K + 2.
    let inside = ((w - K) / 2 + 1).min(ow);
    let by_eight = if w >= 14 + K && inside >= 8 { inside } else { 0 };
    // The unchecked loads and stores below rely on this.
    assert!(by_eight == 0 || (2 * (by_eight - 8) + 14 + K <= w && by_eight <= ow));
    let mut columns = vec![0f32; w];
    for (x, out) in x.chunks_exact(h * w).zip(out.chunks_exact_mut(oh * ow)) {
        for (oy, out) in out.chunks_exact_mut(ow).enumerate() {
            let row = |y: usize| &x[y * w..][..w];
            let top = 2 * oy;
            match (2 * oy + K).min(h) - top {
                3 => {
                    for (((m, a), b), c) in columns.iter_mut().zip(row(top)).zip(row(top + 1)).zip(row(top + 2)) {
                        *m = max(max(*a, *b), *c);
                    }
                }
                2 => {
                    for ((m, a), b) in columns.iter_mut().zip(row(top)).zip(row(top + 1)) {
                        *m = max(*a, *b);
                    }
                }
                _ => columns.copy_from_slice(row(top)),
            }
            for ox in (0..by_eight).step_by(8).map(|ox| ox.min(by_eight.saturating_sub(8))) {
                // SAFETY: the CPU has AVX2 (this function's contract); the loads
                // end at column 2·ox + 14 + K ≤ w, the store at ox + 8 ≤ ow (asserted above).
                unsafe {
                    let at = columns.as_ptr().add(2 * ox);
                    let (a, b) = (_mm256_loadu_ps(at), _mm256_loadu_ps(at.add(8)));
                    // Lanes in the order 0 1 4 5 2 3 6 7 of the eight outputs.
                    let mut m = _mm256_max_ps(_mm256_shuffle_ps::<0x88>(a, b), _mm256_shuffle_ps::<0xDD>(a, b));
                    if K == 3 {
                        let (a, b) = (_mm256_loadu_ps(at.add(2)), _mm256_loadu_ps(at.add(10)));
                        m = _mm256_max_ps(m, _mm256_shuffle_ps::<0x88>(a, b));
                    }
                    let ordered = _mm256_castpd_ps(_mm256_permute4x64_pd::<0xD8>(_mm256_castps_pd(m)));
                    _mm256_storeu_ps(out.as_mut_ptr().add(ox), ordered);
                }
            }
            for (ox, o) in out.iter_mut().enumerate().skip(by_eight) {
                *o = columns[2 * ox..(2 * ox + K).min(w)].iter().fold(f32::NEG_INFINITY, |m, &v| max(m, v));
            }
        }
    }
}

/// The larger of two values (one compare, no NaN handling: max-pooling
/// inputs here are finite activations).
#[inline(always)]
fn max(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-1, 1).
    pub(super) fn values(len: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    fn pool_spec(format: DataFormat, kernel: usize, padding: PaddingSpec, stride: usize, c: usize) -> PoolSpec {
        PoolSpec {
            data_format: format,
            kernel_shape: tvec![kernel, kernel],
            padding,
            dilations: None,
            strides: Some(tvec![stride, stride]),
            input_channels: c,
            output_channels: c,
        }
    }

    /// A one-node model: a depthwise 3x3 convolution of an input of `shape`.
    fn depthwise_model(shape: &[usize], format: DataFormat, stride: usize) -> TypedModel {
        let c = *format.shape(shape).unwrap().c();
        let mut model = TypedModel::default();
        let x = model.add_source("x", f32::fact(shape)).unwrap();
        let kernel = model.add_const("k", tensor1(&values(9 * c, 7)).into_shape(&[c, 1, 3, 3]).unwrap()).unwrap();
        let bias = model.add_const("b", tensor1(&values(c, 11))).unwrap();
        let padding = PaddingSpec::Explicit(tvec![1, 1], tvec![1, 1]);
        let conv = Conv {
            pool_spec: pool_spec(format, 3, padding, stride, c),
            kernel_fmt: KernelFormat::OIHW,
            group: c,
            q_params: None,
        };
        let y = model.wire_node("conv", conv, &[x, kernel, bias]).unwrap();
        model.select_output_outlets(&y).unwrap();
        model
    }

    /// A one-node model: a max pooling of `size` x `size` windows.
    fn pooling(shape: &[usize], format: DataFormat, size: usize, padding: PaddingSpec, stride: usize) -> TypedModel {
        let c = *format.shape(shape).unwrap().c();
        let mut model = TypedModel::default();
        let x = model.add_source("x", f32::fact(shape)).unwrap();
        let pool = MaxPool { pool_spec: pool_spec(format, size, padding, stride, c), with_index_outputs: None };
        let y = model.wire_node("pool", pool, &[x]).unwrap();
        model.select_output_outlets(&y).unwrap();
        model
    }

    /// Runs `model` as tract alone optimizes it and with these kernels in it;
    /// returns both outputs and how many nodes the kernels took.
    fn both(model: TypedModel, input: &Tensor) -> (Tensor, Tensor, usize) {
        let run = |m: TypedModel| {
            let out = m.into_runnable().unwrap().run(tvec!(input.clone().into_tvalue())).unwrap();
            out[0].clone().into_tensor()
        };
        let tract = run(model.clone().into_optimized().unwrap());
        let mut ours = model.into_decluttered().unwrap();
        let replaced = use_in(&mut ours).unwrap();
        ours.optimize().unwrap();
        (tract, run(ours), replaced)
    }

    fn assert_close(tract: &Tensor, ours: &Tensor, what: &str) {
        assert_eq!(tract.shape(), ours.shape(), "{what}");
        let (a, b) = (tract.to_plain_array_view::<f32>().unwrap(), ours.to_plain_array_view::<f32>().unwrap());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 1e-5 * x.abs().max(1.0), "{what}: element {i}: tract {x}, ours {y}");
        }
    }

    #[test]
    fn depthwise_convolutions_compute_what_tract_computes() {
        let shapes: [(&[usize], DataFormat); 12] = [
            (&[1, 3, 7, 9], DataFormat::NCHW),
            (&[2, 4, 8, 8], DataFormat::NCHW),
            (&[1, 2, 1, 1], DataFormat::NCHW),
            (&[1, 2, 2, 3], DataFormat::NCHW),
            (&[1, 1, 13, 6], DataFormat::NCHW),
            (&[1, 16, 24, 40], DataFormat::NCHW),
            (&[3, 5, 11], DataFormat::CHW),
            (&[8, 14, 14], DataFormat::CHW),
            // Rows as long as LONG_ROW and longer.
            (&[1, 2, 5, 130], DataFormat::NCHW),
            (&[2, 3, 128], DataFormat::CHW),
            // Rows of one and two 16-column blocks and a tail (the AVX-512 sum's).
            (&[1, 2, 3, 16], DataFormat::NCHW),
            (&[1, 2, 3, 33], DataFormat::NCHW),
        ];
        for (shape, format) in shapes {
            for stride in [1, 2] {
                let what = format!("{shape:?} {format:?} stride {stride}");
                let input = tensor1(&values(shape.iter().product(), 3)).into_shape(shape).unwrap();
                let (tract, ours, replaced) = both(depthwise_model(shape, format, stride), &input);
                assert_eq!(replaced, 1, "{what}: the convolution was not taken");
                assert_close(&tract, &ours, &what);
            }
        }
    }

    #[test]
    fn max_pooling_computes_what_tract_computes() {
        let shapes: [(&[usize], DataFormat); 11] = [
            (&[1, 3, 8, 10], DataFormat::NCHW),
            (&[2, 4, 7, 9], DataFormat::NCHW),
            (&[1, 2, 2, 2], DataFormat::NCHW),
            (&[1, 2, 3, 3], DataFormat::NCHW),
            // Rows just long enough for a block of eight outputs (or one column short).
            (&[1, 2, 5, 18], DataFormat::NCHW),
            (&[1, 2, 4, 17], DataFormat::NCHW),
            (&[1, 2, 4, 16], DataFormat::NCHW),
            (&[1, 64, 48, 80], DataFormat::NCHW),
            // O-Net's: 46x46 under SAME_UPPER (one column and row of padding after), 21x21, 8x8.
            (&[1, 32, 46, 46], DataFormat::NCHW),
            (&[1, 64, 21, 21], DataFormat::NCHW),
            (&[3, 5, 11], DataFormat::CHW),
        ];
        let ceil = PaddingSpec::ExplicitOnnxPool(tvec![0, 0], tvec![0, 0], true);
        for (shape, format) in shapes {
            let [_, _, h, w] = nchw(shape).unwrap();
            for size in [2, 3].into_iter().filter(|&size| h >= size && w >= size) {
                for padding in [PaddingSpec::Valid, PaddingSpec::SameUpper, ceil.clone()] {
                    let what = format!("{shape:?} {format:?} {size}x{size} {padding:?}");
                    let input = tensor1(&values(shape.iter().product(), 5)).into_shape(shape).unwrap();
                    // SAME_UPPER pads an odd plane before it too, under a 3x3 window.
                    let padded_before = padding == PaddingSpec::SameUpper && size == 3 && (h % 2 == 1 || w % 2 == 1);
                    let (tract, ours, replaced) = both(pooling(shape, format, size, padding, 2), &input);
                    assert_eq!(replaced, usize::from(!padded_before), "{what}: taken or not");
                    assert_eq!(tract, ours, "{what}: a maximum is exact");
                }
            }
        }
    }

    #[test]
    fn a_pooling_padded_before_or_by_a_whole_window_stays_tracts() {
        let shape = [1, 2, 9, 9];
        for (size, padding) in [
            (3, PaddingSpec::Explicit(tvec![1, 1], tvec![1, 1])),
            (3, PaddingSpec::SameLower),
            (2, PaddingSpec::Explicit(tvec![0, 0], tvec![3, 3])),
        ] {
            let mut ours = pooling(&shape, DataFormat::NCHW, size, padding.clone(), 2).into_decluttered().unwrap();
            assert_eq!(use_in(&mut ours).unwrap(), 0, "{size}x{size} {padding:?}");
        }
    }

    /// `max(x, 0)` of an input-shaped value, the way a decluttered ReLU reads.
    fn relu(model: &mut TypedModel, name: &str, x: OutletId) -> OutletId {
        let zero = model.add_const(format!("{name}.zero"), tensor0(0f32).into_shape(&[1, 1, 1, 1]).unwrap()).unwrap();
        model.wire_node(name, tract_core::ops::math::max(), &[x, zero]).unwrap()[0]
    }

    #[test]
    fn a_relu_reading_only_a_depthwise_convolution_is_folded_into_it() {
        for (shape, stride) in [([1, 6, 10, 12], 1), ([1, 6, 10, 12], 2), ([1, 2, 3, 130], 1)] {
            let input = tensor1(&values(shape.iter().product(), 13)).into_shape(&shape).unwrap();
            let mut m = depthwise_model(&shape, DataFormat::NCHW, stride);
            let conv = m.output_outlets().unwrap()[0];
            let y = relu(&mut m, "relu", conv);
            m.select_output_outlets(&[y]).unwrap();
            let (tract, ours, replaced) = both(m, &input);
            assert_eq!(replaced, 2, "{shape:?} stride {stride}: the convolution, then the ReLU folded into it");
            assert_close(&tract, &ours, &format!("conv + relu, {shape:?} stride {stride}"));
            assert!(ours.to_plain_array_view::<f32>().unwrap().iter().all(|&v| v >= 0.0));
        }
        // The convolution's output is also a model output: the ReLU stays apart.
        let shape = [1, 6, 10, 12];
        let mut m = depthwise_model(&shape, DataFormat::NCHW, 1);
        let conv = m.output_outlets().unwrap()[0];
        let y = relu(&mut m, "relu", conv);
        m.select_output_outlets(&[y, conv]).unwrap();
        let mut ours = m.into_decluttered().unwrap();
        assert_eq!(use_in(&mut ours).unwrap(), 1, "only the convolution");
    }

    /// `Max(x, 0) + Min(x, 0) · slopes`, as `models/build.py` writes a PReLU.
    fn prelu_chain(shape: &[usize], slopes: Tensor) -> TypedModel {
        let mut m = TypedModel::default();
        let x = m.add_source("x", f32::fact(shape)).unwrap();
        let zero = m.add_const("zero", tensor0(0f32).into_shape(&vec![1; shape.len()]).unwrap()).unwrap();
        let slopes = m.add_const("slopes", slopes).unwrap();
        let pos = m.wire_node("pos", tract_core::ops::math::max(), &[x, zero]).unwrap()[0];
        let neg = m.wire_node("neg", tract_core::ops::math::min(), &[x, zero]).unwrap()[0];
        let scaled = m.wire_node("scaled", tract_core::ops::math::mul(), &[neg, slopes]).unwrap()[0];
        let y = m.wire_node("prelu", tract_core::ops::math::add(), &[pos, scaled]).unwrap();
        m.select_output_outlets(&y).unwrap();
        m
    }

    /// `Max(x, 0) + Min(x, 0) · slopes` after `x` in `model`, slopes along the channels.
    fn prelu_after(model: &mut TypedModel, x: OutletId, c: usize) -> OutletId {
        let zero = model.add_const("zero", tensor0(0f32).into_shape(&[1, 1, 1, 1]).unwrap()).unwrap();
        let slopes = model.add_const("slopes", tensor1(&values(c, 103)).into_shape(&[1, c, 1, 1]).unwrap()).unwrap();
        let pos = model.wire_node("pos", tract_core::ops::math::max(), &[x, zero]).unwrap()[0];
        let neg = model.wire_node("neg", tract_core::ops::math::min(), &[x, zero]).unwrap()[0];
        let scaled = model.wire_node("scaled", tract_core::ops::math::mul(), &[neg, slopes]).unwrap()[0];
        model.wire_node("prelu", tract_core::ops::math::add(), &[pos, scaled]).unwrap()[0]
    }

    #[test]
    fn a_prelu_after_a_depthwise_or_1x1_convolution_is_folded_into_it() {
        let shape = [1, 6, 10, 19];
        let input = tensor1(&values(shape.iter().product(), 107)).into_shape(&shape).unwrap();
        // A 1x1 convolution as tract's declutter writes it, with its bias.
        let mut sum = TypedModel::default();
        let x = sum.add_source("x", f32::fact(shape)).unwrap();
        let weights = sum.add_const("w", tensor1(&values(8 * 6, 109)).into_shape(&[8, 6]).unwrap()).unwrap();
        let bias = sum.add_const("b", tensor1(&values(8, 113)).into_shape(&[1, 8, 1, 1]).unwrap()).unwrap();
        let einsum = EinSum::new("mk,akbn->ambn".parse().unwrap(), f32::datum_type());
        let product = sum.wire_node("einsum", einsum, &[weights, x]).unwrap()[0];
        let y = sum.wire_node("bias", tract_core::ops::math::add(), &[product, bias]).unwrap();
        sum.select_output_outlets(&y).unwrap();
        for (what, mut m) in [("depthwise", depthwise_model(&shape, DataFormat::NCHW, 1)), ("1x1", sum)] {
            let conv = m.output_outlets().unwrap()[0];
            let c = m.outlet_fact(conv).unwrap().shape[1].to_usize().unwrap();
            let y = prelu_after(&mut m, conv, c);
            m.select_output_outlets(&[y]).unwrap();
            let mut plan = m.clone().into_decluttered().unwrap();
            use_in(&mut plan).unwrap();
            let ops: Vec<String> =
                plan.eval_order().unwrap().iter().map(|&n| plan.node(n).op.name().to_string()).collect();
            assert_eq!(ops.len(), 2, "{what}: the source and one operator of ours, got {ops:?}");
            assert!(ops[1].starts_with("Trustshot") && ops[1] != "TrustshotChannelPrelu", "{what}: {ops:?}");
            let (tract, ours, _) = both(m, &input);
            assert_close(&tract, &ours, what);
        }
        // When the convolution's output is read elsewhere too, the PReLU stays a pass of its own.
        let mut m = depthwise_model(&shape, DataFormat::NCHW, 1);
        let conv = m.output_outlets().unwrap()[0];
        let y = prelu_after(&mut m, conv, 6);
        m.select_output_outlets(&[y, conv]).unwrap();
        let mut plan = m.into_decluttered().unwrap();
        use_in(&mut plan).unwrap();
        let ops: Vec<String> = plan.eval_order().unwrap().iter().map(|&n| plan.node(n).op.name().to_string()).collect();
        assert!(ops.contains(&"TrustshotChannelPrelu".to_string()), "{ops:?}");
    }

    #[test]
    fn the_prelu_chain_becomes_one_pass_with_the_same_values() {
        for shape in [&[1, 5, 7, 9][..], &[2, 3, 4, 4], &[4, 6, 6]] {
            let c = shape[shape.len() - 3];
            let mut slope_shape = vec![1; shape.len()];
            slope_shape[shape.len() - 3] = c;
            let slopes = tensor1(&values(c, 17)).into_shape(&slope_shape).unwrap();
            let input = tensor1(&values(shape.iter().product(), 19)).into_shape(shape).unwrap();
            let (tract, ours, replaced) = both(prelu_chain(shape, slopes), &input);
            assert_eq!(replaced, 1, "{shape:?}");
            assert_eq!(tract, ours, "{shape:?}: one of the chain's two terms is always zero");
        }
        // Slopes varying along two axes are not one slope per channel.
        let shape = [1, 2, 3, 3];
        let slopes = tensor1(&values(6, 23)).into_shape(&[1, 2, 3, 1]).unwrap();
        let input = tensor1(&values(18, 29)).into_shape(&shape).unwrap();
        let (tract, ours, replaced) = both(prelu_chain(&shape, slopes), &input);
        assert_eq!(replaced, 0);
        assert_eq!(tract, ours);
    }

    /// A full (not depthwise) convolution of an input of `shape` to `m`
    /// channels with a bias: 1x1, or 3x3 with stride 2 and one pixel of
    /// padding; then a ReLU when asked.
    pub(super) fn full_conv_model(
        shape: &[usize],
        format: DataFormat,
        m: usize,
        size: usize,
        relu: Activation,
    ) -> TypedModel {
        let c = *format.shape(shape).unwrap().c();
        let (stride, padding) = match size {
            1 => (1, PaddingSpec::Valid),
            _ => (2, PaddingSpec::Explicit(tvec![1, 1], tvec![1, 1])),
        };
        let mut model = TypedModel::default();
        let x = model.add_source("x", f32::fact(shape)).unwrap();
        let weights = tensor1(&values(m * c * size * size, 61)).into_shape(&[m, c, size, size]).unwrap();
        let kernel = model.add_const("k", weights).unwrap();
        let bias = model.add_const("b", tensor1(&values(m, 67))).unwrap();
        let spec = PoolSpec { output_channels: m, ..pool_spec(format, size, padding, stride, c) };
        let conv = Conv { pool_spec: spec, kernel_fmt: KernelFormat::OIHW, group: 1, q_params: None };
        let mut y = model.wire_node("conv", conv, &[x, kernel, bias]).unwrap();
        if relu == Activation::Relu {
            let zero = model.add_const("zero", tensor0(0f32).broadcast_into_rank(shape.len()).unwrap()).unwrap();
            y = model.wire_node("relu", tract_core::ops::math::max(), &[y[0], zero]).unwrap();
        }
        model.select_output_outlets(&y).unwrap();
        model
    }

    #[test]
    fn a_1x1_convolution_with_few_channels_computes_what_tract_computes() {
        // Planes of fewer than 8, of 8 to 24, and of many blocks of 24 pixels
        // with a tail; 1 to 16 output channels (blocks of four and a rest).
        let cases: [(&[usize], DataFormat, usize); 8] = [
            (&[1, 16, 24, 40], DataFormat::NCHW, 16),
            (&[1, 3, 7, 9], DataFormat::NCHW, 5),
            (&[1, 1, 1, 1], DataFormat::NCHW, 1),
            (&[1, 16, 2, 3], DataFormat::NCHW, 16),
            (&[1, 4, 5, 5], DataFormat::NCHW, 3),
            (&[16, 12, 20], DataFormat::CHW, 16),
            (&[7, 3, 11], DataFormat::CHW, 14),
            (&[2, 60, 35], DataFormat::CHW, 8),
        ];
        for (shape, format, m) in cases {
            let what = format!("{shape:?} {format:?} to {m} channels");
            let input = tensor1(&values(shape.iter().product(), 41)).into_shape(shape).unwrap();
            let (tract, ours, replaced) = both(full_conv_model(shape, format, m, 1, Activation::Identity), &input);
            assert_eq!(replaced, 1, "{what}: the convolution was not taken");
            assert_close(&tract, &ours, &what);
        }
    }

    #[test]
    fn the_first_convolution_of_an_image_computes_what_tract_computes() {
        let cases: [(&[usize], DataFormat, usize); 7] = [
            (&[1, 3, 24, 40], DataFormat::NCHW, 16),
            (&[1, 3, 9, 11], DataFormat::NCHW, 5),
            (&[1, 1, 1, 1], DataFormat::NCHW, 1),
            (&[1, 4, 2, 3], DataFormat::NCHW, 3),
            (&[1, 3, 13, 60], DataFormat::NCHW, 32),
            (&[3, 7, 50], DataFormat::CHW, 16),
            (&[2, 6, 5], DataFormat::CHW, 7),
        ];
        for (shape, format, m) in cases {
            for activation in [Activation::Identity, Activation::Relu] {
                let what = format!("{shape:?} {format:?} to {m} channels, {activation:?}");
                let input = tensor1(&values(shape.iter().product(), 71)).into_shape(shape).unwrap();
                let (tract, ours, replaced) = both(full_conv_model(shape, format, m, 3, activation.clone()), &input);
                let expected = if activation == Activation::Relu { 2 } else { 1 };
                assert_eq!(replaced, expected, "{what}: not taken (with its ReLU)");
                assert_close(&tract, &ours, &what);
            }
        }
        // Five channels are not an image; a batch of two stays tract's too.
        for shape in [&[1, 5, 8, 8][..], &[2, 3, 8, 8]] {
            let input = tensor1(&values(shape.iter().product(), 73)).into_shape(shape).unwrap();
            let (tract, ours, replaced) =
                both(full_conv_model(shape, DataFormat::NCHW, 4, 3, Activation::Identity), &input);
            assert_eq!(replaced, 0, "{shape:?}");
            assert_eq!(tract, ours);
        }
    }

    /// The same sum written as YuNet's graph has it once tract moved its
    /// axes (weights first; channels-first planes without a batch axis, or
    /// with one that the output drops), the weights stored `[m, k]` or `[k, m]`.
    #[test]
    fn a_1x1_convolution_as_tract_rewrites_it_computes_what_tract_computes() {
        let (k, m, h, w) = (6, 10, 5, 27);
        for (expression, shape) in [
            ("mk,kab->mab", &[k, h, w][..]),
            ("km,kab->mab", &[k, h, w]),
            ("mk,akbn->mbn", &[1, k, h, w]),
            ("mk,akbn->ambn", &[1, k, h, w]),
            ("mk,kab->cmab", &[k, h, w]),
            // The plane transposed (the portrait YuNet's heads).
            ("mk,kab->mba", &[k, h, w]),
            ("mk,kab->cmba", &[k, h, w]),
            ("mk,akbn->amnb", &[1, k, h, w]),
        ] {
            let weights = tensor1(&values(m * k, 47));
            let weights =
                if expression.starts_with("mk") { weights.into_shape(&[m, k]) } else { weights.into_shape(&[k, m]) };
            let mut model = TypedModel::default();
            let x = model.add_source("x", f32::fact(shape)).unwrap();
            let weights = model.add_const("w", weights.unwrap()).unwrap();
            let out_rank = expression.len() - expression.find('>').unwrap() - 1;
            let bias_shape = if out_rank == 4 { vec![1, m, 1, 1] } else { vec![m, 1, 1] };
            let bias = model.add_const("b", tensor1(&values(m, 53)).into_shape(&bias_shape).unwrap()).unwrap();
            let einsum = EinSum::new(expression.parse().unwrap(), f32::datum_type());
            let sum = model.wire_node("einsum", einsum, &[weights, x]).unwrap();
            let y = model.wire_node("bias", tract_core::ops::math::add(), &[sum[0], bias]).unwrap();
            model.select_output_outlets(&y).unwrap();
            let input = tensor1(&values(shape.iter().product(), 59)).into_shape(shape).unwrap();
            let (tract, ours, replaced) = both(model, &input);
            assert_eq!(replaced, 1, "{expression}: the convolution was not taken");
            assert_close(&tract, &ours, expression);
        }
    }

    /// `x · scale + shift`, per channel of an NCHW `x` (SFace's batch
    /// normalisations as tract declutters them); the scale from a source
    /// instead of a constant when `constant_scale` is false.
    fn affine(model: &mut TypedModel, x: OutletId, c: usize, constant_scale: bool) -> OutletId {
        let scale = if constant_scale {
            model.add_const("scale", tensor1(&values(c, 79)).into_shape(&[1, c, 1, 1]).unwrap()).unwrap()
        } else {
            model.add_source("scale", f32::fact([1, c, 1, 1])).unwrap()
        };
        let shift = model.add_const("shift", tensor1(&values(c, 83)).into_shape(&[1, c, 1, 1]).unwrap()).unwrap();
        let scaled = model.wire_node("scaled", tract_core::ops::math::mul(), &[x, scale]).unwrap()[0];
        model.wire_node("shifted", tract_core::ops::math::add(), &[scaled, shift]).unwrap()[0]
    }

    #[test]
    fn a_batch_normalisation_after_a_depthwise_or_1x1_convolution_is_folded_into_it() {
        let shape = [1, 6, 10, 12];
        let input = tensor1(&values(shape.iter().product(), 89)).into_shape(&shape).unwrap();
        // A 1x1 convolution without bias, as tract's declutter writes it.
        let mut sum = TypedModel::default();
        let x = sum.add_source("x", f32::fact(shape)).unwrap();
        let weights = sum.add_const("w", tensor1(&values(8 * 6, 97)).into_shape(&[8, 6]).unwrap()).unwrap();
        let einsum = EinSum::new("mk,akbn->ambn".parse().unwrap(), f32::datum_type());
        let y = sum.wire_node("einsum", einsum, &[weights, x]).unwrap();
        sum.select_output_outlets(&y).unwrap();
        for (what, mut m) in [("depthwise", depthwise_model(&shape, DataFormat::NCHW, 1)), ("1x1", sum)] {
            let conv = m.output_outlets().unwrap()[0];
            let c = m.outlet_fact(conv).unwrap().shape[1].to_usize().unwrap();
            let y = affine(&mut m, conv, c, true);
            m.select_output_outlets(&[y]).unwrap();
            let mut plan = m.clone().into_decluttered().unwrap();
            use_in(&mut plan).unwrap();
            let ops: Vec<String> =
                plan.eval_order().unwrap().iter().map(|&n| plan.node(n).op.name().to_string()).collect();
            assert_eq!(ops.len(), 2, "{what}: the source and one operator of ours, got {ops:?}");
            assert!(ops[1].starts_with("Trustshot"), "{what}: {ops:?}");
            let (tract, ours, _) = both(m, &input);
            assert_close(&tract, &ours, what);
        }
        // A scale that is not a constant stays a product after the convolution.
        let mut m = depthwise_model(&shape, DataFormat::NCHW, 1);
        let conv = m.output_outlets().unwrap()[0];
        let y = affine(&mut m, conv, 6, false);
        m.select_output_outlets(&[y]).unwrap();
        let mut plan = m.into_decluttered().unwrap();
        assert_eq!(use_in(&mut plan).unwrap(), 1, "only the convolution");
    }

    /// A full 3x3 convolution of an NCHW input of `shape` to `m` channels, with a bias.
    fn conv3x3_model(shape: &[usize], m: usize, padding: PaddingSpec, stride: usize) -> TypedModel {
        let c = shape[1];
        let mut model = TypedModel::default();
        let x = model.add_source("x", f32::fact(shape)).unwrap();
        let kernel = model.add_const("k", tensor1(&values(m * c * 9, 101)).into_shape(&[m, c, 3, 3]).unwrap()).unwrap();
        let bias = model.add_const("b", tensor1(&values(m, 103))).unwrap();
        let spec = PoolSpec { output_channels: m, ..pool_spec(DataFormat::NCHW, 3, padding, stride, c) };
        let conv = Conv { pool_spec: spec, kernel_fmt: KernelFormat::OIHW, group: 1, q_params: None };
        let y = model.wire_node("conv", conv, &[x, kernel, bias]).unwrap();
        model.select_output_outlets(&y).unwrap();
        model
    }

    #[test]
    fn a_3x3_convolution_without_padding_computes_what_tract_computes() {
        // O-Net's first two, and planes down to a single output pixel.
        for (shape, m) in
            [([1, 3, 48, 48], 32), ([1, 32, 23, 23], 64), ([1, 5, 9, 30], 17), ([1, 2, 5, 3], 3), ([1, 1, 3, 3], 1)]
        {
            let input = tensor1(&values(shape.iter().product(), 107)).into_shape(&shape).unwrap();
            let (tract, ours, replaced) = both(conv3x3_model(&shape, m, PaddingSpec::Valid, 1), &input);
            // Ours only where AVX-512 makes it faster than tract's.
            assert_eq!(replaced, usize::from(has_avx512()), "{shape:?} to {m} channels");
            assert_close(&tract, &ours, &format!("{shape:?} to {m} channels"));
        }
        // Padded, stride 2 (of more channels than an image), more than 32 channels in: tract's.
        for (shape, padding, stride) in [
            ([1, 8, 9, 9], PaddingSpec::Explicit(tvec![1, 1], tvec![1, 1]), 1),
            ([1, 8, 9, 9], PaddingSpec::Valid, 2),
            ([1, 33, 9, 9], PaddingSpec::Valid, 1),
        ] {
            let mut plan = conv3x3_model(&shape, 4, padding.clone(), stride).into_decluttered().unwrap();
            assert_eq!(use_in(&mut plan).unwrap(), 0, "{shape:?} {padding:?} stride {stride}");
        }
    }

    /// `bias + Σ_k weights · x` one value at a time, products added in k
    /// order with one rounding each, as both vector sums add them.
    /// Each channel's activation in turn: none, ReLU, PReLU (slopes of either sign).
    fn mixed_acts(channels: usize) -> Vec<Act> {
        let slopes = values(channels, 101);
        (0..channels)
            .map(|i| match i % 3 {
                0 => Act::Identity,
                1 => Act::Relu,
                _ => Act::Prelu(slopes[i]),
            })
            .collect()
    }

    fn pointwise_reference(x: &[&[f32]], weights: &[f32], bias: &[f32], len: usize, acts: &[Act]) -> Vec<Vec<f32>> {
        (0..bias.len())
            .map(|m| {
                (0..len)
                    .map(|j| {
                        let sum = x
                            .iter()
                            .enumerate()
                            .fold(bias[m], |sum, (k, p)| weights[m * x.len() + k].mul_add(p[j], sum));
                        acts[m].apply(sum)
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_vector_1x1_sums_give_the_reference_values_to_the_bit() {
        assert!(has_avx2() && has_fma(), "this suite's machines have AVX2 and FMA");
        // Channel counts off the blocks (4 and 8 outputs), lengths off the pixel blocks (8, 16, 24, 48).
        for (k, m, len) in [(16, 16, 320), (3, 5, 47), (27, 16, 97), (64, 64, 113), (1, 1, 1), (9, 13, 15)] {
            let planes: Vec<Vec<f32>> = (0..k).map(|i| values(len, 61 + i as u64)).collect();
            let x: Vec<&[f32]> = planes.iter().map(|p| &p[..]).collect();
            let (weights, bias) = (values(m * k, 67), values(m, 71));
            // Each kind of sum: every channel without activation, every one a ReLU, each its own.
            for acts in [vec![Act::Identity; m], vec![Act::Relu; m], mixed_acts(m)] {
                let expected = pointwise_reference(&x, &weights, &bias, len, &acts);
                let run = |avx512: bool| {
                    let mut planes = vec![vec![f32::NAN; len]; m];
                    let mut out: Vec<&mut [f32]> = planes.iter_mut().map(|p| &mut p[..]).collect();
                    let (x, w, b, o, a) = (&x[..], &weights[..], &bias[..], &mut out[..], &acts[..]);
                    // SAFETY: each runs only on a CPU with its instructions (checked above and below).
                    unsafe {
                        match (avx512, sum_kind(a)) {
                            (true, EVERY_IDENTITY) => pointwise_avx512::<EVERY_IDENTITY>(x, w, b, o, len, a),
                            (true, EVERY_RELU) => pointwise_avx512::<EVERY_RELU>(x, w, b, o, len, a),
                            (true, _) => pointwise_avx512::<PER_CHANNEL>(x, w, b, o, len, a),
                            (false, EVERY_IDENTITY) => pointwise_avx2::<EVERY_IDENTITY>(x, w, b, o, len, a),
                            (false, EVERY_RELU) => pointwise_avx2::<EVERY_RELU>(x, w, b, o, len, a),
                            (false, _) => pointwise_avx2::<PER_CHANNEL>(x, w, b, o, len, a),
                        }
                    }
                    planes
                };
                let what = format!("{k} -> {m} channels, {len} pixels, {:?}", sum_kind(&acts));
                assert_eq!(run(false), expected, "AVX2, {what}");
                if has_avx512() {
                    assert_eq!(run(true), expected, "AVX-512, {what}");
                }
            }
        }
    }

    /// The stride-1 depthwise convolution one tap at a time, zero padding.
    fn depthwise_reference(
        x: &[f32],
        (c, h, w): (usize, usize, usize),
        stride: usize,
        (taps, bias, acts): (&[f32], &[f32], &[Act]),
    ) -> Vec<f32> {
        let (oh, ow) = ((h - 1) / stride + 1, (w - 1) / stride + 1);
        let mut out = vec![0.0; c * oh * ow];
        for ch in 0..c {
            for (oy, ox) in (0..oh).flat_map(|y| (0..ow).map(move |x| (y, x))) {
                let mut sum = bias[ch] as f64;
                for (ky, kx) in (0..3).flat_map(|y| (0..3).map(move |x| (y, x))) {
                    let (y, x_) = ((stride * oy + ky).checked_sub(1), (stride * ox + kx).checked_sub(1));
                    if let (Some(y), Some(x_)) = (y.filter(|&y| y < h), x_.filter(|&x_| x_ < w)) {
                        sum += taps[ch * 9 + ky * 3 + kx] as f64 * x[(ch * h + y) * w + x_] as f64;
                    }
                }
                out[(ch * oh + oy) * ow + ox] = acts[ch].apply(sum as f32);
            }
        }
        out
    }

    #[test]
    fn both_depthwise_sums_give_the_reference_values() {
        assert!(has_avx2(), "this suite's machines have AVX2");
        // Widths around the 16-column blocks (one block that is both first and last, a full
        // last block, a one-column tail; at stride 2, 32 input columns a block, odd and even
        // widths), heights of one to three rows and more.
        let shapes = [(2, 1, 1), (1, 3, 2), (3, 2, 15), (2, 4, 16), (2, 3, 17), (1, 5, 32), (2, 2, 33), (3, 7, 48)];
        let more = [(1, 9, 161), (2, 3, 31), (1, 4, 63), (2, 5, 64), (1, 2, 65), (2, 6, 112)];
        for (stride, (c, h, w)) in [1, 2].into_iter().flat_map(|s| shapes.iter().chain(&more).map(move |&d| (s, d))) {
            let x = values(c * h * w, 83);
            let (taps, bias, acts) = (values(9 * c, 89), values(c, 97), mixed_acts(c));
            let expected = depthwise_reference(&x, (c, h, w), stride, (&taps, &bias, &acts));
            let run = |avx512: bool| {
                let mut out = vec![f32::NAN; expected.len()];
                let planes = Planes { x: &x, out: &mut out, channels: c, h, w };
                // SAFETY: each runs only on a CPU with its instructions (checked above and below).
                unsafe {
                    match (avx512, stride) {
                        (true, 1) => depthwise_s1_avx512(planes, &taps, &bias, &acts),
                        (true, _) => depthwise_s2_avx512(planes, &taps, &bias, &acts),
                        (false, _) => depthwise_avx2(planes, stride, &taps, &bias, &acts),
                    }
                }
                out
            };
            let close = |ours: &[f32], what: &str| {
                for (i, (a, b)) in ours.iter().zip(&expected).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                        "{what} stride {stride} {c}x{h}x{w}: element {i}: {a} against {b}"
                    );
                }
            };
            close(&run(false), "AVX2");
            if has_avx512() {
                close(&run(true), "AVX-512");
            }
        }
    }

    #[test]
    fn what_the_kernels_do_not_compute_stays_tracts() {
        let (nhwc, nchw) = ([1, 6, 6, 3], [1, 3, 9, 9]);
        for (what, shape, model) in [
            ("channels last", &nhwc, depthwise_model(&nhwc, DataFormat::NHWC, 1)),
            ("channels last", &nhwc, pooling(&nhwc, DataFormat::NHWC, 2, PaddingSpec::Valid, 2)),
            ("stride 3", &nchw, depthwise_model(&nchw, DataFormat::NCHW, 3)),
            ("stride 3", &nchw, pooling(&nchw, DataFormat::NCHW, 3, PaddingSpec::Valid, 3)),
            ("4x4 windows", &nchw, pooling(&nchw, DataFormat::NCHW, 4, PaddingSpec::Valid, 2)),
        ] {
            let input = tensor1(&values(shape.iter().product(), 9)).into_shape(shape).unwrap();
            let (tract, ours, replaced) = both(model, &input);
            assert_eq!(replaced, 0, "{what}");
            assert_eq!(tract, ours);
        }
        // 1x1 convolutions with more channels in or out than ours takes on
        // this CPU, channels last, or a batch of two.
        let over = pointwise_max_channels() + 1;
        for (shape, format, m) in [
            (&[1, over, 4, 4][..], DataFormat::NCHW, 8),
            (&[1, 8, 4, 4][..], DataFormat::NCHW, over),
            (&[1, 4, 4, 8][..], DataFormat::NHWC, 8),
            (&[2, 8, 4, 4][..], DataFormat::NCHW, 8),
        ] {
            let input = tensor1(&values(shape.iter().product(), 43)).into_shape(shape).unwrap();
            let (tract, ours, replaced) = both(full_conv_model(shape, format, m, 1, Activation::Identity), &input);
            assert_eq!(replaced, 0, "{shape:?} {format:?} to {m} channels");
            assert_eq!(tract, ours);
        }
    }
}
