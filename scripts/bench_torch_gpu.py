#!/usr/bin/env python3
"""PyTorch reference timings on the GPU, same shapes as server/gpu's Go
benchmarks: ViT-L/14 vision tower (width 1024, 24 layers, 16 heads, MLP
4096, QuickGELU, random weights) at 336 and 518 px, batch 1 and 32, images/s
in exact FP32 and TF32; and the tower part of the DAPO training step at
518 px batch 8 (4 prompt rows, frozen weights, backward to the input).

Usage: bench_torch_gpu.py [--out results.json] [--iters N]
Needs only torch with CUDA. Prints one JSON line per case.
"""
import argparse, json, time, sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint

W, LAYERS, HEADS, MLP, PATCH, EMBED = 1024, 24, 16, 4096, 14, 768


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(W)
        self.in_proj = nn.Linear(W, 3 * W)
        self.out_proj = nn.Linear(W, W)
        self.ln_2 = nn.LayerNorm(W)
        self.c_fc = nn.Linear(W, MLP)
        self.c_proj = nn.Linear(MLP, W)

    def forward(self, x):
        b, l, _ = x.shape
        qkv = self.in_proj(self.ln_1(x)).view(b, l, 3, HEADS, W // HEADS).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
        x = x + self.out_proj(a.transpose(1, 2).reshape(b, l, W))
        h = self.c_fc(self.ln_2(x))
        h = h * torch.sigmoid(1.702 * h)  # QuickGELU
        return x + self.c_proj(h)


class Vision(nn.Module):
    def __init__(self, size):
        super().__init__()
        g = size // PATCH
        self.conv1 = nn.Conv2d(3, W, PATCH, PATCH, bias=False)
        self.cls = nn.Parameter(torch.randn(W) * 0.02)
        self.pos = nn.Parameter(torch.randn(1 + g * g, W) * 0.02)
        self.ln_pre = nn.LayerNorm(W)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln_post = nn.LayerNorm(W)
        self.proj = nn.Parameter(torch.randn(W, EMBED) * 0.02)

    def embed(self, px):
        x = self.conv1(px).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], 1, W), x], 1) + self.pos
        return self.ln_pre(x)

    def blocks_forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return x

    def forward(self, px):
        x = self.blocks_forward(self.embed(px))
        return self.ln_post(x[:, 0]) @ self.proj


def set_tf32(on):
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


def timed(fn, iters):
    fn()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(iters):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t) / iters


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="")
    ap.add_argument("--iters", type=int, default=5)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA GPU visible to PyTorch", file=sys.stderr)
        sys.exit(1)
    dev = torch.device("cuda")
    results = []
    info = {"torch": torch.__version__, "gpu": torch.cuda.get_device_name(0), "cuda": torch.version.cuda}
    print(json.dumps(info), flush=True)
    for prec in ("f32", "tf32"):
        set_tf32(prec == "tf32")
        for size in (336, 518):
            model = Vision(size).to(dev).eval().requires_grad_(False)
            for batch in (1, 32):
                px = torch.randn(batch, 3, size, size, device=dev)
                with torch.no_grad():
                    sec = timed(lambda: model(px), args.iters)
                r = {"case": "encode", "precision": prec, "size": size, "batch": batch, "images_per_s": batch / sec}
                print(json.dumps(r), flush=True)
                results.append(r)
            if size == 518:
                batch, prompts = 8, 4
                px = torch.randn(batch, 3, size, size, device=dev)
                p = torch.randn(prompts, W, device=dev, requires_grad=True)

                def step():
                    x = model.embed(px)
                    x = torch.cat([x[:, :1], p.expand(batch, prompts, W), x[:, 1:]], 1)
                    # checkpointed like dapo: recompute each block in backward
                    for blk in model.blocks:
                        x = torch.utils.checkpoint.checkpoint(blk, x, use_reentrant=False)
                    x.sum().backward()

                sec = timed(step, max(2, args.iters // 2))
                r = {"case": "train_step_tower", "precision": prec, "size": size, "batch": batch, "s_per_step": sec}
                print(json.dumps(r), flush=True)
                results.append(r)
            del model
            torch.cuda.empty_cache()
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"info": info, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
