#!/usr/bin/env python3
"""onnxruntime's own time per node, one thread: the reference to put beside
`target/release/tract-profile RUNS PLAN --nodes` (issue 14).

Runs a model's ONNX file with onnxruntime's profiler on a random input of the
given shape (the input's first dimension set to it, as models/reference.py
does), RUNS runs after one untimed run, and prints the median time of each
node in execution order, then the totals per operator. onnxruntime rewrites
the graph first (NCHWc layout, fused activations), so its node names are its
own; the order follows the network's.

    .tools/venv/bin/python benches/ort_profile.py models/dist/yunet_2023mar.onnx 1 3 384 640 [--runs 60]
"""

import argparse
import collections
import json
import statistics
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("onnx", type=Path)
    parser.add_argument("shape", type=int, nargs="+")
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    model = onnx.load(str(args.onnx))
    for dim, n in zip(model.graph.input[0].type.tensor_type.shape.dim, args.shape):
        dim.ClearField("dim_param")
        dim.dim_value = n
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "ort")
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        x = (np.random.default_rng(0).random(args.shape) * 255).astype(np.float32)
        feed = {session.get_inputs()[0].name: x}
        for _ in range(args.runs + 1):
            session.run(None, feed)
        events = json.loads(Path(session.end_profiling()).read_text())
    times = collections.defaultdict(list)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            times[(e["name"][: -len("_kernel_time")], e["args"]["op_name"])].append(e["dur"] / 1000)
    # The first run is warm-up: its times are dropped with the median.
    rows = [(name, op, statistics.median(t)) for (name, op), t in times.items()]
    print(f"| {args.onnx.name} {args.shape} ({args.runs} runs, onnxruntime {ort.__version__}) | {sum(r[2] for r in rows):.2f} ms |")
    print("|---|---|")
    for name, op, t in rows:
        print(f"| {name} ({op}) | {t:.3f} |")
    by_op = collections.defaultdict(float)
    for _, op, t in rows:
        by_op[op] += t
    print()
    for op, t in sorted(by_op.items(), key=lambda item: -item[1]):
        print(f"| {op} | {t:.3f} |")


if __name__ == "__main__":
    main()
