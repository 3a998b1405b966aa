// Package scoring is DAPO's scoring stage: it turns precomputed CLIP
// features (the global image feature, the adapted patch features of each
// feature layer and the class text features) into the image score, the
// anomaly map, per-pixel defect classes and per-image defect types, as the
// reference test code computes them (spec §3).
//
// It is pure Go without cgo so that it also runs in the browser (js/wasm) on
// features computed elsewhere.
//
// Numerics follow the reference float32 pipeline operation by operation.
// Where the order of float32 operations is known it is reproduced: the
// bilinear upsampling is PyTorch's CPU upsample_bilinear2d kernel for
// channels-last input (the layout the reference hands it) bit for bit —
// float32 scale, source index in float64, float32 lambdas and tap-weight
// products, float64 accumulation of the four taps — and norms, means and
// sums follow PyTorch's reduction kernels (reduce.go). A plain separable
// float32 bilinear differs in the last bit for about a third of the values,
// which can flip the per-pixel argmax where classes nearly tie. The logits
// (a BLAS matrix product in the reference) are accumulated in float64 and
// exp is Go's, so patch probabilities may differ from the reference in the
// last bit.
package scoring
