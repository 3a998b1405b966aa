package train

import (
	"context"
	"testing"

	"dapo/server/clip"
	"dapo/server/dapo"
	"dapo/server/modelinit"
	"dapo/shared/defects"
	"dapo/shared/tokenizer"
)

// benchStep times one full training step (both towers forward and
// backward, the gorgonia head, Adam) with random weights, the reference's
// DAPO config fitted to the backbone and MVTec's 20 training states.
func benchStep(b *testing.B, config string, batch int) {
	bbCfg, err := modelinit.Config(config)
	if err != nil {
		b.Fatal(err)
	}
	r, err := modelinit.Init(bbCfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	w, err := r.Weights()
	if err != nil {
		b.Fatal(err)
	}
	states, _ := defects.TrainStates("mvtec")
	cfg := dapo.Default(states)
	n := bbCfg.Vision.Layers
	cfg.Depth, cfg.TextDepth, cfg.ImageSize = n, bbCfg.Text.Layers, bbCfg.Vision.ImageSize
	cfg.FeatureLayers = []int{n / 4, n / 2, 3 * n / 4, n}
	params := dapo.InitParams(cfg, w, 1)
	tok, _ := tokenizer.New()
	ids, err := cfg.TemplateIDs(tok, bbCfg.Text.ContextLength)
	if err != nil {
		b.Fatal(err)
	}
	s := bbCfg.Vision.ImageSize
	d := Dims{Batch: batch, Grid: bbCfg.Grid(), Size: s, Classes: 1 + len(cfg.Defects), Embed: bbCfg.EmbedDim, VisionWidth: bbCfg.Vision.Width, Layers: 4}
	step, err := NewStep(cfg, d, HeadWeights{Local: 4, Image: 1, Temperature: 0.07}, Model{Text: clip.NewText(w), Vision: clip.NewVision(w), Params: params, IDs: ids})
	if err != nil {
		b.Fatal(err)
	}
	defer step.Close()
	pixels := make([]float32, batch*3*s*s)
	for i := range pixels {
		pixels[i] = float32(i%97)/48 - 1
	}
	tg := Targets{Label: make([]int, batch), ClassID: make([]int64, batch*s*s), Binary: make([]float32, batch*s*s)}
	tg.Label[0] = 1
	for p := 0; p < s*s/4; p++ {
		tg.ClassID[p], tg.Binary[p] = 3, 1
	}
	opt := NewAdam(1e-3)
	ctx := context.Background()
	for b.Loop() {
		if _, err := step.Run(ctx, pixels, tg); err != nil {
			b.Fatal(err)
		}
		if err := step.Apply(opt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrainStepTiny is one step of the dev golden shape at batch 2.
func BenchmarkTrainStepTiny(b *testing.B) { benchStep(b, "tiny", 2) }

// BenchmarkTrainStepViTB16 is one step of ViT-B/16 at 224 px, batch 2.
func BenchmarkTrainStepViTB16(b *testing.B) { benchStep(b, "ViT-B-16-quickgelu", 2) }
