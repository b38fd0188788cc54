#!/usr/bin/env python3
"""trustshot against OpenCV on the same networks, side by side (issue 14).

What a mobile developer would use instead of trustshot for these very models is
OpenCV's FaceDetectorYN + FaceRecognizerSF. This script times both on the same
1280x720 JPEG, one thread each, in alternating rounds in one run:

- OpenCV 4.12 (opencv-python-headless, a bench tool only, never an SDK
  dependency): imdecode; resize to trustshot's detector canvas and
  FaceDetectorYN.detect; FaceRecognizerSF.alignCrop; FaceRecognizerSF.feature.
  The networks are the very ONNX files trustshot's NNEF archives are made from
  (models/dist/yunet_2023mar.onnx, sface_2021dec.onnx: the same weights).
- trustshot: `trustshot bench --selfie-only --json` on the same JPEG, which
  times decode (with the whole-JPEG check), detect (YuNet on the canvas plus
  the O-Net second look on every face), align + pose + the quality gate, and
  embed. OpenCV has no second look and no quality gate: its pipeline does less.

Both sides run single-threaded (cv2.setNumThreads(1); tract runs one thread
per inference). Each round times N iterations of each side (p50 per stage);
the table gives the median over the rounds, and the ratio trustshot / OpenCV.

    scripts/opencv-compare [--rounds 5] [--iterations 30] [--json OUT]
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# trustshot's detector scales a frame so that its longer side is at most 640
# (DetectorConfig::max_side) and runs YuNet on the smallest canvas that holds
# it: 640x360 goes on the 640x384 canvas. OpenCV pads to multiples of 32 too.
MAX_SIDE = 640


def p50(xs):
    return statistics.median(xs)


def opencv_round(jpeg: bytes, detector, recognizer, iterations: int):
    buf = np.frombuffer(jpeg, dtype=np.uint8)
    times = {"decode_jpeg": [], "detect": [], "align": [], "embed": [], "total": []}
    for i in range(iterations + 1):
        t0 = time.perf_counter()
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        t1 = time.perf_counter()
        h, w = img.shape[:2]
        scale = min(1.0, MAX_SIDE / max(w, h))
        rw, rh = round(w * scale), round(h * scale)
        small = cv2.resize(img, (rw, rh), interpolation=cv2.INTER_LINEAR)
        detector.setInputSize((rw, rh))
        _, faces = detector.detect(small)
        t2 = time.perf_counter()
        if faces is None or len(faces) == 0:
            sys.exit("OpenCV found no face in the bench image")
        face = faces[np.argmax(faces[:, 2] * faces[:, 3])].copy()
        face[:14] /= scale
        aligned = recognizer.alignCrop(img, face)
        t3 = time.perf_counter()
        recognizer.feature(aligned)
        t4 = time.perf_counter()
        if i == 0:
            continue  # warm-up
        for k, v in zip(times, [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0]):
            times[k].append(v * 1e3)
    return {k: p50(v) for k, v in times.items()}, (rw, rh)


def trustshot_round(cli: Path, models: Path, image: Path, iterations: int):
    out = subprocess.run(
        [str(cli), "--models", str(models), "bench", "--image", str(image), "--iterations", str(iterations),
         "--selfie-only", "--json"],
        capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    s = {st["stage"]: st["p50_ms"] for st in report["stages"]}
    return {
        "decode_jpeg": s["decode_jpeg"],
        "detect": s["detect"],
        "align": s["align_quality"],
        "embed": s["embed"],
        "total": s["decode_detect_align_embed"],
    }, report


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", type=Path, default=ROOT / "target/release/trustshot")
    ap.add_argument("--models", type=Path, default=ROOT / "models/dist")
    ap.add_argument("--photo", type=Path, default=ROOT / "samples/obama.jpg")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        # The bench's own 1280x720 JPEG (scaled and cropped like a camera capture).
        image = Path(tmp) / "bench_1280x720.jpg"
        subprocess.run([str(args.cli), "--models", str(args.models), "bench", "--image", str(args.photo),
                        "--iterations", "1", "--selfie-only", "--save-jpeg", str(image), "--json"],
                       check=True, stdout=subprocess.DEVNULL)
        jpeg = image.read_bytes()
        detector = cv2.FaceDetectorYN.create(str(args.models / "yunet_2023mar.onnx"), "", (320, 320), 0.6, 0.3, 5000)
        recognizer = cv2.FaceRecognizerSF.create(str(args.models / "sface_2021dec.onnx"), "")
        cv_rounds, ts_rounds = [], []
        for r in range(args.rounds):
            cv, canvas = opencv_round(jpeg, detector, recognizer, args.iterations)
            ts, report = trustshot_round(args.cli, args.models, image, args.iterations)
            cv_rounds.append(cv)
            ts_rounds.append(ts)
            print(f"round {r + 1}: OpenCV {cv['total']:.1f} ms, trustshot {ts['total']:.1f} ms", file=sys.stderr)

    stages = ["decode_jpeg", "detect", "align", "embed", "total"]
    rows = []
    for st in stages:
        cv = p50([r[st] for r in cv_rounds])
        ts = p50([r[st] for r in ts_rounds])
        rows.append({"stage": st, "opencv_ms": round(cv, 2), "trustshot_ms": round(ts, 2), "ratio": round(ts / cv, 2)})
    print(f"OpenCV {cv2.__version__} vs trustshot, 1280x720 JPEG ({len(jpeg)} bytes), one thread, detector canvas "
          f"{canvas[0]}x{canvas[1]} (padded to multiples of 32 by both), {args.rounds} alternating rounds of "
          f"{args.iterations} iterations, median of the per-round p50s")
    print("| stage | OpenCV ms | trustshot ms | trustshot / OpenCV |")
    print("|---|---|---|---|")
    notes = {
        "detect": "trustshot: + the O-Net second look",
        "align": "trustshot: + pose and the quality gate",
        "decode_jpeg": "trustshot: + the whole-JPEG check",
    }
    for row in rows:
        note = f" ({notes[row['stage']]})" if row["stage"] in notes else ""
        print(f"| {row['stage']}{note} | {row['opencv_ms']} | {row['trustshot_ms']} | {row['ratio']} |")
    if args.json:
        args.json.write_text(json.dumps({"opencv": cv2.__version__, "canvas": canvas, "rows": rows,
                                         "rounds": {"opencv": cv_rounds, "trustshot": ts_rounds}}, indent=1))


if __name__ == "__main__":
    main()
