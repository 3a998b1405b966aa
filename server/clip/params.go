package clip

import "fmt"

// ParamSpec names one backbone tensor (open_clip naming) and its shape.
type ParamSpec struct {
	Name  string
	Shape []int
}

// ParamSpecs lists every tensor of an open_clip CLIP state dict for cfg, in
// a stable order. Loading, random initialisation and format conversion are
// all driven by this one list.
func ParamSpecs(cfg Config) []ParamSpec {
	v, t := cfg.Vision, cfg.Text
	g := cfg.Grid()
	specs := []ParamSpec{
		{"visual.class_embedding", []int{v.Width}},
		{"visual.positional_embedding", []int{g*g + 1, v.Width}},
		{"visual.proj", []int{v.Width, cfg.EmbedDim}},
		{"visual.conv1.weight", []int{v.Width, 3, v.PatchSize, v.PatchSize}},
		{"visual.ln_pre.weight", []int{v.Width}},
		{"visual.ln_pre.bias", []int{v.Width}},
	}
	specs = append(specs, blockSpecs("visual.transformer", v.Layers, v.Width, cfg.VisionMLP())...)
	specs = append(specs,
		ParamSpec{"visual.ln_post.weight", []int{v.Width}},
		ParamSpec{"visual.ln_post.bias", []int{v.Width}},
		ParamSpec{"positional_embedding", []int{t.ContextLength, t.Width}},
		ParamSpec{"text_projection", []int{t.Width, cfg.EmbedDim}},
		ParamSpec{"logit_scale", []int{}},
		ParamSpec{"token_embedding.weight", []int{t.VocabSize, t.Width}},
	)
	specs = append(specs, blockSpecs("transformer", t.Layers, t.Width, cfg.TextMLP())...)
	specs = append(specs,
		ParamSpec{"ln_final.weight", []int{t.Width}},
		ParamSpec{"ln_final.bias", []int{t.Width}},
	)
	return specs
}

func blockSpecs(prefix string, layers, width, mlp int) []ParamSpec {
	var s []ParamSpec
	for i := 0; i < layers; i++ {
		p := fmt.Sprintf("%s.resblocks.%d.", prefix, i)
		s = append(s,
			ParamSpec{p + "ln_1.weight", []int{width}},
			ParamSpec{p + "ln_1.bias", []int{width}},
			ParamSpec{p + "attn.in_proj_weight", []int{3 * width, width}},
			ParamSpec{p + "attn.in_proj_bias", []int{3 * width}},
			ParamSpec{p + "attn.out_proj.weight", []int{width, width}},
			ParamSpec{p + "attn.out_proj.bias", []int{width}},
			ParamSpec{p + "ln_2.weight", []int{width}},
			ParamSpec{p + "ln_2.bias", []int{width}},
			ParamSpec{p + "mlp.c_fc.weight", []int{mlp, width}},
			ParamSpec{p + "mlp.c_fc.bias", []int{mlp}},
			ParamSpec{p + "mlp.c_proj.weight", []int{width, mlp}},
			ParamSpec{p + "mlp.c_proj.bias", []int{width}},
		)
	}
	return s
}
