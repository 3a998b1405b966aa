package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The fused forward kernels against their float64 references on odd
// shapes (tails of every vector loop, single rows, attention tiles that
// end mid-tile). Each build runs this on the kernels it selects, so the
// SIMD build checks the fast path and GOEXPERIMENT= builds the fallback;
// TestVecKernels compares the two directly.

func TestAttentionForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct{ batch, seq, width, heads int }{
		{1, 1, 8, 2}, {2, 5, 12, 3}, {1, 63, 16, 2}, {1, 65, 24, 3}, {2, 130, 16, 1}, {1, 197, 64, 4},
	} {
		for _, causal := range []bool{false, true} {
			name := fmt.Sprintf("%+v causal=%v", tc, causal)
			qkv := randVec(rng, tc.batch*tc.seq*3*tc.width, 2)
			out := randVec(rng, tc.batch*tc.seq*tc.width, 1) // garbage: must be overwritten
			Attention(out, qkv, tc.batch, tc.seq, tc.width, tc.heads, causal)
			want := attention64(to64(qkv), tc.batch, tc.seq, tc.width, tc.heads, causal)
			checkClose(t, name, out, want, 1e-5)
		}
	}
}

func TestLayerNormForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct{ rows, width int }{{1, 1}, {3, 7}, {5, 17}, {300, 33}, {2, 1024}} {
		x := randVec(rng, tc.rows*tc.width, 3)
		for i := range x {
			x[i] += 5 // a mean far from zero, as in the residual stream
		}
		weight, bias := randVec(rng, tc.width, 1), randVec(rng, tc.width, 1)
		y := make([]float32, len(x))
		LayerNorm(y, x, tc.rows, tc.width, weight, bias, LayerNormEps)
		want := layerNorm64(to64(x), tc.rows, tc.width, weight, bias, LayerNormEps)
		checkClose(t, fmt.Sprintf("%+v", tc), y, want, 1e-6)
		LayerNorm(x, x, tc.rows, tc.width, weight, bias, LayerNormEps) // in place
		for i := range x {
			if x[i] != y[i] {
				t.Fatalf("%+v: in-place layer norm differs at %d", tc, i)
			}
		}
	}
}

func TestSoftmaxAndBiasQuickGELUForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, tc := range []struct{ rows, cols int }{{1, 1}, {3, 17}, {7, 33}, {200, 100}, {3, 4100}} {
		x := randVec(rng, tc.rows*tc.cols, 10)
		s := append([]float32(nil), x...)
		SoftmaxRows(s, tc.rows, tc.cols)
		checkClose(t, fmt.Sprintf("softmax %+v", tc), s, softmaxRows64(to64(x), tc.rows, tc.cols), 1e-6)

		bias := randVec(rng, tc.cols, 1)
		pre := append([]float32(nil), x...)
		dst := make([]float32, len(x))
		BiasQuickGELU(dst, pre, tc.rows, tc.cols, bias)
		want := make([]float64, len(x))
		for i, v := range x {
			p := v + bias[i%tc.cols]
			if pre[i] != p {
				t.Fatalf("bias %+v: pre[%d] = %v, want %v", tc, i, pre[i], p)
			}
			want[i] = quickGELU64(float64(p))
		}
		checkClose(t, fmt.Sprintf("bias+QuickGELU %+v", tc), dst, want, 1e-6)
		q := append([]float32(nil), pre...)
		QuickGELU(q)
		checkClose(t, fmt.Sprintf("QuickGELU %+v", tc), q, want, 1e-6)
	}
}

func TestLinearResidual(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, tc := range []struct{ rows, in, out int }{{1, 3, 5}, {7, 33, 17}, {65, 100, 129}} {
		x := randVec(rng, tc.rows*tc.in, 1)
		w := randVec(rng, tc.out*tc.in, 1)
		bias := randVec(rng, tc.out, 1)
		y := randVec(rng, tc.rows*tc.out, 1)
		want := linear64(to64(x), tc.rows, tc.in, tc.out, to64(w), to64(bias))
		for i := range want {
			want[i] += float64(y[i])
		}
		LinearResidual(y, x, tc.rows, tc.in, tc.out, w, bias)
		checkClose(t, fmt.Sprintf("%+v", tc), y, want, 1e-6)
	}
}

// TestEmptyInputs: zero rows or elements are a no-op, not a panic.
func TestEmptyInputs(t *testing.T) {
	QuickGELU(nil)
	BiasQuickGELU(nil, nil, 0, 4, make([]float32, 4))
	BiasGELU(nil, nil, 0, 4, make([]float32, 4))
	SoftmaxRows(nil, 0, 4)
	LayerNorm(nil, nil, 0, 4, make([]float32, 4), make([]float32, 4), LayerNormEps)
	Attention(nil, nil, 1, 0, 8, 2, true)
	QuickGELUBackward(nil, nil, nil)
	LayerNormBackward(nil, nil, nil, 0, 4, make([]float32, 4), LayerNormEps)
}
