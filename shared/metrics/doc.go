// Package metrics computes the DAPO evaluation metrics (dapo-spec §5) with
// the exact semantics of the reference Python stack (scikit-learn,
// scikit-image, numpy 1.24 and the reference metrics.cal_pro_score):
//
//   - image level: AUROC, AP, F1-max and the PR/ROC curves (image.go);
//   - pixel level: pixel AUROC, the reference AUPRO (cal_pro_score) and the
//     standard, threshold-free AUPRO up to FPR 0.3 (pixel.go, aupro.go);
//   - multi-type segmentation: macro one-vs-rest AUROC/AP and macro F1 over a
//     product's classes (multiclass.go).
//
// Undefined values (one class only, no anomalous region, non-finite inputs,
// empty input) are NaN; nothing here panics on data. Everything is pure Go
// (no cgo) so it also builds for js/wasm.
package metrics
