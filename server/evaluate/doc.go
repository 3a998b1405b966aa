// Package evaluate runs a DAPO detector over a labelled dataset split and
// computes the reference's evaluation (dapo-spec §5), as test.py and
// test_multi_defect.py do: per product the image AUROC/AP/F1-max, the pixel
// AUROC and both AUPRO variants, and the multi-type segmentation metrics
// over the product's class list; then the unweighted mean over products, a
// per-defect table and the figures of 'dapo test'. Calibrate picks decision
// thresholds for 'dapo calibrate'.
//
// Products are processed one after another, so memory is bounded by one
// product's pooled pixels: 4 bytes per pixel for the pixel metrics plus
// 4·C_p bytes per pixel for the multi-type metrics. The metrics are exact,
// so every pixel's score is kept, as the reference's numpy arrays are.
package evaluate
