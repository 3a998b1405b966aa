#!/usr/bin/python3
"""Writes Pillow reference outputs for the imaging package's fixture test.

Usage: gen_pil_fixtures.py OUT.safetensors N_RANDOM SEED

Each case is a PNG (written byte by byte here, so every colour type and bit
depth is covered, tRNS included) or a JPEG (written by Pillow), plus what
Pillow 9.4 makes of it:
  rgb      Image.open(f).convert("RGB")
  l        Image.open(f).convert("L")
  resized  Image.open(f).resize((w, h), BICUBIC).convert("RGB")  (the
           reference transform order: resize in the file's mode, then RGB)
  mask     binarise(convert("L") > 0) -> resize((w, h), BILINEAR)
Everything (the encoded file too) is stored as U8 tensors "<case>/<what>"
in one safetensors file; __metadata__ "cases" lists the cases. Run with the
Pillow that made the goldens (9.4.0); the committed pil_fixtures.safetensors
was made with N_RANDOM=0 SEED=1.
"""
import io, json, os, random, struct, sys, zlib

import numpy as np
from PIL import Image


def chunk(tag, data):
    c = struct.pack(">I", len(data)) + tag + data
    return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def write_png(w, h, ctype, depth, rows, palette=None, trns=None):
    """rows: list of per-row sample lists (already packed for depth < 8)."""
    raw = b"".join(b"\x00" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))
    if palette is not None:
        out += chunk(b"PLTE", bytes(palette))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def pack_bits(samples, depth):
    if depth >= 8:
        if depth == 16:
            return b"".join(struct.pack(">H", int(s)) for s in samples)
        return bytes(int(s) for s in samples)
    per = 8 // depth
    out = bytearray()
    for i in range(0, len(samples), per):
        b = 0
        for j in range(per):
            v = samples[i + j] if i + j < len(samples) else 0
            b |= int(v) << (8 - depth * (j + 1))
        out.append(b)
    return bytes(out)


def make_png(rng, kind, w, h):
    nch = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
    ctype, depth = kind["ctype"], kind["depth"]
    maxv = (1 << depth) - 1
    if ctype == 3:
        npal = min(1 << depth, rng.randint(1, 256))
        hi = npal - 1
    else:
        hi = maxv
    if ctype == 0 and depth == 16:
        hi = rng.choice([600, 4000, 65535])  # exercise mode "I" clipping
    samples = [[rng.randint(0, hi) for _ in range(w * nch[ctype])] for _ in range(h)]
    if ctype in (4, 6):  # make alpha 0 and 255 common
        for r in samples:
            for x in range(w):
                i = x * nch[ctype] + nch[ctype] - 1
                r[i] = rng.choice([0, maxv, r[i], r[i], r[i]])
    rows = [pack_bits(r, depth) for r in samples]
    palette = trns = None
    if ctype == 3:
        palette = [rng.randint(0, 255) for _ in range(3 * npal)]
        if kind.get("trns"):
            trns = bytes(rng.randint(0, 255) for _ in range(rng.randint(1, npal)))
    elif kind.get("trns") and ctype == 0:
        trns = struct.pack(">H", rng.randint(0, hi))
    elif kind.get("trns") and ctype == 2:
        trns = struct.pack(">HHH", *(rng.randint(0, maxv) for _ in range(3)))
    return write_png(w, h, ctype, depth, rows, palette, trns)


def make_jpeg(rng, kind, w, h):
    arr = np.array([[[rng.randint(0, 255) for _ in range(3)] for _ in range(w)] for _ in range(h)], np.uint8)
    # smooth it a little so JPEG artefacts stay realistic
    im = Image.fromarray(arr, "RGB").resize((max(1, w // 3), max(1, h // 3))).resize((w, h), Image.BICUBIC)
    if kind["jmode"] == "L":
        im = im.convert("L")
    elif kind["jmode"] == "CMYK":
        im = im.convert("CMYK")
    if kind.get("patch440"):
        im = im.transpose(Image.TRANSPOSE)
    b = io.BytesIO()
    im.save(b, "JPEG", quality=kind.get("q", 90), subsampling=kind.get("sub", 0),
            progressive=bool(kind.get("progressive")))
    data = b.getvalue()
    if kind.get("patch440"):
        data = patch_440(data)
    return data


def patch_440(data):
    """Turns a 4:2:2 baseline JPEG into a 4:4:0 one that Pillow cannot write:
    swap width and height in SOF0 and the luma sampling factors 2x1 -> 1x2.
    The MCUs keep their block count, so the entropy data stays decodable
    (the picture is scrambled, which does not matter here)."""
    i = data.index(b"\xff\xc0")
    d = bytearray(data)
    h, w = d[i + 5:i + 7], d[i + 7:i + 9]
    d[i + 5:i + 7], d[i + 7:i + 9] = w, h
    assert d[i + 9] == 3 and d[i + 11] == 0x21, "expected 4:2:2 YCbCr"
    d[i + 11] = 0x12
    return bytes(d)


PNG_KINDS = [
    {"ctype": 0, "depth": 1}, {"ctype": 0, "depth": 2}, {"ctype": 0, "depth": 4},
    {"ctype": 0, "depth": 8}, {"ctype": 0, "depth": 16}, {"ctype": 0, "depth": 8, "trns": 1},
    {"ctype": 0, "depth": 16, "trns": 1},
    {"ctype": 2, "depth": 8}, {"ctype": 2, "depth": 16}, {"ctype": 2, "depth": 8, "trns": 1},
    {"ctype": 3, "depth": 1}, {"ctype": 3, "depth": 4}, {"ctype": 3, "depth": 8},
    {"ctype": 3, "depth": 8, "trns": 1},
    {"ctype": 4, "depth": 8}, {"ctype": 4, "depth": 16},
    {"ctype": 6, "depth": 8}, {"ctype": 6, "depth": 16},
]
JPEG_KINDS = [
    {"jmode": "RGB", "sub": 0}, {"jmode": "RGB", "sub": 2}, {"jmode": "RGB", "sub": 1},
    {"jmode": "L"}, {"jmode": "CMYK"}, {"jmode": "RGB", "sub": 2, "progressive": 1},
    {"jmode": "RGB", "sub": 1, "patch440": 1},
]


def raw(im):
    return np.asarray(im).astype(np.uint8)


def case(tensors, name, data, kind, sizes):
    """Adds one case; tensors maps name -> uint8 array."""
    tensors[name + "/file"] = np.frombuffer(data, np.uint8)
    im = Image.open(io.BytesIO(data))
    im.load()
    c = {"name": name, "kind": kind, "pil_mode": im.mode, "w": im.size[0], "h": im.size[1], "sizes": sizes}
    tensors[name + "/rgb"] = raw(Image.open(io.BytesIO(data)).convert("RGB"))
    tensors[name + "/l"] = raw(Image.open(io.BytesIO(data)).convert("L"))
    for w, h in sizes:
        r = Image.open(io.BytesIO(data)).resize((w, h), Image.BICUBIC).convert("RGB")
        tensors[f"{name}/bicubic.{w}x{h}"] = raw(r)
        m = np.array(Image.open(io.BytesIO(data)).convert("L")) > 0
        m = Image.fromarray(m.astype(np.uint8) * 255, mode="L").resize((w, h), Image.BILINEAR)
        tensors[f"{name}/mask.{w}x{h}"] = raw(m)
    return c


def write_safetensors(path, tensors, metadata):
    header, off, blobs = {"__metadata__": metadata}, 0, []
    for k in sorted(tensors):
        a = np.ascontiguousarray(tensors[k])
        header[k] = {"dtype": "U8", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main():
    out, nrand, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    cases, tensors = [], {}
    # Fixed small cases: every kind once, one downsample and one upsample.
    for i, k in enumerate(PNG_KINDS):
        w, h = rng.randint(9, 23), rng.randint(9, 23)
        cases.append(case(tensors, f"p{i:02d}.png", make_png(rng, k, w, h), k, [(rng.randint(3, 8), rng.randint(3, 8)), (rng.randint(24, 40), rng.randint(24, 40))]))
    for i, k in enumerate(JPEG_KINDS):
        w, h = rng.randint(17, 33), rng.randint(17, 33)
        cases.append(case(tensors, f"j{i:02d}.jpg", make_jpeg(rng, k, w, h), k, [(rng.randint(5, 12), rng.randint(5, 12))]))
    for i in range(nrand):
        kinds = PNG_KINDS + JPEG_KINDS
        k = kinds[rng.randrange(len(kinds))]
        w, h = rng.randint(1, 90), rng.randint(1, 90)
        sizes = [(rng.randint(1, 130), rng.randint(1, 130)) for _ in range(3)] + [(w, h)]
        png = "ctype" in k
        data = make_png(rng, k, w, h) if png else make_jpeg(rng, k, w, h)
        cases.append(case(tensors, f"r{i:04d}" + (".png" if png else ".jpg"), data, k, sizes))
    write_safetensors(out, tensors, {"pillow": Image.__version__, "cases": json.dumps(cases)})


main()
