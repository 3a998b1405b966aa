package weights

import (
	"reflect"
	"strings"
	"testing"

	"dapo/server/clip"
)

// transformers writes only the keys that differ from the class defaults;
// this is the shape of OpenAI's ViT-L/14-336 CLIPModel config.json.
const hfViTL14336 = `{
  "architectures": ["CLIPModel"],
  "initializer_factor": 1.0,
  "logit_scale_init_value": 2.6592,
  "model_type": "clip",
  "projection_dim": 768,
  "text_config": {
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_attention_heads": 12,
    "projection_dim": 768
  },
  "vision_config": {
    "hidden_size": 1024,
    "image_size": 336,
    "intermediate_size": 4096,
    "num_attention_heads": 16,
    "num_hidden_layers": 24,
    "patch_size": 14,
    "projection_dim": 768
  }
}`

func TestParseHFConfigDefaults(t *testing.T) {
	got, err := parseHFConfig([]byte(hfViTL14336))
	if err != nil {
		t.Fatal(err)
	}
	// open_clip's ViT-L-14-336-quickgelu.json, with its defaults spelled out.
	want := clip.Config{
		EmbedDim:  768,
		QuickGELU: true,
		Vision:    clip.VisionCfg{ImageSize: 336, Layers: 24, Width: 1024, HeadWidth: 64, MLPRatio: 4, PatchSize: 14},
		Text:      clip.TextCfg{ContextLength: 77, VocabSize: 49408, Width: 768, Heads: 12, Layers: 12},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestParseHFConfigRefusals(t *testing.T) {
	for _, c := range []struct{ name, json, want string }{
		{"siglip", `{"model_type": "siglip", "vision_config": {}, "text_config": {}}`, "model_type"},
		{"vision only", `{"model_type": "clip"}`, "no vision_config"},
		{"gelu_new", `{"vision_config": {"hidden_act": "gelu_new"}, "text_config": {"hidden_act": "gelu_new"}}`, "gelu_new"},
		{"mixed act", `{"vision_config": {"hidden_act": "gelu"}, "text_config": {}}`, "differ"},
		{"text mlp", `{"vision_config": {}, "text_config": {"intermediate_size": 1000}}`, "intermediate_size 1000"},
		{"eps", `{"vision_config": {"layer_norm_eps": 1e-6}, "text_config": {}}`, "layer_norm_eps"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseHFConfig([]byte(c.json))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("want an error about %q, got %v", c.want, err)
			}
		})
	}
}

func TestParseHFConfigGELUAndOldKeys(t *testing.T) {
	cfg, err := parseHFConfig([]byte(`{"vision_config": null, "vision_config_dict": {"hidden_act": "gelu", "patch_size": 16},
		"text_config_dict": {"hidden_act": "gelu"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.QuickGELU || cfg.Vision.PatchSize != 16 || cfg.EmbedDim != 512 {
		t.Errorf("got %+v", cfg)
	}
}

func TestHFRecipeCoversEveryParam(t *testing.T) {
	cfg := clip.Config{
		EmbedDim: 8, Vision: clip.VisionCfg{ImageSize: 28, Layers: 2, Width: 16, HeadWidth: 8, MLPRatio: 4, PatchSize: 14},
		Text: clip.TextCfg{ContextLength: 5, VocabSize: 10, Width: 8, Heads: 2, Layers: 3},
	}
	seen := map[string]string{}
	for _, s := range clip.ParamSpecs(cfg) {
		r, ok := hfRecipeFor(s.Name)
		if !ok {
			t.Errorf("no Hugging Face recipe for %s", s.Name)
			continue
		}
		for _, f := range r.from {
			if prev, dup := seen[f]; dup {
				t.Errorf("%s is used for both %s and %s", f, prev, s.Name)
			}
			seen[f] = s.Name
		}
	}
	if _, ok := hfRecipeFor("visual.transformer.resblocks.0.ls_1.gamma"); ok {
		t.Error("a recipe for a tensor CLIPModel does not have")
	}
}
