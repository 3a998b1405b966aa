package clip

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestChunkedBlock runs a batch of more rows than chunkRows (5 sequences
// of 700 tokens: chunks of 2, 2 and 1 sequences) forward against the
// float64 reference, and backward against each sequence's gradient
// computed alone (one chunk): sequences are independent, so splitting
// must not change any of them.
func TestChunkedBlock(t *testing.T) {
	const b, l, w = 5, 700, 8
	if b*l <= chunkRows || chunkRows/l >= b {
		t.Fatal("the shape no longer spans several chunks")
	}
	for _, kind := range towerKinds {
		t.Run(kind.name, func(t *testing.T) {
			tw := randTower(7, 1, w, 2, kind.quick, kind.causal)
			rng := rand.New(rand.NewPCG(8, 9))
			x := randVec(rng, b*l*w, 0.2, 1)
			r := randVec(rng, b*l*w, 0, 1)
			ctx := context.Background()

			plain, err := tw.Forward(ctx, Seq{B: b, L: l, W: w, Data: slices.Clone(x)}, Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(plain.Data, block64(tw, 0, to64(x), b, l, w)); e > 1e-5 {
				t.Fatalf("forward off the float64 reference by %.3g", e)
			}
			out, tape, err := tw.ForwardCached(ctx, Seq{B: b, L: l, W: w, Data: slices.Clone(x)}, Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(out.Data, plain.Data) {
				t.Fatal("ForwardCached differs from Forward")
			}
			dx, err := tw.Backward(ctx, tape, Seq{B: b, L: l, W: w, Data: r}, BackwardHooks{})
			if err != nil {
				t.Fatal(err)
			}
			for s := 0; s < b; s++ {
				rows := func(v []float32) []float32 { return v[s*l*w : (s+1)*l*w] }
				_, tp, err := tw.ForwardCached(ctx, Seq{B: 1, L: l, W: w, Data: slices.Clone(rows(x))}, Hooks{})
				if err != nil {
					t.Fatal(err)
				}
				one, err := tw.Backward(ctx, tp, Seq{B: 1, L: l, W: w, Data: rows(r)}, BackwardHooks{})
				if err != nil {
					t.Fatal(err)
				}
				if e := relErr(rows(dx.Data), to64(one.Data)); e > 1e-6 {
					t.Errorf("sequence %d: batched gradient off the single-sequence one by %.3g", s, e)
				}
			}
		})
	}
}
