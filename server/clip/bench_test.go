package clip_test

import (
	"context"
	"testing"

	"dapo/server/clip"
	"dapo/server/modelinit"
)

// benchVision times one image through the vision tower of a built-in
// config with deterministic random weights.
func benchVision(b *testing.B, name string) {
	cfg, err := modelinit.Config(name)
	if err != nil {
		b.Fatal(err)
	}
	r, err := modelinit.Init(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	w, err := r.Weights()
	if err != nil {
		b.Fatal(err)
	}
	v := clip.NewVision(w)
	s := cfg.Vision.ImageSize
	pixels := make([]float32, 3*s*s)
	for i := range pixels {
		pixels[i] = float32(i%255)/128 - 1
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.EncodeImage(ctx, pixels, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(clip.VisionFLOPs(cfg)/1e9*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
}

// BenchmarkVisionViTB16At224 is one image through ViT-B/16 at 224 px.
func BenchmarkVisionViTB16At224(b *testing.B) { benchVision(b, "ViT-B-16-quickgelu") }

// BenchmarkVisionViTL14At336 is one image through ViT-L/14 at 336 px.
func BenchmarkVisionViTL14At336(b *testing.B) { benchVision(b, "ViT-L-14-336-quickgelu") }

// BenchmarkTextDAPOViTL is DAPO's text side through the ViT-L/14 text
// tower's blocks: 210 prompt sequences ((1 normal + 20 states) × 10 groups
// each) of 77 + 4 deep-prompt tokens, no causal mask.
func BenchmarkTextDAPOViTL(b *testing.B) {
	cfg, err := modelinit.Config("ViT-L-14-336-quickgelu")
	if err != nil {
		b.Fatal(err)
	}
	r, err := modelinit.Init(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	w, err := r.Weights()
	if err != nil {
		b.Fatal(err)
	}
	tower := clip.NewText(w).Tower
	tower.Causal = false
	const seqs, tokens = 210, 81
	input := clip.NewSeq(seqs, tokens, cfg.Text.Width)
	for i := range input.Data {
		input.Data[i] = float32(i%251)/250 - 0.5
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := tower.Forward(ctx, input.Clone(), clip.Hooks{}); err != nil {
			b.Fatal(err)
		}
	}
	flops := clip.TowerFLOPs(seqs, tokens, cfg.Text.Width, cfg.TextMLP(), cfg.Text.Layers)
	b.ReportMetric(flops/1e9*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
}
