#!/usr/bin/env python3
"""Checks the independent Python opener against the Rust implementation:

1. the committed known-answer packages open, with the expected manifests and photo;
2. packages sealed now by the Rust CLI open, and give the manifest and photo the
   Rust opener gives;
3. the crafted manifests of tests/vectors/crafted.json are refused (or, for
   the valid edges, opened) exactly as the Rust reader does;
4. altered packages are refused, each with the failure the specification names:
   every single-bit flip of a small package, truncation at every chunk boundary,
   a wrong recipient key, another device's signature.

    test_opener.py --cli target/release/trustshot

Prints "python opener: N passed, M failed" and exits non-zero on any failure.
"""

import argparse
import base64
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import open_package as op  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

VECTORS = os.path.join(HERE, "..", "tests", "vectors")
SAMPLES = os.path.join(HERE, "..", "..", "..", "samples")
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}")


def point(pem):
    key = serialization.load_pem_public_key(pem)
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def expect_error(name, package_bytes, key_pem, signer65, kinds):
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(package_bytes)
    try:
        op.open_package(f.name, key_pem, signer65, io.BytesIO())
        check(name, False, "opened")
    except op.OpenError as e:
        check(name, e.kind in kinds, f"got {e.kind}, want {kinds}")
    finally:
        os.remove(f.name)


def known_answers():
    kat = json.load(open(os.path.join(VECTORS, "kat.json")))
    photo = bytes((i * 31 + 7) % 251 for i in range(kat["photo_generator"]["length"]))
    for pkg in kat["packages"]:
        path = os.path.join(VECTORS, pkg["file"])
        check(f"kat {pkg['file']} digest", hashlib.sha256(open(path, "rb").read()).hexdigest() == pkg["sha256"])
        signer = point(kat["keys"][pkg["signer"]]["public_key_pem"].encode())
        for r in pkg["recipients"]:
            sink = io.BytesIO()
            manifest, kid, _ = op.open_package(path, kat["keys"][r]["private_key_pem"].encode(), signer, sink)
            check(f"kat {pkg['file']} opened by {r}", manifest == pkg["manifest"] and kid == kat["keys"][pkg["signer"]]["key_id"])
            check(f"kat {pkg['file']} photo for {r}", sink.getvalue() == (photo if "photo" in manifest else b""))


def crafted_manifests():
    """Packages whose signed manifests break one rule of section 6 (or sit on a
    valid edge), written by the Rust test manifest_rules.rs: the Python reader
    must refuse and accept exactly what the Rust reader does."""
    kat = json.load(open(os.path.join(VECTORS, "kat.json")))
    crafted = json.load(open(os.path.join(VECTORS, "crafted.json")))
    key = kat["keys"]["operator"]["private_key_pem"].encode()
    device = point(kat["keys"]["device"]["public_key_pem"].encode())
    for pkg in crafted["packages"]:
        path = os.path.join(VECTORS, pkg["file"])
        if pkg["expect"] == "ok":
            try:
                op.open_package(path, key, device, io.BytesIO())
                check(f"crafted {pkg['file']} (valid edge) opens", True)
            except op.OpenError as e:
                check(f"crafted {pkg['file']} (valid edge) opens", False, f"{e.kind}: {e}")
        else:
            with open(path, "rb") as f:
                expect_error(f"crafted {pkg['file']} ({pkg['breaks']}) refused", f.read(), key, device, {pkg["expect"]})


def run(cli, *args):
    return subprocess.run([cli, *args], capture_output=True, text=True)


def fresh_packages(cli, work):
    k = lambda name: os.path.join(work, name)
    for name in ("op", "dev", "other", "stranger"):
        run(cli, "evidence", "keygen", "--out", k(name))
    seal = run(cli, "evidence", "seal", "--photo", os.path.join(SAMPLES, "obama.jpg"), "--recipient", k("op.pub"),
               "--signer", k("dev.key"), "--delivery-id", "D-42", "--lat", "48.8584", "--lon", "2.2945", "--out", k("photo.age"))
    check("rust seals a photo", seal.returncode == 0, seal.stderr)
    rust_open = run(cli, "evidence", "open", "--key", k("op.key"), "--signer-pub", k("dev.pub"), "--out", k("rust"), k("photo.age"))
    check("rust opens it", rust_open.returncode == 0, rust_open.stderr)
    op_key, dev = open(k("op.key"), "rb").read(), point(open(k("dev.pub"), "rb").read())
    sink = io.BytesIO()
    manifest, _, _ = op.open_package(k("photo.age"), op_key, dev, sink)
    check("python opens the rust package: manifest", manifest == json.load(open(k("rust/manifest.json"))))
    check("python opens the rust package: photo", sink.getvalue() == open(k("rust/photo.jpg"), "rb").read())

    run(cli, "evidence", "seal", "--recipient", k("op.pub"), "--signer", k("dev.key"), "--delivery-id", "R-1", "--out", k("receipt.age"))
    receipt = open(k("receipt.age"), "rb").read()
    manifest, _, _ = op.open_package(k("receipt.age"), op_key, dev, io.BytesIO())
    check("python opens a rust receipt", manifest["subject"] == "R-1" and "photo" not in manifest)

    # Every single-bit flip of the receipt.
    refused = 0
    kinds = {}
    for bit in range(len(receipt) * 8):
        bad = bytearray(receipt)
        bad[bit // 8] ^= 1 << (bit % 8)
        path = k("flip.age")
        open(path, "wb").write(bad)
        try:
            op.open_package(path, op_key, dev, io.BytesIO())
        except op.OpenError as e:
            refused += 1
            kinds[e.kind] = kinds.get(e.kind, 0) + 1
    check(f"python refuses all {len(receipt) * 8} single-bit flips ({kinds})", refused == len(receipt) * 8)

    # Truncation at every chunk boundary of the photo package.
    package = open(k("photo.age"), "rb").read()
    header_len = package.index(b"\n---") + 1
    header_len = package.index(b"\n", header_len) + 1
    start, full = header_len + 16, op.CHUNK + op.TAG
    cut = start
    while cut < len(package):
        expect_error(f"truncated at {cut}", package[:cut], op_key, dev, {"Truncated"})
        cut += full
    expect_error("wrong recipient key", package, open(k("stranger.key"), "rb").read(), dev, {"NoMatchingRecipient"})
    run(cli, "evidence", "seal", "--recipient", k("op.pub"), "--signer", k("other.key"), "--delivery-id", "R-2", "--out", k("other.age"))
    expect_error("signed by another device", open(k("other.age"), "rb").read(), op_key, dev, {"SignerMismatch"})
    expect_error("unknown version", package.replace(b"age-encryption.org/v1", b"age-encryption.org/v9", 1), op_key, dev, {"UnknownVersion"})


def attestation(cli, work):
    """The device-key attestation chain (committed test chain), sealed by the
    Rust CLI and checked by both openers against the right and a wrong root:
    both must report the same, and every altered link must break the chain."""
    vectors = os.path.join(VECTORS, "attestation")
    v = lambda name: os.path.join(vectors, name)
    k = lambda name: os.path.join(work, name)
    run(cli, "evidence", "keygen", "--out", k("op"))
    seal = run(cli, "evidence", "seal", "--recipient", k("op.pub"), "--signer", v("device.key"),
               "--attestation-chain", v("chain.pem"), "--delivery-id", "A-1", "--out", k("attested.age"))
    check("rust seals with an attestation chain", seal.returncode == 0, seal.stderr)
    op_key, dev = open(k("op.key"), "rb").read(), point(open(v("device.pub"), "rb").read())
    manifest, _, chain = op.open_package(k("attested.age"), op_key, dev, io.BytesIO())
    check("python reads the chain from the signed header", len(chain) == 3)
    for i, roots_file in enumerate(("root.pem", "other_root.pem")):
        rust = run(cli, "evidence", "open", "--key", k("op.key"), "--signer-pub", v("device.pub"), "--out", k(f"a{i}"),
                   "--attestation-roots", v(roots_file), k("attested.age"))
        rust_report = json.loads(rust.stdout)["attestation"] if rust.returncode == 0 else rust.stderr
        roots = op.x509.load_pem_x509_certificates(open(v(roots_file), "rb").read())
        python_report = op.check_attestation(chain, dev, roots, manifest["captured_at"])
        check(f"both openers agree on the chain against {roots_file}: {python_report['status']}",
              rust_report == python_report, f"{rust_report} != {python_report}")
    roots = op.x509.load_pem_x509_certificates(open(v("root.pem"), "rb").read())
    check("python: verified, strongbox", op.check_attestation(chain, dev, roots, manifest["captured_at"])["security_level"] == "strongbox")
    other = point(open(k("op.pub"), "rb").read())
    check("python: a chain for another key", op.check_attestation(chain, other, roots, manifest["captured_at"])["status"] == "key_mismatch")
    swapped = [chain[0], chain[2], chain[1]]
    check("python: links out of order", op.check_attestation(swapped, dev, roots, manifest["captured_at"])["status"] == "broken_chain")
    check("python: long before the leaf", op.check_attestation(chain, dev, roots, 0)["status"] == "not_valid_at_capture")

    # One committed case per status (written by tests/attestation.rs, captured at 1790000000):
    # this opener must give each report the Rust opener gives.
    cases = os.path.join(vectors, "cases")
    for name in sorted(os.listdir(cases)):
        case = os.path.join(cases, name)
        text = open(os.path.join(case, "chain.pem")).read()
        blocks = re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text, re.S)
        chain = [base64.b64decode("".join(b.split())) for b in blocks]
        roots = op.x509.load_pem_x509_certificates(open(os.path.join(case, "roots.pem"), "rb").read())
        report = op.check_attestation(chain, dev, roots, 1790000000)
        expected = json.load(open(os.path.join(case, "expect.json")))
        check(f"attestation case {name}: {expected['status']}", report == expected, f"{report} != {expected}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", required=True)
    args = parser.parse_args()
    known_answers()
    crafted_manifests()
    with tempfile.TemporaryDirectory() as work:
        fresh_packages(os.path.abspath(args.cli), work)
    with tempfile.TemporaryDirectory() as work:
        attestation(os.path.abspath(args.cli), work)
    failed = results.count(False)
    print(f"python opener: {len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
