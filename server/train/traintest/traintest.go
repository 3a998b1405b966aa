// Package traintest holds the training-step checks every compute.Backend
// must pass — the reference's golden training steps run through
// train.DeviceStep — so the CPU backend's tests (server/train) and the GPU
// backend's (server/gpu, dapocuda tag) run the very same code.
package traintest

import (
	"context"
	"fmt"
	"testing"

	G "gorgonia.org/gorgonia"

	"dapo/server/clip"
	"dapo/server/compute"
	"dapo/server/compute/bind/bindtest"
	"dapo/server/dapo"
	"dapo/server/dapo/dapotest"
	"dapo/server/train"
	"dapo/shared/tokenizer"
)

// Stepper is a training step: train.Step (the CPU towers) or
// train.DeviceStep (a compute.Backend).
type Stepper interface {
	Run(ctx context.Context, pixels []float32, tg train.Targets) (*train.Result, error)
	Apply(solver G.Solver) error
	Close()
}

// Golden is what a step needs to be built for the golden batch.
type Golden struct {
	Config  dapo.Config
	Dims    train.Dims
	Head    train.HeadWeights
	Weights *clip.Weights
	Params  *dapo.Params
	IDs     [][]int
}

// GoldenStep runs the reference's training steps (two in the dev set) on
// the golden batch with the whole step on be: every loss term, the image
// logits, every gradient and every parameter after the optimiser, against
// the reference within tolerances.json (shapes, settings, loss weights and
// Adam's settings all come from the golden folder).
// Both tape modes run: checkpointed and full tapes.
func GoldenStep(t *testing.T, be compute.Backend) {
	for _, full := range []bool{false, true} {
		t.Run(map[bool]string{false: "checkpointed", true: "full-tapes"}[full], func(t *testing.T) {
			GoldenSteps(t, func(g Golden) (Stepper, error) {
				dm, err := train.BindDevice(be, g.Weights, g.Params, g.IDs)
				if err != nil {
					return nil, err
				}
				dm.FullTapes = full
				return train.NewDeviceStep(g.Config, g.Dims, g.Head, dm)
			})
		})
	}
}

// GoldenSteps is GoldenStep for any step newStep builds.
func GoldenSteps(t *testing.T, newStep func(Golden) (Stepper, error)) {
	m := bindtest.LoadModel(t)
	set, cfg, bb, params := m.Set, m.Config, m.Backbone, m.Params
	extra := dapotest.LoadTrainSettings(t, set)
	tok, err := tokenizer.New()
	if err != nil {
		t.Fatal(err)
	}
	ids, err := cfg.TemplateIDs(tok, bb.Config.Text.ContextLength)
	if err != nil {
		t.Fatal(err)
	}
	pixels, batch := m.Pixels(t)
	gt, gtShape := set.Int64(t, "train_step", "batch.gt")
	gtB, _ := set.Int64(t, "train_step", "batch.gt_b")
	label, _ := set.Int64(t, "train_step", "batch.label")
	tg := train.Targets{ClassID: gt}
	for _, y := range label {
		tg.Label = append(tg.Label, int(y))
	}
	for _, v := range gtB {
		tg.Binary = append(tg.Binary, float32(v))
	}
	d := train.Dims{Batch: batch, Grid: bb.Config.Grid(), Size: gtShape[len(gtShape)-1], Classes: 1 + len(cfg.Defects),
		Embed: bb.Config.EmbedDim, VisionWidth: bb.Config.Vision.Width, Layers: len(cfg.FeatureLayers)}
	step, err := newStep(Golden{Config: cfg, Dims: d, Weights: bb.Weights, Params: params, IDs: ids,
		Head: train.HeadWeights{Local: extra.LossWeights.Local, Image: extra.LossWeights.Image, Temperature: float32(cfg.Temperature)}})
	if err != nil {
		t.Fatal(err)
	}
	defer step.Close()
	opt := &train.Adam{LR: extra.Adam.LR, Beta1: extra.Adam.Betas[0], Beta2: extra.Adam.Betas[1], Eps: extra.Adam.Eps}
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
