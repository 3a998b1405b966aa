package train

import (
	"context"
	"math"
	"math/rand"
	"path/filepath"
	"testing"

	"dapo/server/clip"
	"dapo/server/compute"
	"dapo/server/dapo"
	"dapo/server/modelinit"
	"dapo/server/weights"
	"dapo/shared/safetensors"
	"dapo/shared/tokenizer"
)

func cloneParams(p *dapo.Params) *dapo.Params {
	cl := func(x []float32) []float32 { return append([]float32(nil), x...) }
	out := &dapo.Params{NormalCtx: cl(p.NormalCtx), AbnormalCtx: cl(p.AbnormalCtx), Visual: cl(p.Visual)}
	for _, x := range p.TextDeep {
		out.TextDeep = append(out.TextDeep, cl(x))
	}
	for i := range p.AdapterW {
		out.AdapterW, out.AdapterB = append(out.AdapterW, cl(p.AdapterW[i])), append(out.AdapterB, cl(p.AdapterB[i]))
	}
	return out
}

// TestDeviceStepMatchesStep: on the tiny random backbone with random
// pixels and masks, three training steps of DeviceStep on compute.CPU
// (towers over compute, fused float64 head) against Step (server/clip
// towers, gorgonia's float32 head), each with its own Adam: every loss
// (|Δ| ≤ 1e-5·max(1,|want|)), the image logits, every gradient and every
// updated parameter (max |Δ| ≤ 1e-4·max|want|, the golden gradients'
// relative tolerance).
func TestDeviceStepMatchesStep(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bb")
	bbCfg, err := modelinit.Config("tiny")
	if err != nil {
		t.Fatal(err)
	}
	rnd, err := modelinit.Init(bbCfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := modelinit.Write(context.Background(), dir, bbCfg, rnd.Tensor, nil, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	cfg := dapo.Default([]string{"hole", "scratch", "crack"})
	cfg.FeatureLayers, cfg.Depth, cfg.TextDepth = []int{2, 4}, 4, 4
	cfg.PromptCount, cfg.NormalTokenCnt, cfg.AbnormalTokenCnt = 2, 3, 3
	cfg.ImageSize = 42
	bb, err := weights.Open(dir, weights.Options{ImageSize: cfg.ImageSize})
	if err != nil {
		t.Fatal(err)
	}
	defer bb.Close()
	if err := cfg.Validate(bb.Config.Vision.Layers, bb.Config.Text.Layers); err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New()
	if err != nil {
		t.Fatal(err)
	}
	ids, err := cfg.TemplateIDs(tok, bb.Config.Text.ContextLength)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.ImageSize
	d := Dims{Batch: 3, Grid: bb.Config.Grid(), Size: s, Classes: 1 + len(cfg.Defects), Embed: bb.Config.EmbedDim,
		VisionWidth: bb.Config.Vision.Width, Layers: len(cfg.FeatureLayers)}
	w := HeadWeights{Local: 4, Image: 1, Temperature: float32(cfg.Temperature)}
	init := dapo.InitParams(cfg, bb.Weights, 7)
	pCPU, pDev := cloneParams(init), cloneParams(init)

	ref, err := NewStep(cfg, d, w, Model{Text: clip.NewText(bb.Weights), Vision: clip.NewVision(bb.Weights), Params: pCPU, IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	dm, err := BindDevice(&compute.CPU{}, bb.Weights, pDev, ids)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := NewDeviceStep(cfg, d, w, dm)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	optCPU, optDev := NewAdam(1e-3), NewAdam(1e-3)

	r := rand.New(rand.NewSource(3))
	ctx := context.Background()
	for step := 1; step <= 3; step++ {
		pixels := make([]float32, d.Batch*3*s*s)
		for i := range pixels {
			pixels[i] = float32(r.NormFloat64())
		}
		tg := Targets{}
		for b := 0; b < d.Batch; b++ {
			y := (b + step) % 2
			tg.Label = append(tg.Label, y)
			cls := int64(1 + r.Intn(d.Classes-1))
			x0, y0, side := r.Intn(s/2), r.Intn(s/2), 4+r.Intn(s/2)
			for py := 0; py < s; py++ {
				for px := 0; px < s; px++ {
					in := y == 1 && px >= x0 && px < x0+side && py >= y0 && py < y0+side
					if in {
						tg.ClassID, tg.Binary = append(tg.ClassID, cls), append(tg.Binary, 1)
					} else {
						tg.ClassID, tg.Binary = append(tg.ClassID, 0), append(tg.Binary, 0)
					}
				}
			}
		}
		want, err := ref.Run(ctx, pixels, tg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := dev.Run(ctx, pixels, tg)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Losses) != len(want.Losses) {
			t.Fatalf("step %d: %d loss terms, want %d", step, len(got.Losses), len(want.Losses))
		}
		worst := 0.0
		for name, wv := range want.Losses {
			gv, ok := got.Losses[name]
			diff := math.Abs(float64(gv) - float64(wv))
			if !ok || diff > 1e-5*math.Max(1, math.Abs(float64(wv))) {
				t.Errorf("step %d: %s = %g, Step has %g", step, name, gv, wv)
			}
			worst = math.Max(worst, diff)
		}
		t.Logf("step %d: losses max |diff| %.3g (total %g)", step, worst, want.Losses["loss.total"])
		relCompare(t, "image logits", got.ImageLogits, want.ImageLogits, 1e-4)
		gw, gg := want.Grads.Tensors(cfg, bb.Config), got.Grads.Tensors(cfg, bb.Config)
		for i := range gw {
			relCompare(t, "grad "+gw[i].Name, gg[i].Data, gw[i].Data, 1e-4)
		}
		if err := ref.Apply(optCPU); err != nil {
			t.Fatal(err)
		}
		if err := dev.Apply(optDev); err != nil {
			t.Fatal(err)
		}
		pw, pg := pCPU.Tensors(cfg, bb.Config), pDev.Tensors(cfg, bb.Config)
		for i := range pw {
			relCompare(t, "param "+pw[i].Name, pg[i].Data, pw[i].Data, 1e-4)
		}
	}
}
