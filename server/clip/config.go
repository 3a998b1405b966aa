// Package clip holds the CLIP backbone: its configuration (open_clip's
// schema), its frozen weights bound to names, and the vision and text
// towers written as explicit per-block passes over the kernels package.
package clip

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Config is an open_clip model config (the schema of open_clip's
// model_configs/*.json and of `model_cfg` in a hub open_clip_config.json).
type Config struct {
	EmbedDim  int       `json:"embed_dim"`
	QuickGELU bool      `json:"quick_gelu,omitempty"`
	Vision    VisionCfg `json:"vision_cfg"`
	Text      TextCfg   `json:"text_cfg"`
}

// VisionCfg is open_clip's vision_cfg.
type VisionCfg struct {
	ImageSize int     `json:"image_size"`
	Layers    int     `json:"layers"`
	Width     int     `json:"width"`
	HeadWidth int     `json:"head_width,omitempty"`
	MLPRatio  float64 `json:"mlp_ratio,omitempty"`
	PatchSize int     `json:"patch_size"`
}

// TextCfg is open_clip's text_cfg.
type TextCfg struct {
	ContextLength int `json:"context_length"`
	VocabSize     int `json:"vocab_size"`
	Width         int `json:"width"`
	Heads         int `json:"heads"`
	Layers        int `json:"layers"`
}

// Defaults open_clip applies when a key is absent.
const (
	defaultHeadWidth = 64
	defaultMLPRatio  = 4.0
)

// unsupported lists open_clip config keys that would change the computation
// in ways this implementation does not follow. A config that sets them is
// refused rather than silently mis-run.
var unsupportedVision = []string{"ls_init_value", "attentional_pool", "attn_pooler_queries", "attn_pooler_heads", "no_ln_pre", "final_ln_after_pool", "pool_type", "timm_model_name", "patch_dropout", "output_tokens", "act_kwargs", "norm_kwargs"}
var unsupportedText = []string{"hf_model_name", "ls_init_value", "embed_cls", "pool_type", "proj_bias", "no_causal_mask", "act_kwargs", "norm_kwargs", "output_tokens", "pad_id", "proj_type"}

// ParseConfig decodes and validates an open_clip config.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("parse model config: %w", err)
	}
	var raw struct {
		Vision map[string]json.RawMessage `json:"vision_cfg"`
		Text   map[string]json.RawMessage `json:"text_cfg"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return c, fmt.Errorf("parse model config: %w", err)
	}
	if err := refuse("vision_cfg", raw.Vision, unsupportedVision); err != nil {
		return c, err
	}
	if err := refuse("text_cfg", raw.Text, unsupportedText); err != nil {
		return c, err
	}
	// open_clip's pool_type "tok" for vision and "argmax" for text are the
	// standard CLIP read-outs; accept exactly those.
	if v, ok := raw.Vision["pool_type"]; ok && strings.Trim(string(v), `"`) != "tok" {
		return c, fmt.Errorf("model config: vision_cfg.pool_type %s is not supported (only \"tok\")", v)
	}
	if v, ok := raw.Text["pool_type"]; ok && strings.Trim(string(v), `"`) != "argmax" {
		return c, fmt.Errorf("model config: text_cfg.pool_type %s is not supported (only \"argmax\")", v)
	}
	c.applyDefaults()
	return c, c.Validate()
}

func refuse(section string, m map[string]json.RawMessage, keys []string) error {
	for _, k := range keys {
		v, ok := m[k]
		if !ok || k == "pool_type" {
			continue
		}
		// null, false and zero are open_clip's defaults: configs that spell
		// out the standard CLIP values still load.
		s := strings.TrimSpace(string(v))
		if s == "null" || s == "false" || s == "0" || s == "0.0" {
			continue
		}
		return fmt.Errorf("model config: %s.%s = %s is not supported by this implementation", section, k, s)
	}
	return nil
}

func (c *Config) applyDefaults() {
	if c.Vision.HeadWidth == 0 {
		c.Vision.HeadWidth = defaultHeadWidth
	}
	if c.Vision.MLPRatio == 0 {
		c.Vision.MLPRatio = defaultMLPRatio
	}
	if c.Text.ContextLength == 0 {
		c.Text.ContextLength = 77
	}
	if c.Text.VocabSize == 0 {
		c.Text.VocabSize = 49408
	}
	if c.Text.Heads == 0 && c.Text.Width > 0 {
		c.Text.Heads = c.Text.Width / 64
	}
}

// Validate checks that the sizes are consistent.
func (c Config) Validate() error {
	var errs []error
	pos := func(name string, v int) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", name, v))
		}
	}
	pos("embed_dim", c.EmbedDim)
	pos("vision_cfg.image_size", c.Vision.ImageSize)
	pos("vision_cfg.layers", c.Vision.Layers)
	pos("vision_cfg.width", c.Vision.Width)
	pos("vision_cfg.head_width", c.Vision.HeadWidth)
	pos("vision_cfg.patch_size", c.Vision.PatchSize)
	pos("text_cfg.width", c.Text.Width)
	pos("text_cfg.heads", c.Text.Heads)
	pos("text_cfg.layers", c.Text.Layers)
	pos("text_cfg.context_length", c.Text.ContextLength)
	pos("text_cfg.vocab_size", c.Text.VocabSize)
	if c.Vision.HeadWidth > 0 && c.Vision.Width%c.Vision.HeadWidth != 0 {
		errs = append(errs, fmt.Errorf("vision width %d is not a multiple of head_width %d", c.Vision.Width, c.Vision.HeadWidth))
	}
	if c.Text.Heads > 0 && c.Text.Width%c.Text.Heads != 0 {
		errs = append(errs, fmt.Errorf("text width %d is not a multiple of heads %d", c.Text.Width, c.Text.Heads))
	}
	if c.Vision.PatchSize > 0 && c.Vision.ImageSize%c.Vision.PatchSize != 0 {
		errs = append(errs, fmt.Errorf("image_size %d is not a multiple of patch_size %d", c.Vision.ImageSize, c.Vision.PatchSize))
	}
	if c.Vision.MLPRatio <= 0 {
		errs = append(errs, fmt.Errorf("vision mlp_ratio must be positive, got %g", c.Vision.MLPRatio))
	}
	if len(errs) > 0 {
		return fmt.Errorf("model config: %w", errors.Join(errs...))
	}
	return nil
}

// Grid is the number of patches per side at the configured image size.
func (c Config) Grid() int { return c.Vision.ImageSize / c.Vision.PatchSize }

// VisionHeads is the number of attention heads of the vision tower.
func (c Config) VisionHeads() int { return c.Vision.Width / c.Vision.HeadWidth }

// VisionMLP is the hidden width of the vision MLP.
func (c Config) VisionMLP() int { return int(float64(c.Vision.Width) * c.Vision.MLPRatio) }

// TextMLP is the hidden width of the text MLP (open_clip fixes ratio 4).
func (c Config) TextMLP() int { return 4 * c.Text.Width }

// JSON encodes the config in open_clip's schema.
func (c Config) JSON() []byte {
	b, _ := json.MarshalIndent(c, "", "    ")
	return b
}

// WithImageSize returns a copy that runs at another input size (the
// positional embedding is resized on load).
func (c Config) WithImageSize(s int) (Config, error) {
	c.Vision.ImageSize = s
	return c, c.Validate()
}
