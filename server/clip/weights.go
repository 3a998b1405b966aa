package clip

import (
	"errors"
	"fmt"
)

// LayerNorm holds a layer norm's affine parameters.
type LayerNorm struct{ Weight, Bias []float32 }

// Linear is y = x·Wᵀ + b with W stored [Out, In] (PyTorch's layout).
type Linear struct {
	Weight  []float32
	Bias    []float32
	Out, In int
}

// Block is one pre-LN transformer residual block.
type Block struct {
	LN1, LN2 LayerNorm
	InProj   Linear // [3W, W]: q, k, v stacked
	OutProj  Linear // [W, W]
	FC       Linear // [MLP, W]
	Proj     Linear // [W, MLP]
}

// VisionWeights are the frozen vision-tower tensors.
type VisionWeights struct {
	Conv1          []float32 // [W, 3, P, P], no bias
	ClassEmbedding []float32 // [W]
	PosEmbedding   []float32 // [1+G*G, W] at the configured image size
	LNPre, LNPost  LayerNorm
	Blocks         []Block
	Proj           []float32 // [W, E]
}

// TextWeights are the frozen text-tower tensors.
type TextWeights struct {
	TokenEmbedding []float32 // [V, W]
	PosEmbedding   []float32 // [ctx, W]
	Blocks         []Block
	LNFinal        LayerNorm
	Projection     []float32 // [W, E]
}

// Weights is a whole backbone.
type Weights struct {
	Config     Config
	Vision     VisionWeights
	Text       TextWeights
	LogitScale float32
}

// TensorSource yields a tensor by open_clip name, converted to float32 and
// checked against the expected shape. Implementations name the tensor in
// their errors.
type TensorSource func(name string, shape []int) ([]float32, error)

// Bind fetches every tensor of ParamSpecs(cfg) from src into a Weights
// value. All problems are collected, so a wrong checkpoint reports every
// missing or mis-shaped tensor at once.
func Bind(cfg Config, src TensorSource) (*Weights, error) {
	w := &Weights{Config: cfg}
	var errs []error
	get := func(name string, shape ...int) []float32 {
		v, err := src(name, shape)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	vc, tc := cfg.Vision, cfg.Text
	g := cfg.Grid()
	w.Vision.Conv1 = get("visual.conv1.weight", vc.Width, 3, vc.PatchSize, vc.PatchSize)
	w.Vision.ClassEmbedding = get("visual.class_embedding", vc.Width)
	w.Vision.PosEmbedding = get("visual.positional_embedding", g*g+1, vc.Width)
	w.Vision.LNPre = LayerNorm{get("visual.ln_pre.weight", vc.Width), get("visual.ln_pre.bias", vc.Width)}
	w.Vision.LNPost = LayerNorm{get("visual.ln_post.weight", vc.Width), get("visual.ln_post.bias", vc.Width)}
	w.Vision.Proj = get("visual.proj", vc.Width, cfg.EmbedDim)
	w.Vision.Blocks = bindBlocks(get, "visual.transformer", vc.Layers, vc.Width, cfg.VisionMLP())
	w.Text.TokenEmbedding = get("token_embedding.weight", tc.VocabSize, tc.Width)
	w.Text.PosEmbedding = get("positional_embedding", tc.ContextLength, tc.Width)
	w.Text.LNFinal = LayerNorm{get("ln_final.weight", tc.Width), get("ln_final.bias", tc.Width)}
	w.Text.Projection = get("text_projection", tc.Width, cfg.EmbedDim)
	w.Text.Blocks = bindBlocks(get, "transformer", tc.Layers, tc.Width, cfg.TextMLP())
	if ls := get("logit_scale"); len(ls) == 1 {
		w.LogitScale = ls[0]
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("bind backbone weights: %w", errors.Join(errs...))
	}
	return w, nil
}

func bindBlocks(get func(string, ...int) []float32, prefix string, layers, width, mlp int) []Block {
	blocks := make([]Block, layers)
	for i := range blocks {
		p := fmt.Sprintf("%s.resblocks.%d.", prefix, i)
		lin := func(name string, out, in int) Linear {
			return Linear{Weight: get(p+name+"weight", out, in), Bias: get(p+name+"bias", out), Out: out, In: in}
		}
		blocks[i] = Block{
			LN1:     LayerNorm{get(p+"ln_1.weight", width), get(p+"ln_1.bias", width)},
			LN2:     LayerNorm{get(p+"ln_2.weight", width), get(p+"ln_2.bias", width)},
			InProj:  Linear{Weight: get(p+"attn.in_proj_weight", 3*width, width), Bias: get(p+"attn.in_proj_bias", 3*width), Out: 3 * width, In: width},
			OutProj: lin("attn.out_proj.", width, width),
			FC:      lin("mlp.c_fc.", mlp, width),
			Proj:    lin("mlp.c_proj.", width, mlp),
		}
	}
	return blocks
}
