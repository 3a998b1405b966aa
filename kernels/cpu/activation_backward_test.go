package cpu

import (
	"math/rand/v2"
	"testing"
)

func TestActivationBackward(t *testing.T) {
	for _, tc := range []struct {
		name     string
		forward  func([]float32)
		ref      func(float64) float64
		backward func(dx, dy, xPre []float32)
	}{
		{"QuickGELU", QuickGELU, quickGELU64, QuickGELUBackward},
		{"GELU", GELU, gelu64, GELUBackward},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(2, 3))
			const n = 97
			x := randVec(rng, n, 4)
			r := randVec(rng, n, 1)
			ref := func(x []float64) []float64 {
				y := make([]float64, len(x))
				for i, v := range x {
					y[i] = tc.ref(v)
				}
				return y
			}
			y := append([]float32(nil), x...)
			tc.forward(y)
			checkClose(t, tc.name, y, ref(to64(x)), 1e-6)

			got := withPrior(rng, n, func(dx []float32) { tc.backward(dx, r, x) })
			want := fdGrad(func(x []float64) float64 { return dot64(r, ref(x)) }, to64(x))
			checkGrad(t, "dx", got, want, 1e-5)
		})
	}
}

func TestSoftmaxRowsBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	const rows, cols = 5, 9
	x := randVec(rng, rows*cols, 3)
	r := randVec(rng, rows*cols, 1)
	y := append([]float32(nil), x...)
	SoftmaxRows(y, rows, cols)
	checkClose(t, "softmax", y, softmaxRows64(to64(x), rows, cols), 1e-6)

	got := withPrior(rng, rows*cols, func(dx []float32) { SoftmaxRowsBackward(dx, r, y, rows, cols) })
	want := fdGrad(func(x []float64) float64 { return dot64(r, softmaxRows64(x, rows, cols)) }, to64(x))
	checkGrad(t, "dx", got, want, 1e-5)
}
