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
