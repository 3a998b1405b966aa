package train

import (
	"context"
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"dapo/server/clip"
	"dapo/server/dapo"
)

// Model is what a training step runs: the frozen towers, the learned
// parameters (updated in place by the optimiser) and the tokenised prompt
// templates.
type Model struct {
	Text   *clip.Text
	Vision *clip.Vision
	Params *dapo.Params
	IDs    [][]int
}

// Step is the training graph for one batch shape. The learned tensors are
// gorgonia input nodes that alias the Params slices; each frozen tower is a
// custom op (towerOp) whose forward and backward call the hand-written
// tower code; the head — adapters, similarity, softmax, upsampling and the
// losses — is built from gorgonia ops, and gorgonia differentiates the
// whole graph. The graph is built and compiled once per batch shape.
type Step struct {
	cfg     dapo.Config
	dims    Dims
	model   Model
	g       *G.ExprGraph
	machine G.VM
	params  G.Nodes // in dapo.ParamSpecs order
	labels  *G.Node
	focal   *G.Node
	gtB     *G.Node
	gtN     *G.Node
	loss    LossNodes
	reads   map[string]*G.Value

	// Set by Run for the towers' forward.
	ctx    context.Context
	pixels []float32

	// The previous step's tapes: their buffers are recorded into by the
	// next forward, which saves gigabytes of fresh pages per step.
	textTape   *dapo.TextTape
	visionTape *dapo.VisionTape
}

// Losses are one step's loss values, named as the reference's log.
type Losses map[string]float32

// NewStep builds and compiles the graph for batches of d.Batch images.
func NewStep(cfg dapo.Config, d Dims, w HeadWeights, m Model) (*Step, error) {
	g := G.NewGraph()
	b := &builder{g: g}
	s := &Step{cfg: cfg, dims: d, model: m, g: g, reads: map[string]*G.Value{}, ctx: context.Background()}
	s.params = paramNodes(g, cfg, m.Text.Config, m.Params)
	nText := 2 + cfg.TextDepth
	textIn, visual := s.params[:nText], s.params[nText]
	adapters := s.params[nText+1:]
	var adW, adB []*G.Node
	for i := 0; i < len(adapters); i += 2 {
		adW, adB = append(adW, adapters[i]), append(adB, adapters[i+1])
	}

	textOp := newTowerOp("text", shapesOf(textIn), d.Classes*d.Embed, s.runText)
	textOut := b.do(G.ApplyOp(textOp, textIn...))
	text := b.do(G.ApplyOp(&partOp{offset: 0, total: d.Classes * d.Embed, shape: tensor.Shape{d.Classes, d.Embed}}, textOut))

	gg := d.Batch * d.Grid * d.Grid
	visLen := d.Batch*d.Embed + len(cfg.FeatureLayers)*gg*d.VisionWidth
	visOp := newTowerOp("vision", shapesOf(G.Nodes{visual}), visLen, s.runVision)
	visOut := b.do(G.ApplyOp(visOp, visual))
	global := b.do(G.ApplyOp(&partOp{offset: 0, total: visLen, shape: tensor.Shape{d.Batch, d.Embed}}, visOut))
	var tokens []*G.Node
	for l := range cfg.FeatureLayers {
		off := d.Batch*d.Embed + l*gg*d.VisionWidth
		tokens = append(tokens, b.do(G.ApplyOp(&partOp{offset: off, total: visLen, shape: tensor.Shape{gg, d.VisionWidth}}, visOut)))
	}
	if b.err != nil {
		return nil, fmt.Errorf("train graph: %w", b.err)
	}
	// Placeholder targets; Run binds each batch's with Let.
	tg := Targets{Label: make([]int, d.Batch), ClassID: make([]int64, d.Batch*d.Size*d.Size), Binary: make([]float32, d.Batch*d.Size*d.Size)}
	s.loss = buildHead(b, d, tokens, global, text, adW, adB, tg, w)
	if b.err != nil {
		return nil, fmt.Errorf("train graph: %w", b.err)
	}
	for name, dst := range map[string]**G.Node{"image_labels": &s.labels, "focal_target": &s.focal, "gt_binary": &s.gtB, "gt_normal": &s.gtN} {
		n := g.ByName(name)
		if len(n) != 1 {
			return nil, fmt.Errorf("train graph: %d nodes named %s", len(n), name)
		}
		*dst = n[0]
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
	if _, err := G.Grad(s.loss.Total, s.params...); err != nil {
		return nil, fmt.Errorf("train graph: differentiate: %w", err)
	}
	s.machine = G.NewTapeMachine(g, G.BindDualValues(s.params...))
	return s, nil
}

// flat2 keeps 1-D and 2-D shapes and folds higher ranks into 2-D
// ([P, n, D] → [P·n, D]): the towers read the data row-major either way.
func flat2(shape []int) []int {
	if len(shape) <= 2 {
		return append([]int(nil), shape...)
	}
	rows := 1
	for _, d := range shape[:len(shape)-1] {
		rows *= d
	}
	return []int{rows, shape[len(shape)-1]}
}

func shapesOf(ns G.Nodes) []tensor.Shape {
	out := make([]tensor.Shape, len(ns))
	for i, n := range ns {
		out[i] = n.Shape().Clone()
	}
	return out
}

// runText is the text tower op: learned context and deep tokens in, raw
// class features out.
func (s *Step) runText(in [][]float32) ([]float32, func([]float32) ([][]float32, error), error) {
	p := &dapo.Params{NormalCtx: in[0], AbnormalCtx: in[1], TextDeep: in[2:]}
	tf, tape, err := dapo.EncodeTextTrain(s.ctx, s.cfg, s.model.Text, p, s.model.IDs, s.textTape)
	if err != nil {
		return nil, nil, err
	}
	s.textTape = tape
	ctx := s.ctx
	back := func(d []float32) ([][]float32, error) {
		g, err := tape.Backward(ctx, d)
		if err != nil {
			return nil, err
		}
		return append([][]float32{g.NormalCtx, g.AbnormalCtx}, g.TextDeep...), nil
	}
	return tf.Raw, back, nil
}

// runVision is the vision tower op: deep visual tokens in, the raw global
// features and each feature layer's patch tokens out, packed.
func (s *Step) runVision(in [][]float32) ([]float32, func([]float32) ([][]float32, error), error) {
	p := &dapo.Params{Visual: in[0]}
	vo, tape, err := dapo.EncodeImageTrain(s.ctx, s.cfg, s.model.Vision, p, s.pixels, s.dims.Batch, s.visionTape)
	if err != nil {
		return nil, nil, err
	}
	s.visionTape = tape
	out := append([]float32(nil), vo.GlobalRaw...)
	for _, t := range vo.Tokens {
		out = append(out, t...)
	}
	ctx, ge := s.ctx, len(vo.GlobalRaw)
	sizes := make([]int, len(vo.Tokens))
	for i, t := range vo.Tokens {
		sizes[i] = len(t)
	}
	back := func(d []float32) ([][]float32, error) {
		dTokens := make([][]float32, len(sizes))
		off := ge
		for i, n := range sizes {
			dTokens[i] = d[off : off+n]
			off += n
		}
		dv, err := tape.Backward(ctx, d[:ge], dTokens)
		return [][]float32{dv}, err
	}
	return out, back, nil
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
	Grads       *dapo.Params // copies of the gradients, parameters' layout
}

// Run computes the losses and the gradients of every learned tensor for a
// batch (pixels [B,3,S,S] and targets). The gradients stay in the graph
// for Apply and are also returned as copies.
func (s *Step) Run(ctx context.Context, pixels []float32, tg Targets) (*Result, error) {
	d := s.dims
	if len(pixels) != d.Batch*3*d.Size*d.Size {
		return nil, fmt.Errorf("train step: %d pixel values for a batch of %d at %d px", len(pixels), d.Batch, d.Size)
	}
	s.ctx, s.pixels = ctx, pixels
	onehot := make([]float32, 2*d.Batch)
	for i, y := range tg.Label {
		onehot[2*i+y] = 1
	}
	notB := make([]float32, len(tg.Binary))
	for i, v := range tg.Binary {
		notB[i] = 1 - v
	}
	for _, bd := range []struct {
		n *G.Node
		v []float32
	}{{s.labels, onehot}, {s.focal, clampedOneHot(tg.ClassID, d)}, {s.gtB, tg.Binary}, {s.gtN, notB}} {
		if err := G.Let(bd.n, tensor.New(tensor.WithShape(bd.n.Shape()...), tensor.WithBacking(bd.v))); err != nil {
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
	grads, err := collectGrads(s.cfg, s.params)
	if err != nil {
		return nil, fmt.Errorf("train step: %w", err)
	}
	res.Grads = grads
	return res, nil
}

// Apply hands the gradients of the last Run to a solver (which updates the
// parameters in place and zeroes the gradients, as gorgonia's solvers do).
func (s *Step) Apply(solver G.Solver) error {
	return solver.Step(G.NodesToValueGrads(s.params))
}

// ZeroGrad clears the accumulated gradients without a solver step.
func (s *Step) ZeroGrad() {
	for _, n := range s.params {
		if gv, err := n.Grad(); err == nil {
			clear(values32(gv))
		}
	}
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
