#!/usr/bin/env python3
"""One DAPO training step in plain PyTorch autograd: the PyTorch twin of
server/train's Step (`go test -bench TrainStep/cpu-step ./server/train`).

The step is the reference's (train.py of boschresearch/defect-aware-prompt-
optimization, see docs in shared/docs/dapo-spec.md):

- text side: templates "X×n flawless object" (P groups) and "X×n <defect>
  anomaly object" (P groups per defect), embedded with the frozen token
  embedding, positions 1..n replaced by the learned context, + positional
  embedding; 4 deep tokens inserted after SOT before block 1 and blended
  (0.01·previous output + 0.99·T_k) before every later block; no attention
  mask; ln_final; row argmax(ids) of the 81-token sequence; @ text_projection;
  mean over the P groups; L2 norm;
- vision side: conv1, class token, positional embedding, ln_pre; deep visual
  tokens inserted after CLS and blended the same way; the block outputs of
  the feature layers without CLS and prompt tokens go through per-layer
  linear adapters; global = ln_post(CLS) @ proj, L2 norm;
- head: similarity / temperature, softmax over the 1+S classes per patch,
  bilinear upsampling (align_corners=True), focal + two binary dice losses
  per layer (weight 4), 2-way image cross-entropy (weight 1);
- torch.optim.Adam (lr 1e-3, betas (0.5, 0.999), eps 1e-8) over the learned
  tensors only.

The CLIP blocks are written out (pre-LN, fused in_proj, QuickGELU or exact
GELU) because open_clip is not packaged for Debian. The frozen CLIP weights
do not require gradients (the reference leaves requires_grad on and throws
those gradients away; --backbone-grad does that too).

Modes:
  --golden DIR   load the golden set's backbone, initial DAPO parameters and
                 step inputs, run its training steps and compare losses,
                 gradients and updated parameters with train_step.safetensors
                 under tolerances.json; exit 1 on a mismatch.
  --bench        random weights of --config (ViT-B-16[-quickgelu], ...) with
                 the DAPO config the Go benchmark uses (server/train
                 bench_test.go: dapo.Default with MVTec's 20 training states,
                 depth = vision layers, text depth = text layers, feature
                 layers n/4, n/2, 3n/4, n), and the Go benchmark's synthetic
                 batch; prints JSON with the median seconds per step.

Run with Debian's /usr/bin/python3 (python3-torch, numpy); no other packages.
"""
import argparse
import gzip
import json
import math
import os
import re
import resource
import statistics
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# ---------------------------------------------------------------- safetensors

_DT = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "F16": np.float16,
       "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def read_safetensors(path):
    """name -> numpy array (little-endian, C order); __metadata__ is skipped."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        dt = np.dtype(_DT[info["dtype"]]).newbyteorder("<")
        out[name] = np.frombuffer(buf, dtype=dt, count=(b - a) // dt.itemsize, offset=base + a).reshape(info["shape"]).copy()
    return out


# ------------------------------------------------------------------ tokenizer


class Tokenizer:
    """open_clip's SimpleTokenizer for plain lower-case words (all DAPO
    templates are): byte-level BPE over the vocabulary the Go tokenizer
    embeds (shared/tokenizer/bpe_simple_vocab_16e6.txt.gz)."""

    SOT, EOT = 49406, 49407

    def __init__(self, path=None):
        path = path or os.path.join(REPO, "shared", "tokenizer", "bpe_simple_vocab_16e6.txt.gz")
        lines = gzip.open(path, "rt", encoding="utf-8").read().split("\n")
        merges = [tuple(m.split()) for m in lines[1:49152 - 256 - 2 + 1]]
        bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
        cs = bs[:]
        k = 0
        for b in range(256):
            if b not in bs:
                bs.append(b)
                cs.append(256 + k)
                k += 1
        self.byte_sym = dict(zip(bs, [chr(c) for c in cs]))
        vocab = [self.byte_sym[b] for b in bs]
        vocab += [v + "</w>" for v in vocab]
        vocab += ["".join(m) for m in merges]
        vocab += ["<start_of_text>", "<end_of_text>"]
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.ranks = dict(zip(merges, range(len(merges))))

    def bpe(self, token):
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            first, second = best
            new, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                    new.append(first + second)
                    i += 2
                else:
                    new.append(word[i])
                    i += 1
            word = tuple(new)
        return word

    def encode(self, text):
        ids = []
        for w in re.findall(r"[a-z]+|[0-9]|[^\sa-z0-9]+", " ".join(text.lower().split())):
            ids += [self.encoder[t] for t in self.bpe("".join(self.byte_sym[b] for b in w.encode("utf-8")))]
        return ids

    def tokenize(self, text, ctx=77):
        ids = [self.SOT] + self.encode(text) + [self.EOT]
        if len(ids) > ctx:
            raise ValueError("prompt %r does not fit %d tokens" % (text, ctx))
        return ids + [0] * (ctx - len(ids))


def templates(cfg):
    """The reference's prompt rows (server/dapo Config.Templates)."""
    normal = " ".join(["X"] * cfg["normal_token_cnt"]) + " " + cfg["normal_word"] + " " + cfg["class_word"]
    ctx = " ".join(["X"] * cfg["abnormal_token_cnt"])
    rows = [normal] * cfg["prompt_count"]
    for d in cfg["defects"]:
        rows += [ctx + " " + d + " " + cfg.get("anomaly_word", "anomaly") + " " + cfg["class_word"]] * cfg["prompt_count"]
    return rows


# --------------------------------------------------------------------- model


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def block(x, w, pre, heads, act):
    """open_clip ResidualAttentionBlock, batch-first x [N, L, W], no mask."""
    n, l, d = x.shape
    hd = d // heads
    h = F.layer_norm(x, (d,), w[pre + "ln_1.weight"], w[pre + "ln_1.bias"], 1e-5)
    qkv = F.linear(h, w[pre + "attn.in_proj_weight"], w[pre + "attn.in_proj_bias"])
    qkv = qkv.view(n, l, 3, heads, hd).permute(2, 0, 3, 1, 4)  # [3, N, H, L, hd]
    q, k, v = qkv[0], qkv[1], qkv[2]
    att = torch.softmax(torch.matmul(q * (hd ** -0.5), k.transpose(-1, -2)), dim=-1)
    o = torch.matmul(att, v).transpose(1, 2).reshape(n, l, d)
    x = x + F.linear(o, w[pre + "attn.out_proj.weight"], w[pre + "attn.out_proj.bias"])
    h = F.layer_norm(x, (d,), w[pre + "ln_2.weight"], w[pre + "ln_2.bias"], 1e-5)
    h = act(F.linear(h, w[pre + "mlp.c_fc.weight"], w[pre + "mlp.c_fc.bias"]))
    return x + F.linear(h, w[pre + "mlp.c_proj.weight"], w[pre + "mlp.c_proj.bias"])


def blend(x, tokens, alpha):
    """Rows 1..n := alpha·x[rows] + (1-alpha)·tokens (the progressive deep prompt)."""
    n = tokens.shape[0]
    return torch.cat([x[:, :1], alpha * x[:, 1:1 + n] + (1 - alpha) * tokens, x[:, 1 + n:]], 1)


def insert(x, tokens):
    return torch.cat([x[:, :1], tokens.unsqueeze(0).expand(x.shape[0], -1, -1), x[:, 1:]], 1)


def encode_text(w, p, cfg, mc, ids, act):
    """DAPO prompt encoder -> unit-norm text features [(1+S), E]."""
    P, S = cfg["prompt_count"], len(cfg["defects"])
    nn_, na = cfg["normal_token_cnt"], cfg["abnormal_token_cnt"]
    emb = w["token_embedding.weight"][ids]  # [N, 77, Dt]
    dt = emb.shape[-1]
    normal = torch.cat([emb[:P, :1], p["prompt_learner.learnable_normal_tokens"], emb[:P, 1 + nn_:]], 1)
    ab = p["prompt_learner.learnable_abnormal_tokens"].unsqueeze(0).expand(S, -1, -1, -1).reshape(S * P, na, dt)
    abnormal = torch.cat([emb[P:, :1], ab, emb[P:, 1 + na:]], 1)
    x = torch.cat([normal, abnormal], 0) + w["positional_embedding"]
    layers, heads = mc["text_cfg"]["layers"], mc["text_cfg"]["heads"]
    alpha = cfg["alpha_blend"]
    for i in range(layers):
        t = p["prompt_learner.learnable_layer_tokens.%d" % i]
        x = insert(x, t) if i == 0 else blend(x, t, alpha)
        x = block(x, w, "transformer.resblocks.%d." % i, heads, act)
    # ln_final is per row: only the read-out rows are needed.
    rows = x[torch.arange(x.shape[0]), ids.argmax(-1)]
    rows = F.layer_norm(rows, (dt,), w["ln_final.weight"], w["ln_final.bias"], 1e-5)
    f = (rows @ w["text_projection"]).view(1 + S, P, -1).mean(1)
    return f / f.norm(dim=-1, keepdim=True)


def encode_image(w, p, cfg, mc, pixels, act):
    """DAPO vision side -> (unit-norm global [B, E], [patch tokens [B, G·G, Wv] per feature layer])."""
    vc = mc["vision_cfg"]
    width = vc["width"]
    heads = width // vc.get("head_width", 64)
    x = F.conv2d(pixels, w["visual.conv1.weight"], stride=vc["patch_size"])
    b = x.shape[0]
    x = x.flatten(2).transpose(1, 2)  # [B, G·G, Wv], row-major patches
    x = torch.cat([w["visual.class_embedding"].view(1, 1, -1).expand(b, 1, -1), x], 1) + w["visual.positional_embedding"]
    x = F.layer_norm(x, (width,), w["visual.ln_pre.weight"], w["visual.ln_pre.bias"], 1e-5)
    vt = p["visual_prompt.learnable_visual_tokens"]
    npt = vt.shape[1]
    feats = []
    for i in range(vc["layers"]):
        x = insert(x, vt[0]) if i == 0 else blend(x, vt[i], cfg["alpha_blend"])
        x = block(x, w, "visual.transformer.resblocks.%d." % i, heads, act)
        if i + 1 in cfg["feature_layers"]:
            feats.append(x[:, 1 + npt:])
    g = F.layer_norm(x[:, 0], (width,), w["visual.ln_post.weight"], w["visual.ln_post.bias"], 1e-5) @ w["visual.proj"]
    return g / g.norm(dim=-1, keepdim=True), feats


def focal(probs, target, gamma=2.0, smooth=1e-5):
    """AnomalyCLIP/DAPO FocalLoss on probabilities [B, C, H, W] and int64 target [B, 1, H, W]."""
    c = probs.shape[1]
    p = probs.permute(0, 2, 3, 1).reshape(-1, c)
    onehot = torch.zeros_like(p).scatter_(1, target.reshape(-1, 1), 1.0)
    onehot = onehot.clamp(smooth / (c - 1), 1.0 - smooth)
    pt = (onehot * p).sum(1) + smooth
    return (-torch.pow(1.0 - pt, gamma) * pt.log()).mean()


def dice(inp, tgt):
    n = tgt.shape[0]
    i, t = inp.reshape(n, -1), tgt.reshape(n, -1)
    d = (2 * (i * t).sum(1) + 1) / (i.sum(1) + t.sum(1) + 1)
    return 1 - d.sum() / n


def step_loss(w, p, cfg, mc, ids, pixels, gt, gt_b, label, act, weights=(4.0, 1.0)):
    """Forward of one training step -> (total loss, named loss terms, image logits)."""
    tau = cfg["temperature"]
    text = encode_text(w, p, cfg, mc, ids, act)
    g, feats = encode_image(w, p, cfg, mc, pixels, act)
    a = text[1:].mean(0)
    pair = torch.stack([text[0], a / a.norm()])
    logits = g @ pair.t() / tau
    ce = F.cross_entropy(logits, label)
    b, size = pixels.shape[0], pixels.shape[-1]
    grid = mc["vision_cfg"]["image_size"] // mc["vision_cfg"]["patch_size"]
    gt_bf = gt_b.to(pixels.dtype)
    terms = {"loss.image_ce": ce}
    local = 0.0
    for i, (l, f) in enumerate(zip(cfg["feature_layers"], feats)):
        fa = F.linear(f, p["linear_adapter.fc.%d.weight" % i], p["linear_adapter.fc.%d.bias" % i])
        fa = fa / fa.norm(dim=-1, keepdim=True)
        probs = torch.softmax(fa @ text.t() / tau, dim=-1)  # [B, G·G, C]
        probs = probs.transpose(1, 2).reshape(b, -1, grid, grid)
        up = F.interpolate(probs, size=(size, size), mode="bilinear", align_corners=True)
        fl = focal(up, gt)
        dn = dice(up[:, 0], 1 - gt_bf)
        da = dice(up[:, 1:].sum(1), gt_bf)
        terms["loss.layer%d.focal" % l], terms["loss.layer%d.dice_normal" % l], terms["loss.layer%d.dice_anomaly" % l] = fl, dn, da
        local = local + fl + dn + da
    terms["loss.local_unweighted"] = local
    terms["loss.local"] = weights[0] * local
    total = terms["loss.local"] + weights[1] * ce
    terms["loss.total"] = total
    return total, terms, logits


def learned_names(cfg, mc):
    names = ["prompt_learner.learnable_normal_tokens", "prompt_learner.learnable_abnormal_tokens"]
    names += ["prompt_learner.learnable_layer_tokens.%d" % i for i in range(mc["text_cfg"]["layers"])]
    names += ["linear_adapter.fc.%d.%s" % (i, k) for i in range(len(cfg["feature_layers"])) for k in ("weight", "bias")]
    names += ["visual_prompt.learnable_visual_tokens"]
    return names


def check_config(cfg, mc):
    # The reference's hard-coded deep text token length is 4, and this
    # script (like the configs it is used with) keeps deep prompts on every
    # block of both towers.
    if cfg["layer_token_cnt"] != 4:
        raise SystemExit("layer_token_cnt must be 4 (hard-coded in the reference)")
    if cfg["depth"] != mc["vision_cfg"]["layers"] or cfg["text_depth"] != mc["text_cfg"]["layers"]:
        raise SystemExit("depth/text_depth must equal the tower depths")


def activation(mc):
    return quick_gelu if mc.get("quick_gelu") else (lambda x: F.gelu(x))


# -------------------------------------------------------------------- golden


def tolerance(tols, key, golden):
    t = tols["tensors"][key]["suggested_atol"]
    if isinstance(t, str) and t.startswith("rel:"):
        return float(t[4:]) * float(np.abs(golden).max())
    return float(t)


def run_golden(d):
    torch.set_num_threads(os.cpu_count())
    gj = json.load(open(os.path.join(d, "golden.json")))
    cfg = gj["dapo_config"]
    mc = json.load(open(os.path.join(d, "model_config.json")))
    check_config(cfg, mc)
    tols = json.load(open(os.path.join(d, "tolerances.json")))
    w = {k: torch.from_numpy(v) for k, v in read_safetensors(os.path.join(d, "backbone.safetensors")).items()}
    init = read_safetensors(os.path.join(d, "dapo_params_init.safetensors"))
    pre = read_safetensors(os.path.join(d, "preprocess.safetensors"))
    ts = read_safetensors(os.path.join(d, "train_step.safetensors"))
    fw = read_safetensors(os.path.join(d, "dapo_forward.safetensors"))
    act = activation(mc)

    tok = Tokenizer()
    ids = np.array([tok.tokenize(t, mc["text_cfg"]["context_length"]) for t in templates(cfg)], dtype=np.int64)
    failures = []
    mism = int((ids != fw["text.template_ids"]).sum())
    print("template ids vs dapo_forward text.template_ids: %d mismatches" % mism)
    if mism:
        failures.append("text.template_ids")
    ids = torch.from_numpy(ids)

    pixels = []
    i = 0
    while "image_%d.tensor" % i in pre:
        pixels.append(pre["image_%d.tensor" % i])
        i += 1
    pixels = torch.from_numpy(np.stack(pixels))
    gt, gt_b = torch.from_numpy(ts["batch.gt"]), torch.from_numpy(ts["batch.gt_b"])
    label = torch.from_numpy(ts["batch.label"])
    lw = cfg["loss_weights"]
    ad = cfg["adam"]

    names = learned_names(cfg, mc)
    p = {n: torch.from_numpy(init[n]).requires_grad_() for n in names}
    opt = torch.optim.Adam(list(p.values()), lr=ad["lr"], betas=tuple(ad["betas"]), eps=ad["eps"], weight_decay=ad.get("weight_decay", 0))

    rows = []

    def compare(key, got):
        want = ts[key]
        tol = tolerance(tols, "train_step/" + key, want)
        err = float(np.abs(np.asarray(got, dtype=np.float64) - want.astype(np.float64)).max())
        ok = err <= tol
        rows.append((key, err, tol, ok))
        if not ok:
            failures.append(key)

    s = 1
    while "step%d.loss.total" % s in ts:
        opt.zero_grad(set_to_none=True)
        total, terms, logits = step_loss(w, p, cfg, mc, ids, pixels, gt, gt_b, label, act, (lw["local"], lw["image"]))
        total.backward()
        for k, v in terms.items():
            compare("step%d.%s" % (s, k), v.detach().numpy())
        if "step%d.image_logits" % s in ts:
            compare("step%d.image_logits" % s, logits.detach().numpy())
        for n in names:
            compare("step%d.grad.%s" % (s, n), p[n].grad.numpy())
        opt.step()
        for n in names:
            compare("step%d.param.%s" % (s, n), p[n].detach().numpy())
        s += 1
    steps = s - 1
    # One line per quantity family: the largest error relative to its tolerance.
    fam = {}
    for key, err, tol, ok in rows:
        f = re.sub(r"layer\d+", "layer*", re.sub(r"fc\.\d+", "fc.*", re.sub(r"layer_tokens\.\d+", "layer_tokens.*", key)))
        if f not in fam or err / tol > fam[f][0] / fam[f][1]:
            fam[f] = (err, tol)
    for f, (err, tol) in sorted(fam.items()):
        print("%-62s max|err| %.3e  tol %.1e  %s" % (f, err, tol, "ok" if err <= tol else "FAIL"))
    ok = not failures and steps >= 1
    print(json.dumps({"golden": d, "steps": steps, "compared": len(rows), "failed": failures, "pass": ok,
                      "worst_err_over_tol": max(e / t for _, e, t, _ in rows) if rows else None}))
    return 0 if ok else 1


# --------------------------------------------------------------------- bench

# open_clip shapes, as server/modelinit's builtin configs.
CONFIGS = {
    "ViT-B-16": {"embed_dim": 512, "vision_cfg": {"image_size": 224, "layers": 12, "width": 768, "patch_size": 16},
                 "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 512, "heads": 8, "layers": 12}},
    "ViT-B-32": {"embed_dim": 512, "vision_cfg": {"image_size": 224, "layers": 12, "width": 768, "patch_size": 32},
                 "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 512, "heads": 8, "layers": 12}},
    "ViT-L-14": {"embed_dim": 768, "vision_cfg": {"image_size": 224, "layers": 24, "width": 1024, "patch_size": 14},
                 "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 768, "heads": 12, "layers": 12}},
    "ViT-L-14-336": {"embed_dim": 768, "vision_cfg": {"image_size": 336, "layers": 24, "width": 1024, "patch_size": 14},
                     "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 768, "heads": 12, "layers": 12}},
    "tiny": {"embed_dim": 32, "quick_gelu": True, "vision_cfg": {"image_size": 70, "layers": 4, "width": 64, "head_width": 16, "mlp_ratio": 4.0, "patch_size": 14},
             "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 4, "layers": 4}},
}

# shared/defects/defect-vocab.json train.mvtec.states (train.py's 20 states).
MVTEC_STATES = ["bent", "broken", "discoloration", "compound", "contamination", "crack", "cut", "fabric", "faulty imprint", "gluing",
                "hole", "missing", "puncture", "rough", "scratch", "compressed", "threading", "liquid", "misaligned", "wear"]


def model_config(name, image_size):
    base = name[:-len("-quickgelu")] if name.lower().endswith("-quickgelu") else name
    key = next((k for k in CONFIGS if k.lower() == base.lower()), None)
    if key is None:
        raise SystemExit("unknown config %r (have %s, optionally with -quickgelu)" % (name, ", ".join(CONFIGS)))
    mc = json.loads(json.dumps(CONFIGS[key]))
    if base != name:
        mc["quick_gelu"] = True
    if image_size:
        mc["vision_cfg"]["image_size"] = image_size
    return mc


def bench_dapo_config(mc):
    """server/train bench_test.go: dapo.Default(MVTec states) fitted to the backbone."""
    try:
        states = json.load(open(os.path.join(REPO, "shared", "defects", "defect-vocab.json")))["train"]["mvtec"]["states"]
    except (OSError, KeyError, ValueError):
        states = MVTEC_STATES
    n = mc["vision_cfg"]["layers"]
    return {"feature_layers": [n // 4, n // 2, 3 * n // 4, n], "depth": n, "prefix_token_cnt": 4,
            "text_depth": mc["text_cfg"]["layers"], "layer_token_cnt": 4, "normal_token_cnt": 5, "abnormal_token_cnt": 5,
            "prompt_count": 10, "defects": states, "temperature": 0.07, "alpha_blend": 0.01,
            "image_size": mc["vision_cfg"]["image_size"], "normal_word": "flawless", "class_word": "object"}


def random_weights(mc, cfg, gen):
    """Random backbone (open_clip names) and DAPO parameters of the right shapes."""
    vc, tc = mc["vision_cfg"], mc["text_cfg"]
    wv, wt, e = vc["width"], tc["width"], mc["embed_dim"]
    grid = vc["image_size"] // vc["patch_size"]
    r = lambda *s, std: torch.randn(*s, generator=gen) * std  # noqa: E731
    w = {"visual.conv1.weight": r(wv, 3, vc["patch_size"], vc["patch_size"], std=(3 * vc["patch_size"] ** 2) ** -0.5),
         "visual.class_embedding": r(wv, std=wv ** -0.5), "visual.positional_embedding": r(grid * grid + 1, wv, std=wv ** -0.5),
         "visual.proj": r(wv, e, std=wv ** -0.5), "token_embedding.weight": r(tc["vocab_size"], wt, std=0.02),
         "positional_embedding": r(tc["context_length"], wt, std=0.01), "text_projection": r(wt, e, std=wt ** -0.5)}
    for pre in ("visual.ln_pre.", "visual.ln_post.", "ln_final."):
        width = wt if pre == "ln_final." else wv
        w[pre + "weight"], w[pre + "bias"] = torch.ones(width), torch.zeros(width)
    for tower, width, layers in (("visual.transformer", wv, vc["layers"]), ("transformer", wt, tc["layers"])):
        hidden = int(width * mc.get("vision_cfg" if tower.startswith("visual") else "text_cfg").get("mlp_ratio", 4.0))
        for i in range(layers):
            pre = "%s.resblocks.%d." % (tower, i)
            for ln in ("ln_1.", "ln_2."):
                w[pre + ln + "weight"], w[pre + ln + "bias"] = torch.ones(width), torch.zeros(width)
            w[pre + "attn.in_proj_weight"], w[pre + "attn.in_proj_bias"] = r(3 * width, width, std=width ** -0.5), torch.zeros(3 * width)
            w[pre + "attn.out_proj.weight"], w[pre + "attn.out_proj.bias"] = r(width, width, std=(width * 2 * layers) ** -0.5), torch.zeros(width)
            w[pre + "mlp.c_fc.weight"], w[pre + "mlp.c_fc.bias"] = r(hidden, width, std=width ** -0.5), torch.zeros(hidden)
            w[pre + "mlp.c_proj.weight"], w[pre + "mlp.c_proj.bias"] = r(width, hidden, std=(hidden * 2 * layers) ** -0.5), torch.zeros(width)
    P = cfg["prompt_count"]
    v = math.sqrt(6.0 / (3 * vc["patch_size"] ** 2 + wv))
    u = lambda *s, bound: (torch.rand(*s, generator=gen) * 2 - 1) * bound  # noqa: E731
    p = {"prompt_learner.learnable_normal_tokens": r(P, cfg["normal_token_cnt"], wt, std=0.02),
         "prompt_learner.learnable_abnormal_tokens": r(P, cfg["abnormal_token_cnt"], wt, std=0.02),
         "visual_prompt.learnable_visual_tokens": u(cfg["depth"], cfg["prefix_token_cnt"], wv, bound=v)}
    for i in range(cfg["text_depth"]):
        p["prompt_learner.learnable_layer_tokens.%d" % i] = r(cfg["layer_token_cnt"], wt, std=0.02)
    for i in range(len(cfg["feature_layers"])):
        p["linear_adapter.fc.%d.weight" % i] = u(e, wv, bound=wv ** -0.5)
        p["linear_adapter.fc.%d.bias" % i] = u(e, bound=wv ** -0.5)
    return w, p


def run_bench(a):
    torch.set_num_threads(a.threads or os.cpu_count())
    mc = model_config(a.config, a.image_size)
    cfg = bench_dapo_config(mc)
    check_config(cfg, mc)
    gen = torch.Generator().manual_seed(1)
    w, p0 = random_weights(mc, cfg, gen)
    if a.backbone_grad:
        for t in w.values():
            t.requires_grad_()
    names = learned_names(cfg, mc)
    p = {n: p0[n].requires_grad_() for n in names}
    tok = Tokenizer()
    ids = torch.tensor([tok.tokenize(t, mc["text_cfg"]["context_length"]) for t in templates(cfg)], dtype=torch.int64)
    # The Go benchmark's batch (server/train bench_test.go benchStep).
    b, s = a.batch, mc["vision_cfg"]["image_size"]
    pixels = (torch.arange(b * 3 * s * s) % 97).float().div(48).sub(1).view(b, 3, s, s)
    label = torch.zeros(b, dtype=torch.int64)
    label[0] = 1
    gt = torch.zeros(b * s * s, dtype=torch.int64)
    gt[: s * s // 4] = 3
    gt_b = (gt > 0).long()
    gt, gt_b = gt.view(b, 1, s, s), gt_b.view(b, 1, s, s)
    opt = torch.optim.Adam(list(p.values()), lr=1e-3, betas=(0.5, 0.999), eps=1e-8)
    act = activation(mc)

    def step():
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        if a.backbone_grad:
            for t in w.values():
                t.grad = None
        total, _, _ = step_loss(w, p, cfg, mc, ids, pixels, gt, gt_b, label, act)
        t1 = time.perf_counter()
        total.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        return t3 - t0, t1 - t0, t2 - t1, float(total)

    warm = step()
    runs = [step() for _ in range(a.n)]
    print(json.dumps({
        "config": a.config, "image_size": s, "batch": b, "text_sequences": int(ids.shape[0]),
        "text_tokens": int(ids.shape[1]) + cfg["layer_token_cnt"], "feature_layers": cfg["feature_layers"],
        "backbone_grad": a.backbone_grad, "threads": torch.get_num_threads(), "torch": torch.__version__, "n": a.n,
        "median_seconds_per_step": statistics.median(r[0] for r in runs),
        "median_forward_seconds": statistics.median(r[1] for r in runs),
        "median_backward_seconds": statistics.median(r[2] for r in runs),
        "warmup_seconds": warm[0], "seconds": [r[0] for r in runs], "loss": runs[-1][3],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--golden", metavar="DIR", help="check against a golden set's train_step.safetensors")
    ap.add_argument("--bench", action="store_true", help="time one step with random weights")
    ap.add_argument("--config", default="ViT-B-16-quickgelu")
    ap.add_argument("--image-size", type=int, default=0)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--n", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")
    ap.add_argument("--backbone-grad", action="store_true", help="also compute (and drop) the frozen CLIP weights' gradients, as the reference does")
    a = ap.parse_args()
    if bool(a.golden) == bool(a.bench):
        ap.error("give exactly one of --golden DIR and --bench")
    return run_golden(a.golden) if a.golden else run_bench(a)


if __name__ == "__main__":
    sys.exit(main())
