package weights

import (
	"fmt"
	"sort"
	"strings"
)

// nonStandard lists tensors that only exist in open_clip models using
// features this implementation does not compute. A checkpoint holding them
// would bind (the standard tensors are there too) and then silently compute
// something else, so they are reported. Patterns starting with "." match
// anywhere in a name, the others at its start.
var nonStandard = []struct{ pattern, feature string }{
	{".ls_1.", "layer scale (ls_init_value)"},
	{".ls_2.", "layer scale (ls_init_value)"},
	{".ln_attn.", "attention output norm (scale_attn)"},
	{".mlp.ln.", "MLP inner norm (scale_fc)"},
	{".attn.ln_inner.", "attention inner norm (scale_attn_inner)"},
	{".attn.head_scale", "per-head scaling (scale_heads)"},
	{"visual.attn_pool", "attentional pooler (attentional_pool)"},
	{"visual.trunk.", "timm image tower (timm_model_name)"},
	{"visual.head.", "timm projection head (timm_proj)"},
	{"text.", "custom text tower (hf_model_name / CustomTextCLIP)"},
	{"text_decoder.", "CoCa text decoder"},
	{"text_projection.bias", "text projection bias (proj_bias)"},
	{"visual.conv1.bias", "patch embedding bias"},
}

func nonStandardFeature(name string) (string, bool) {
	for _, n := range nonStandard {
		if strings.HasPrefix(n.pattern, ".") && strings.Contains(name, n.pattern) ||
			strings.HasPrefix(name, n.pattern) {
			return n.feature, true
		}
	}
	return "", false
}

// describeNonStandard groups offending tensors by feature, one line each.
func describeNonStandard(names []string) error {
	byFeature := map[string][]string{}
	for _, n := range names {
		f, _ := nonStandardFeature(n)
		byFeature[f] = append(byFeature[f], n)
	}
	features := make([]string, 0, len(byFeature))
	for f := range byFeature {
		features = append(features, f)
	}
	sort.Strings(features)
	var b strings.Builder
	b.WriteString("the checkpoint uses open_clip features this implementation does not compute:")
	for _, f := range features {
		ns := byFeature[f]
		fmt.Fprintf(&b, "\n  %s: %d tensor(s), e.g. %s", f, len(ns), ns[0])
	}
	return fmt.Errorf("%s", b.String())
}
