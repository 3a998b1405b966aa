//go:build dapocuda

package gpu

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"testing"
	"time"

	"dapo/kernels/cuda"
	"dapo/server/compute"
)

// randomVisionTower builds a ViT-L/14 vision tower (width 1024, 24 layers,
// 16 heads, MLP 4096, QuickGELU) at image size s with random weights on
// the device: a benchmark of speed, not of numbers. The tensors are views
// into one random pool, so set-up takes no host-side gigabytes.
func randomVisionTower(b *Backend, s int) *compute.VisionTower {
	const w, layers, heads, mlp, patch, embed = 1024, 24, 16, 4096, 14, 768
	g := s / patch
	r := rand.New(rand.NewSource(1))
	pool := make([]float32, mlp*w)
	for i := range pool {
		pool[i] = float32(r.NormFloat64()) * 0.02
	}
	dpool := b.Upload(pool)
	ones := make([]float32, mlp)
	for i := range ones {
		ones[i] = 1
	}
	dones := b.Upload(ones)
	view := func(n int) compute.Tensor { return b.View(dpool, 0, n) }
	ln := compute.LayerNorm{Weight: b.View(dones, 0, w), Bias: view(w)}
	blocks := make([]compute.Block, layers)
	for i := range blocks {
		blocks[i] = compute.Block{
			LN1: ln, LN2: ln,
			InProj:  compute.Linear{Weight: view(3 * w * w), Bias: view(3 * w), Out: 3 * w, In: w},
			OutProj: compute.Linear{Weight: view(w * w), Bias: view(w), Out: w, In: w},
			FC:      compute.Linear{Weight: view(mlp * w), Bias: view(mlp), Out: mlp, In: w},
			Proj:    compute.Linear{Weight: view(w * mlp), Bias: view(w), Out: w, In: mlp},
		}
	}
	posPool := b.Upload(make([]float32, (1+g*g)*w))
	return &compute.VisionTower{
		Tower:     compute.Transformer{Backend: b, Blocks: blocks, Heads: heads, QuickGELU: true},
		ImageSize: s, PatchSize: patch, Width: w, EmbedDim: embed,
		Conv1: view(w * 3 * patch * patch), ClassEmbedding: view(w), PosEm: posPool,
		LNPre: ln, LNPost: ln, Proj: view(w * embed),
	}
}

// BenchmarkViTL14Encode: images/s of the ViT-L/14 vision tower (embed,
// 24 blocks, CLS read-out) at 336 and 518 px, batch 1 and 32, F32 and
// TF32; the device work is timed (pixels already on the device).
func BenchmarkViTL14Encode(bm *testing.B) {
	for _, prec := range []string{"f32", "tf32"} {
		for _, s := range []int{336, 518} {
			for _, batch := range []int{1, 32} {
				bm.Run(fmt.Sprintf("%s/%dpx/batch%d", prec, s, batch), func(bm *testing.B) {
					b := openBench(bm, prec)
					v := randomVisionTower(b, s)
					px := b.Upload(make([]float32, batch*3*s*s))
					ctx := context.Background()
					run := func() {
						x := v.Embed(px, batch)
						final, err := v.Tower.Forward(ctx, x, compute.Hooks{})
						if err != nil {
							bm.Fatal(err)
						}
						g := v.Global(final)
						b.Free(final.T)
						b.Free(g)
						if err := b.Err(); err != nil { // synchronises
							bm.Fatal(err)
						}
					}
					run() // warm-up: JIT, allocations, cuBLAS heuristics
					bm.ResetTimer()
					start := time.Now()
					for i := 0; i < bm.N; i++ {
						run()
					}
					sec := time.Since(start).Seconds()
					bm.ReportMetric(float64(batch*bm.N)/sec, "images/s")
				})
			}
		}
	}
}

// BenchmarkViTL14TrainStep: the tower part of the DAPO training step at
// ViT-L/14 518 px batch 8 (4 prompt rows inserted as in DAPO): checkpointed
// forward plus backward with respect to the activations.
func BenchmarkViTL14TrainStep(bm *testing.B) {
	for _, prec := range []string{"f32", "tf32"} {
		bm.Run(prec+"/518px/batch8", func(bm *testing.B) {
			const s, batch, prompts = 518, 8, 4
			b := openBench(bm, prec)
			v := randomVisionTower(b, s)
			px := b.Upload(make([]float32, batch*3*s*s))
			ctx := context.Background()
			run := func() {
				x := v.Embed(px, batch)
				y := compute.Seq{B: batch, L: x.L + prompts, W: x.W, T: b.Alloc(batch * (x.L + prompts) * x.W)}
				b.InsertAfterFirst(y.T, x.T, b.View(v.Conv1, 0, prompts*x.W), batch, x.L, x.W, prompts)
				b.Free(x.T)
				out, tape, err := v.Tower.ForwardCheckpointed(ctx, y, compute.Hooks{})
				if err != nil {
					bm.Fatal(err)
				}
				dOut := compute.Seq{B: out.B, L: out.L, W: out.W, T: out.T} // any gradient does for timing
				dx, err := v.Tower.Backward(ctx, tape, dOut, compute.BackwardHooks{})
				if err != nil {
					bm.Fatal(err)
				}
				tape.Free()
				b.Free(dx.T)
				b.Free(out.T)
				if err := b.Err(); err != nil {
					bm.Fatal(err)
				}
			}
			run()
			bm.ResetTimer()
			start := time.Now()
			for i := 0; i < bm.N; i++ {
				run()
			}
			bm.ReportMetric(time.Since(start).Seconds()/float64(bm.N), "s/step")
		})
	}
}

func openBench(bm *testing.B, prec string) *Backend {
	bm.Helper()
	p := cuda.F32
	if prec == "tf32" {
		p = cuda.TF32
	}
	b, err := Open(0, p)
	if err != nil {
		if errors.Is(err, cuda.ErrNoGPU) && os.Getenv("DAPO_REQUIRE_GPU") == "" {
			bm.Skip(err)
		}
		bm.Fatal(err)
	}
	bm.Cleanup(func() { b.Close() })
	bm.Log(b.Name())
	return b
}
