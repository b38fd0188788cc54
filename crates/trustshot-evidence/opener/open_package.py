#!/usr/bin/env python3
"""An independent opener for trustshot evidence packages, written from
docs/evidence-format.md alone, on the `cryptography` package. It shares no code
with the Rust implementation; it exists to prove the specification is complete.

    open_package.py --key OP.key --signer-pub DEVICE.pub --out DIR PACKAGE
                    [--attestation-roots ROOTS.pem]
        verify everything, then write DIR/photo.<ext> and DIR/manifest.json,
        and print {"attestation": {...}}: the device key's attestation chain
        (COSE x5chain, spec section 5) checked against ROOTS (section 5.1)

Exit status 0 on success; 1 with "error: <Kind>: <detail>" on any failure,
where <Kind> names the failure as the specification does (NotAge,
UnknownVersion, MalformedHeader, NoMatchingRecipient, HeaderMac,
PayloadCorrupt, Truncated, TrailingData, MalformedBundle, SignerMismatch,
BadSignature, PhotoMismatch).
"""

import argparse
import base64
import binascii
import datetime
import hashlib
import hmac
import json
import os
import struct
import sys
import tempfile

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

CHUNK = 64 * 1024
TAG = 16
LABEL = b"age-encryption.org/p256tag"


class OpenError(Exception):
    """A refused package; `kind` is the specification's name for the failure."""

    def __init__(self, kind, detail=""):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


# --- primitives (spec §2, §3) ------------------------------------------------

def hkdf_extract(salt, ikm):
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_expand(prk, info, length):
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def b64decode_canonical(text, what):
    """Unpadded, canonical standard base64 (spec §3.1)."""
    if "=" in text or "\n" in text:
        raise OpenError("MalformedHeader", f"{what}: padding or newline in base64")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise OpenError("MalformedHeader", f"{what}: not base64")
    if base64.b64encode(data).decode().rstrip("=") != text:
        raise OpenError("MalformedHeader", f"{what}: non-canonical base64")
    return data


def compressed(point65):
    return bytes([0x02 | (point65[64] & 1)]) + point65[1:33]


def key_id(point65):
    return hashlib.sha256(compressed(point65)).digest()[:8].hex()


def load_public(path):
    key = serialization.load_pem_public_key(open(path, "rb").read())
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


# --- HPKE base mode, DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305 (spec §3.2)

KEM_SUITE = b"KEM\x00\x10"
HPKE_SUITE = b"HPKE\x00\x10\x00\x01\x00\x03"


def labeled_extract(suite, salt, label, ikm):
    return hkdf_extract(salt, b"HPKE-v1" + suite + label + ikm)


def labeled_expand(suite, prk, label, info, length):
    return hkdf_expand(prk, struct.pack(">H", length) + b"HPKE-v1" + suite + label + info, length)


def hpke_open(private_key, recipient65, enc, ct, info):
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), enc)
    dh = private_key.exchange(ec.ECDH(), peer)
    eae_prk = labeled_extract(KEM_SUITE, b"", b"eae_prk", dh)
    shared = labeled_expand(KEM_SUITE, eae_prk, b"shared_secret", enc + recipient65, 32)
    context = b"\x00" + labeled_extract(HPKE_SUITE, b"", b"psk_id_hash", b"") + labeled_extract(HPKE_SUITE, b"", b"info_hash", info)
    secret = labeled_extract(HPKE_SUITE, shared, b"secret", b"")
    key = labeled_expand(HPKE_SUITE, secret, b"key", context, 32)
    nonce = labeled_expand(HPKE_SUITE, secret, b"base_nonce", context, 12)
    return ChaCha20Poly1305(key).decrypt(nonce, ct, b"")


# --- age header (spec §3.1-3.3) ----------------------------------------------

def ascii_text(data, what):
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise OpenError("MalformedHeader", f"{what} is not ASCII")


def read_header(f):
    """Returns (stanzas [(args, body)], mac, mac_input)."""
    raw = b""

    def line():
        nonlocal raw
        data = f.readline(65 * 1024)
        raw += data
        if len(raw) > 64 * 1024:
            raise OpenError("MalformedHeader", "header larger than 64 KiB")
        if not data.endswith(b"\n"):
            raise OpenError("MalformedHeader", "header ends early")
        return data[:-1]

    try:
        first = line()
    except OpenError:
        raise OpenError("NotAge", "no version line")
    if first != b"age-encryption.org/v1":
        if first.startswith(b"age-encryption.org/"):
            raise OpenError("UnknownVersion", first.decode(errors="replace"))
        raise OpenError("NotAge", "bad version line")
    stanzas = []
    current = line()
    while True:
        if current.startswith(b"-> "):
            args = ascii_text(current[3:], "stanza arguments").split(" ")
            if any(a == "" or not all(0x21 <= ord(c) <= 0x7E for c in a) for a in args):
                raise OpenError("MalformedHeader", "bad stanza argument")
            body = ""
            while True:
                body_line = line()
                if len(body_line) > 64:
                    raise OpenError("MalformedHeader", "body line over 64 columns")
                body += ascii_text(body_line, "stanza body")
                if len(body_line) < 64:
                    break
            stanzas.append((args, b64decode_canonical(body, "stanza body")))
            current = line()
        elif current.startswith(b"--- "):
            if not stanzas:
                raise OpenError("MalformedHeader", "no stanza")
            mac = b64decode_canonical(ascii_text(current[4:], "MAC"), "MAC")
            if len(mac) != 32:
                raise OpenError("MalformedHeader", "MAC is not 32 bytes")
            mac_input = raw[: len(raw) - len(current) - 1 + 3]  # up to and including "---"
            return stanzas, mac, mac_input
        else:
            raise OpenError("MalformedHeader", "expected a stanza or the MAC line")


def unwrap_file_key(stanzas, private_key, recipient65):
    for args, body in stanzas:
        if args[0] != "p256tag":
            continue
        if len(args) != 3:
            raise OpenError("MalformedHeader", "p256tag needs three arguments")
        tag = b64decode_canonical(args[1], "tag")
        enc = b64decode_canonical(args[2], "enc")
        if len(tag) != 4 or len(enc) != 65 or len(body) != 32:
            raise OpenError("MalformedHeader", "p256tag sizes")
        mine = hkdf_extract(LABEL, enc + hashlib.sha256(compressed(recipient65)).digest()[:4])[:4]
        if mine != tag:
            continue
        try:
            return hpke_open(private_key, recipient65, enc, body, LABEL)
        except (InvalidTag, ValueError):
            raise OpenError("MalformedHeader", "the stanza for this key does not decrypt")
    raise OpenError("NoMatchingRecipient")


# --- STREAM payload (spec §3.4) ----------------------------------------------

def chunks(f, file_key):
    nonce = f.read(16)
    if len(nonce) < 16:
        raise OpenError("Truncated", "no payload nonce")
    aead = ChaCha20Poly1305(hkdf_expand(hkdf_extract(nonce, file_key), b"payload", 32))
    counter, pending = 0, f.read(CHUNK + TAG)
    if not pending:
        raise OpenError("Truncated", "no chunk")
    while True:
        following = f.read(CHUNK + TAG) if len(pending) == CHUNK + TAG else b""

        def attempt(last):
            try:
                return aead.decrypt(counter.to_bytes(11, "big") + bytes([last]), pending, b"")
            except InvalidTag:
                return None

        if following:
            plain = attempt(0)
            if plain is None:
                raise OpenError("TrailingData" if attempt(1) is not None else "PayloadCorrupt", f"chunk {counter}")
            yield plain
            counter, pending = counter + 1, following
            continue
        plain = attempt(1)
        if plain is None:
            if len(pending) == CHUNK + TAG and attempt(0) is not None:
                raise OpenError("Truncated", f"after chunk {counter}")
            raise OpenError("PayloadCorrupt", f"chunk {counter}")
        if not plain and counter > 0:
            raise OpenError("PayloadCorrupt", "empty final chunk")
        yield plain
        return


# --- canonical CBOR (spec §7) ------------------------------------------------

class Cbor:
    def __init__(self, data):
        self.data, self.pos, self.items = data, 0, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise OpenError("MalformedBundle", "CBOR truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def head(self):
        b = self.take(1)[0]
        major, info = b >> 5, b & 31
        if info < 24:
            return major, info, info
        if info > 27:
            raise OpenError("MalformedBundle", "indefinite or reserved CBOR")
        arg = int.from_bytes(self.take({24: 1, 25: 2, 26: 4, 27: 8}[info]), "big")
        minimum = {24: 24, 25: 0x100, 26: 0x10000, 27: 0x100000000}[info]
        if major != 7 and arg < minimum:
            raise OpenError("MalformedBundle", "non-shortest CBOR")
        return major, info, arg

    def value(self, depth=0):
        if depth > 16:
            raise OpenError("MalformedBundle", "CBOR nested too deeply")
        self.items += 1
        if self.items > 4096:
            raise OpenError("MalformedBundle", "too many CBOR items")
        major, info, arg = self.head()
        if major == 0:
            return arg
        if major == 1:
            return -1 - arg
        if major == 2:
            return bytes(self.take(arg))
        if major == 3:
            try:
                return self.take(arg).decode("utf-8")
            except UnicodeDecodeError:
                raise OpenError("MalformedBundle", "CBOR text is not UTF-8")
        if major == 4:
            return [self.value(depth + 1) for _ in range(arg)]
        if major == 5:
            out, previous = {}, None
            for _ in range(arg):
                start = self.pos
                key = self.value(depth + 1)
                encoded = self.data[start : self.pos]
                if previous is not None and encoded <= previous:
                    raise OpenError("MalformedBundle", "CBOR map keys not in canonical order")
                previous = encoded
                out[key] = self.value(depth + 1)
            return out
        if major == 6:
            return ("tag", arg, self.value(depth + 1))
        if info == 20:
            return False
        if info == 21:
            return True
        if info == 27:
            return struct.unpack(">d", arg.to_bytes(8, "big"))[0]
        raise OpenError("MalformedBundle", "unsupported CBOR simple value")


def cbor_decode(data):
    c = Cbor(data)
    v = c.value()
    if c.pos != len(data):
        raise OpenError("MalformedBundle", "bytes after CBOR item")
    return v


def cbor_encode(v):
    """Only what ToBeSigned needs: text, byte strings, arrays."""
    def head(major, n):
        for limit, info, size in ((24, None, 0), (0x100, 24, 1), (0x10000, 25, 2), (0x100000000, 26, 4)):
            if n < limit:
                return bytes([major << 5 | (n if info is None else info)]) + (n.to_bytes(size, "big") if size else b"")
        return bytes([major << 5 | 27]) + n.to_bytes(8, "big")

    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        return head(3, len(v.encode())) + v.encode()
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(cbor_encode(x) for x in v)
    raise TypeError(v)


# --- bundle, COSE_Sign1, manifest (spec §4-6) ---------------------------------

def verify_sign1(data, signer65):
    v = cbor_decode(data)
    if not (isinstance(v, tuple) and v[1] == 18 and isinstance(v[2], list) and len(v[2]) == 4):
        raise OpenError("MalformedBundle", "not a tagged COSE_Sign1")
    protected, unprotected, payload, signature = v[2]
    if not (isinstance(protected, bytes) and unprotected == {} and isinstance(payload, bytes) and isinstance(signature, bytes) and len(signature) == 64):
        raise OpenError("MalformedBundle", "COSE_Sign1 shape")
    header = cbor_decode(protected)
    if not (isinstance(header, dict) and set(header) in ({1, 4}, {1, 4, 33}) and header[1] == -7 and isinstance(header[4], bytes)):
        raise OpenError("MalformedBundle", "protected header must be {1: -7, 4: kid} and optionally 33: x5chain")
    chain = header.get(33, [])
    if isinstance(chain, bytes):
        chain = [chain]
    elif not (isinstance(chain, list) and (len(chain) >= 2 or 33 not in header)):
        raise OpenError("MalformedBundle", "x5chain must be a byte string or an array of two or more")
    if len(chain) > 8 or not all(isinstance(c, bytes) and 1 <= len(c) <= 6144 for c in chain):
        raise OpenError("MalformedBundle", "x5chain exceeds its bounds")
    expected = bytes.fromhex(key_id(signer65))
    if header[4] != expected:
        raise OpenError("SignerMismatch", f"expected {expected.hex()}, found {header[4].hex()}")
    to_be_signed = cbor_encode(["Signature1", protected, b"", payload])
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), signer65)
    try:
        key.verify(der, to_be_signed, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise OpenError("BadSignature")
    return payload, header[4].hex(), chain


MANIFEST_KEYS = {"v", "kind", "subject", "captured_at", "sdk", "location", "photo", "verdict", "models", "expires_at"}
LOCATION_KEYS = {"lat_e7", "lon_e7", "precision_m"}
PHOTO_KEYS = {"sha256", "length", "media_type"}
VERDICT_KEYS = {"decision", "scores", "thresholds", "reasons"}
MODEL_KEYS = {"id", "sha256"}
MAX_TIME = 253402300799  # 9999-12-31T23:59:59Z
MAX_PHOTO = 512 << 20


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def is_text(x):
    return isinstance(x, str)


def check_manifest(m):
    """The rules of docs/evidence-format.md section 6, read from the spec (not from the Rust code)."""
    def bad(what):
        raise OpenError("MalformedBundle", what)

    if not isinstance(m, dict) or not set(m) <= MANIFEST_KEYS:
        bad("manifest keys")
    if m.get("v") != 1:
        raise OpenError("UnknownVersion", f"manifest v{m.get('v')}")
    if m.get("kind") not in ("proof_of_delivery", "identity_check", "document_check"):
        bad("manifest kind")
    if not (is_text(m.get("subject")) and 1 <= len(m["subject"].encode()) <= 256):
        bad("subject must be 1 to 256 bytes")
    if not (is_int(m.get("captured_at")) and 0 <= m["captured_at"] <= MAX_TIME):
        bad("captured_at")
    if not is_text(m.get("sdk")):
        bad("sdk")
    if "expires_at" in m and not (is_int(m["expires_at"]) and m["captured_at"] <= m["expires_at"] <= MAX_TIME):
        bad("expires_at must be an integer between captured_at and the year 9999")
    if "location" in m:
        loc = m["location"]
        if not (isinstance(loc, dict) and set(loc) == LOCATION_KEYS and all(is_int(loc[k]) for k in LOCATION_KEYS)):
            bad("location keys")
        if not (-900000000 <= loc["lat_e7"] <= 900000000 and -1800000000 <= loc["lon_e7"] <= 1800000000):
            bad("location out of range")
        if not 1 <= loc["precision_m"] <= 100000:
            bad("location precision")
    if "photo" in m:
        p = m["photo"]
        if not (isinstance(p, dict) and set(p) == PHOTO_KEYS):
            bad("photo keys")
        if not (isinstance(p["sha256"], bytes) and len(p["sha256"]) == 32 and is_int(p["length"]) and 1 <= p["length"] <= MAX_PHOTO
                and is_text(p["media_type"]) and 1 <= len(p["media_type"].encode()) <= 64):
            bad("photo reference")
    if "verdict" in m:
        d = m["verdict"]
        if not (isinstance(d, dict) and set(d) == VERDICT_KEYS and is_text(d["decision"]) and isinstance(d["reasons"], list)
                and all(is_text(r) for r in d["reasons"])
                and all(isinstance(d[k], dict) and all(is_text(a) and isinstance(b, float) for a, b in d[k].items()) for k in ("scores", "thresholds"))):
            bad("verdict")
    if "models" in m:
        if not (isinstance(m["models"], list) and all(isinstance(x, dict) and set(x) == MODEL_KEYS and is_text(x["id"]) and is_text(x["sha256"]) for x in m["models"])):
            bad("models")


def manifest_json(payload):
    m = cbor_decode(payload)
    check_manifest(m)
    out = {k: m[k] for k in ("v", "kind", "subject", "captured_at", "sdk")}
    if "location" in m:
        loc = m["location"]
        out["location"] = {"lat": loc["lat_e7"] / 1e7, "lon": loc["lon_e7"] / 1e7, "lat_e7": loc["lat_e7"], "lon_e7": loc["lon_e7"], "precision_m": loc["precision_m"]}
    if "photo" in m:
        p = m["photo"]
        out["photo"] = {"sha256": p["sha256"].hex(), "length": p["length"], "media_type": p["media_type"]}
    if "verdict" in m:
        out["verdict"] = m["verdict"]
    if "models" in m:
        out["models"] = m["models"]
    if "expires_at" in m:
        out["expires_at"] = m["expires_at"]
    return out


def open_package(path, private_key_pem, signer65, photo_sink):
    """Verifies and decrypts; streams the photo into photo_sink. Returns (manifest dict, signer kid)."""
    private_key = serialization.load_pem_private_key(private_key_pem, password=None)
    recipient65 = private_key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    with open(path, "rb") as f:
        stanzas, mac, mac_input = read_header(f)
        file_key = unwrap_file_key(stanzas, private_key, recipient65)
        hmac_key = hkdf_expand(hkdf_extract(b"", file_key), b"header", 32)
        if not hmac.compare_digest(hmac.new(hmac_key, mac_input, hashlib.sha256).digest(), mac):
            raise OpenError("HeaderMac")
        stream = chunks(f, file_key)
        buf = b""

        def need(k):
            nonlocal buf
            while len(buf) < k:
                chunk = next(stream, None)
                if chunk is None:
                    raise OpenError("MalformedBundle", "bundle ends inside its signed manifest")
                buf += chunk

        need(9)
        if buf[:4] != b"TSEV":
            raise OpenError("MalformedBundle", "magic")
        if buf[4] != 1:
            raise OpenError("UnknownVersion", f"bundle {buf[4]}")
        n = int.from_bytes(buf[5:9], "big")
        if n > 65536:
            raise OpenError("MalformedBundle", "COSE_Sign1 too large")
        need(9 + n)
        payload, kid, chain = verify_sign1(buf[9 : 9 + n], signer65)
        manifest = manifest_json(payload)
        photo = manifest.get("photo")
        digest, length = hashlib.sha256(), 0

        def take(data):
            nonlocal length
            if not data:
                return
            if photo is None:
                raise OpenError("MalformedBundle", "a receipt carries extra data")
            length += len(data)
            if length > photo["length"]:
                raise OpenError("PhotoMismatch", "longer than signed")
            digest.update(data)
            photo_sink.write(data)

        take(buf[9 + n :])
        for chunk in stream:
            take(chunk)
        if photo is not None and (length != photo["length"] or digest.hexdigest() != photo["sha256"]):
            raise OpenError("PhotoMismatch")
    return manifest, kid, chain


# --- device-key attestation (spec section 5.1) ---------------------------------

KEY_DESCRIPTION = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.1.17")
LEVELS = {0: "software", 1: "tee", 2: "strongbox"}


def der_items(data):
    """The (tag, value) items of a DER byte string, in order."""
    items, i = [], 0
    while i < len(data):
        tag, length, i = data[i], data[i + 1], i + 2
        if length & 0x80:
            n = length & 0x7F
            length, i = int.from_bytes(data[i : i + n], "big"), i + n
        items.append((tag, data[i : i + length]))
        i += length
    return items


def key_description(leaf):
    """(security level, challenge) from the leaf's KeyDescription, or (None, None)."""
    try:
        value = leaf.extensions.get_extension_for_oid(KEY_DESCRIPTION).value.value
        outer = der_items(value)
        if len(outer) != 1 or outer[0][0] != 0x30:
            return None, None
        fields = der_items(outer[0][1])
        tags = [t for t, _ in fields[:5]]
        if tags != [0x02, 0x0A, 0x02, 0x0A, 0x04]:
            return None, None
        level = LEVELS.get(fields[1][1][0]) if len(fields[1][1]) == 1 else None
        return level, fields[4][1]
    except (x509.ExtensionNotFound, ValueError, IndexError):
        return None, None


SIGNATURE_ALGORITHMS = {
    # (issuer key kind, signature algorithm OID) the specification lists (section 5.1)
    ("ec:secp256r1", "1.2.840.10045.4.3.2"), ("ec:secp256r1", "1.2.840.10045.4.3.3"),
    ("ec:secp384r1", "1.2.840.10045.4.3.2"), ("ec:secp384r1", "1.2.840.10045.4.3.3"),
    ("rsa", "1.2.840.113549.1.1.11"), ("rsa", "1.2.840.113549.1.1.12"), ("rsa", "1.2.840.113549.1.1.13"),
}


def supported(cert, issuer):
    key = issuer.public_key()
    kind = f"ec:{key.curve.name}" if isinstance(key, ec.EllipticCurvePublicKey) else "rsa" if isinstance(key, rsa.RSAPublicKey) else "other"
    return (kind, cert.signature_algorithm_oid.dotted_string) in SIGNATURE_ALGORITHMS


def may_issue(cert):
    """basicConstraints with cA true, and keyUsage, when present, with keyCertSign."""
    try:
        ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False
    try:
        return ca and cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    except x509.ExtensionNotFound:
        return ca


def issued_by(cert, issuer):
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, InvalidSignature, TypeError):
        return False


def check_attestation(chain, signer65, roots, captured_at):
    """The report of section 5.1 for `chain` (DER, leaf first)."""
    report = {"status": "absent", "security_level": None, "challenge": None, "certificates": len(chain)}
    if not chain:
        return report
    try:
        certs = [x509.load_der_x509_certificate(c) for c in chain]
    except ValueError:
        report["status"] = "unreadable"
        return report
    level, challenge = key_description(certs[0])
    report["security_level"], report["challenge"] = level, challenge.hex() if challenge is not None else None

    def status():
        leaf_key = certs[0].public_key()
        if not isinstance(leaf_key, ec.EllipticCurvePublicKey) or leaf_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        ) != signer65:
            return "key_mismatch"
        for cert, issuer in zip(certs, certs[1:]):
            if not may_issue(issuer) or cert.issuer != issuer.subject:
                return "broken_chain"
            if not supported(cert, issuer):
                return "unreadable"
            if not issued_by(cert, issuer):
                return "broken_chain"
        if not any(root == certs[-1] or (supported(certs[-1], root) and issued_by(certs[-1], root)) for root in roots):
            return "untrusted_root"
        at = datetime.datetime.fromtimestamp(captured_at, datetime.timezone.utc)
        if not all(c.not_valid_before_utc <= at <= c.not_valid_after_utc for c in certs):
            return "not_valid_at_capture"
        return "verified"

    try:
        report["status"] = status()
    except (ValueError, TypeError, UnsupportedAlgorithm):  # a key or algorithm cryptography cannot read
        report["status"] = "unreadable"
    return report


EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--key", required=True)
    parser.add_argument("--signer-pub", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--attestation-roots")
    parser.add_argument("package")
    args = parser.parse_args()
    roots = []
    if args.attestation_roots:
        data = open(args.attestation_roots, "rb").read()
        roots = x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data else [x509.load_der_x509_certificate(data)]
    if os.path.exists(args.out) and os.listdir(args.out):
        sys.exit("error: Io: output directory is not empty")
    parent = os.path.dirname(os.path.abspath(args.out))
    staging = tempfile.mkdtemp(prefix=".open-", dir=parent)
    try:
        with open(os.path.join(staging, "photo.tmp"), "wb") as sink:
            signer65 = load_public(args.signer_pub)
            manifest, _, chain = open_package(args.package, open(args.key, "rb").read(), signer65, sink)
        photo = manifest.get("photo")
        if photo:
            os.rename(os.path.join(staging, "photo.tmp"), os.path.join(staging, "photo." + EXTENSIONS.get(photo["media_type"], "bin")))
        else:
            os.remove(os.path.join(staging, "photo.tmp"))
        with open(os.path.join(staging, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)
        if os.path.exists(args.out):
            os.rmdir(args.out)
        os.rename(staging, args.out)
        print(json.dumps({"attestation": check_attestation(chain, signer65, roots, manifest["captured_at"])}))
    except OpenError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    finally:
        if os.path.isdir(staging):
            for name in os.listdir(staging):
                os.remove(os.path.join(staging, name))
            os.rmdir(staging)


if __name__ == "__main__":
    main()
