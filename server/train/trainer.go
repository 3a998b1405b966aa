package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"gorgonia.org/gorgonia"

	"dapo/server/clip"
	"dapo/server/compute"
	"dapo/server/dapo"
	"dapo/server/dataset"
	"dapo/server/weights"
	"dapo/shared/imaging"
	"dapo/shared/safetensors"
	"dapo/shared/tokenizer"
)

// Mask binarisation modes for the training targets.
const (
	// MaskReference is train.py's: the resized float mask is cast to an
	// integer before thresholding, so only pixels exactly 1.0 after the
	// bilinear resize count (soft edges become background).
	MaskReference = "reference"
	// MaskThreshold counts pixels > 0.5, as the reference's test code does.
	MaskThreshold = "threshold"
)

// Options configures a training run.
type Options struct {
	Format, Root, Split string
	ModelDir            string
	Out                 string
	Epochs, Batch       int
	MaxSteps            int // optimizer steps from the start of training, across resumes; 0: no limit
	LR                  float64
	Betas               [2]float64 // Adam's β1, β2 (the reference: 0.5, 0.999)
	Eps                 float64    // Adam's ε (1e-8)
	Seed                uint64
	DefectMap           map[string]string
	Config              dapo.Config // hyperparameters; Defects is filled from the data
	LocalWeight         float32
	ImageWeight         float32
	MaskMode            string
	Resume              bool
	Limits              imaging.Limits
	// Backend, when set, runs the whole step there (DeviceStep: towers,
	// adapters and the fused head); nil runs Step (server/clip towers,
	// gorgonia head). Parameters, optimizer, checkpoints and resume are
	// the same either way.
	Backend compute.Backend
	// FullTapes keeps every block's activations on the backend instead of
	// recomputing them in the backward (DeviceModel.FullTapes); only with
	// Backend.
	FullTapes bool
	// Progress, when set, is called after every step.
	Progress func(Progress)
}

// Progress describes the run after a step.
type Progress struct {
	Step, TotalSteps int
	Epoch, Epochs    int
	Losses           Losses
	Elapsed          time.Duration
}

// state is what a checkpoint records beyond parameters and optimizer
// moments, so that a resumed run continues exactly where it stopped.
type state struct {
	Epoch       int             `json:"epoch"`          // epoch in progress (0-based)
	Pos         int             `json:"batch_in_epoch"` // batches of that epoch already done
	Order       []int           `json:"order"`          // that epoch's item order
	Step        int             `json:"global_step"`
	AdamStep    int             `json:"adam_step"`
	Fingerprint json.RawMessage `json:"fingerprint"`
}

// fingerprint lists every setting that changes the model or the data; a
// resume with a different one is refused.
type fingerprint struct {
	Format, Root, Split string
	Backbone            string
	Batch               int
	Seed                uint64
	LR                  float64
	Betas               [2]float64
	Eps                 float64
	DefectMap           map[string]string
	Config              dapo.Config
	LocalWeight         float32
	ImageWeight         float32
	MaskMode            string
	Items               int
}

// LastCheckpoint is the name of the rolling checkpoint in the output folder.
const LastCheckpoint = "last.safetensors"

// Run trains and returns the final checkpoint's path.
func Run(ctx context.Context, o Options) (string, error) {
	if err := o.validate(); err != nil {
		return "", err
	}
	ds, err := dataset.Load(o.Format, o.Root)
	if err != nil {
		return "", err
	}
	items := ds.Filter(o.Split).Items
	if len(items) == 0 {
		return "", fmt.Errorf("no %s images in %s", o.Split, o.Root)
	}
	var keys []string
	for _, it := range items {
		keys = append(keys, it.DefectKey)
	}
	lab, err := NewLabeler(o.Format, keys, o.DefectMap)
	if err != nil {
		return "", err
	}
	cfg := o.Config
	cfg.Defects = lab.Defects
	bb, err := weights.Open(o.ModelDir, weights.Options{ImageSize: cfg.ImageSize})
	if err != nil {
		return "", err
	}
	defer bb.Close()
	if err := cfg.Validate(bb.Config.Vision.Layers, bb.Config.Text.Layers); err != nil {
		return "", err
	}
	root, _ := filepath.Abs(o.Root)
	fp, _ := json.Marshal(fingerprint{Format: o.Format, Root: root, Split: o.Split, Backbone: bb.ID, Batch: o.Batch, Seed: o.Seed, LR: o.LR, Betas: o.Betas, Eps: o.Eps,
		DefectMap: o.DefectMap, Config: cfg, LocalWeight: o.LocalWeight, ImageWeight: o.ImageWeight, MaskMode: o.MaskMode, Items: len(items)})
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return "", err
	}
	r := &run{o: o, cfg: cfg, bb: bb, items: items, lab: lab, steps: map[stepKey]stepper{}, log: nil}
	defer r.close()
	last := filepath.Join(o.Out, LastCheckpoint)
	if o.Resume {
		if err := r.resume(last, fp); err != nil {
			return "", err
		}
	} else {
		if _, err := os.Stat(last); err == nil {
			return "", fmt.Errorf("%s already holds a training run: continue it with --resume or choose another --out", o.Out)
		}
		r.params = dapo.InitParams(cfg, bb.Weights, o.Seed)
		r.opt = &Adam{LR: o.LR, Beta1: o.Betas[0], Beta2: o.Betas[1], Eps: o.Eps}
		r.st = state{Fingerprint: fp}
	}
	return r.loop(ctx)
}

func (o *Options) validate() error {
	var errs []error
	if o.Epochs < 1 {
		errs = append(errs, fmt.Errorf("--epochs must be at least 1"))
	}
	if o.Batch < 1 {
		errs = append(errs, fmt.Errorf("--batch must be at least 1"))
	}
	if o.LR <= 0 {
		errs = append(errs, fmt.Errorf("--lr must be positive"))
	}
	if o.Betas == [2]float64{} && o.Eps == 0 {
		o.Betas, o.Eps = [2]float64{0.5, 0.999}, 1e-8
	}
	if o.Betas[0] < 0 || o.Betas[0] >= 1 || o.Betas[1] < 0 || o.Betas[1] >= 1 || o.Eps <= 0 {
		errs = append(errs, fmt.Errorf("--betas must lie in [0,1) and --eps be positive"))
	}
	if o.MaskMode != MaskReference && o.MaskMode != MaskThreshold {
		errs = append(errs, fmt.Errorf("--mask-mode must be %q or %q", MaskReference, MaskThreshold))
	}
	if o.Out == "" {
		errs = append(errs, fmt.Errorf("--out is required"))
	}
	if o.Split == "" {
		o.Split = dataset.SplitTest
	}
	return errors.Join(errs...)
}

type stepKey struct {
	batch     int
	imageOnly bool
}

type run struct {
	o      Options
	cfg    dapo.Config
	bb     *weights.Backbone
	items  []dataset.Item
	lab    *Labeler
	params *dapo.Params
	opt    *Adam
	st     state
	steps  map[stepKey]stepper
	log    *os.File
	dev    *DeviceModel // Options.Backend's towers, bound once
}

// stepper is what the loop needs of Step and DeviceStep.
type stepper interface {
	Run(ctx context.Context, pixels []float32, tg Targets) (*Result, error)
	Apply(solver gorgonia.Solver) error
	ZeroGrad()
	Close()
}

func (r *run) close() {
	for _, s := range r.steps {
		s.Close()
	}
	if r.log != nil {
		r.log.Close()
	}
}

// batches splits an epoch's order into batches: items with pixel targets
// first, in order, then anomalous items without a mask (image loss only).
func (r *run) batches(order []int) [][]int {
	var full, imageOnly []int
	for _, i := range order {
		it := r.items[i]
		if it.Anomalous && it.MaskPath == "" {
			imageOnly = append(imageOnly, i)
		} else {
			full = append(full, i)
		}
	}
	var out [][]int
	for _, part := range [][]int{full, imageOnly} {
		for s := 0; s < len(part); s += r.o.Batch {
			out = append(out, part[s:min(s+r.o.Batch, len(part))])
		}
	}
	return out
}

func (r *run) order(epoch int) []int {
	return rand.New(rand.NewPCG(r.o.Seed, uint64(epoch)+1)).Perm(len(r.items))
}

func (r *run) totalSteps() int {
	per := len(r.batches(r.order(0)))
	total := per * r.o.Epochs
	if r.o.MaxSteps > 0 {
		total = min(total, r.o.MaxSteps)
	}
	return total
}

func (r *run) loop(ctx context.Context) (string, error) {
	tok, err := tokenizer.New()
	if err != nil {
		return "", err
	}
	ids, err := r.cfg.TemplateIDs(tok, r.bb.Config.Text.ContextLength)
	if err != nil {
		return "", err
	}
	if r.log, err = os.OpenFile(filepath.Join(r.o.Out, "train_log.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
		return "", err
	}
	text, vision := clip.NewText(r.bb.Weights), clip.NewVision(r.bb.Weights)
	if r.o.Backend != nil {
		dm, err := BindDevice(r.o.Backend, r.bb.Weights, r.params, ids)
		if err != nil {
			return "", err
		}
		dm.FullTapes = r.o.FullTapes
		r.dev = &dm
		slog.Info("training step on a compute backend", "backend", r.o.Backend.Name(), "full_tapes", dm.FullTapes)
	}
	start := time.Now()
	total := r.totalSteps()
	last := filepath.Join(r.o.Out, LastCheckpoint)
	for ; r.st.Epoch < r.o.Epochs; r.st.Epoch++ {
		if r.st.Pos == 0 || r.st.Order == nil {
			r.st.Order, r.st.Pos = r.order(r.st.Epoch), 0
		}
		batches := r.batches(r.st.Order)
		for ; r.st.Pos < len(batches); r.st.Pos++ {
			if r.o.MaxSteps > 0 && r.st.Step >= r.o.MaxSteps {
				slog.Info("reached --max-steps", "steps", r.st.Step)
				return last, r.save(last)
			}
			if err := ctx.Err(); err != nil {
				if serr := r.save(last); serr != nil {
					return "", errors.Join(err, serr)
				}
				return last, fmt.Errorf("training stopped at step %d (%w); %s holds the state: continue with --resume", r.st.Step, err, last)
			}
			losses, err := r.step(ctx, Model{Text: text, Vision: vision, Params: r.params, IDs: ids}, batches[r.st.Pos])
			if err != nil {
				if ctx.Err() != nil {
					if serr := r.save(last); serr != nil {
						return "", errors.Join(err, serr)
					}
					return last, fmt.Errorf("training stopped at step %d (%w); %s holds the state: continue with --resume", r.st.Step, ctx.Err(), last)
				}
				return "", err
			}
			r.st.Step++
			p := Progress{Step: r.st.Step, TotalSteps: total, Epoch: r.st.Epoch, Epochs: r.o.Epochs, Losses: losses, Elapsed: time.Since(start)}
			if err := r.logStep(p); err != nil {
				return "", err
			}
			if r.o.Progress != nil {
				r.o.Progress(p)
			}
		}
		r.st.Pos, r.st.Order = 0, nil
		epochFile := filepath.Join(r.o.Out, fmt.Sprintf("epoch_%d.safetensors", r.st.Epoch))
		done := r.st
		done.Epoch++
		if err := r.saveState(epochFile, done); err != nil {
			return "", err
		}
		if err := r.saveState(last, done); err != nil {
			return "", err
		}
		if err := r.plot(); err != nil {
			slog.Warn("could not draw the loss curve", "err", err)
		}
	}
	return last, r.save(last)
}

// step runs one batch and applies the optimizer.
func (r *run) step(ctx context.Context, m Model, batch []int) (Losses, error) {
	s := r.bb.Config.Vision.ImageSize
	imageOnly := false
	pixels := make([]float32, 0, len(batch)*3*s*s)
	tg := Targets{}
	for _, i := range batch {
		it := r.items[i]
		imageOnly = it.Anomalous && it.MaskPath == ""
		data, err := os.ReadFile(it.ImagePath)
		if err != nil {
			return nil, fmt.Errorf("read image: %w", err)
		}
		t, err := imaging.ImageTensor(data, s, r.o.Limits)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", it.ImagePath, err)
		}
		pixels = append(pixels, t...)
		cls, err := r.lab.Class(it.DefectKey)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", it.ImagePath, err)
		}
		label := 0
		if it.Anomalous {
			label = 1
		}
		tg.Label = append(tg.Label, label)
		mask := imaging.ZeroMask(s)
		if it.MaskPath != "" {
			md, err := os.ReadFile(it.MaskPath)
			if err != nil {
				return nil, fmt.Errorf("read mask: %w", err)
			}
			if mask, err = imaging.MaskTensor(md, s, r.o.Limits); err != nil {
				return nil, fmt.Errorf("mask %s: %w", it.MaskPath, err)
			}
		}
		bin := binarise(mask, r.o.MaskMode)
		for _, v := range bin {
			tg.Binary = append(tg.Binary, float32(v))
			tg.ClassID = append(tg.ClassID, v*int64(cls))
		}
	}
	key := stepKey{len(batch), imageOnly}
	st, ok := r.steps[key]
	if !ok {
		w := HeadWeights{Local: r.o.LocalWeight, Image: r.o.ImageWeight, Temperature: float32(r.cfg.Temperature)}
		if imageOnly {
			w.Local = 0
		}
		d := Dims{Batch: len(batch), Grid: r.bb.Config.Grid(), Size: s, Classes: 1 + len(r.cfg.Defects),
			Embed: r.bb.Config.EmbedDim, VisionWidth: r.bb.Config.Vision.Width, Layers: len(r.cfg.FeatureLayers)}
		var err error
		if r.dev != nil {
			st, err = NewDeviceStep(r.cfg, d, w, *r.dev)
		} else {
			st, err = NewStep(r.cfg, d, w, m)
		}
		if err != nil {
			return nil, err
		}
		r.steps[key] = st
	}
	res, err := st.Run(ctx, pixels, tg)
	if err != nil {
		return nil, err
	}
	if err := st.Apply(r.opt); err != nil {
		st.ZeroGrad()
		return nil, fmt.Errorf("step %d: %w", r.st.Step+1, err)
	}
	return res.Losses, nil
}

func binarise(mask []float32, mode string) []int64 {
	if mode == MaskReference {
		return imaging.BinariseTrainCast(mask)
	}
	out := make([]int64, len(mask))
	for i, v := range mask {
		if v > 0.5 {
			out[i] = 1
		}
	}
	return out
}

func (r *run) logStep(p Progress) error {
	rec := map[string]any{"step": p.Step, "epoch": p.Epoch, "seconds": p.Elapsed.Seconds()}
	for k, v := range p.Losses {
		rec[k] = v
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = r.log.Write(append(b, '\n'))
	return err
}

func (r *run) save(path string) error { return r.saveState(path, r.st) }

// saveState writes parameters, optimizer moments and the run state.
func (r *run) saveState(path string, st state) error {
	st.AdamStep = r.opt.StepCount
	extra, err := json.Marshal(st)
	if err != nil {
		return err
	}
	ck := &dapo.Checkpoint{
		Meta: dapo.Meta{Config: r.cfg, Backbone: dapo.BackboneInfo{ID: r.bb.ID, Config: r.bb.Config},
			Training: &dapo.Training{Step: st.Step, Epoch: st.Epoch, Dataset: r.o.Format + ":" + r.o.Root, Extra: extra}},
		Params: r.params,
	}
	named := r.params.Tensors(r.cfg, r.bb.Config)
	for i, nt := range named {
		if r.opt.M == nil {
			break
		}
		ck.Extra = append(ck.Extra,
			safetensors.FromFloat32("optim.m."+nt.Name, nt.Shape, r.opt.M[i], safetensors.F32),
			safetensors.FromFloat32("optim.v."+nt.Name, nt.Shape, r.opt.V[i], safetensors.F32))
	}
	return ck.Save(path)
}

// resume restores parameters, optimizer and position from last.
func (r *run) resume(last string, fp json.RawMessage) error {
	ck, err := dapo.LoadCheckpoint(last)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if ck.Meta.Training == nil {
		return fmt.Errorf("resume: %s has no training state", last)
	}
	var st state
	if err := json.Unmarshal(ck.Meta.Training.Extra, &st); err != nil {
		return fmt.Errorf("resume: training state: %w", err)
	}
	if diff := fingerprintDiff(st.Fingerprint, fp); diff != "" {
		return fmt.Errorf("resume: these settings differ from the run in %s: %s (only --epochs and --max-steps may change)", last, diff)
	}
	r.params, r.st = ck.Params, st
	r.opt = &Adam{LR: r.o.LR, Beta1: r.o.Betas[0], Beta2: r.o.Betas[1], Eps: r.o.Eps, StepCount: st.AdamStep}
	if st.AdamStep > 0 {
		byName := map[string][]float32{}
		for _, t := range ck.Extra {
			v := make([]float32, len(t.Data)/4)
			if err := safetensors.DecodeFloat32(v, t.Data, t.DType); err != nil {
				return fmt.Errorf("resume: %s: %w", t.Name, err)
			}
			byName[t.Name] = v
		}
		for _, nt := range r.params.Tensors(r.cfg, r.bb.Config) {
			m, v := byName["optim.m."+nt.Name], byName["optim.v."+nt.Name]
			if len(m) != len(nt.Data) || len(v) != len(nt.Data) {
				return fmt.Errorf("resume: optimizer state for %s missing or mis-shaped", nt.Name)
			}
			r.opt.M, r.opt.V = append(r.opt.M, m), append(r.opt.V, v)
		}
	}
	slog.Info("resuming", "from", last, "step", st.Step, "epoch", st.Epoch)
	return nil
}

// fingerprintDiff names the top-level settings that differ.
func fingerprintDiff(a, b json.RawMessage) string {
	var ma, mb map[string]json.RawMessage
	if json.Unmarshal(a, &ma) != nil || json.Unmarshal(b, &mb) != nil {
		return "unreadable settings"
	}
	var diff []string
	for k, v := range mb {
		if string(ma[k]) != string(v) {
			diff = append(diff, k)
		}
	}
	if len(diff) == 0 {
		return ""
	}
	return fmt.Sprint(diff)
}
