#!/usr/bin/env python3
"""PyTorch side of `make bench`: the CLIP vision tower with random weights,
batch 1, timed the same way as `dapo bench vision` (median seconds per image);
with --text the text tower's blocks over DAPO's prompt batch, timed like
`dapo bench text`; with --sgemm N the BLAS SGEMM rate at N×N×N (torch.mm,
OpenBLAS in Debian's python3-torch).

The tower is written out here (conv1, class token, positional embedding,
ln_pre, pre-LN blocks with nn.MultiheadAttention and QuickGELU, ln_post, proj)
because open_clip is not packaged for Debian; it is the same computation.
Run with Debian's /usr/bin/python3 (python3-torch).
"""
import argparse
import json
import os
import statistics
import time

import torch
from torch import nn

CONFIGS = {
    "ViT-B-16": dict(width=768, layers=12, patch=16, image=224, embed=512),
    "ViT-B-32": dict(width=768, layers=12, patch=32, image=224, embed=512),
    "ViT-L-14": dict(width=1024, layers=24, patch=14, image=224, embed=768),
    "ViT-L-14-336": dict(width=1024, layers=24, patch=14, image=336, embed=768),
}

# Text towers (open_clip): width and layers; heads are width/64.
TEXT = {
    "ViT-B-16": dict(width=512, layers=12),
    "ViT-B-32": dict(width=512, layers=12),
    "ViT-L-14": dict(width=768, layers=12),
    "ViT-L-14-336": dict(width=768, layers=12),
}


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.ln_1 = nn.LayerNorm(w)
        self.attn = nn.MultiheadAttention(w, w // 64)
        self.ln_2 = nn.LayerNorm(w)
        self.mlp = nn.Sequential(nn.Linear(w, 4 * w), QuickGELU(), nn.Linear(4 * w, w))

    def forward(self, x):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class Vision(nn.Module):
    def __init__(self, width, layers, patch, image, embed):
        super().__init__()
        g = image // patch
        self.conv1 = nn.Conv2d(3, width, patch, patch, bias=False)
        self.cls = nn.Parameter(torch.randn(width) * width**-0.5)
        self.pos = nn.Parameter(torch.randn(g * g + 1, width) * width**-0.5)
        self.ln_pre = nn.LayerNorm(width)
        self.blocks = nn.Sequential(*[Block(width) for _ in range(layers)])
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.randn(width, embed) * width**-0.5)

    def forward(self, x):
        x = self.conv1(x).flatten(2).transpose(1, 2)
        cls = self.cls.expand(x.shape[0], 1, -1)
        x = self.ln_pre(torch.cat([cls, x], 1) + self.pos)
        x = self.blocks(x.transpose(0, 1)).transpose(0, 1)
        return self.ln_post(x[:, 0]) @ self.proj


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--config", default="ViT-B-16", help="one of %s (a -quickgelu suffix is accepted; the tower always uses QuickGELU)" % ", ".join(sorted(CONFIGS)))
    p.add_argument("--image-size", type=int, default=0)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--n", type=int, default=5)
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")
    p.add_argument("--text", action="store_true", help="time the text tower's blocks over --sequences × --tokens (no mask, as DAPO's prompt encoder)")
    p.add_argument("--sequences", type=int, default=210)
    p.add_argument("--tokens", type=int, default=81)
    p.add_argument("--sgemm", type=int, default=0, metavar="N", help="time an N×N×N float32 matrix product instead")
    a = p.parse_args()
    # Debian's torch may start with one thread: use every core, as the Go
    # side does, unless told otherwise.
    torch.set_num_threads(a.threads or os.cpu_count())
    if a.sgemm:
        return bench_sgemm(a)
    name = a.config.removesuffix("-quickgelu")
    if name not in CONFIGS:
        p.error("unknown config %r" % a.config)
    if a.text:
        return bench_text(a, name)
    cfg = dict(CONFIGS[name])
    if a.image_size:
        cfg["image"] = a.image_size
    torch.manual_seed(0)
    model = Vision(**cfg).eval()
    x = torch.randn(a.batch, 3, cfg["image"], cfg["image"])
    times = []
    with torch.no_grad():
        model(x)  # warm-up
        for _ in range(a.n):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) / a.batch)
    print(json.dumps({
        "config": a.config, "image_size": cfg["image"], "batch": a.batch,
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "median_seconds_per_image": statistics.median(times),
    }))


def timed(f, n):
    """Median seconds of n calls of f after one warm-up."""
    with torch.no_grad():
        f()
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            f()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_text(a, name):
    cfg = TEXT[name]
    torch.manual_seed(0)
    blocks = nn.Sequential(*[Block(cfg["width"]) for _ in range(cfg["layers"])]).eval()
    x = torch.randn(a.tokens, a.sequences, cfg["width"])  # sequence-first, as nn.MultiheadAttention
    med = timed(lambda: blocks(x), a.n)
    print(json.dumps({
        "config": a.config, "sequences": a.sequences, "tokens": a.tokens,
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "median_seconds": med,
    }))


def bench_sgemm(a):
    n = a.sgemm
    torch.manual_seed(0)
    x, y = torch.randn(n, n), torch.randn(n, n)
    med = timed(lambda: torch.mm(x, y), a.n)
    print(json.dumps({
        "n": n, "threads": torch.get_num_threads(), "torch": torch.__version__,
        "median_seconds": med, "gflops_per_second": 2 * n**3 / med / 1e9,
    }))


if __name__ == "__main__":
    main()
