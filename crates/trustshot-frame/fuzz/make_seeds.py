#!/usr/bin/env python3
"""Writes the fuzz seed corpus (committed: seeds/decode, seeds/camera) from a
real sample photo, samples/obama.jpg (face_recognition 1.3.0 test image, MIT;
fetched by scripts/setup). Needs jpegtran and djpeg (Debian libjpeg-turbo-progs).

decode: 64x64 lossless crops of the photo as baseline, progressive and
restart-marker JPEGs (jpegtran, no re-encoding), one with an EXIF orientation,
one cut and given an end marker (a refused file), and PNGs (8-bit RGB, 8-bit
grey, 16-bit RGBA) of the same pixels.
camera: the same pixels as the camera layouts of fuzz_targets/camera.rs
(RGBA, NV21 with a padded row stride, I420, three planes with interleaved
chroma in limited range), with the header that target reads.

    python3 crates/trustshot-frame/fuzz/make_seeds.py [samples/obama.jpg]
"""
import os
import struct
import subprocess
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")
SIDE = 64
# The crop's top-left corner, on the 16-pixel MCU grid so jpegtran crops exactly.
CROP = f"{SIDE}x{SIDE}+208+96"


def run(*args, data=None):
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout


def png(width, height, rows, color_type, bit_depth):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + r for r in rows)
    head = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def exif_orientation(jpeg, orientation):
    tiff = b"MM\x00\x2a\x00\x00\x00\x08" + struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)
    tiff += b"\x00\x00\x00\x00"
    payload = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def yuv(rgb):
    """BT.601 full-range Y, U, V planes (U and V at half resolution)."""
    y = bytearray()
    for i in range(0, len(rgb), 3):
        r, g, b = rgb[i : i + 3]
        y.append(max(0, min(255, round(0.299 * r + 0.587 * g + 0.114 * b))))
    u, v = bytearray(), bytearray()
    for cy in range(0, SIDE, 2):
        for cx in range(0, SIDE, 2):
            r, g, b = (rgb[(cy * SIDE + cx) * 3 + k] for k in range(3))
            u.append(max(0, min(255, round(128 - 0.168736 * r - 0.331264 * g + 0.5 * b))))
            v.append(max(0, min(255, round(128 + 0.5 * r - 0.418688 * g - 0.081312 * b))))
    return bytes(y), bytes(u), bytes(v)


def header(kind, flags, width, height, stride, extra=b""):
    return bytes([kind, flags]) + struct.pack("<HHH", width, height, stride) + extra


def main():
    photo = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "samples", "obama.jpg")
    dec, cam = os.path.join(HERE, "seeds", "decode"), os.path.join(HERE, "seeds", "camera")
    os.makedirs(dec, exist_ok=True)
    os.makedirs(cam, exist_ok=True)
    jpegs = {
        "baseline.jpg": run("jpegtran", "-copy", "none", "-crop", CROP, photo),
        "progressive.jpg": run("jpegtran", "-copy", "none", "-progressive", "-crop", CROP, photo),
        "restart_every_mcu.jpg": run("jpegtran", "-copy", "none", "-restart", "1B", "-crop", CROP, photo),
    }
    jpegs["exif_orientation_6.jpg"] = exif_orientation(jpegs["baseline.jpg"], 6)
    base = jpegs["baseline.jpg"]
    jpegs["cut_with_end_marker.jpg"] = base[: len(base) * 6 // 10] + b"\xff\xd9"
    for name, data in jpegs.items():
        open(os.path.join(dec, name), "wb").write(data)

    ppm = run("djpeg", "-pnm", data=jpegs["baseline.jpg"])
    rgb = ppm[ppm.index(b"255\n") + 4 :]
    assert len(rgb) == SIDE * SIDE * 3
    rows = [rgb[r * SIDE * 3 : (r + 1) * SIDE * 3] for r in range(SIDE)]
    grey = [bytes(round(0.299 * r[i] + 0.587 * r[i + 1] + 0.114 * r[i + 2]) for i in range(0, len(r), 3)) for r in rows]
    rgba16 = [b"".join(struct.pack(">HHHH", r[i] * 257, r[i + 1] * 257, r[i + 2] * 257, 65535) for i in range(0, len(r), 3)) for r in rows]
    open(os.path.join(dec, "rgb8.png"), "wb").write(png(SIDE, SIDE, rows, 2, 8))
    open(os.path.join(dec, "grey8.png"), "wb").write(png(SIDE, SIDE, grey, 0, 8))
    open(os.path.join(dec, "rgba16.png"), "wb").write(png(SIDE, SIDE, rgba16, 6, 16))

    y, u, v = yuv(rgb)
    half = SIDE // 2
    rgba = b"".join(rgb[i : i + 3] + b"\xff" for i in range(0, len(rgb), 3))
    open(os.path.join(cam, "rgba.bin"), "wb").write(header(1, 1, SIDE, SIDE, SIDE * 4) + rgba)
    stride = SIDE + 16
    pad = lambda plane, width, rows_, to: b"".join(plane[r * width : (r + 1) * width] + bytes(to - width) for r in range(rows_))
    vu = bytes(b for pair in zip(v, u) for b in pair)
    nv21 = pad(y, SIDE, SIDE, stride) + pad(vu, SIDE, half, stride)
    open(os.path.join(cam, "nv21_padded_stride.bin"), "wb").write(header(3, 0, SIDE, SIDE, stride) + nv21)
    open(os.path.join(cam, "i420.bin"), "wb").write(header(5, 2, SIDE, SIDE, SIDE) + y + u + v)
    # Three planes, chroma interleaved (pixel stride 2) as most Android devices
    # deliver YUV_420_888, limited range: U is the UV plane, V the same from its second byte.
    to_limited = lambda plane, lo, span: bytes(round(lo + p * span / 255) for p in plane)
    yl = to_limited(y, 16, 219)
    uv = bytes(b for pair in zip(to_limited(u, 16, 224), to_limited(v, 16, 224)) for b in pair)
    extra = struct.pack("<HBBHH", SIDE, 2, 2, len(yl), len(uv))
    open(os.path.join(cam, "planes_pixel_stride_2_limited.bin"), "wb").write(
        header(6, 4 | 3, SIDE, SIDE, SIDE, extra) + yl + uv + uv[1:]
    )


if __name__ == "__main__":
    main()
