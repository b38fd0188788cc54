#!/usr/bin/env python3
"""Passive-liveness fusion: fitted, and evaluated leave one person out (issue 13,
models/README.md, "Passive liveness, leave one person out").

Every fitted part (fusion weights and threshold) is fitted on all people but one and
measured on that one; each person's figures and the pooled figure are printed. Nothing
is ever reported on the people it was fitted on.

Input: the dumps of `trustshot eval liveness --dump-features F.csv --dump-crops DIR`
for each data set, given as NAME=F.csv:DIR. Candidate networks that the SDK does not
ship are scored here from the dumped crops (onnxruntime / LiteRT), so that they can be
tried under the same protocol before anything is built in:

    python3 models/liveness_lopo.py --v2 ../shared/models/2.7_80x80_MiniFASNetV2.onnx \
        --dtn FaceAntiSpoofing.tflite nuaa=nuaa.csv:crops_nuaa replay=replay.csv:crops_replay ...

With `--fit v1se,glare` it also fits the shipped fusion on every person and prints it as
the Rust constant (crates/trustshot-identity/src/passive.rs, FUSION); the LOPO figures of
that feature set are its honest estimate, never the fit on everyone.

Model: live probability = sigmoid(b + w . features), fitted by Newton's method (IRLS)
with a small L2 penalty; bona fide and attack frames weigh half each.

Protocol, per held-out person p and per feature set:
  1. fit the logistic fusion on the frames of every other person;
  2. set the threshold where 5% of those training bona fide frames are refused;
  3. score p's frames: frame APCER (p's attack frames accepted), frame BPCER (p's live
     frames refused); windows of W consecutive frames of one person and label (manifest
     order, trailing partial window dropped), each judged by the median of its frame
     scores (the SDK's session score), give window APCER / BPCER.
Pooled figures sum the errors and counts of all folds. A person with only attack
frames (or only live ones) contributes only to that side.

Image size is never a feature (the replay crops are much smaller than the live ones in
replay_people/): `--size-check` prints how each feature correlates with the face width.
"""

import argparse
import csv
import json
import os

import numpy as np


def fit(rows, l2=1e-2):
    """rows: (label, features); "live" is bona fide. Returns [bias, weights...]."""
    X = np.array([[1.0] + list(f) for _, f in rows])
    y = np.array([1.0 if lab == "live" else 0.0 for lab, _ in rows])
    live = y == 1.0
    # Bona fide and attack frames weigh half each, every frame of a side the same.
    w = np.where(live, 0.5 / max(live.sum(), 1), 0.5 / max((~live).sum(), 1)) * len(y)
    penalty = l2 * np.diag([0.0] + [1.0] * (X.shape[1] - 1))
    beta = np.zeros(X.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-X @ beta))
        grad = X.T @ (w * (p - y)) + penalty @ beta
        hess = (X * (w * p * (1 - p))[:, None]).T @ X + penalty
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-10:
            break
    return beta


def logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def softmax_live(logits):
    e = np.exp(logits - logits.max())
    return float(e[1] / e.sum())


class Scorers:
    """Candidate networks run on the dumped crops (None where not given)."""

    def __init__(self, v2, dtn):
        self.v2 = self.dtn = None
        if v2:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1
            self.v2 = ort.InferenceSession(v2, opts, providers=["CPUExecutionProvider"])
        if dtn:
            from ai_edge_litert.interpreter import Interpreter

            self.dtn = Interpreter(model_path=dtn)
            self.dtn.allocate_tensors()
            outs = {o["name"]: o["index"] for o in self.dtn.get_output_details()}
            self.dtn_out = (outs["Identity"], outs["Identity_1"])

    def v2_live(self, crops, row):
        x = np.fromfile(os.path.join(crops, f"{row}_s2.7.bgr"), dtype=np.uint8).reshape(80, 80, 3)
        x = x.astype(np.float32).transpose(2, 0, 1)[None]
        return softmax_live(self.v2.run(None, {self.v2.get_inputs()[0].name: x})[0][0])

    def dtn_spoof(self, crops, row):
        """The port's score: sum |class prediction| x leaf mask (spoof when >= 0.2 upstream)."""
        x = np.fromfile(os.path.join(crops, f"{row}_square256.rgb"), dtype=np.uint8).reshape(1, 256, 256, 3)
        self.dtn.set_tensor(self.dtn.get_input_details()[0]["index"], x.astype(np.float32) / 255.0)
        self.dtn.invoke()
        cls, mask = (self.dtn.get_tensor(i)[0] for i in self.dtn_out)
        return float(np.sum(np.abs(cls) * mask))


def load(sets, scorers):
    rows = []
    for spec in sets:
        name, rest = spec.split("=", 1)
        path, crops = rest.split(":", 1)
        with open(path) as f:
            for r in csv.DictReader(f):
                if r["face"] != "1":
                    continue
                subject = r["subject"] or "unnamed"
                feat = {
                    "v1se": logit(float(r["model"])),
                    "high_freq": float(r["high_freq"]),
                    "glare": float(r["glare"]),
                    "face_w": float(r["face_w"]),
                }
                if scorers.v2:
                    feat["v2"] = logit(scorers.v2_live(crops, r["row"]))
                if scorers.dtn:
                    feat["dtn"] = -np.log(max(scorers.dtn_spoof(crops, r["row"]), 1e-6))
                rows.append({"person": f"{name}:{subject}", "label": r["label"], "attack": r["label"] != "live", **feat})
    return rows


def matrix(rows, features):
    return np.array([[r[f] for f in features] for r in rows])


def scores(beta, X):
    return 1 / (1 + np.exp(-(beta[0] + X @ beta[1:])))


def windows(frames, size):
    """Medians of consecutive windows of `size` scores (trailing partial window dropped)."""
    return [float(np.median(frames[i : i + size])) for i in range(0, len(frames) - size + 1, size)]


def lopo(rows, features, window):
    people = sorted({r["person"] for r in rows})
    folds = {}
    for p in people:
        train = [r for r in rows if r["person"] != p]
        test = [r for r in rows if r["person"] == p]
        if not any(not r["attack"] for r in train) or not any(r["attack"] for r in train):
            continue
        beta = fit([("live" if not r["attack"] else "attack", list(x)) for r, x in zip(train, matrix(train, features))])
        live_train = np.sort(scores(beta, matrix([r for r in train if not r["attack"]], features)))
        threshold = live_train[int(np.floor(0.05 * len(live_train)))]
        s = scores(beta, matrix(test, features))
        fold = {"threshold": float(threshold)}
        for side, attack in (("attack", True), ("live", False)):
            picked = [float(v) for r, v in zip(test, s) if r["attack"] == attack]
            if not picked:
                continue
            wrong = (lambda v: v >= threshold) if attack else (lambda v: v < threshold)
            w = windows(picked, window)
            fold[side] = {
                "frames": len(picked),
                "frames_wrong": sum(map(wrong, picked)),
                "windows": len(w),
                "windows_wrong": sum(map(wrong, w)),
                "labels": sorted({r["label"] for r in test if r["attack"] == attack}),
            }
        folds[p] = fold
    return folds


def pooled(folds, side, unit):
    n = sum(f[side][unit] for f in folds.values() if side in f)
    wrong = sum(f[side][f"{unit}_wrong"] for f in folds.values() if side in f)
    return wrong, n


def rate(wrong, n):
    return f"{100 * wrong / n:.1f}% ({wrong}/{n})" if n else "-"


def size_check(rows, features):
    w = np.log([r["face_w"] for r in rows])
    for f in features:
        x = np.array([r[f] for r in rows])
        print(f"  corr(log face width, {f}) = {np.corrcoef(w, x)[0, 1]:+.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="+", help="NAME=FEATURES.csv:CROPS_DIR")
    ap.add_argument("--v2", help="MiniFASNetV2 ONNX (2.7_80x80_MiniFASNetV2.onnx)")
    ap.add_argument("--dtn", help="the Deep Tree Network port (FaceAntiSpoofing.tflite)")
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--json", help="write every fold's counts here")
    ap.add_argument("--size-check", action="store_true")
    ap.add_argument("--fit", help="comma-separated feature set to fit on every person (the shipped constant)")
    args = ap.parse_args()

    scorers = Scorers(args.v2, args.dtn)
    rows = load(args.sets, scorers)
    candidates = [["v1se"], ["v1se", "high_freq", "glare"], ["v1se", "glare"]]
    if scorers.v2:
        candidates += [["v2"], ["v1se", "v2"], ["v1se", "v2", "glare"], ["v1se", "v2", "high_freq", "glare"]]
    if scorers.dtn:
        candidates += [["dtn"], ["v1se", "dtn"]]
    if args.size_check:
        print("Size confound (all frames with a face):")
        size_check(rows, sorted({f for c in candidates for f in c}))

    results = {}
    print(f"\nLeave one person out, {len({r['person'] for r in rows})} people, window {args.window} frames")
    print("| features | frame APCER | frame BPCER | window APCER | window BPCER |")
    print("|---|---|---|---|---|")
    for features in candidates:
        folds = lopo(rows, features, args.window)
        name = " + ".join(features)
        results[name] = folds
        cells = [rate(*pooled(folds, s, u)) for u, s in (("frames", "attack"), ("frames", "live"), ("windows", "attack"), ("windows", "live"))]
        print(f"| {name} | " + " | ".join(cells) + " |")

    for name, folds in results.items():
        print(f"\nPer person, {name} (threshold fitted without that person):")
        print("| person | threshold | attack frames accepted | attack windows accepted | live frames refused | live windows refused |")
        print("|---|---|---|---|---|---|")
        for p, f in folds.items():
            a, l = f.get("attack"), f.get("live")
            cell = lambda d, u: rate(d[f"{u}_wrong"], d[u]) if d else "-"
            print(f"| {p} | {f['threshold']:.3f} | {cell(a, 'frames')} | {cell(a, 'windows')} | {cell(l, 'frames')} | {cell(l, 'windows')} |")
    if args.fit:
        features = args.fit.split(",")
        beta = fit([("live" if not r["attack"] else "attack", list(x)) for r, x in zip(rows, matrix(rows, features))])
        live = np.sort(scores(beta, matrix([r for r in rows if not r["attack"]], features)))
        threshold = live[int(np.floor(0.05 * len(live)))]
        print(f"\nFitted on all {len({r['person'] for r in rows})} people ({' + '.join(features)}): "
              f"bias {beta[0]:.4f}, weights {dict(zip(features, np.round(beta[1:], 4)))}, threshold {threshold:.4f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=float)


if __name__ == "__main__":
    main()
