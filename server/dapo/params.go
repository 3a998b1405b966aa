package dapo

import (
	"errors"
	"fmt"

	"dapo/server/clip"
)

// Reference parameter names (train.py's state dicts, prefixed by module).
const (
	NameNormalCtx   = "prompt_learner.learnable_normal_tokens"
	NameAbnormalCtx = "prompt_learner.learnable_abnormal_tokens"
	NameVisual      = "visual_prompt.learnable_visual_tokens"
)

// NameTextDeep is the deep text token tensor used before text block i+1.
func NameTextDeep(i int) string { return fmt.Sprintf("prompt_learner.learnable_layer_tokens.%d", i) }

// NameAdapterWeight and NameAdapterBias name the adapter of feature layer i
// (position in FeatureLayers).
func NameAdapterWeight(i int) string { return fmt.Sprintf("linear_adapter.fc.%d.weight", i) }

// NameAdapterBias names the adapter bias of feature layer i.
func NameAdapterBias(i int) string { return fmt.Sprintf("linear_adapter.fc.%d.bias", i) }

// Params are all learned DAPO tensors, row-major float32.
type Params struct {
	NormalCtx   []float32   // [P, n_n, Dt]: context V before the normal anchor
	AbnormalCtx []float32   // [P, n_a, Dt]: context W shared by every defect anchor
	TextDeep    [][]float32 // TextDepth × [L, Dt]: T_k, used before text block k+1
	Visual      []float32   // [Depth, n_p, Wv]: P_k, used before vision block k+1
	AdapterW    [][]float32 // per feature layer [E, Wv] (y = x·Wᵀ + b)
	AdapterB    [][]float32 // per feature layer [E]
}

// ParamSpecs lists every learned tensor with its shape for a DAPO config on
// a backbone, in a stable order.
func ParamSpecs(c Config, bb clip.Config) []clip.ParamSpec {
	dt, wv, e := bb.Text.Width, bb.Vision.Width, bb.EmbedDim
	s := []clip.ParamSpec{
		{Name: NameNormalCtx, Shape: []int{c.PromptCount, c.NormalTokenCnt, dt}},
		{Name: NameAbnormalCtx, Shape: []int{c.PromptCount, c.AbnormalTokenCnt, dt}},
	}
	for i := 0; i < c.TextDepth; i++ {
		s = append(s, clip.ParamSpec{Name: NameTextDeep(i), Shape: []int{c.LayerTokenCnt, dt}})
	}
	s = append(s, clip.ParamSpec{Name: NameVisual, Shape: []int{c.Depth, c.PrefixTokenCnt, wv}})
	for i := range c.FeatureLayers {
		s = append(s,
			clip.ParamSpec{Name: NameAdapterWeight(i), Shape: []int{e, wv}},
			clip.ParamSpec{Name: NameAdapterBias(i), Shape: []int{e}})
	}
	return s
}

// BindParams fetches every tensor of ParamSpecs from src, reporting every
// missing or mis-shaped one at once.
func BindParams(c Config, bb clip.Config, src clip.TensorSource) (*Params, error) {
	var errs []error
	get := func(spec clip.ParamSpec) []float32 {
		v, err := src(spec.Name, spec.Shape)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	specs := ParamSpecs(c, bb)
	p := &Params{}
	i := 0
	next := func() []float32 { v := get(specs[i]); i++; return v }
	p.NormalCtx = next()
	p.AbnormalCtx = next()
	for k := 0; k < c.TextDepth; k++ {
		p.TextDeep = append(p.TextDeep, next())
	}
	p.Visual = next()
	for range c.FeatureLayers {
		p.AdapterW = append(p.AdapterW, next())
		p.AdapterB = append(p.AdapterB, next())
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("bind DAPO parameters: %w", errors.Join(errs...))
	}
	return p, nil
}

// Tensors returns the parameters in ParamSpecs order, aliasing p's slices.
func (p *Params) Tensors(c Config, bb clip.Config) []NamedTensor {
	specs := ParamSpecs(c, bb)
	vals := [][]float32{p.NormalCtx, p.AbnormalCtx}
	vals = append(vals, p.TextDeep...)
	vals = append(vals, p.Visual)
	for i := range p.AdapterW {
		vals = append(vals, p.AdapterW[i], p.AdapterB[i])
	}
	out := make([]NamedTensor, len(specs))
	for i, s := range specs {
		out[i] = NamedTensor{Name: s.Name, Shape: s.Shape, Data: vals[i]}
	}
	return out
}

// NamedTensor is one learned tensor.
type NamedTensor struct {
	Name  string
	Shape []int
	Data  []float32
}
