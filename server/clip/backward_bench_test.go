package clip

import (
	"context"
	"math/rand/v2"
	"testing"
)

// BenchmarkBlockBackwardViTB16 times one ViT-B/16 block (width 768, 12
// heads, mlp 3072, 197 tokens) at batch 2 with deterministic random
// weights: the plain forward, the recorded forward, and the backward from a
// full and from a checkpointed tape (the latter includes the recompute).
// GFLOP/s counts the products only (2 per multiply-add): the block's
// GEMMs, plus per head 2 seq² products forward and 5 backward (P recomputed,
// dv, dP, dq, dk).
func BenchmarkBlockBackwardViTB16(b *testing.B) {
	const batch, seq, w, heads, mlp = 2, 197, 768, 12, 3072
	rng := rand.New(rand.NewPCG(1, 2))
	tw := &Transformer{Blocks: []Block{randBlock(rng, w, mlp)}, Heads: heads, QuickGELU: true}
	x := randVec(rng, batch*seq*w, 0, 1)
	dOut := Seq{B: batch, L: seq, W: w, Data: randVec(rng, batch*seq*w, 0, 1)}
	n := float64(batch * seq)
	gemm := 2 * n * (4*w*w + 2*w*mlp)
	attn := 2 * float64(batch) * seq * seq * w
	ctx := context.Background()
	input := func() Seq { return Seq{B: batch, L: seq, W: w, Data: append([]float32(nil), x...)} }
	report := func(b *testing.B, flops float64) {
		b.ReportMetric(flops/1e9*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
	}

	b.Run("Forward", func(b *testing.B) {
		for b.Loop() {
			tw.Block(0, input())
		}
		report(b, gemm+2*attn)
	})
	b.Run("ForwardCached", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := tw.ForwardCached(ctx, input(), Hooks{}); err != nil {
				b.Fatal(err)
			}
		}
		report(b, gemm+2*attn)
	})
	for _, tc := range []struct {
		name       string
		checkpoint bool
	}{{"Backward", false}, {"BackwardCheckpointed", true}} {
		b.Run(tc.name, func(b *testing.B) {
			forward := tw.ForwardCached
			flops := gemm + 5*attn
			if tc.checkpoint {
				forward = tw.ForwardCheckpointed
				flops += gemm + 2*attn
			}
			_, tape, err := forward(ctx, input(), Hooks{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(tape.Bytes())/(1<<20), "tape-MiB")
			for b.Loop() {
				if _, err := tw.Backward(ctx, tape, dOut, BackwardHooks{}); err != nil {
					b.Fatal(err)
				}
			}
			report(b, flops)
		})
	}
}
