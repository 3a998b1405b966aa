package cpu

import "math"

// vecKernel holds the row primitives of the non-GEMM kernels (softmax,
// activations, layer norm, bias and residual adds). vecAuto picks the
// vector ones the CPU and build support; vecPortable is the plain-Go set
// that wasm, builds without GOEXPERIMENT=simd and CPUs without AVX-512 run.
type vecKernel struct {
	// max returns the largest element of x (−Inf for an empty x).
	max func(x []float32) float32
	// expShift sets x[i] = exp(x[i]−m) and returns Σ x[i], summed in
	// float64.
	expShift func(x []float32, m float32) float64
	// scale sets x[i] *= s.
	scale func(x []float32, s float32)
	// biasQuickGELU sets pre[i] += bias[i], then dst[i] = QuickGELU(pre[i]);
	// dst may be pre.
	biasQuickGELU func(dst, pre, bias []float32)
	// quickGELUGrad sets dx[i] += dy[i]·f'(x[i]) for f = QuickGELU, in
	// float32 (σ from the same exp as the forward).
	quickGELUGrad func(dx, dy, x []float32)
	// addBias2 sets x[i] += y[i] + bias[i] (y may be nil: x[i] += bias[i]).
	addBias2 func(x, y, bias []float32)
	// meanVar returns the mean and the (biased) variance of x, both
	// accumulated in float64, two passes.
	meanVar func(x []float32) (mean, variance float64)
	// normAffine sets y[i] = (x[i]−m)·s·w[i] + b[i].
	normAffine func(y, x, w, b []float32, m, s float32)
}

// vecPortable is the plain-Go vecKernel.
func vecPortable() vecKernel {
	return vecKernel{
		max:           maxPortable,
		expShift:      expShiftPortable,
		scale:         scalePortable,
		biasQuickGELU: biasQuickGELUPortable,
		quickGELUGrad: quickGELUGradPortable,
		addBias2:      addBias2Portable,
		meanVar:       meanVarPortable,
		normAffine:    normAffinePortable,
	}
}

func maxPortable(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	return m
}

func expShiftPortable(x []float32, m float32) float64 {
	var sum float64
	for i, v := range x {
		e := exp32(v - m)
		x[i] = e
		sum += float64(e)
	}
	return sum
}

func scalePortable(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}

func biasQuickGELUPortable(dst, pre, bias []float32) {
	pre, bias = pre[:len(dst)], bias[:len(dst)]
	for i, v := range pre {
		v += bias[i]
		pre[i] = v
		dst[i] = v / (1 + exp32(-1.702*v))
	}
}

func quickGELUGradPortable(dx, dy, x []float32) {
	dy, x = dy[:len(dx)], x[:len(dx)]
	for i, v := range x {
		s := 1 / (1 + exp32(-1.702*v))
		dx[i] += dy[i] * (s * (1 + 1.702*v*(1-s)))
	}
}

func addBias2Portable(x, y, bias []float32) {
	bias = bias[:len(x)]
	if y == nil {
		for i := range x {
			x[i] += bias[i]
		}
		return
	}
	y = y[:len(x)]
	for i := range x {
		x[i] += y[i] + bias[i]
	}
}

func meanVarPortable(x []float32) (mean, variance float64) {
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	mean = sum / float64(len(x))
	var sq float64
	for _, v := range x {
		d := float64(v) - mean
		sq += d * d
	}
	return mean, sq / float64(len(x))
}

func normAffinePortable(y, x, w, b []float32, m, s float32) {
	x, w, b = x[:len(y)], w[:len(y)], b[:len(y)]
	for j, v := range x {
		y[j] = (v-m)*s*w[j] + b[j]
	}
}
