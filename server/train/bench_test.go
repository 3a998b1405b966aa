package train

import (
	"context"
	"testing"

	G "gorgonia.org/gorgonia"

	"dapo/server/clip"
	"dapo/server/compute"
	"dapo/server/dapo"
	"dapo/server/modelinit"
	"dapo/shared/defects"
	"dapo/shared/tokenizer"
)

// benchStep times one full training step (both towers forward and
// backward, the head, Adam) with random weights, the reference's DAPO
// config fitted to the backbone and MVTec's 20 training states: the CPU
// Step (gorgonia head) and the device step on compute.CPU (fused head),
// with checkpointed and full tapes.
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
	hw := HeadWeights{Local: 4, Image: 1, Temperature: 0.07}
	pixels := make([]float32, batch*3*s*s)
	for i := range pixels {
		pixels[i] = float32(i%97)/48 - 1
	}
	tg := Targets{Label: make([]int, batch), ClassID: make([]int64, batch*s*s), Binary: make([]float32, batch*s*s)}
	tg.Label[0] = 1
	for p := 0; p < s*s/4; p++ {
		tg.ClassID[p], tg.Binary[p] = 3, 1
	}
	run := func(b *testing.B, step interface {
		Run(context.Context, []float32, Targets) (*Result, error)
		Apply(G.Solver) error
		Close()
	}) {
		defer step.Close()
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
	b.Run("cpu-step", func(b *testing.B) {
		step, err := NewStep(cfg, d, hw, Model{Text: clip.NewText(w), Vision: clip.NewVision(w), Params: params, IDs: ids})
		if err != nil {
			b.Fatal(err)
		}
		run(b, step)
	})
	for _, full := range []bool{false, true} {
		name := "device-step/checkpointed"
		if full {
			name = "device-step/full-tapes"
		}
		b.Run(name, func(b *testing.B) {
			dm, err := BindDevice(&compute.CPU{}, w, params, ids)
			if err != nil {
				b.Fatal(err)
			}
			dm.FullTapes = full
			step, err := NewDeviceStep(cfg, d, hw, dm)
			if err != nil {
				b.Fatal(err)
			}
			run(b, step)
		})
	}
}

// BenchmarkTrainStepTiny is one step of the dev golden shape at batch 2.
func BenchmarkTrainStepTiny(b *testing.B) { benchStep(b, "tiny", 2) }

// BenchmarkTrainStepViTB16 is one step of ViT-B/16 at 224 px, batch 2.
func BenchmarkTrainStepViTB16(b *testing.B) { benchStep(b, "ViT-B-16-quickgelu", 2) }
