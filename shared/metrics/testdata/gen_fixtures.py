#!/usr/bin/python3
"""Generates sklearn_fixtures.json, the scikit-learn / scikit-image / numpy
reference values for the metrics tests (run once: /usr/bin/python3
gen_fixtures.py; Debian bookworm: numpy 1.24.2, scikit-learn 1.2.1,
scikit-image 0.19.3, the versions of the golden set's producer).

Inputs are small integer arrays q with a float32 scale (value =
float32(q) * float32(scale), exact in both languages) so the JSON stays small
and ties are frequent. cal_pro_score below is written from the description in
dapo-spec §5.3 / the golden README (cflow-ad style); the Go code is checked
against it on inputs whose values sit exactly on the reference thresholds.
"""
import json
import warnings

import numpy as np
from skimage import measure
from sklearn.metrics import (auc, average_precision_score, f1_score,
                             precision_recall_curve, roc_auc_score, roc_curve)

warnings.simplefilter("ignore")
rng = np.random.default_rng(20240611)


def f32(q, scale):
    return np.asarray(q, dtype=np.float32) * np.float32(scale)


def safe(f):
    try:
        v = float(f())
        return None if np.isnan(v) else v
    except ValueError:
        return None


def cal_pro_score(masks, amaps, max_step=200, expect_fpr=0.3):
    binary_amaps = np.zeros_like(amaps, dtype=bool)
    min_th, max_th = amaps.min(), amaps.max()
    delta = (max_th - min_th) / max_step
    pros, fprs = [], []
    for th in np.arange(min_th, max_th, delta):
        binary_amaps[amaps <= th], binary_amaps[amaps > th] = 0, 1
        pro = []
        for binary_amap, mask in zip(binary_amaps, masks):
            for region in measure.regionprops(measure.label(mask)):
                tp_pixels = binary_amap[region.coords[:, 0], region.coords[:, 1]].sum()
                pro.append(tp_pixels / region.area)
        inverse_masks = 1 - masks
        fp_pixels = np.logical_and(inverse_masks, binary_amaps).sum()
        fprs.append(fp_pixels / inverse_masks.sum())
        pros.append(np.array(pro).mean())
    pros, fprs = np.array(pros), np.array(fprs)
    idx = fprs < expect_fpr
    fprs = fprs[idx]
    fprs = (fprs - fprs.min()) / (fprs.max() - fprs.min())
    return auc(fprs, pros[idx])


def image_cases():
    out = []
    for n, levels, rate in [(50, 6, 0.3), (80, 0, 0.5), (30, 3, 0.2), (200, 20, 0.1)]:
        y = (rng.random(n) < rate).astype(int)
        if levels:
            q = rng.integers(0, levels, n) + 2 * y * rng.integers(0, 2, n)
            scale = 0.125
        else:
            q = rng.integers(0, 100000, n) + 20000 * y
            scale = 1e-5
        s = f32(q, scale).astype(np.float64)
        fpr, tpr, thr = roc_curve(y, s)
        p, r, t = precision_recall_curve(y, s)
        f1 = 2 * p * r / (p + r)
        out.append(dict(
            labels=y.tolist(), q=q.tolist(), scale=scale,
            auroc=roc_auc_score(y, s), ap=average_precision_score(y, s),
            f1_max=float(np.max(f1[np.isfinite(f1)])),
            roc_fpr=fpr.tolist(), roc_tpr=tpr.tolist(),
            roc_thresholds_after_first=thr[1:].tolist()))
    return out


def blob_masks(n, h, w):
    masks = np.zeros((n, h, w), dtype=np.float32)
    for i in range(n - 1):  # the last image stays normal
        for _ in range(rng.integers(1, 4)):
            cy, cx, r = rng.integers(0, h), rng.integers(0, w), rng.integers(1, 5)
            yy, xx = np.mgrid[:h, :w]
            masks[i][(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = 1
        masks[i, rng.integers(0, h), rng.integers(0, w)] = 1  # stray pixel
    return masks


def pixel_cases():
    out = []
    # (levels, scale): 200 levels of 1/64 put every threshold exactly on a
    # map value (ties with ">"); 0.01 steps put float32(th) near values;
    # 10000 levels is nearly continuous.
    for name, levels, scale in [("grid_pow2", 200, 1 / 64), ("grid_0.01", 300, 0.01),
                                ("fine", 10000, 1e-4)]:
        n, h, w = 3, 20, 24
        masks = blob_masks(n, h, w)
        q = rng.integers(0, int(levels * 0.8), (n, h, w)) + (masks * rng.integers(0, int(levels * 0.2) + 1, (n, h, w))).astype(np.int64)
        q[0, 0, 0], q[0, 0, 1] = 0, levels  # pin min/max
        amaps = f32(q, scale)
        out.append(dict(
            name=name, n=n, h=h, w=w, q=q.ravel().tolist(), scale=scale,
            masks=masks.astype(int).ravel().tolist(),
            pixel_auroc=roc_auc_score(masks.ravel(), amaps.ravel()),
            aupro_ref=cal_pro_score(masks, amaps)))
    return out


def multiclass_cases():
    out = []
    for c, n, absent in [(2, 400, None), (3, 900, None), (5, 1500, None), (4, 600, 2)]:
        gt = rng.integers(0, c, n)
        if absent is not None:
            gt[gt == absent] = 0
        q = rng.integers(0, 32, (n, c))
        q[np.arange(n), gt] += rng.integers(0, 24, n)  # some signal
        probs = f32(q, 1 / 32)
        onehot = np.stack([(gt == k).astype(int) for k in range(c)], axis=1)
        pred = probs.argmax(axis=1)
        present = sorted(set(gt.tolist()) | set(pred.tolist()))
        per_f1 = f1_score(gt, pred, labels=present, average=None)
        out.append(dict(
            classes=c, gt=gt.tolist(), q=q.ravel().tolist(), scale=1 / 32,
            auroc_macro=safe(lambda: roc_auc_score(onehot, probs, average="macro")),
            ap_macro=float(average_precision_score(onehot, probs, average="macro")),
            f1_macro=float(f1_score(gt, pred, average="macro")),
            auroc=[safe(lambda k=k: roc_auc_score(onehot[:, k], probs[:, k])) for k in range(c)],
            ap=[float(average_precision_score(onehot[:, k], probs[:, k])) for k in range(c)],
            f1={str(l): float(v) for l, v in zip(present, per_f1)}))
    return out


doc = dict(
    generator="gen_fixtures.py",
    versions=dict(numpy=np.__version__, sklearn=__import__("sklearn").__version__,
                  skimage=__import__("skimage").__version__),
    image=image_cases(), pixel=pixel_cases(), multiclass=multiclass_cases())
with open("sklearn_fixtures.json", "w") as f:
    json.dump(doc, f, separators=(",", ":"))
