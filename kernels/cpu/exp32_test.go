package cpu

import (
	"math"
	"testing"
)

// ulpDiff is the distance in float32 steps between got and the float32
// nearest to want (0 for equal values, including infinities).
func ulpDiff(got float32, want float64) float64 {
	w := float32(want)
	if got == w {
		return 0
	}
	if math.IsInf(float64(got), 0) || math.IsInf(float64(w), 0) {
		return math.Inf(1)
	}
	ulp := math.Abs(float64(math.Nextafter32(w, float32(math.Inf(1)))) - float64(w))
	return math.Abs(float64(got)-float64(w)) / ulp
}

// expSweep calls f on every float32 from −110 to 90 in steps of 2⁻¹⁴
// (dense enough to cross every polynomial and reduction boundary), plus
// the extremes, and checks it against math.Exp to within 2 ulp (subnormal
// results: within one subnormal step).
func expSweep(t *testing.T, name string, f func(x []float32)) {
	var xs []float32
	for x := float32(-110); x <= 90; x += 1.0 / (1 << 14) {
		xs = append(xs, x)
	}
	xs = append(xs, 0, float32(math.Inf(-1)), float32(math.Inf(1)), math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32)
	got := append([]float32(nil), xs...)
	f(got)
	worst, at := 0.0, float32(0)
	for i, x := range xs {
		want := math.Exp(float64(x))
		d := ulpDiff(got[i], want)
		if want < 0x1p-126 { // subnormal or zero result: absolute step
			d = math.Abs(float64(got[i])-want) / 0x1p-149
		}
		if d > worst {
			worst, at = d, x
		}
	}
	if worst > 2 {
		t.Errorf("%s: %.2f ulp from math.Exp at x=%v", name, worst, at)
	}
	t.Logf("%s: worst %.2f ulp at x=%v over %d inputs", name, worst, at, len(xs))
}

func TestExp32(t *testing.T) {
	expSweep(t, "exp32", func(x []float32) {
		for i, v := range x {
			x[i] = exp32(v)
		}
	})
	if v := exp32(float32(math.NaN())); v == v {
		t.Errorf("exp32(NaN) = %v", v)
	}
}

// TestVecExpShift sweeps every vecKernel's exponential (expShift with
// shift 0) the same way.
func TestVecExpShift(t *testing.T) {
	for _, vk := range testVecKernels() {
		expSweep(t, vk.name, func(x []float32) { vk.vec.expShift(x, 0) })
	}
}
