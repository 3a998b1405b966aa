package cpu

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// namedVec is a vecKernel under test: every build tests the portable one,
// SIMD builds add theirs (vec_simd_test.go).
type namedVec struct {
	name string
	vec  vecKernel
}

func testVecKernels() []namedVec {
	return append([]namedVec{{"portable", vecPortable()}}, simdVecKernels()...)
}

// vecLengths are odd and even lengths around the vector widths and tails.
var vecLengths = []int{1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 100, 257, 768, 1023}

// within reports |got−want| ≤ rel·(|want| + floor).
func within(got float32, want, rel, floor float64) bool {
	return math.Abs(float64(got)-want) <= rel*(math.Abs(want)+floor)
}

// TestVecKernels checks each row primitive, fast and portable, against a
// brute-force float64 computation on random data of every length in
// vecLengths, and the fast ones against the portable ones.
func TestVecKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	kernels := testVecKernels()
	for _, n := range vecLengths {
		x := randVec(rng, n, 8)
		y := randVec(rng, n, 8)
		bias := randVec(rng, n, 1)
		w := randVec(rng, n, 2)
		outs := make([][3][]float32, len(kernels)) // exp, QuickGELU, normAffine
		for ki, nk := range kernels {
			vk := nk.vec
			// max: exact.
			if got, want := vk.max(x), slices.Max(x); got != want {
				t.Fatalf("%s n=%d: max %v, want %v", nk.name, n, got, want)
			}
			// expShift: each value within 2 ulp, the sum to float64 rounding.
			e := slices.Clone(x)
			m := slices.Max(x)
			sum := vk.expShift(e, m)
			var want float64
			for i, v := range x {
				r := math.Exp(float64(v - m))
				want += float64(float32(r))
				if d := ulpDiff(e[i], r); d > 2 {
					t.Fatalf("%s n=%d: exp(%v) %v is %.1f ulp off", nk.name, n, v-m, e[i], d)
				}
			}
			if math.Abs(sum-want) > 1e-6*want {
				t.Fatalf("%s n=%d: exp sum %v, want %v", nk.name, n, sum, want)
			}
			// scale: exact.
			s := slices.Clone(x)
			vk.scale(s, 0.37)
			for i, v := range x {
				if s[i] != v*0.37 {
					t.Fatalf("%s n=%d: scale", nk.name, n)
				}
			}
			// biasQuickGELU, in place and into another buffer.
			pre := slices.Clone(x)
			dst := make([]float32, n)
			vk.biasQuickGELU(dst, pre, bias)
			same := slices.Clone(x)
			vk.biasQuickGELU(same, same, bias)
			for i, v := range x {
				p := v + bias[i]
				want := quickGELU64(float64(p))
				if pre[i] != p || !within(dst[i], want, 1e-6, 1e-3) || same[i] != dst[i] {
					t.Fatalf("%s n=%d i=%d: biasQuickGELU(%v) = %v (pre %v), want %v", nk.name, n, i, p, dst[i], pre[i], want)
				}
			}
			// quickGELUGrad against the float64 derivative.
			g := slices.Clone(y)
			vk.quickGELUGrad(g, bias, x)
			for i, v := range x {
				xv := float64(v)
				sg := 1 / (1 + math.Exp(-1.702*xv))
				want := float64(y[i]) + float64(bias[i])*sg*(1+1.702*xv*(1-sg))
				if !within(g[i], want, 1e-6, 8) {
					t.Fatalf("%s n=%d: quickGELUGrad at %v: %v, want %v", nk.name, n, v, g[i], want)
				}
			}
			// addBias2: exact, with and without y.
			a := slices.Clone(x)
			vk.addBias2(a, y, bias)
			b := slices.Clone(x)
			vk.addBias2(b, nil, bias)
			for i, v := range x {
				if a[i] != v+(y[i]+bias[i]) || b[i] != v+bias[i] {
					t.Fatalf("%s n=%d: addBias2", nk.name, n)
				}
			}
			// meanVar to float64 rounding; normAffine to float32 rounding.
			mean, variance := vk.meanVar(x)
			var ms, vs float64
			for _, v := range x {
				ms += float64(v)
			}
			ms /= float64(n)
			for _, v := range x {
				vs += (float64(v) - ms) * (float64(v) - ms)
			}
			vs /= float64(n)
			if math.Abs(mean-ms) > 1e-12*(math.Abs(ms)+1) || math.Abs(variance-vs) > 1e-12*vs {
				t.Fatalf("%s n=%d: meanVar (%v, %v), want (%v, %v)", nk.name, n, mean, variance, ms, vs)
			}
			out := make([]float32, n)
			vk.normAffine(out, x, w, bias, 0.25, 1.5)
			for i, v := range x {
				want := (float64(v)-0.25)*1.5*float64(w[i]) + float64(bias[i])
				if !within(out[i], want, 1e-6, 8) {
					t.Fatalf("%s n=%d: normAffine %v, want %v", nk.name, n, out[i], want)
				}
			}
			outs[ki] = [3][]float32{e, dst, out}
		}
		// The fast kernels against the fallback, on the same data.
		// normAffine's floor is the size of its terms: FMA or not
		// changes the rounding of (x−m)·s·w before adding b.
		floors := [3]float64{1e-30, 1e-3, 8}
		for ki := 1; ki < len(kernels); ki++ {
			for o, floor := range floors {
				for i, v := range outs[ki][o] {
					if !within(v, float64(outs[0][o][i]), 4e-7, floor) {
						t.Fatalf("%s n=%d: output %d value %d is %v, portable %v", kernels[ki].name, n, o, i, v, outs[0][o][i])
					}
				}
			}
		}
	}
}
