// Package inference runs a trained DAPO checkpoint on images: it loads the
// backbone at the checkpoint's input size, computes (or reads from the
// cache) the class text features once, encodes images with the deep visual
// prompts and hands the features to the shared scoring stage.
package inference

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"dapo/server/clip"
	"dapo/server/compute"
	"dapo/server/dapo"
	"dapo/server/weights"
	"dapo/shared/imaging"
	"dapo/shared/scoring"
)

// Options configures a Detector.
type Options struct {
	// Defects replaces the checkpoint's defect words (zero-shot: any words
	// the tokenizer accepts). Empty keeps the checkpoint's.
	Defects []string
	// ImageSize overrides the checkpoint's input size (0 keeps it).
	ImageSize int
	// TextCacheDir caches class text features; "" disables the cache.
	TextCacheDir string
	// Limits bounds decoded images.
	Limits imaging.Limits
	// Backend, when set, runs the vision side there (a GPU from
	// server/device); nil runs server/clip's CPU towers. Release, if set,
	// is called by Close to give the backend back.
	Backend compute.Backend
	Release func() error
}

// Detector is a loaded checkpoint on a loaded backbone.
type Detector struct {
	Config   dapo.Config // the checkpoint's config with the defect words in use
	Backbone *weights.Backbone
	Params   *dapo.Params
	Text     [][]float32 // class text features, normal first
	Limits   imaging.Limits
	vision   *clip.Vision
	device   *deviceVision // nil: the CPU towers
}

// New loads the backbone folder for the checkpoint and prepares the text
// features. The caller closes the Detector.
func New(ctx context.Context, backboneDir string, ck *dapo.Checkpoint, opts Options) (*Detector, error) {
	cfg := ck.Meta.Config
	if len(opts.Defects) > 0 {
		cfg.Defects = slices.Clone(opts.Defects)
	}
	if opts.ImageSize > 0 {
		cfg.ImageSize = opts.ImageSize
	}
	// On the CPU, half-precision block weights stay memory-mapped and are
	// widened per block; a device backend uploads dense float32 weights.
	bb, err := weights.Open(backboneDir, weights.Options{ImageSize: cfg.ImageSize, LazyHalf: opts.Backend == nil})
	if err != nil {
		return nil, err
	}
	d, err := newDetector(ctx, bb, ck, cfg, opts)
	if err != nil {
		bb.Close()
		if opts.Release != nil {
			opts.Release()
		}
		return nil, err
	}
	return d, nil
}

func newDetector(ctx context.Context, bb *weights.Backbone, ck *dapo.Checkpoint, cfg dapo.Config, opts Options) (*Detector, error) {
	if err := compatible(ck.Meta.Backbone.Config, bb.Config); err != nil {
		return nil, err
	}
	if id := ck.Meta.Backbone.ID; id != "" && id != bb.ID {
		slog.Warn("checkpoint was trained on another backbone file; shapes match, results may not", "checkpoint_backbone", id, "backbone", bb.ID)
	}
	if err := cfg.Validate(bb.Config.Vision.Layers, bb.Config.Text.Layers); err != nil {
		return nil, err
	}
	if bb.Config.Vision.ImageSize%bb.Config.Vision.PatchSize != 0 {
		return nil, fmt.Errorf("image size %d is not a multiple of the patch size %d", bb.Config.Vision.ImageSize, bb.Config.Vision.PatchSize)
	}
	feats, err := dapo.TextCache{Dir: opts.TextCacheDir}.Features(ctx, cfg, bb.Weights, bb.ID, ck.Params)
	if err != nil {
		return nil, err
	}
	e := bb.Config.EmbedDim
	text := make([][]float32, 1+len(cfg.Defects))
	for i := range text {
		text[i] = feats[i*e : (i+1)*e]
	}
	d := &Detector{Config: cfg, Backbone: bb, Params: ck.Params, Text: text, Limits: opts.Limits, vision: clip.NewVision(bb.Weights)}
	if opts.Backend != nil {
		if d.device, err = newDeviceVision(d, opts.Backend, opts.Release); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// compatible checks that a checkpoint's parameters fit the backbone.
func compatible(want, got clip.Config) error {
	var bad []string
	check := func(name string, a, b int) {
		if a != b {
			bad = append(bad, fmt.Sprintf("%s %d (checkpoint) vs %d (backbone)", name, a, b))
		}
	}
	check("vision width", want.Vision.Width, got.Vision.Width)
	check("vision layers", want.Vision.Layers, got.Vision.Layers)
	check("text width", want.Text.Width, got.Text.Width)
	check("text layers", want.Text.Layers, got.Text.Layers)
	check("embed dim", want.EmbedDim, got.EmbedDim)
	if len(bad) > 0 {
		return fmt.Errorf("checkpoint does not fit this backbone: %s", strings.Join(bad, "; "))
	}
	return nil
}

// Device names the compute backend the vision side runs on (Options.
// Backend), or is empty for the built-in CPU path.
func (d *Detector) Device() string {
	if d.device == nil {
		return ""
	}
	return d.device.name
}

// Close releases the backbone.
func (d *Detector) Close() error {
	err := d.Backbone.Close()
	if d.device != nil && d.device.release != nil {
		if rerr := d.device.release(); err == nil {
			err = rerr
		}
	}
	return err
}

// Classes lists the class names: "normal", then the defect words.
func (d *Detector) Classes() []string { return d.Config.ClassNames() }

// Size is the model's input (and map) side; Grid the patch grid side.
func (d *Detector) Size() int { return d.Backbone.Config.Vision.ImageSize }

// Grid is the patch grid side.
func (d *Detector) Grid() int { return d.Backbone.Config.Grid() }

// Features are one image's encoder outputs: what the scoring stage needs.
type Features struct {
	Global []float32   // [E], L2-normalised
	Layers [][]float32 // per feature layer [G²·E], raw adapter outputs
}

// Encode runs the vision side on preprocessed images ([B,3,S,S]).
func (d *Detector) Encode(ctx context.Context, pixels []float32, batch int) ([]Features, error) {
	var out *dapo.ImageFeatures
	var err error
	if d.device != nil {
		out, err = d.device.encode(ctx, d.Config, pixels, batch)
	} else {
		out, err = dapo.EncodeImage(ctx, d.Config, d.vision, d.Params, pixels, batch, nil)
	}
	if err != nil {
		return nil, err
	}
	e, g2 := d.Backbone.Config.EmbedDim, d.Grid()*d.Grid()
	feats := make([]Features, batch)
	for b := range feats {
		feats[b].Global = out.Global[b*e : (b+1)*e]
		for _, l := range out.Adapted {
			feats[b].Layers = append(feats[b].Layers, l[b*g2*e:(b+1)*g2*e])
		}
	}
	return feats, nil
}

// Scorer builds the scoring stage for this detector's classes.
func (d *Detector) Scorer(opts scoring.Options) (*scoring.Scorer, error) {
	return scoring.NewScorer(d.Text, d.Grid(), d.Size(), float32(d.Config.Temperature), opts)
}

// SubsetIndices maps defect words to text rows, with the normal row first,
// for a product subset. Unknown words are an error naming them.
func (d *Detector) SubsetIndices(words []string) ([]int, error) {
	if len(words) == 0 {
		return nil, nil
	}
	idx := []int{0}
	var unknown []string
	for _, w := range words {
		i := slices.Index(d.Config.Defects, w)
		if i < 0 {
			unknown = append(unknown, w)
			continue
		}
		if !slices.Contains(idx, i+1) {
			idx = append(idx, i+1)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("subset words %q are not among the defect words in use %q (add them with --defects)", unknown, d.Config.Defects)
	}
	return idx, nil
}
