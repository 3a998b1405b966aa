package train

import (
	"context"
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"dapo/server/clip"
	"dapo/server/compute"
	"dapo/server/compute/bind"
	"dapo/server/dapo"
)

// DeviceModel is what a device step runs: the frozen towers on a
// compute.Backend, the backbone's config (the learned tensors' shapes), the
// learned parameters on the host (updated in place by the optimiser, so
// checkpoints and resume are those of the CPU Step) and the tokenised
// prompt templates.
type DeviceModel struct {
	Backend  compute.Backend
	Text     *compute.TextTower
	Vision   *compute.VisionTower
	Backbone clip.Config
	Params   *dapo.Params
	IDs      [][]int
	// FullTapes keeps every block's activations for the backward
	// (compute.Transformer.ForwardCached) instead of each block's input
	// only (ForwardCheckpointed): no recomputed forward in the backward,
	// about a third less work, for 9× the tape memory (CLIP's
	// (5·width+mlp)/width): at ViT-L/14@518 batch 8 about 9.7 GB for the
	// vision tower and 5.6 GB for the text side, against 1.1 and 0.6 GB.
	FullTapes bool
}

// BindDevice uploads the frozen CLIP weights to be.
func BindDevice(be compute.Backend, w *clip.Weights, p *dapo.Params, ids [][]int) (DeviceModel, error) {
	v, err := bind.Vision(be, w)
	if err != nil {
		return DeviceModel{}, err
	}
	t, err := bind.Text(be, w)
	if err != nil {
		return DeviceModel{}, err
	}
	return DeviceModel{Backend: be, Text: t, Vision: v, Backbone: w.Config, Params: p, IDs: ids}, nil
}

// DeviceStep is Step with the whole forward and backward on a
// compute.Backend: prompt assembly, both towers (checkpointed forward,
// backward w.r.t. activations and prompt tokens), the feature-layer tokens
// and adapters, and the fused loss head (HeadForward/HeadBackward). The
// gorgonia graph keeps orchestrating: the learned tensors are input nodes
// aliasing the Params slices (BindDualValues, the same Solver and Apply as
// Step), and the device work is one custom op (towerOp) whose output is
// the packed loss values and whose gradient op returns every learned
// tensor's gradient. One op and not three (text, vision, head) because
// gorgonia values are host tensors: splitting would copy the features and
// patch tokens to the host between ops, which is what the device step
// exists to avoid. Only the learned tensors, the small per-class text and
// per-image global features, the loss values and the parameter gradients
// cross the bus.
type DeviceStep struct {
	cfg     dapo.Config
	dims    Dims
	w       HeadWeights
	model   DeviceModel
	text    compute.TextTower // the model's, with the prompt encoder's mask
	g       *G.ExprGraph
	machine G.VM
	params  G.Nodes
	lossVal G.Value
	nLoss   int

	// Set by Run for the op.
	ctx    context.Context
	pixels []float32
	tg     compute.HeadTargets
	live   *devicePass
	// The previous pass's tapes, recorded into again by the next one
	// (Transformer.Forward…Reusing) instead of fresh memory every step.
	spareText, spareVision *compute.Tape
}

// NewDeviceStep builds and compiles the graph for batches of d.Batch images.
func NewDeviceStep(cfg dapo.Config, d Dims, w HeadWeights, m DeviceModel) (*DeviceStep, error) {
	if m.Backend == nil || m.Text == nil || m.Vision == nil || m.Params == nil {
		return nil, fmt.Errorf("device step: incomplete model")
	}
	if cfg.TextDepth < len(m.Text.Tower.Blocks)-1 {
		return nil, fmt.Errorf("training with text_depth %d < text layers − 1 is not supported (the reference drops the deep tokens there)", cfg.TextDepth)
	}
	v := m.Vision
	if d.Grid != v.Grid() || d.Embed != v.EmbedDim || d.VisionWidth != v.Width || d.Layers != len(cfg.FeatureLayers) || d.Embed != m.Text.EmbedDim {
		return nil, fmt.Errorf("device step: dims %+v do not fit the towers (grid %d, width %d, embed %d)", d, v.Grid(), v.Width, v.EmbedDim)
	}
	if len(m.IDs) != d.Classes*cfg.PromptCount {
		return nil, fmt.Errorf("device step: %d prompt rows for %d classes × %d prompts", len(m.IDs), d.Classes, cfg.PromptCount)
	}
	s := &DeviceStep{cfg: cfg, dims: d, w: w, model: m, text: *m.Text, g: G.NewGraph(), ctx: context.Background()}
	s.text.Tower.Causal = cfg.TextCausal
	s.nLoss = 4 + 3*d.Layers + 2*d.Batch
	s.params = paramNodes(s.g, cfg, m.Backbone, m.Params)
	op := newTowerOp("device", shapesOf(s.params), s.nLoss, s.run)
	vec, err := G.ApplyOp(op, s.params...)
	if err != nil {
		return nil, fmt.Errorf("device step graph: %w", err)
	}
	total, err := G.ApplyOp(&partOp{offset: 0, total: s.nLoss, shape: tensor.Shape{1}}, vec)
	if err != nil {
		return nil, fmt.Errorf("device step graph: %w", err)
	}
	cost, err := G.Sum(total)
	if err != nil {
		return nil, fmt.Errorf("device step graph: %w", err)
	}
	G.Read(vec, &s.lossVal)
	if _, err := G.Grad(cost, s.params...); err != nil {
		return nil, fmt.Errorf("device step graph: differentiate: %w", err)
	}
	s.machine = G.NewTapeMachine(s.g, G.BindDualValues(s.params...))
	return s, nil
}

// paramNodes makes one uniquely named input node per learned tensor,
// aliasing the Params slices (dapo.ParamSpecs order).
func paramNodes(g *G.ExprGraph, cfg dapo.Config, bb clip.Config, p *dapo.Params) G.Nodes {
	var out G.Nodes
	named := p.Tensors(cfg, bb)
	for i, spec := range dapo.ParamSpecs(cfg, bb) {
		shape := flat2(spec.Shape)
		t := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(named[i].Data))
		out = append(out, G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(spec.Name), G.WithValue(t)))
	}
	return out
}

// collectGrads copies the gradients of the parameter nodes into the
// parameters' layout.
func collectGrads(cfg dapo.Config, params G.Nodes) (*dapo.Params, error) {
	grads := make([][]float32, len(params))
	for i, n := range params {
		gv, err := n.Grad()
		if err != nil {
			return nil, fmt.Errorf("gradient of %s: %w", n.Name(), err)
		}
		grads[i] = append([]float32(nil), values32(gv)...)
	}
	nText := 2 + cfg.TextDepth
	out := &dapo.Params{NormalCtx: grads[0], AbnormalCtx: grads[1], TextDeep: grads[2:nText], Visual: grads[nText]}
	for i := nText + 1; i < len(grads); i += 2 {
		out.AdapterW, out.AdapterB = append(out.AdapterW, grads[i]), append(out.AdapterB, grads[i+1])
	}
	return out, nil
}

// Run computes the losses and every learned tensor's gradient for a batch
// (pixels [B,3,S,S] and targets); as Step.Run, the gradients stay in the
// graph for Apply and are also returned as copies.
func (s *DeviceStep) Run(ctx context.Context, pixels []float32, tg Targets) (*Result, error) {
	d := s.dims
	if len(pixels) != d.Batch*3*d.Size*d.Size {
		return nil, fmt.Errorf("device train step: %d pixel values for a batch of %d at %d px", len(pixels), d.Batch, d.Size)
	}
	s.ctx, s.pixels, s.tg = ctx, pixels, headTargetsOf(tg)
	defer func() { s.ctx, s.pixels = context.Background(), nil }()
	defer s.machine.Reset()
	defer s.release() // after an error between forward and backward
	if err := s.machine.RunAll(); err != nil {
		return nil, fmt.Errorf("device train step on %s: %w", s.model.Backend.Name(), err)
	}
	vals := values32(s.lossVal)
	if len(vals) != s.nLoss {
		return nil, fmt.Errorf("device train step: %d loss values, want %d", len(vals), s.nLoss)
	}
	res := &Result{Losses: Losses{"loss.total": vals[0], "loss.image_ce": vals[1], "loss.local_unweighted": vals[2], "loss.local": vals[3]}}
	for i, l := range s.cfg.FeatureLayers {
		res.Losses[fmt.Sprintf("loss.layer%d.focal", l)] = vals[4+3*i]
		res.Losses[fmt.Sprintf("loss.layer%d.dice_normal", l)] = vals[5+3*i]
		res.Losses[fmt.Sprintf("loss.layer%d.dice_anomaly", l)] = vals[6+3*i]
	}
	res.ImageLogits = append([]float32(nil), vals[4+3*d.Layers:]...)
	grads, err := collectGrads(s.cfg, s.params)
	if err != nil {
		return nil, fmt.Errorf("device train step: %w", err)
	}
	res.Grads = grads
	return res, nil
}

// Apply hands the gradients of the last Run to a solver, as Step.Apply.
func (s *DeviceStep) Apply(solver G.Solver) error {
	return solver.Step(G.NodesToValueGrads(s.params))
}

// ZeroGrad clears the accumulated gradients without a solver step.
func (s *DeviceStep) ZeroGrad() {
	for _, n := range s.params {
		if gv, err := n.Grad(); err == nil {
			clear(values32(gv))
		}
	}
}

// Close releases the machine and any device memory of an unfinished pass.
func (s *DeviceStep) Close() {
	s.release()
	s.spareText.Free()
	s.spareVision.Free()
	s.spareText, s.spareVision = nil, nil
	s.machine.Close()
}

func (s *DeviceStep) release() {
	if s.live != nil {
		s.live.free()
		s.live = nil
	}
}

func headTargetsOf(tg Targets) compute.HeadTargets {
	out := compute.HeadTargets{Label: tg.Label, Binary: tg.Binary, ClassID: make([]int32, len(tg.ClassID))}
	for i, c := range tg.ClassID {
		out.ClassID[i] = int32(c)
	}
	return out
}

// devicePass is one forward's device state, kept for its backward.
type devicePass struct {
	s     *DeviceStep
	be    compute.Backend
	owned []compute.Tensor

	// Learned tensors on the device (ParamSpecs order, split).
	ctxN, ctxA, visual compute.Tensor
	deep, adW, adB     []compute.Tensor

	// Text side.
	textFinal compute.Seq
	textTape  *compute.Tape
	rows      []int
	// Vision side.
	visFinal compute.Seq
	visTape  *compute.Tape
	tokens   []compute.Tensor // per feature layer [B·G², Wv]
	feats    []compute.Tensor // per feature layer [B·G², E], adapted
	head     compute.HeadState
}

func (f *devicePass) own(ts ...compute.Tensor) {
	f.owned = append(f.owned, ts...)
}

// forward runs a tower recording the tape the model asks for, into the
// memory of old (the previous pass's tape of that tower, emptied; may be
// nil).
func (f *devicePass) forward(ctx context.Context, t *compute.Transformer, x compute.Seq, hooks compute.Hooks, old *compute.Tape) (compute.Seq, *compute.Tape, error) {
	if f.s.model.FullTapes {
		return t.ForwardCachedReusing(ctx, x, hooks, old)
	}
	return t.ForwardCheckpointedReusing(ctx, x, hooks, old)
}

func (f *devicePass) alloc(n int) compute.Tensor { t := f.be.Alloc(n); f.own(t); return t }
func (f *devicePass) zeros(n int) compute.Tensor { t := f.be.Zeros(n); f.own(t); return t }
func (f *devicePass) upload(x []float32) compute.Tensor {
	t := f.be.Upload(x)
	f.own(t)
	return t
}

func (f *devicePass) free() {
	if f.head != nil {
		f.head.Free()
		f.head = nil
	}
	// The tapes stay for the next pass to record into.
	f.s.spareText.Free()
	f.s.spareVision.Free()
	f.s.spareText, f.s.spareVision = f.textTape, f.visTape
	f.textTape, f.visTape = nil, nil
	for _, t := range f.owned {
		f.be.Free(t)
	}
	f.owned = nil
}

// run is the device op's forward (towerRun): the learned tensors in
// ParamSpecs order in, the packed loss values out
// [total, image_ce, local_unweighted, local, (focal, dice_normal,
// dice_anomaly) per layer, image logits [B,2]].
func (s *DeviceStep) run(in [][]float32) ([]float32, func([]float32) ([][]float32, error), error) {
	s.release() // a forward whose backward never ran
	cfg, d := s.cfg, s.dims
	be := s.model.Backend
	f := &devicePass{s: s, be: be}
	s.live = f
	nText := 2 + cfg.TextDepth
	f.ctxN, f.ctxA = f.upload(in[0]), f.upload(in[1])
	for k := 0; k < cfg.TextDepth; k++ {
		f.deep = append(f.deep, f.upload(in[2+k]))
	}
	f.visual = f.upload(in[nText])
	for i := nText + 1; i < len(in); i += 2 {
		f.adW, f.adB = append(f.adW, f.upload(in[i])), append(f.adB, f.upload(in[i+1]))
	}
	text, err := f.textForward(s.ctx)
	if err != nil {
		return nil, nil, err
	}
	global, err := f.visionForward(s.ctx)
	if err != nil {
		return nil, nil, err
	}
	spec := compute.HeadSpec{Batch: d.Batch, Grid: d.Grid, Size: d.Size, Classes: d.Classes, Embed: d.Embed, Layers: d.Layers,
		Temperature: s.w.Temperature, Local: s.w.Local, Image: s.w.Image}
	loss, st, err := be.HeadForward(spec, f.feats, text, global, s.tg)
	if err != nil {
		return nil, nil, fmt.Errorf("head on %s: %w", be.Name(), err)
	}
	f.head = st
	out := []float32{loss.Total, loss.ImageCE, loss.LocalUnweighted, loss.Local}
	for l := range d.Layers {
		out = append(out, loss.Focal[l], loss.DiceNormal[l], loss.DiceAnomaly[l])
	}
	out = append(out, loss.ImageLogits...)
	return out, func(dOut []float32) ([][]float32, error) { return f.backward(s.ctx, dOut, text, global) }, nil
}

// backward is the device op's gradient: the head's backward with the
// total's gradient, the adapters, the vision tower with the feature-layer
// token gradients and the global read-out, the text tower from the class
// features; the learned tensors' gradients come back to the host in
// ParamSpecs order.
func (f *devicePass) backward(ctx context.Context, dOut []float32, text, global compute.Tensor) ([][]float32, error) {
	defer func() {
		f.free()
		if f.s.live == f {
			f.s.live = nil
		}
	}()
	if f.head == nil {
		return nil, fmt.Errorf("device step: backward without a forward")
	}
	for i, v := range dOut[1:] {
		if v != 0 {
			return nil, fmt.Errorf("device step: output %d is not differentiable (only the total loss is)", i+1)
		}
	}
	s, be := f.s, f.be
	cfg, d := s.cfg, s.dims
	rows := d.Batch * d.Grid * d.Grid
	dFeats := make([]compute.Tensor, d.Layers)
	for l := range dFeats {
		dFeats[l] = f.zeros(rows * d.Embed)
	}
	dText, dGlobal := f.zeros(text.Len()), f.zeros(global.Len())
	if err := be.HeadBackward(f.head, dOut[0], dFeats, dText, dGlobal); err != nil {
		return nil, fmt.Errorf("head backward on %s: %w", be.Name(), err)
	}
	f.head.Free()
	f.head = nil

	grads := make([][]float32, 0, 3+cfg.TextDepth+2*d.Layers)
	textGrads, err := f.textBackward(ctx, dText)
	if err != nil {
		return nil, err
	}
	grads = append(grads, textGrads...)
	visGrads, err := f.visionBackward(ctx, dFeats, dGlobal)
	if err != nil {
		return nil, err
	}
	grads = append(grads, visGrads...)
	if err := be.Err(); err != nil {
		return nil, fmt.Errorf("device step backward on %s: %w", be.Name(), err)
	}
	return grads, nil
}

func download(be compute.Backend, t compute.Tensor) []float32 {
	out := make([]float32, t.Len())
	be.Download(out, t)
	return out
}
