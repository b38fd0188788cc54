#!/usr/bin/env python3
"""Reference runtime for the parity test and the speed comparison.

Runs each case of CASE_DIR/cases.json through onnxruntime, single-threaded,
on the ONNX file the SDK's NNEF archive was converted from, and writes every
output (raw little-endian float32, <name>.out<k>.f32) plus ort.json with the
output shapes and the timings:

    python3 models/reference.py CASE_DIR --models models/dist [--runs N]

cases.json: [{"name", "onnx", "input": "<file>.f32", "shape": [..]}, ...]
written by the Rust side (benches/src/lib.rs), which fed the same bytes to tract.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort


def session(path: Path, shape):
    """An ORT session whose first input takes `shape` (YuNet declares 640x640 only)."""
    model = onnx.load(str(path))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    for d, n in zip(dims, shape):
        d.ClearField("dim_param")
        d.dim_value = n
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("case_dir", type=Path)
    parser.add_argument("--models", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    cases = json.loads((args.case_dir / "cases.json").read_text())
    report = {"onnxruntime": ort.__version__, "cases": {}}
    for case in cases:
        s = session(args.models / case["onnx"], case["shape"])
        x = np.fromfile(args.case_dir / case["input"], dtype="<f4").reshape(case["shape"])
        feed = {s.get_inputs()[0].name: x}
        outputs = s.run(None, feed)
        wall, cpu = [], []
        for _ in range(args.runs):
            w0, c0 = time.perf_counter(), time.thread_time()
            s.run(None, feed)
            wall.append((time.perf_counter() - w0) * 1e3)
            cpu.append((time.thread_time() - c0) * 1e3)
        for k, out in enumerate(outputs):
            np.asarray(out, dtype="<f4").tofile(args.case_dir / f"{case['name']}.out{k}.f32")
        report["cases"][case["name"]] = {
            "outputs": [list(o.shape) for o in outputs],
            "wall_ms_p50": float(np.median(wall)) if wall else None,
            "cpu_ms_p50": float(np.median(cpu)) if cpu else None,
        }
    (args.case_dir / "ort.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
