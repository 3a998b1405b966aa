package train

import (
	"context"
	"fmt"
	"testing"

	"dapo/server/clip"
	"dapo/shared/tokenizer"
)

// TestStepGolden runs the reference's two training steps on the golden
// batch: every loss term, every gradient and every updated parameter.
func TestStepGolden(t *testing.T) {
	g := loadGoldenSetup(t)
	set, cfg, bb, params := g.set, g.cfg, g.bb, g.params
	tok, err := tokenizer.New()
	if err != nil {
		t.Fatal(err)
	}
	ids, err := cfg.TemplateIDs(tok, bb.Config.Text.ContextLength)
	if err != nil {
		t.Fatal(err)
	}
	var pixels []float32
	batch := 0
	for ; set.HasTensor(t, "preprocess", fmt.Sprintf("image_%d.tensor", batch)); batch++ {
		v, _ := set.Float32(t, "preprocess", fmt.Sprintf("image_%d.tensor", batch))
		pixels = append(pixels, v...)
	}
	gt, gtShape := set.Int64(t, "train_step", "batch.gt")
	gtB, _ := set.Int64(t, "train_step", "batch.gt_b")
	label, _ := set.Int64(t, "train_step", "batch.label")
	tg := Targets{ClassID: gt}
	for _, y := range label {
		tg.Label = append(tg.Label, int(y))
	}
	for _, v := range gtB {
		tg.Binary = append(tg.Binary, float32(v))
	}
	d := Dims{Batch: batch, Grid: bb.Config.Grid(), Size: gtShape[len(gtShape)-1], Classes: 1 + len(cfg.Defects),
		Embed: bb.Config.EmbedDim, VisionWidth: bb.Config.Vision.Width, Layers: len(cfg.FeatureLayers)}
	text, vision := clip.NewText(bb.Weights), clip.NewVision(bb.Weights)
	step, err := NewStep(cfg, d, HeadWeights{Local: g.local, Image: g.image, Temperature: float32(cfg.Temperature)},
		Model{Text: text, Vision: vision, Params: params, IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	defer step.Close()
	opt := g.adam
	steps := 0
	for s := 1; set.HasTensor(t, "train_step", fmt.Sprintf("step%d.loss.total", s)); s++ {
		res, err := step.Run(context.Background(), pixels, tg)
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range res.Losses {
			set.CompareFloat32(t, "train_step", fmt.Sprintf("step%d.%s", s, name), []float32{v})
		}
		if key := fmt.Sprintf("step%d.image_logits", s); set.HasTensor(t, "train_step", key) {
			set.CompareFloat32(t, "train_step", key, res.ImageLogits)
		}
		for _, nt := range res.Grads.Tensors(cfg, bb.Config) {
			set.CompareFloat32(t, "train_step", fmt.Sprintf("step%d.grad.%s", s, nt.Name), nt.Data)
		}
		// The optimiser goes through gorgonia's Solver interface, as in training.
		if err := step.Apply(opt); err != nil {
			t.Fatal(err)
		}
		for _, nt := range params.Tensors(cfg, bb.Config) {
			set.CompareFloat32(t, "train_step", fmt.Sprintf("step%d.param.%s", s, nt.Name), nt.Data)
		}
		steps++
	}
	if steps < 2 {
		t.Errorf("golden set has %d training steps, want 2", steps)
	}
}
