package modelinit

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"dapo/server/clip"
)

// Random is a deterministic random backbone. Tensors are made on demand,
// each from its own PCG stream seeded by (seed, hash of the tensor name):
// the values of a tensor do not depend on which other tensors were made
// before it, and a writer can stream a 1.7 GB ViT-L one tensor at a time.
//
// Values are reproducible for a given seed as long as math/rand/v2's PCG
// and NormFloat64 stay as they are (they have since Go 1.22).
type Random struct {
	Config clip.Config
	Seed   uint64
	shapes map[string][]int
}

// Init prepares the random backbone of cfg for seed.
func Init(cfg clip.Config, seed uint64) (*Random, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	shapes := map[string][]int{}
	for _, s := range clip.ParamSpecs(cfg) {
		shapes[s.Name] = s.Shape
	}
	return &Random{Config: cfg, Seed: seed, shapes: shapes}, nil
}

// Tensor makes one tensor; its signature is a clip.TensorSource.
func (r *Random) Tensor(name string, shape []int) ([]float32, error) {
	want, ok := r.shapes[name]
	if !ok {
		return nil, fmt.Errorf("tensor %q is not a parameter of this config", name)
	}
	if !slices.Equal(want, shape) {
		return nil, fmt.Errorf("tensor %q: asked for shape %v, the config has %v", name, shape, want)
	}
	d, err := distribution(r.Config, name)
	if err != nil {
		return nil, err
	}
	n := 1
	for _, s := range shape {
		n *= s
	}
	out := make([]float32, n)
	d.fill(rand.New(rand.NewPCG(r.Seed, nameHash(name))), out)
	return out, nil
}

// Weights binds every tensor in memory (tests, demos).
func (r *Random) Weights() (*clip.Weights, error) {
	return clip.Bind(r.Config, r.Tensor)
}

func nameHash(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// dist is center + spread·N(0,1), or center + U(−spread, spread).
type dist struct {
	center, spread float64
	uniform        bool
}

func (d dist) fill(rng *rand.Rand, out []float32) {
	if d.uniform {
		for i := range out {
			out[i] = float32(d.center + d.spread*(2*rng.Float64()-1))
		}
		return
	}
	for i := range out {
		out[i] = float32(d.center + d.spread*rng.NormFloat64())
	}
}

func normal(std float64) dist  { return dist{spread: std} }
func uniform(b float64) dist   { return dist{spread: b, uniform: true} }
func constant(v float64) dist  { return dist{center: v} }
func around(c, s float64) dist { return dist{center: c, spread: s} }

// distribution follows open_clip's CLIP.init_parameters (text tower) and
// applies the same rules to the vision blocks. LayerNorm and attention
// biases get noise, as in the golden set, so that a random model does not
// hide bugs behind weight 1 / bias 0.
func distribution(cfg clip.Config, name string) (dist, error) {
	vw, tw := float64(cfg.Vision.Width), float64(cfg.Text.Width)
	switch name {
	case "visual.class_embedding", "visual.positional_embedding", "visual.proj":
		return normal(math.Pow(vw, -0.5)), nil
	case "visual.conv1.weight":
		// PyTorch's default Conv2d init: U(±1/sqrt(fan_in)).
		p := float64(cfg.Vision.PatchSize)
		return uniform(1 / math.Sqrt(3*p*p)), nil
	case "token_embedding.weight":
		return normal(0.02), nil
	case "positional_embedding":
		return normal(0.01), nil
	case "text_projection":
		return normal(math.Pow(tw, -0.5)), nil
	case "logit_scale":
		return constant(math.Log(1 / 0.07)), nil
	}
	if isLayerNorm(name) {
		if strings.HasSuffix(name, ".weight") {
			return around(1, 0.1), nil
		}
		return normal(0.05), nil
	}
	width, layers, mlp := tw, float64(cfg.Text.Layers), float64(cfg.TextMLP())
	if strings.HasPrefix(name, "visual.") {
		width, layers, mlp = vw, float64(cfg.Vision.Layers), float64(cfg.VisionMLP())
	}
	attnStd := math.Pow(width, -0.5)
	projStd := attnStd * math.Pow(2*layers, -0.5)
	_, suffix, _ := strings.Cut(name, ".resblocks.")
	_, suffix, _ = strings.Cut(suffix, ".") // drop the block index
	switch suffix {
	case "attn.in_proj_weight":
		return normal(attnStd), nil
	case "attn.out_proj.weight", "mlp.c_proj.weight":
		return normal(projStd), nil
	case "mlp.c_fc.weight":
		return normal(math.Pow(2*width, -0.5)), nil
	case "attn.in_proj_bias", "attn.out_proj.bias":
		return normal(0.02), nil
	case "mlp.c_fc.bias": // PyTorch's default Linear bias: U(±1/sqrt(in))
		return uniform(1 / math.Sqrt(width)), nil
	case "mlp.c_proj.bias":
		return uniform(1 / math.Sqrt(mlp)), nil
	}
	return dist{}, fmt.Errorf("no initialisation rule for tensor %q", name)
}

func isLayerNorm(name string) bool {
	for _, ln := range []string{"ln_1.", "ln_2.", "ln_pre.", "ln_post.", "ln_final."} {
		if strings.Contains(name, ln) {
			return true
		}
	}
	return false
}
