package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestAttentionBackward(t *testing.T) {
	for _, tc := range []struct {
		batch, seq, width, heads int
		causal                   bool
	}{
		{2, 5, 8, 2, false},
		{2, 5, 8, 2, true},
		{1, 7, 12, 3, false},
		{3, 9, 10, 2, true},
		{2, 6, 16, 4, false},
		{1, 1, 8, 2, true},
	} {
		name := fmt.Sprintf("b%d_s%d_w%d_h%d_causal=%v", tc.batch, tc.seq, tc.width, tc.heads, tc.causal)
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(10, uint64(tc.seq*tc.width)))
			b, s, w, h := tc.batch, tc.seq, tc.width, tc.heads
			qkv := randVec(rng, b*s*3*w, 1.5)
			r := randVec(rng, b*s*w, 1)
			out := make([]float32, b*s*w)
			Attention(out, qkv, b, s, w, h, tc.causal)
			ref := func(qkv []float64) []float64 { return attention64(qkv, b, s, w, h, tc.causal) }
			checkClose(t, "attention", out, ref(to64(qkv)), 1e-6)

			got := withPrior(rng, len(qkv), func(d []float32) { AttentionBackward(d, r, qkv, b, s, w, h, tc.causal) })
			want := fdGrad(func(x []float64) float64 { return dot64(r, ref(x)) }, to64(qkv))
			checkGrad(t, "dqkv", got, want, 1e-5)
		})
	}
}
