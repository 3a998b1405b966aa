package train

import (
	"fmt"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"dapo/server/dapo"
)

// TestHeadGolden feeds the reference's step-1 encoder outputs (layer
// tokens, global and text features) into the loss head and compares every
// loss term, and the adapter gradients — which depend on nothing upstream
// — with the reference's first training step.
func TestHeadGolden(t *testing.T) {
	hg := loadHeadGolden(t)
	set, cfg, d, tg := hg.set, hg.cfg, hg.d, hg.tg
	g := G.NewGraph()
	b := &builder{g: g}
	var tokens, ws, bs []*G.Node
	for i, l := range cfg.FeatureLayers {
		tokens = append(tokens, b.constant(fmt.Sprintf("tokens%d", l), []int{d.Batch * d.Grid * d.Grid, d.VisionWidth}, hg.tokens[i]))
		ws = append(ws, G.NewMatrix(g, tensor.Float32, G.WithShape(d.Embed, d.VisionWidth), G.WithName(dapo.NameAdapterWeight(i)), G.WithValue(tensor.New(tensor.WithShape(d.Embed, d.VisionWidth), tensor.WithBacking(hg.adW[i])))))
		bs = append(bs, G.NewVector(g, tensor.Float32, G.WithShape(d.Embed), G.WithName(dapo.NameAdapterBias(i)), G.WithValue(tensor.New(tensor.WithShape(d.Embed), tensor.WithBacking(hg.adB[i])))))
	}
	global := b.constant("global", []int{d.Batch, d.Embed}, hg.global)
	text := b.constant("text", []int{d.Classes, d.Embed}, hg.text)
	loss := buildHead(b, d, tokens, global, text, ws, bs, tg, HeadWeights{Local: hg.local, Image: hg.image, Temperature: float32(cfg.Temperature)})
	if b.err != nil {
		t.Fatal(b.err)
	}
	reads := map[string]*G.Value{}
	read := func(name string, n *G.Node) {
		var v G.Value
		reads[name] = &v
		G.Read(n, &v)
	}
	read("step1.loss.image_ce", loss.ImageCE)
	read("step1.loss.local_unweighted", loss.LocalUnweighted)
	read("step1.loss.local", loss.Local)
	read("step1.loss.total", loss.Total)
	read("step1.image_logits", loss.ImageLogits)
	for i, l := range cfg.FeatureLayers {
		read(fmt.Sprintf("step1.loss.layer%d.focal", l), loss.Focal[i])
		read(fmt.Sprintf("step1.loss.layer%d.dice_normal", l), loss.DiceNormal[i])
		read(fmt.Sprintf("step1.loss.layer%d.dice_anomaly", l), loss.DiceAb[i])
	}
	wrt := append(append([]*G.Node{}, ws...), bs...)
	if _, err := G.Grad(loss.Total, wrt...); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g, G.BindDualValues(wrt...))
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	for name, v := range reads {
		set.CompareFloat32(t, "train_step", name, values32(*v))
	}
	for i := range cfg.FeatureLayers {
		for _, n := range []*G.Node{ws[i], bs[i]} {
			gv, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			set.CompareFloat32(t, "train_step", "step1.grad."+n.Name(), values32(gv))
		}
	}
}

func dropCLS(tokens []float32, d Dims) []float32 {
	n := d.Grid * d.Grid
	out := make([]float32, 0, d.Batch*n*d.VisionWidth)
	for bi := 0; bi < d.Batch; bi++ {
		off := (bi*(n+1) + 1) * d.VisionWidth
		out = append(out, tokens[off:off+n*d.VisionWidth]...)
	}
	return out
}

func intSqrt(n int) int {
	r := 0
	for (r+1)*(r+1) <= n {
		r++
	}
	return r
}
