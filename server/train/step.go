package train

import (
	"context"
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"dapo/server/clip"
	"dapo/server/dapo"
)

// Step is one training step's computation for a fixed batch shape: the
// frozen towers run in Go (dapo.EncodeTextTrain / EncodeImageTrain), their
// outputs enter a gorgonia graph as input nodes, gorgonia differentiates
// the head (adapters, similarity, softmax, upsampling, losses) with
// respect to them and to the adapters, and the towers' backward carries
// those gradients on to the prompt tokens.
//
// This is the custom-op design with the op boundary made explicit: the
// graph is built and compiled once, the tower values are bound with Let
// each step, and no tensor gorgonia returns is ever kept by tower code.
type Step struct {
	cfg     dapo.Config
	dims    Dims
	g       *G.ExprGraph
	machine G.VM
	tokens  []*G.Node
	global  *G.Node
	text    *G.Node
	adW     []*G.Node
	adB     []*G.Node
	labels  *G.Node
	focal   *G.Node
	gtB     *G.Node
	gtN     *G.Node
	loss    LossNodes
	reads   map[string]*G.Value
	wrt     []*G.Node
}

// Losses are one step's loss values, named as the reference's log.
type Losses map[string]float32

// NewStep builds and compiles the graph for batches of d.Batch images.
func NewStep(cfg dapo.Config, d Dims, w HeadWeights) (*Step, error) {
	g := G.NewGraph()
	b := &builder{g: g}
	s := &Step{cfg: cfg, dims: d, g: g, reads: map[string]*G.Value{}}
	gg := d.Grid * d.Grid
	for i := range cfg.FeatureLayers {
		s.tokens = append(s.tokens, b.constant(fmt.Sprintf("tokens.%d", i), []int{d.Batch * gg, d.VisionWidth}, make([]float32, d.Batch*gg*d.VisionWidth)))
		s.adW = append(s.adW, b.constant(dapo.NameAdapterWeight(i), []int{d.Embed, d.VisionWidth}, make([]float32, d.Embed*d.VisionWidth)))
		s.adB = append(s.adB, b.constant(dapo.NameAdapterBias(i), []int{d.Embed}, make([]float32, d.Embed)))
	}
	s.global = b.constant("global", []int{d.Batch, d.Embed}, make([]float32, d.Batch*d.Embed))
	s.text = b.constant("text", []int{d.Classes, d.Embed}, make([]float32, d.Classes*d.Embed))
	// Placeholder targets: one-hot label 0, all-background masks; Let
	// replaces them every step.
	tg := Targets{Label: make([]int, d.Batch), ClassID: make([]int64, d.Batch*d.Size*d.Size), Binary: make([]float32, d.Batch*d.Size*d.Size)}
	s.loss = buildHead(b, d, s.tokens, s.global, s.text, s.adW, s.adB, tg, w)
	if b.err != nil {
		return nil, b.err
	}
	for _, name := range []string{"image_labels", "focal_target", "gt_binary", "gt_normal"} {
		n := g.ByName(name)
		if len(n) != 1 {
			return nil, fmt.Errorf("train graph: %d nodes named %s", len(n), name)
		}
		switch name {
		case "image_labels":
			s.labels = n[0]
		case "focal_target":
			s.focal = n[0]
		case "gt_binary":
			s.gtB = n[0]
		case "gt_normal":
			s.gtN = n[0]
		}
	}
	s.read("loss.image_ce", s.loss.ImageCE)
	s.read("loss.local_unweighted", s.loss.LocalUnweighted)
	s.read("loss.local", s.loss.Local)
	s.read("loss.total", s.loss.Total)
	s.read("image_logits", s.loss.ImageLogits)
	for i, l := range cfg.FeatureLayers {
		s.read(fmt.Sprintf("loss.layer%d.focal", l), s.loss.Focal[i])
		s.read(fmt.Sprintf("loss.layer%d.dice_normal", l), s.loss.DiceNormal[i])
		s.read(fmt.Sprintf("loss.layer%d.dice_anomaly", l), s.loss.DiceAb[i])
	}
	s.wrt = append(append(append([]*G.Node{s.text, s.global}, s.tokens...), s.adW...), s.adB...)
	if _, err := G.Grad(s.loss.Total, s.wrt...); err != nil {
		return nil, fmt.Errorf("train graph: differentiate: %w", err)
	}
	s.machine = G.NewTapeMachine(g, G.BindDualValues(s.wrt...))
	return s, nil
}

func (s *Step) read(name string, n *G.Node) {
	var v G.Value
	s.reads[name] = &v
	G.Read(n, &v)
}

// Close releases the machine.
func (s *Step) Close() { s.machine.Close() }

// Result is what one step computes.
type Result struct {
	Losses      Losses
	ImageLogits []float32
	Grads       *dapo.Params // gradients in the parameters' layout
}

// Run computes the losses and the gradients of every learned tensor for
// one batch (pixels [B,3,S,S], targets) at parameters p.
func (s *Step) Run(ctx context.Context, text *clip.Text, vision *clip.Vision, p *dapo.Params, ids [][]int, pixels []float32, tg Targets) (*Result, error) {
	d := s.dims
	tf, ttape, err := dapo.EncodeTextTrain(ctx, s.cfg, text, p, ids)
	if err != nil {
		return nil, err
	}
	vo, vtape, err := dapo.EncodeImageTrain(ctx, s.cfg, vision, p, pixels, d.Batch)
	if err != nil {
		return nil, err
	}
	bind := func(n *G.Node, data []float32) error {
		return G.Let(n, tensor.New(tensor.WithShape(n.Shape()...), tensor.WithBacking(append([]float32(nil), data...))))
	}
	binds := []struct {
		n *G.Node
		v []float32
	}{{s.text, tf.Raw}, {s.global, vo.GlobalRaw}}
	for i := range s.tokens {
		binds = append(binds, struct {
			n *G.Node
			v []float32
		}{s.tokens[i], vo.Tokens[i]}, struct {
			n *G.Node
			v []float32
		}{s.adW[i], p.AdapterW[i]}, struct {
			n *G.Node
			v []float32
		}{s.adB[i], p.AdapterB[i]})
	}
	onehot := make([]float32, 2*d.Batch)
	for i, y := range tg.Label {
		onehot[2*i+y] = 1
	}
	notB := make([]float32, len(tg.Binary))
	for i, v := range tg.Binary {
		notB[i] = 1 - v
	}
	binds = append(binds, struct {
		n *G.Node
		v []float32
	}{s.labels, onehot}, struct {
		n *G.Node
		v []float32
	}{s.focal, clampedOneHot(tg.ClassID, d)}, struct {
		n *G.Node
		v []float32
	}{s.gtB, tg.Binary}, struct {
		n *G.Node
		v []float32
	}{s.gtN, notB})
	for _, bd := range binds {
		if err := bind(bd.n, bd.v); err != nil {
			return nil, fmt.Errorf("train step: bind %s: %w", bd.n.Name(), err)
		}
	}
	defer s.machine.Reset()
	if err := s.machine.RunAll(); err != nil {
		return nil, fmt.Errorf("train step: %w", err)
	}
	res := &Result{Losses: Losses{}}
	for name, v := range s.reads {
		vals := values32(*v)
		if name == "image_logits" {
			res.ImageLogits = append([]float32(nil), vals...)
			continue
		}
		res.Losses[name] = vals[0]
	}
	grad := func(n *G.Node) ([]float32, error) {
		gv, err := n.Grad()
		if err != nil {
			return nil, fmt.Errorf("train step: gradient of %s: %w", n.Name(), err)
		}
		return append([]float32(nil), values32(gv)...), nil
	}
	dText, err := grad(s.text)
	if err != nil {
		return nil, err
	}
	dGlobal, err := grad(s.global)
	if err != nil {
		return nil, err
	}
	g := &dapo.Params{}
	dTokens := make([][]float32, len(s.tokens))
	for i := range s.tokens {
		if dTokens[i], err = grad(s.tokens[i]); err != nil {
			return nil, err
		}
		w, err := grad(s.adW[i])
		if err != nil {
			return nil, err
		}
		bb, err := grad(s.adB[i])
		if err != nil {
			return nil, err
		}
		g.AdapterW, g.AdapterB = append(g.AdapterW, w), append(g.AdapterB, bb)
	}
	// BindDualValues accumulates into the gradients: clear them for the
	// next step (our optimiser reads the copies above).
	for _, n := range s.wrt {
		if gv, err := n.Grad(); err == nil {
			clear(values32(gv))
		}
	}
	tg2, err := ttape.Backward(ctx, dText)
	if err != nil {
		return nil, err
	}
	g.NormalCtx, g.AbnormalCtx, g.TextDeep = tg2.NormalCtx, tg2.AbnormalCtx, tg2.TextDeep
	if g.Visual, err = vtape.Backward(ctx, dGlobal, dTokens); err != nil {
		return nil, err
	}
	res.Grads = g
	return res, nil
}

// values32 reads a float32 tensor or scalar value.
func values32(v G.Value) []float32 {
	switch x := v.Data().(type) {
	case []float32:
		return x
	case float32:
		return []float32{x}
	}
	return nil
}
