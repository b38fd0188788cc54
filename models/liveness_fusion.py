#!/usr/bin/env python3
"""Fits the passive-liveness fusion (crates/trustshot-identity/src/passive.rs, FUSION)
from the cues `trustshot eval liveness --dump-features` writes.

    trustshot eval liveness --manifest A.csv --root A --dump-features a.csv
    trustshot eval liveness --manifest B.csv --root B --dump-features b.csv
    python3 models/liveness_fusion.py a.csv b.csv

Model: live probability = sigmoid(b + w1 logit(MiniFASNet) + w2 high_freq + w3 glare),
fitted by Newton's method (IRLS) with a small L2 penalty; bona fide and attack
frames weigh half each. The threshold is the
score at which 5% of the bona fide frames are refused (BPCER 5%).

It prints the fit on all frames, then a held-out estimate: fitted on the first
half of every class (by manifest order: NUAA subjects 0001-0004, the first half
of the replay recording) and measured on the second half. Frames with no face
are left out of the fit (the evaluation reports them separately).
"""

import csv
import sys

import numpy as np


def load(paths):
    rows = []
    for p in paths:
        with open(p) as f:
            for r in csv.DictReader(f):
                if r["face"] != "1":
                    continue
                m = min(max(float(r["model"]), 1e-6), 1 - 1e-6)
                rows.append((r["label"], [np.log(m / (1 - m)), float(r["high_freq"]), float(r["glare"])]))
    return rows


def weights(labels):
    """Bona fide frames and attack frames weigh half each (within each half,
    every frame the same: attack types with a single frame do not dominate)."""
    labels = np.array(labels)
    live = labels == "live"
    w = np.where(live, 0.5 / max(live.sum(), 1), 0.5 / max((~live).sum(), 1))
    return w * len(labels)


def fit(rows, l2=1e-2):
    X = np.array([[1.0] + f for _, f in rows])
    y = np.array([1.0 if lab == "live" else 0.0 for lab, _ in rows])
    w = weights([lab for lab, _ in rows])
    beta = np.zeros(X.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-X @ beta))
        grad = X.T @ (w * (p - y)) + l2 * np.r_[0, beta[1:]]
        hess = (X * (w * p * (1 - p))[:, None]).T @ X + l2 * np.diag([0] + [1] * (X.shape[1] - 1))
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-10:
            break
    return beta


def scores(beta, rows):
    X = np.array([[1.0] + f for _, f in rows])
    return 1 / (1 + np.exp(-X @ beta))


def report(name, beta, rows, threshold=None):
    s = scores(beta, rows)
    labels = np.array([lab for lab, _ in rows])
    live = np.sort(s[labels == "live"])
    t = threshold if threshold is not None else live[int(np.floor(0.05 * len(live)))]
    print(f"{name}: threshold {t:.4f}, BPCER {np.mean(live < t):.3f} ({len(live)} bona fide)")
    for a in sorted(set(labels) - {"live"}):
        print(f"  {a}: APCER {np.mean(s[labels == a] >= t):.3f} ({(labels == a).sum()} frames)")
    return t


def halves(rows):
    first, second = [], []
    for label in sorted({lab for lab, _ in rows}):
        group = [r for r in rows if r[0] == label]
        first += group[: len(group) // 2]
        second += group[len(group) // 2 :]
    return first, second


def main():
    rows = load(sys.argv[1:])
    beta = fit(rows)
    t = report("all frames (fit and measured on the same data)", beta, rows)
    first, second = halves(rows)
    b_half = fit(first)
    t_half = report("held-out: fit on first halves", b_half, first)
    report("held-out: measured on second halves at that threshold", b_half, second, t_half)
    print(
        "\npub const FUSION: Fusion = Fusion { "
        f"bias: {beta[0]:.4f}, w_model_logit: {beta[1]:.4f}, w_high_freq: {beta[2]:.4f}, w_glare: {beta[3]:.4f}, threshold: {t:.4f} }};"
    )


if __name__ == "__main__":
    main()
