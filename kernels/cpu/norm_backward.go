package cpu

import "math"

// Backward kernels (this file and the other *_backward.go files) follow
// llm.c's convention: they ADD into their gradient outputs (dx += …) and
// never alias them with their inputs. Callers zero a gradient buffer once;
// residual branches then sum for free. Weights are frozen, so only
// activation gradients are computed (LinearBackwardWeight is the exception,
// kept for trainable adapters).

// LayerNormBackward adds to dx[rows,width] the gradient of LayerNorm with
// respect to its input x, given dy (the gradient of its output) and the
// affine weight. Mean and 1/std are recomputed from x exactly as the
// forward does (float64), so nothing but the input has to be kept; the
// reductions of the backward are float64 too.
//
//	x̂ = (x−μ)·rstd,  g = dy⊙weight
//	dx += rstd·(g − mean(g) − x̂·mean(g⊙x̂))
func LayerNormBackward(dx, dy, x []float32, rows, width int, weight []float32, eps float64) {
	n := float64(width)
	parallelRows(rows, 4*width, func(r0, r1 int) {
		layerNormBackwardRows(dx, dy, x, r0, r1, width, n, weight, eps)
	})
}

// layerNormBackwardRows is LayerNormBackward over rows [r0, r1).
func layerNormBackwardRows(dx, dy, x []float32, r0, r1, width int, n float64, weight []float32, eps float64) {
	for r := r0; r < r1; r++ {
		in := x[r*width : (r+1)*width]
		g := dy[r*width : (r+1)*width]
		out := dx[r*width : (r+1)*width]
		var sum float64
		for _, v := range in {
			sum += float64(v)
		}
		mean := sum / n
		var sq float64
		for _, v := range in {
			d := float64(v) - mean
			sq += d * d
		}
		rstd := 1 / math.Sqrt(sq/n+eps)
		var sumG, sumGX float64
		for j, v := range in {
			gj := float64(g[j]) * float64(weight[j])
			sumG += gj
			sumGX += gj * (float64(v) - mean) * rstd
		}
		mG, mGX := sumG/n, sumGX/n
		for j, v := range in {
			xhat := (float64(v) - mean) * rstd
			gj := float64(g[j]) * float64(weight[j])
			out[j] += float32(rstd * (gj - mG - xhat*mGX))
		}
	}
}
