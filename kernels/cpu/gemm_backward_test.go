package cpu

import (
	"math/rand/v2"
	"testing"
)

func TestLinearBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 7))
	const rows, in, out = 7, 11, 5
	x := randVec(rng, rows*in, 1)
	w := randVec(rng, out*in, 1)
	bias := randVec(rng, out, 1)
	r := randVec(rng, rows*out, 1)
	y := make([]float32, rows*out)
	Linear(y, x, rows, in, out, w, bias)
	checkClose(t, "linear", y, linear64(to64(x), rows, in, out, to64(w), to64(bias)), 1e-6)

	loss := func(x, w, b []float64) float64 { return dot64(r, linear64(x, rows, in, out, w, b)) }
	x64, w64, b64 := to64(x), to64(w), to64(bias)

	dx := withPrior(rng, rows*in, func(dx []float32) { LinearBackwardInput(dx, r, rows, in, out, w) })
	checkGrad(t, "dx", dx, fdGrad(func(x []float64) float64 { return loss(x, w64, b64) }, x64), 1e-5)

	dwPrior, dbPrior := randVec(rng, out*in, 1), randVec(rng, out, 1)
	dw, db := append([]float32(nil), dwPrior...), append([]float32(nil), dbPrior...)
	LinearBackwardWeight(dw, db, r, x, rows, in, out)
	for i := range dw {
		dw[i] -= dwPrior[i]
	}
	for i := range db {
		db[i] -= dbPrior[i]
	}
	checkGrad(t, "dW", dw, fdGrad(func(w []float64) float64 { return loss(x64, w, b64) }, w64), 1e-5)
	checkGrad(t, "db", db, fdGrad(func(b []float64) float64 { return loss(x64, w64, b) }, b64), 1e-5)
}

func TestMatMulBackwardInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	const rows, in, out = 3, 10, 6
	x := randVec(rng, rows*in, 1)
	w := randVec(rng, in*out, 1) // [in,out]
	r := randVec(rng, rows*out, 1)
	// MatMul with W [in,out] is Linear with the transposed weight.
	wt := make([]float64, out*in)
	for i := 0; i < in; i++ {
		for o := 0; o < out; o++ {
			wt[o*in+i] = float64(w[i*out+o])
		}
	}
	y := make([]float32, rows*out)
	MatMul(y, x, rows, in, out, w)
	checkClose(t, "matmul", y, linear64(to64(x), rows, in, out, wt, nil), 1e-6)

	dx := withPrior(rng, rows*in, func(dx []float32) { MatMulBackwardInput(dx, r, rows, in, out, w) })
	want := fdGrad(func(x []float64) float64 { return dot64(r, linear64(x, rows, in, out, wt, nil)) }, to64(x))
	checkGrad(t, "dx", dx, want, 1e-5)
}
