#!/usr/bin/env python3
"""PyTorch reference timings on the GPU, same shapes as server/gpu's Go
benchmarks: ViT-L/14 vision tower (width 1024, 24 layers, 16 heads, MLP
4096, QuickGELU, random weights) at 336 and 518 px, batch 1 and 32, images/s
in exact FP32 and TF32; and the tower part of the DAPO training step at
518 px batch 8 (4 prompt rows, frozen weights, backward to the input).

With --dapo: instead, one whole DAPO training step as the reference trains
(server/gpu BenchmarkDAPOTrainStep's shapes): ViT-L/14 at 518 px, batch 8,
20 defect classes × 10 prompt groups through the text tower (width 768, 12
layers) with learned context and deep text prompts, deep visual prompts in
all 24 vision blocks, 4 feature layers with linear adapters, the head
(similarity, softmax, bilinear upsampling to 518, focal + 2 dice terms per
layer, image CE) and Adam; plain autograd (no checkpointing), random
weights.

Usage: bench_torch_gpu.py [--out results.json] [--iters N] [--dapo]
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


class TBlock(nn.Module):
    """Block with explicit width/heads/MLP (the text tower's 768/12/3072)."""

    def __init__(self, w, heads, mlp):
        super().__init__()
        self.w, self.heads = w, heads
        self.ln_1, self.ln_2 = nn.LayerNorm(w), nn.LayerNorm(w)
        self.in_proj, self.out_proj = nn.Linear(w, 3 * w), nn.Linear(w, w)
        self.c_fc, self.c_proj = nn.Linear(w, mlp), nn.Linear(mlp, w)

    def forward(self, x):
        b, l, w = x.shape
        qkv = self.in_proj(self.ln_1(x)).view(b, l, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
        x = x + self.out_proj(a.transpose(1, 2).reshape(b, l, w))
        h = self.c_fc(self.ln_2(x))
        return x + self.c_proj(h * torch.sigmoid(1.702 * h))


def dapo_step_case(dev, prec, iters):
    """One DAPO training step (see the module doc); returns s/step."""
    size, batch, defects, prompts, ctx = 518, 8, 20, 10, 77
    n_ctx, n_txt, n_vis, layers = 5, 4, 4, (6, 12, 18, 24)
    tw, tl, th, temp, alpha = 768, 12, 12, 0.07, 0.01
    classes = 1 + defects
    vision = Vision(size).to(dev).requires_grad_(False)
    text = nn.ModuleList(TBlock(tw, th, 4 * tw) for _ in range(tl)).to(dev).requires_grad_(False)
    tok = (torch.randn(classes * prompts, ctx, tw, device=dev) * 0.02)  # embedded templates
    pos = torch.randn(ctx, tw, device=dev) * 0.01
    ln_final = nn.LayerNorm(tw).to(dev).requires_grad_(False)
    tproj = torch.randn(tw, EMBED, device=dev) * 0.02
    eot = torch.full((classes * prompts,), 8, device=dev)
    P = lambda *s: nn.Parameter(torch.randn(*s, device=dev) * 0.02)
    ctx_n, ctx_a = P(prompts, n_ctx, tw), P(prompts, n_ctx, tw)
    deep_t = P(tl, n_txt, tw)
    deep_v = P(LAYERS, n_vis, W)
    adapters = nn.ModuleList(nn.Linear(W, EMBED) for _ in layers).to(dev)
    params = [ctx_n, ctx_a, deep_t, deep_v, *adapters.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3, betas=(0.5, 0.999))
    px = torch.randn(batch, 3, size, size, device=dev)
    label = torch.arange(batch, device=dev) % 2
    gt = torch.zeros(batch, size, size, dtype=torch.long, device=dev)
    for i in range(batch):
        if label[i]:
            gt[i, size // 4:size // 2, size // 4:size // 2] = 1 + i % defects
    gt_b = (gt > 0).float()
    g = size // PATCH

    def blend(x, tokens):
        b = x.shape[0]
        n = tokens.shape[0]
        return torch.cat([x[:, :1], alpha * x[:, 1:1 + n] + (1 - alpha) * tokens.expand(b, n, -1), x[:, 1 + n:]], 1)

    def dice(p, t):
        inter = (p * t).flatten(1).sum(1)
        return 1 - ((2 * inter + 1) / (p.flatten(1).sum(1) + t.flatten(1).sum(1) + 1)).mean()

    def step():
        # Text: learned context after SOT, deep tokens inserted then blended.
        rows = classes * prompts
        c = torch.cat([ctx_n.expand(1, -1, -1, -1).reshape(prompts, n_ctx, tw),
                       ctx_a.expand(defects, -1, -1, -1).reshape(defects * prompts, n_ctx, tw)], 0)
        x = torch.cat([tok[:, :1], c, tok[:, 1 + n_ctx:]], 1) + pos
        for k, blk in enumerate(text):
            if k == 0:
                x = torch.cat([x[:, :1], deep_t[0].expand(rows, -1, -1), x[:, 1:]], 1)
            else:
                x = blend(x, deep_t[k])
            x = blk(x)
        t = ln_final(x[torch.arange(rows, device=dev), eot]) @ tproj
        t = t.view(classes, prompts, EMBED).mean(1)
        t = t / t.norm(dim=-1, keepdim=True)
        # Vision with deep prompts; feature-layer patch tokens → adapters.
        v = vision.embed(px)
        feats = []
        for k, blk in enumerate(vision.blocks):
            if k == 0:
                v = torch.cat([v[:, :1], deep_v[0].expand(batch, -1, -1), v[:, 1:]], 1)
            else:
                v = blend(v, deep_v[k])
            v = blk(v)
            if k + 1 in layers:
                feats.append(adapters[layers.index(k + 1)](v[:, 1 + n_vis:]))
        gl = vision.ln_post(v[:, 0]) @ vision.proj
        gl = gl / gl.norm(dim=-1, keepdim=True)
        a = t[1:].mean(0)
        a = a / a.norm()
        logits = gl @ torch.stack([t[0], a]).T / temp
        loss = F.cross_entropy(logits, label)
        onehot = F.one_hot(gt, classes).permute(0, 3, 1, 2).float().clamp(1e-5 / (classes - 1), 1 - 1e-5)
        for f in feats:
            f = f / f.norm(dim=-1, keepdim=True)
            p = torch.softmax(f @ t.T / temp, -1).transpose(1, 2).reshape(batch, classes, g, g)
            u = F.interpolate(p, size=(size, size), mode="bilinear", align_corners=True)
            pt = (u * onehot).sum(1) + 1e-5
            focal = (-(1 - pt) ** 2 * pt.log()).mean()
            loss = loss + 4 * (focal + dice(u[:, 0], 1 - gt_b) + dice(u[:, 1:].sum(1), gt_b))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    sec = timed(step, iters)
    del vision, text
    torch.cuda.empty_cache()
    return sec


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
    ap.add_argument("--dapo", action="store_true", help="only the whole DAPO training step")
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
        if args.dapo:
            sec = dapo_step_case(dev, prec, args.iters)
            r = {"case": "dapo_train_step", "precision": prec, "size": 518, "batch": 8, "defects": 20, "s_per_step": sec}
            print(json.dumps(r), flush=True)
            results.append(r)
            continue
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
