package train

import (
	"fmt"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"dapo/server/compute"
	"dapo/server/dapo"
	"dapo/server/dapo/dapotest"
	"dapo/shared/golden"
)

// headGolden is the reference's step-1 head input: the layer tokens, the
// initial adapters, the raw global and text features and the targets.
type headGolden struct {
	set          *golden.Set
	cfg          dapo.Config
	d            Dims
	tg           Targets
	tokens       [][]float32 // per layer [B·G², Wv], CLS dropped
	adW, adB     [][]float32
	global, text []float32
	local, image float32
}

func loadHeadGolden(t *testing.T) headGolden {
	set := golden.Load(t)
	cfg, err := dapotest.Config(set)
	if err != nil {
		t.Fatal(err)
	}
	lw := dapotest.LoadTrainSettings(t, set)
	_, shape := set.Float32(t, "dapo_forward", fmt.Sprintf("layer%d.tokens", cfg.FeatureLayers[0]))
	textRaw, tshape := set.Float32(t, "dapo_forward", "text.features_raw")
	globalRaw, _ := set.Float32(t, "dapo_forward", "image.global_raw")
	gt, gtShape := set.Int64(t, "train_step", "batch.gt")
	gtB, _ := set.Int64(t, "train_step", "batch.gt_b")
	label, _ := set.Int64(t, "train_step", "batch.label")
	d := Dims{Batch: shape[0], Grid: intSqrt(shape[1] - 1), Size: gtShape[len(gtShape)-1], Classes: tshape[0], Embed: tshape[1], VisionWidth: shape[2], Layers: len(cfg.FeatureLayers)}
	tg := Targets{ClassID: gt}
	for _, y := range label {
		tg.Label = append(tg.Label, int(y))
	}
	for _, v := range gtB {
		tg.Binary = append(tg.Binary, float32(v))
	}
	hg := headGolden{set: set, cfg: cfg, d: d, tg: tg, global: globalRaw, text: textRaw, local: lw.LossWeights.Local, image: lw.LossWeights.Image}
	init := set.File(t, "dapo_params_init")
	for i, l := range cfg.FeatureLayers {
		full, _ := set.Float32(t, "dapo_forward", fmt.Sprintf("layer%d.tokens", l))
		hg.tokens = append(hg.tokens, dropCLS(full, d))
		w, _, err := init.Float32(dapo.NameAdapterWeight(i))
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := init.Float32(dapo.NameAdapterBias(i))
		if err != nil {
			t.Fatal(err)
		}
		hg.adW, hg.adB = append(hg.adW, w), append(hg.adB, b)
	}
	return hg
}

func (hg headGolden) spec() compute.HeadSpec {
	d := hg.d
	return compute.HeadSpec{Batch: d.Batch, Grid: d.Grid, Size: d.Size, Classes: d.Classes, Embed: d.Embed, Layers: d.Layers,
		Temperature: float32(hg.cfg.Temperature), Local: hg.local, Image: hg.image}
}

func headTargets(tg Targets) compute.HeadTargets {
	out := compute.HeadTargets{Label: tg.Label, Binary: tg.Binary, ClassID: make([]int32, len(tg.ClassID))}
	for i, c := range tg.ClassID {
		out.ClassID[i] = int32(c)
	}
	return out
}

// adapt is the adapter in float64: F = X·Wᵀ + b.
func adapt(x, w, b []float32, rows, in, out int) []float32 {
	f := make([]float32, rows*out)
	for r := 0; r < rows; r++ {
		for o := 0; o < out; o++ {
			s := float64(b[o])
			for i := 0; i < in; i++ {
				s += float64(x[r*in+i]) * float64(w[o*in+i])
			}
			f[r*out+o] = float32(s)
		}
	}
	return f
}

// TestFusedHeadGolden runs compute.CPU's fused head on the reference's
// step-1 encoder outputs (adapted here in float64 with the initial
// adapters) and checks every loss term against the reference, and the
// gradient w.r.t. the adapted features through the adapter gradients the
// reference recorded (dW = dFᵀ·X, db = Σ_rows dF, computed here in
// float64): those depend on nothing upstream of the head.
func TestFusedHeadGolden(t *testing.T) {
	hg := loadHeadGolden(t)
	d, set := hg.d, hg.set
	be := &compute.CPU{}
	rows := d.Batch * d.Grid * d.Grid
	var feats, dFeats []compute.Tensor
	for l := range hg.tokens {
		feats = append(feats, be.Upload(adapt(hg.tokens[l], hg.adW[l], hg.adB[l], rows, d.VisionWidth, d.Embed)))
		dFeats = append(dFeats, be.Zeros(rows*d.Embed))
	}
	loss, st, err := be.HeadForward(hg.spec(), feats, be.Upload(hg.text), be.Upload(hg.global), headTargets(hg.tg))
	if err != nil {
		t.Fatal(err)
	}
	set.CompareFloat32(t, "train_step", "step1.loss.image_ce", []float32{loss.ImageCE})
	set.CompareFloat32(t, "train_step", "step1.loss.local_unweighted", []float32{loss.LocalUnweighted})
	set.CompareFloat32(t, "train_step", "step1.loss.local", []float32{loss.Local})
	set.CompareFloat32(t, "train_step", "step1.loss.total", []float32{loss.Total})
	set.CompareFloat32(t, "train_step", "step1.image_logits", loss.ImageLogits)
	for i, l := range hg.cfg.FeatureLayers {
		set.CompareFloat32(t, "train_step", fmt.Sprintf("step1.loss.layer%d.focal", l), []float32{loss.Focal[i]})
		set.CompareFloat32(t, "train_step", fmt.Sprintf("step1.loss.layer%d.dice_normal", l), []float32{loss.DiceNormal[i]})
		set.CompareFloat32(t, "train_step", fmt.Sprintf("step1.loss.layer%d.dice_anomaly", l), []float32{loss.DiceAnomaly[i]})
	}
	dText, dGlobal := be.Zeros(d.Classes*d.Embed), be.Zeros(d.Batch*d.Embed)
	if err := be.HeadBackward(st, 1, dFeats, dText, dGlobal); err != nil {
		t.Fatal(err)
	}
	for l := range hg.tokens {
		df := dFeats[l].(compute.Host)
		dw, db := make([]float32, d.Embed*d.VisionWidth), make([]float32, d.Embed)
		for o := 0; o < d.Embed; o++ {
			sb := 0.0
			for r := 0; r < rows; r++ {
				sb += float64(df[r*d.Embed+o])
			}
			db[o] = float32(sb)
			for i := 0; i < d.VisionWidth; i++ {
				s := 0.0
				for r := 0; r < rows; r++ {
					s += float64(df[r*d.Embed+o]) * float64(hg.tokens[l][r*d.VisionWidth+i])
				}
				dw[o*d.VisionWidth+i] = float32(s)
			}
		}
		set.CompareFloat32(t, "train_step", "step1.grad."+dapo.NameAdapterWeight(l), dw)
		set.CompareFloat32(t, "train_step", "step1.grad."+dapo.NameAdapterBias(l), db)
	}

	// The text and global gradients have no reference tensor of their
	// own: compare them with gorgonia's differentiation of server/train's
	// head (buildHead) on the same inputs, with the golden gradients'
	// tolerance (1e-4 of the largest value).
	gText, gGlobal := gorgoniaHeadGrads(t, hg)
	relCompare(t, "dText vs gorgonia", dText.(compute.Host), gText, 1e-4)
	relCompare(t, "dGlobal vs gorgonia", dGlobal.(compute.Host), gGlobal, 1e-4)
}

// gorgoniaHeadGrads differentiates buildHead w.r.t. the raw text and
// global features.
func gorgoniaHeadGrads(t *testing.T, hg headGolden) (dText, dGlobal []float32) {
	d := hg.d
	g := G.NewGraph()
	b := &builder{g: g}
	var tokens, ws, bs []*G.Node
	for i := range hg.tokens {
		tokens = append(tokens, b.constant(fmt.Sprintf("tokens%d", i), []int{d.Batch * d.Grid * d.Grid, d.VisionWidth}, hg.tokens[i]))
		ws = append(ws, b.constant(fmt.Sprintf("w%d", i), []int{d.Embed, d.VisionWidth}, hg.adW[i]))
		bs = append(bs, b.constant(fmt.Sprintf("b%d", i), []int{d.Embed}, hg.adB[i]))
	}
	global := G.NewMatrix(g, tensor.Float32, G.WithShape(d.Batch, d.Embed), G.WithName("global"),
		G.WithValue(tensor.New(tensor.WithShape(d.Batch, d.Embed), tensor.WithBacking(append([]float32(nil), hg.global...)))))
	text := G.NewMatrix(g, tensor.Float32, G.WithShape(d.Classes, d.Embed), G.WithName("text"),
		G.WithValue(tensor.New(tensor.WithShape(d.Classes, d.Embed), tensor.WithBacking(append([]float32(nil), hg.text...)))))
	loss := buildHead(b, d, tokens, global, text, ws, bs, hg.tg, HeadWeights{Local: hg.local, Image: hg.image, Temperature: float32(hg.cfg.Temperature)})
	if b.err != nil {
		t.Fatal(b.err)
	}
	if _, err := G.Grad(loss.Total, text, global); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g, G.BindDualValues(text, global))
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	gt, err := text.Grad()
	if err != nil {
		t.Fatal(err)
	}
	gg, err := global.Grad()
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), values32(gt)...), append([]float32(nil), values32(gg)...)
}

// relCompare checks max|got−want| ≤ rel·max|want| and logs the error.
func relCompare(t *testing.T, name string, got, want []float32, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	maxAbs, maxDiff := 0.0, 0.0
	for i := range want {
		maxAbs = math.Max(maxAbs, math.Abs(float64(want[i])))
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		maxDiff = math.Max(maxDiff, d)
	}
	if maxDiff > rel*maxAbs {
		t.Errorf("%s: max |diff| %.3g exceeds %.3g (rel %g of %.3g)", name, maxDiff, rel*maxAbs, rel, maxAbs)
		return
	}
	t.Logf("%s: max |diff| %.3g within %.3g (max |want| %.3g)", name, maxDiff, rel*maxAbs, maxAbs)
}
