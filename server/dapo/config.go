// Package dapo is the DAPO model on top of the frozen CLIP towers: hybrid
// text prompts (learned context around fixed anchor words), deep text and
// visual prompt tokens blended into every block, per-layer linear adapters,
// and the checkpoint format that carries them.
package dapo

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Config is the DAPO configuration. JSON keys are those of the reference's
// golden.json `dapo_config`, so a config can be copied from there.
type Config struct {
	FeatureLayers    []int    `json:"feature_layers"`     // 1-based block outputs used for maps
	Depth            int      `json:"depth"`              // vision blocks that get deep prompts
	PrefixTokenCnt   int      `json:"prefix_token_cnt"`   // visual prompt tokens per block
	TextDepth        int      `json:"text_depth"`         // text blocks that get deep prompts
	LayerTokenCnt    int      `json:"layer_token_cnt"`    // deep text tokens per block
	NormalTokenCnt   int      `json:"normal_token_cnt"`   // learned context before the normal anchor
	AbnormalTokenCnt int      `json:"abnormal_token_cnt"` // learned context before each defect anchor
	PromptCount      int      `json:"prompt_count"`       // independent context groups, averaged
	Defects          []string `json:"defects"`            // defect words, class ids 1..S in order
	Temperature      float64  `json:"temperature"`
	AlphaBlend       float64  `json:"alpha_blend"` // weight of the previous block's prompt output
	ImageSize        int      `json:"image_size"`
	NormalWord       string   `json:"normal_word"`
	ClassWord        string   `json:"class_word"`

	// Optional.
	AnomalyWord string `json:"anomaly_word,omitempty"` // default "anomaly"
	// TextReadout is "shifted" (the reference: row argmax(template ids) of
	// the sequence with the deep tokens inserted, i.e. 4 tokens before EOT)
	// or "eot" (the EOT token itself, EOT+LayerTokenCnt).
	TextReadout string `json:"text_readout,omitempty"`
	// TextCausal applies CLIP's causal mask in the prompt encoder (the
	// reference attends bidirectionally).
	TextCausal bool `json:"text_causal,omitempty"`
}

// Readout modes.
const (
	ReadoutShifted = "shifted"
	ReadoutEOT     = "eot"
)

// requiredKeys must be present in a config file: a missing one would
// silently change the model.
var requiredKeys = []string{"feature_layers", "depth", "prefix_token_cnt", "text_depth", "layer_token_cnt",
	"normal_token_cnt", "abnormal_token_cnt", "prompt_count", "defects", "temperature", "alpha_blend",
	"image_size", "normal_word", "class_word"}

// ParseConfig decodes a DAPO config JSON (golden.json's dapo_config keys;
// extra keys such as class_order or adam are ignored) and fills defaults.
func ParseConfig(b []byte) (Config, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Config{}, fmt.Errorf("parse DAPO config: %w", err)
	}
	var missing []string
	for _, k := range requiredKeys {
		if _, ok := raw[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("DAPO config: missing required keys %v", missing)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("parse DAPO config: %w", err)
	}
	c.fillDefaults()
	return c, nil
}

func (c *Config) fillDefaults() {
	if c.AnomalyWord == "" {
		c.AnomalyWord = "anomaly"
	}
	if c.TextReadout == "" {
		c.TextReadout = ReadoutShifted
	}
}

// Default is the reference configuration for ViT-L/14-336 at 518 px with
// MVTec's 20 training defect states.
func Default(defects []string) Config {
	c := Config{
		FeatureLayers: []int{6, 12, 18, 24}, Depth: 24, PrefixTokenCnt: 4, TextDepth: 12, LayerTokenCnt: 4,
		NormalTokenCnt: 5, AbnormalTokenCnt: 5, PromptCount: 10, Defects: slices.Clone(defects),
		Temperature: 0.07, AlphaBlend: 0.01, ImageSize: 518, NormalWord: "flawless", ClassWord: "object",
	}
	c.fillDefaults()
	return c
}

// Validate checks the config against a backbone's depth.
func (c Config) Validate(visionLayers, textLayers int) error {
	var errs []error
	if len(c.FeatureLayers) == 0 {
		errs = append(errs, errors.New("feature_layers is empty"))
	}
	for _, l := range c.FeatureLayers {
		if l < 1 || l > visionLayers {
			errs = append(errs, fmt.Errorf("feature layer %d outside 1..%d", l, visionLayers))
		}
	}
	if c.Depth < 1 || c.Depth > visionLayers {
		errs = append(errs, fmt.Errorf("depth %d outside 1..%d (vision layers)", c.Depth, visionLayers))
	}
	if c.TextDepth < 1 || c.TextDepth > textLayers {
		errs = append(errs, fmt.Errorf("text_depth %d outside 1..%d (text layers)", c.TextDepth, textLayers))
	}
	for name, v := range map[string]int{"prefix_token_cnt": c.PrefixTokenCnt, "layer_token_cnt": c.LayerTokenCnt,
		"normal_token_cnt": c.NormalTokenCnt, "abnormal_token_cnt": c.AbnormalTokenCnt, "prompt_count": c.PromptCount, "image_size": c.ImageSize} {
		if v < 1 {
			errs = append(errs, fmt.Errorf("%s must be at least 1, got %d", name, v))
		}
	}
	if len(c.Defects) == 0 {
		errs = append(errs, errors.New("defects is empty: give at least one defect word"))
	}
	if c.Temperature <= 0 {
		errs = append(errs, fmt.Errorf("temperature must be positive, got %g", c.Temperature))
	}
	if c.AlphaBlend < 0 || c.AlphaBlend > 1 {
		errs = append(errs, fmt.Errorf("alpha_blend must lie in [0,1], got %g", c.AlphaBlend))
	}
	if c.TextReadout != ReadoutShifted && c.TextReadout != ReadoutEOT {
		errs = append(errs, fmt.Errorf("text_readout must be %q or %q, got %q", ReadoutShifted, ReadoutEOT, c.TextReadout))
	}
	if len(errs) > 0 {
		return fmt.Errorf("DAPO config: %w", errors.Join(errs...))
	}
	return nil
}

// ClassNames is the class order of every output: normal first, then the
// defect words.
func (c Config) ClassNames() []string {
	return append([]string{"normal"}, c.Defects...)
}
