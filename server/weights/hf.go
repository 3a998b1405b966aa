package weights

import (
	"errors"
	"fmt"
	"strings"

	"dapo/server/clip"
)

// Hugging Face transformers' CLIPModel stores the same tensors as open_clip
// under other names, with q/k/v split and the projections transposed.
// Each open_clip tensor is made from the HF tensors as follows ({i} is the
// block index, the same on both sides):
//
//	open_clip                                    Hugging Face CLIPModel                                       how
//	visual.class_embedding                       vision_model.embeddings.class_embedding                      copy
//	visual.conv1.weight                          vision_model.embeddings.patch_embedding.weight               copy
//	visual.positional_embedding                  vision_model.embeddings.position_embedding.weight            copy
//	visual.ln_pre.{weight,bias}                  vision_model.pre_layrnorm.{weight,bias}  (HF's spelling)     copy
//	visual.transformer.resblocks.{i}.*           vision_model.encoder.layers.{i}.*  (block table below)
//	visual.ln_post.{weight,bias}                 vision_model.post_layernorm.{weight,bias}                    copy
//	visual.proj [W,E]                            visual_projection.weight [E,W]                               transpose
//	token_embedding.weight                       text_model.embeddings.token_embedding.weight                 copy
//	positional_embedding                         text_model.embeddings.position_embedding.weight              copy
//	transformer.resblocks.{i}.*                  text_model.encoder.layers.{i}.*  (block table below)
//	ln_final.{weight,bias}                       text_model.final_layer_norm.{weight,bias}                    copy
//	text_projection [W,E]                        text_projection.weight [E,W]                                 transpose
//	logit_scale                                  logit_scale                                                  copy
//
// Inside a block:
//
//	ln_1.{weight,bias}                           layer_norm1.{weight,bias}                                    copy
//	attn.in_proj_weight [3W,W]                   self_attn.{q,k,v}_proj.weight, 3 × [W,W]                     stack rows q,k,v
//	attn.in_proj_bias [3W]                       self_attn.{q,k,v}_proj.bias, 3 × [W]                         stack q,k,v
//	attn.out_proj.{weight,bias}                  self_attn.out_proj.{weight,bias}                             copy
//	ln_2.{weight,bias}                           layer_norm2.{weight,bias}                                    copy
//	mlp.c_fc.{weight,bias}                       mlp.fc1.{weight,bias}                                        copy
//	mlp.c_proj.{weight,bias}                     mlp.fc2.{weight,bias}                                        copy
//
// HF's position_ids buffers, when present, are ignored.

// hfOp says how an open_clip tensor is assembled from HF tensors.
type hfOp int

const (
	hfCopy      hfOp = iota
	hfStackRows      // concatenate along the first axis (q, k, v)
	hfTranspose      // [E,W] Linear weight → [W,E] projection matrix
)

type hfRecipe struct {
	op   hfOp
	from []string
}

var hfTop = map[string]hfRecipe{
	"visual.class_embedding":      {hfCopy, []string{"vision_model.embeddings.class_embedding"}},
	"visual.conv1.weight":         {hfCopy, []string{"vision_model.embeddings.patch_embedding.weight"}},
	"visual.positional_embedding": {hfCopy, []string{"vision_model.embeddings.position_embedding.weight"}},
	"visual.ln_pre.weight":        {hfCopy, []string{"vision_model.pre_layrnorm.weight"}},
	"visual.ln_pre.bias":          {hfCopy, []string{"vision_model.pre_layrnorm.bias"}},
	"visual.ln_post.weight":       {hfCopy, []string{"vision_model.post_layernorm.weight"}},
	"visual.ln_post.bias":         {hfCopy, []string{"vision_model.post_layernorm.bias"}},
	"visual.proj":                 {hfTranspose, []string{"visual_projection.weight"}},
	"token_embedding.weight":      {hfCopy, []string{"text_model.embeddings.token_embedding.weight"}},
	"positional_embedding":        {hfCopy, []string{"text_model.embeddings.position_embedding.weight"}},
	"ln_final.weight":             {hfCopy, []string{"text_model.final_layer_norm.weight"}},
	"ln_final.bias":               {hfCopy, []string{"text_model.final_layer_norm.bias"}},
	"text_projection":             {hfTranspose, []string{"text_projection.weight"}},
	"logit_scale":                 {hfCopy, []string{"logit_scale"}},
}

var hfBlock = map[string]hfRecipe{
	"ln_1.weight":          {hfCopy, []string{"layer_norm1.weight"}},
	"ln_1.bias":            {hfCopy, []string{"layer_norm1.bias"}},
	"attn.in_proj_weight":  {hfStackRows, []string{"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight"}},
	"attn.in_proj_bias":    {hfStackRows, []string{"self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias"}},
	"attn.out_proj.weight": {hfCopy, []string{"self_attn.out_proj.weight"}},
	"attn.out_proj.bias":   {hfCopy, []string{"self_attn.out_proj.bias"}},
	"ln_2.weight":          {hfCopy, []string{"layer_norm2.weight"}},
	"ln_2.bias":            {hfCopy, []string{"layer_norm2.bias"}},
	"mlp.c_fc.weight":      {hfCopy, []string{"mlp.fc1.weight"}},
	"mlp.c_fc.bias":        {hfCopy, []string{"mlp.fc1.bias"}},
	"mlp.c_proj.weight":    {hfCopy, []string{"mlp.fc2.weight"}},
	"mlp.c_proj.bias":      {hfCopy, []string{"mlp.fc2.bias"}},
}

var hfTowers = []struct{ openCLIP, hf string }{
	{"visual.transformer.resblocks.", "vision_model.encoder.layers."},
	{"transformer.resblocks.", "text_model.encoder.layers."},
}

// hfRecipeFor finds how to build an open_clip tensor from HF tensors.
func hfRecipeFor(name string) (hfRecipe, bool) {
	if r, ok := hfTop[name]; ok {
		return r, true
	}
	for _, t := range hfTowers {
		rest, ok := strings.CutPrefix(name, t.openCLIP)
		if !ok {
			continue
		}
		idx, suffix, ok := strings.Cut(rest, ".")
		r, known := hfBlock[suffix]
		if !ok || !known {
			return hfRecipe{}, false
		}
		from := make([]string, len(r.from))
		for i, f := range r.from {
			from[i] = t.hf + idx + "." + f
		}
		return hfRecipe{op: r.op, from: from}, true
	}
	return hfRecipe{}, false
}

// hfSource serves open_clip tensors from an HF checkpoint. Copies are views
// of the mapping like any other tensor; stacked and transposed tensors are
// new slices.
func hfSource(c *checkpoint) clip.TensorSource {
	return func(name string, shape []int) ([]float32, error) {
		r, ok := hfRecipeFor(name)
		if !ok {
			return nil, fmt.Errorf("tensor %q has no Hugging Face counterpart", name)
		}
		return r.build(c, name, shape)
	}
}

func (r hfRecipe) build(c *checkpoint, name string, shape []int) ([]float32, error) {
	get := func(hfName string, shape []int) ([]float32, error) {
		v, err := c.tensor(hfName, shape)
		if err != nil {
			return nil, fmt.Errorf("%w (for open_clip %s)", err, name)
		}
		return v, nil
	}
	switch r.op {
	case hfTranspose:
		if len(shape) != 2 {
			return nil, fmt.Errorf("tensor %q: cannot transpose into shape %v", name, shape)
		}
		rows, cols := shape[0], shape[1]
		src, err := get(r.from[0], []int{cols, rows})
		if err != nil {
			return nil, err
		}
		out := make([]float32, len(src))
		for i := 0; i < cols; i++ {
			for j := 0; j < rows; j++ {
				out[j*cols+i] = src[i*rows+j]
			}
		}
		return out, nil
	case hfStackRows:
		n := len(r.from)
		if len(shape) == 0 || shape[0]%n != 0 {
			return nil, fmt.Errorf("tensor %q: cannot split shape %v into %d parts", name, shape, n)
		}
		part := append([]int{shape[0] / n}, shape[1:]...)
		var out []float32
		var errs []error
		for _, from := range r.from {
			v, err := get(from, part)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if out == nil {
				out = make([]float32, 0, len(v)*n)
			}
			out = append(out, v...)
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		return out, nil
	}
	return get(r.from[0], shape)
}
