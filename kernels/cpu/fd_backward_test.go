package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Helpers for the backward tests: float64 references of the forward
// kernels, central finite differences over them, and error measures. The
// float32 analytic gradient is compared with the float64 numeric one, so
// the check is not limited by float32 rounding of the loss.

const fdStep = 1e-5

// randVec returns n values uniform in [-scale, scale), as float32 (the
// float64 copies used by the references are then exact).
func randVec(rng *rand.Rand, n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = (2*rng.Float32() - 1) * scale
	}
	return v
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// fdGrad is the central-difference gradient of f at x.
func fdGrad(f func(x []float64) float64, x []float64) []float64 {
	g := make([]float64, len(x))
	for i := range x {
		old := x[i]
		x[i] = old + fdStep
		up := f(x)
		x[i] = old - fdStep
		down := f(x)
		x[i] = old
		g[i] = (up - down) / (2 * fdStep)
	}
	return g
}

// dot64 is Σ r⊙y: the scalar loss whose output gradient is r.
func dot64(r []float32, y []float64) float64 {
	var s float64
	for i, v := range y {
		s += float64(r[i]) * v
	}
	return s
}

// relErr is ‖got − want‖₂ / ‖want‖₂.
func relErr(got []float32, want []float64) float64 {
	var num, den float64
	for i, w := range want {
		d := float64(got[i]) - w
		num += d * d
		den += w * w
	}
	return math.Sqrt(num / den)
}

// checkGrad fails when the analytic gradient is off the numeric one by more
// than tol (relative L2) and logs the figure either way.
func checkGrad(t *testing.T, name string, got []float32, want []float64, tol float64) {
	t.Helper()
	e := relErr(got, want)
	t.Logf("%s: relative L2 error vs float64 finite differences %.2e", name, e)
	if !(e <= tol) {
		t.Errorf("%s: relative error %.3g > %.3g", name, e, tol)
	}
}

// checkClose fails when a float32 forward result is off its float64
// reference: it guards the references the gradients are checked against.
func checkClose(t *testing.T, name string, got []float32, want []float64, tol float64) {
	t.Helper()
	if e := relErr(got, want); !(e <= tol) {
		t.Fatalf("%s forward: relative error %.3g vs float64 reference", name, e)
	}
}

// withPrior runs an accumulating backward on a buffer that already holds
// random values and returns what it added, so every test also checks the
// dx += … contract.
func withPrior(rng *rand.Rand, n int, backward func(dx []float32)) []float32 {
	prior := randVec(rng, n, 1)
	dx := append([]float32(nil), prior...)
	backward(dx)
	for i := range dx {
		dx[i] -= prior[i]
	}
	return dx
}

func layerNorm64(x []float64, rows, width int, weight, bias []float32, eps float64) []float64 {
	y := make([]float64, len(x))
	for r := 0; r < rows; r++ {
		in := x[r*width : (r+1)*width]
		var mean, sq float64
		for _, v := range in {
			mean += v
		}
		mean /= float64(width)
		for _, v := range in {
			sq += (v - mean) * (v - mean)
		}
		rstd := 1 / math.Sqrt(sq/float64(width)+eps)
		for j, v := range in {
			y[r*width+j] = (v-mean)*rstd*float64(weight[j]) + float64(bias[j])
		}
	}
	return y
}

func quickGELU64(x float64) float64 { return x / (1 + math.Exp(-1.702*x)) }
func gelu64(x float64) float64      { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }

func softmaxRows64(x []float64, rows, cols int) []float64 {
	y := make([]float64, len(x))
	for r := 0; r < rows; r++ {
		in, out := x[r*cols:(r+1)*cols], y[r*cols:(r+1)*cols]
		m := math.Inf(-1)
		for _, v := range in {
			m = max(m, v)
		}
		var s float64
		for j, v := range in {
			out[j] = math.Exp(v - m)
			s += out[j]
		}
		for j := range out {
			out[j] /= s
		}
	}
	return y
}

// attention64 is Attention in float64, written as plainly as possible.
func attention64(qkv []float64, batch, seq, width, heads int, causal bool) []float64 {
	hd := width / heads
	scale := 1 / math.Sqrt(float64(hd))
	out := make([]float64, batch*seq*width)
	scores := make([]float64, seq*seq)
	for b := 0; b < batch; b++ {
		at := func(i, part, d int) float64 { return qkv[(b*seq+i)*3*width+part*width+d] }
		for h := 0; h < heads; h++ {
			for i := 0; i < seq; i++ {
				for j := 0; j < seq; j++ {
					var s float64
					for d := h * hd; d < (h+1)*hd; d++ {
						s += at(i, 0, d) * at(j, 1, d)
					}
					scores[i*seq+j] = s * scale
					if causal && j > i {
						scores[i*seq+j] = math.Inf(-1)
					}
				}
			}
			p := softmaxRows64(scores, seq, seq)
			for i := 0; i < seq; i++ {
				for d := h * hd; d < (h+1)*hd; d++ {
					var s float64
					for j := 0; j < seq; j++ {
						s += p[i*seq+j] * at(j, 2, d)
					}
					out[(b*seq+i)*width+d] = s
				}
			}
		}
	}
	return out
}

// linear64 is y = x·Wᵀ + b with W [out,in]; bias may be nil.
func linear64(x []float64, rows, in, out int, w []float64, bias []float64) []float64 {
	y := make([]float64, rows*out)
	for r := 0; r < rows; r++ {
		for o := 0; o < out; o++ {
			var s float64
			if bias != nil {
				s = bias[o]
			}
			for i := 0; i < in; i++ {
				s += x[r*in+i] * w[o*in+i]
			}
			y[r*out+o] = s
		}
	}
	return y
}
