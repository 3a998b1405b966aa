// Package modelinit makes deterministic random CLIP backbones for tests,
// demos and benchmarks, in the project's backbone layout (model_config.json
// + backbone.safetensors), so everything downstream runs without
// downloading weights.
package modelinit

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"dapo/server/clip"
)

// builtinConfigs are open_clip's own model_configs/*.json values (defaults
// left out, as open_clip does), plus "tiny", the shape of the dev golden set.
var builtinConfigs = map[string]string{
	"ViT-B-16":     `{"embed_dim": 512, "vision_cfg": {"image_size": 224, "layers": 12, "width": 768, "patch_size": 16}, "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 512, "heads": 8, "layers": 12}}`,
	"ViT-B-32":     `{"embed_dim": 512, "vision_cfg": {"image_size": 224, "layers": 12, "width": 768, "patch_size": 32}, "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 512, "heads": 8, "layers": 12}}`,
	"ViT-L-14":     `{"embed_dim": 768, "vision_cfg": {"image_size": 224, "layers": 24, "width": 1024, "patch_size": 14}, "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 768, "heads": 12, "layers": 12}}`,
	"ViT-L-14-336": `{"embed_dim": 768, "vision_cfg": {"image_size": 336, "layers": 24, "width": 1024, "patch_size": 14}, "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 768, "heads": 12, "layers": 12}}`,
	"tiny":         `{"embed_dim": 32, "quick_gelu": true, "vision_cfg": {"image_size": 70, "layers": 4, "width": 64, "head_width": 16, "mlp_ratio": 4.0, "patch_size": 14}, "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 4, "layers": 4}}`,
}

const quickGELUSuffix = "-quickgelu"

// Names lists the built-in config names, sorted; every ViT also exists
// with the -quickgelu suffix (OpenAI's activation).
func Names() []string {
	var names []string
	for n := range builtinConfigs {
		names = append(names, n)
		if strings.HasPrefix(n, "ViT-") {
			names = append(names, n+quickGELUSuffix)
		}
	}
	sort.Strings(names)
	return names
}

// Config returns a built-in config by name (case-insensitive), or reads an
// open_clip config JSON file when nameOrPath is not a built-in name. A hub
// open_clip_config.json (config under model_cfg) is accepted too.
func Config(nameOrPath string) (clip.Config, error) {
	for _, n := range Names() {
		if strings.EqualFold(n, nameOrPath) {
			return builtin(n)
		}
	}
	b, err := os.ReadFile(nameOrPath)
	if err != nil {
		if os.IsNotExist(err) {
			return clip.Config{}, fmt.Errorf("config %q is neither a built-in config (%s) nor a file", nameOrPath, strings.Join(Names(), ", "))
		}
		return clip.Config{}, fmt.Errorf("read config: %w", err)
	}
	var hub struct {
		ModelCfg json.RawMessage `json:"model_cfg"`
	}
	if json.Unmarshal(b, &hub) == nil && len(hub.ModelCfg) > 0 && string(hub.ModelCfg) != "null" {
		b = hub.ModelCfg
	}
	cfg, err := clip.ParseConfig(b)
	if err != nil {
		return clip.Config{}, fmt.Errorf("config %s: %w", nameOrPath, err)
	}
	return cfg, nil
}

func builtin(name string) (clip.Config, error) {
	base, quick := strings.CutSuffix(name, quickGELUSuffix)
	cfg, err := clip.ParseConfig([]byte(builtinConfigs[base]))
	if err != nil {
		return clip.Config{}, fmt.Errorf("built-in config %s: %w", name, err)
	}
	if quick {
		cfg.QuickGELU = true
	}
	return cfg, nil
}
