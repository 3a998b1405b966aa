//go:build dapocuda

package gpu

import (
	"context"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"dapo/server/clip"
	"dapo/server/compute"
	"dapo/server/dapo"
	"dapo/server/train"
	"dapo/shared/tokenizer"
)

// randomTextTower is ViT-L/14's text tower (width 768, 12 layers, 12
// heads, MLP 3072, context 77, vocabulary 49408) with random weights on
// the device, views into one pool like randomVisionTower; the token table
// is zero (speed, not numbers).
func randomTextTower(b *Backend) *compute.TextTower {
	const w, layers, heads, mlp, ctx, vocab, embed = 768, 12, 12, 3072, 77, 49408, 768
	r := rand.New(rand.NewSource(2))
	pool := make([]float32, mlp*w)
	for i := range pool {
		pool[i] = float32(r.NormFloat64()) * 0.02
	}
	dpool := b.Upload(pool)
	ones := make([]float32, w)
	for i := range ones {
		ones[i] = 1
	}
	view := func(n int) compute.Tensor { return b.View(dpool, 0, n) }
	ln := compute.LayerNorm{Weight: b.Upload(ones), Bias: view(w)}
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
	return &compute.TextTower{
		Tower: compute.Transformer{Backend: b, Blocks: blocks, Heads: heads, QuickGELU: true},
		Width: w, EmbedDim: embed,
		TokenEmbedding: b.Zeros(vocab * w), PosEmbed: view(ctx * w),
		LNFinal: ln, Projection: view(w * embed),
	}
}

// BenchmarkDAPOTrainStep: one whole DAPO training step (train.DeviceStep:
// prompt assembly and the text tower over 21 classes × 10 prompts, the
// vision tower with deep prompts, 4 feature layers and adapters, the fused
// head, every backward, Adam on the host) at ViT-L/14 518 px, batch 8,
// 20 defect classes, random weights; F32 and TF32, checkpointed and full
// tapes. Host pixels and targets in, as in training.
func BenchmarkDAPOTrainStep(bm *testing.B) {
	for _, mode := range []struct {
		prec string
		full bool
	}{{"f32", false}, {"tf32", false}, {"tf32", true}} {
		prec := mode.prec
		name := prec + "/518px/batch8/20defects"
		if mode.full {
			name += "/full-tapes"
		}
		bm.Run(name, func(bm *testing.B) {
			const s, batch, defects = 518, 8, 20
			b := openBench(bm, prec)
			var words []string
			for i := 0; i < defects; i++ {
				words = append(words, fmt.Sprintf("defect%c", 'a'+i))
			}
			cfg := dapo.Default(words)
			bb := clip.Config{EmbedDim: 768, QuickGELU: true,
				Vision: clip.VisionCfg{ImageSize: s, Layers: 24, Width: 1024, PatchSize: 14},
				Text:   clip.TextCfg{ContextLength: 77, VocabSize: 49408, Width: 768, Heads: 12, Layers: 12}}
			tok, err := tokenizer.New()
			if err != nil {
				bm.Fatal(err)
			}
			ids, err := cfg.TemplateIDs(tok, bb.Text.ContextLength)
			if err != nil {
				bm.Fatal(err)
			}
			r := rand.New(rand.NewSource(3))
			params, err := dapo.BindParams(cfg, bb, func(_ string, shape []int) ([]float32, error) {
				n := 1
				for _, d := range shape {
					n *= d
				}
				v := make([]float32, n)
				for i := range v {
					v[i] = float32(r.NormFloat64()) * 0.02
				}
				return v, nil
			})
			if err != nil {
				bm.Fatal(err)
			}
			v := randomVisionTower(b, s)
			m := train.DeviceModel{Backend: b, Text: randomTextTower(b), Vision: v, Backbone: bb, Params: params, IDs: ids, FullTapes: mode.full}
			d := train.Dims{Batch: batch, Grid: v.Grid(), Size: s, Classes: 1 + defects, Embed: 768, VisionWidth: 1024, Layers: len(cfg.FeatureLayers)}
			step, err := train.NewDeviceStep(cfg, d, train.HeadWeights{Local: 4, Image: 1, Temperature: float32(cfg.Temperature)}, m)
			if err != nil {
				bm.Fatal(err)
			}
			defer step.Close()
			opt := train.NewAdam(1e-3)
			pixels := make([]float32, batch*3*s*s)
			for i := range pixels {
				pixels[i] = float32(r.NormFloat64())
			}
			tg := train.Targets{}
			for i := 0; i < batch; i++ {
				y := i % 2
				tg.Label = append(tg.Label, y)
				for p := 0; p < s*s; p++ {
					in := y == 1 && p%s >= s/4 && p%s < s/2 && p/s >= s/4 && p/s < s/2
					if in {
						tg.ClassID, tg.Binary = append(tg.ClassID, int64(1+i%defects)), append(tg.Binary, 1)
					} else {
						tg.ClassID, tg.Binary = append(tg.ClassID, 0), append(tg.Binary, 0)
					}
				}
			}
			ctx := context.Background()
			run := func() {
				if _, err := step.Run(ctx, pixels, tg); err != nil {
					bm.Fatal(err)
				}
				if err := step.Apply(opt); err != nil {
					bm.Fatal(err)
				}
			}
			run() // warm-up: JIT, pool allocations, cuBLAS heuristics
			bm.ResetTimer()
			start := time.Now()
			for i := 0; i < bm.N; i++ {
				run()
			}
			bm.ReportMetric(time.Since(start).Seconds()/float64(bm.N), "s/step")
		})
	}
}
