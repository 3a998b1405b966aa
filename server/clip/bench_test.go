package clip

import (
	"context"
	"testing"
)

// benchConfig is an open_clip config for a benchmark shape.
func benchConfig(b *testing.B, js string) Config {
	cfg, err := ParseConfig([]byte(js))
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

const (
	vitB16 = `{"embed_dim":512,"quick_gelu":true,"vision_cfg":{"image_size":224,"layers":12,"width":768,"patch_size":16},"text_cfg":{"context_length":77,"vocab_size":49408,"width":512,"heads":8,"layers":12}}`
	vitL14 = `{"embed_dim":768,"quick_gelu":true,"vision_cfg":{"image_size":336,"layers":24,"width":1024,"patch_size":14},"text_cfg":{"context_length":77,"vocab_size":49408,"width":768,"heads":12,"layers":12}}`
)

func benchVision(b *testing.B, js string) {
	cfg := benchConfig(b, js)
	w, err := Bind(cfg, RandomSource(1))
	if err != nil {
		b.Fatal(err)
	}
	v := NewVision(w)
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
	b.ReportMetric(VisionFLOPs(cfg)/1e9*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
}

// BenchmarkVisionViTB16At224 is one image through ViT-B/16 at 224 px.
func BenchmarkVisionViTB16At224(b *testing.B) { benchVision(b, vitB16) }

// BenchmarkVisionViTL14At336 is one image through ViT-L/14 at 336 px.
func BenchmarkVisionViTL14At336(b *testing.B) { benchVision(b, vitL14) }
