package weights

import (
	"encoding/json"
	"errors"
	"fmt"

	"dapo/server/clip"
)

// hfTowerConfig holds the keys of a transformers CLIPVisionConfig or
// CLIPTextConfig this loader reads.
type hfTowerConfig struct {
	HiddenSize            int     `json:"hidden_size"`
	IntermediateSize      int     `json:"intermediate_size"`
	NumHiddenLayers       int     `json:"num_hidden_layers"`
	NumAttentionHeads     int     `json:"num_attention_heads"`
	HiddenAct             string  `json:"hidden_act"`
	LayerNormEps          float64 `json:"layer_norm_eps"`
	ImageSize             int     `json:"image_size"`
	PatchSize             int     `json:"patch_size"`
	NumChannels           int     `json:"num_channels"`
	MaxPositionEmbeddings int     `json:"max_position_embeddings"`
	VocabSize             int     `json:"vocab_size"`
}

// transformers writes config.json as a diff against the class defaults, so
// absent keys mean these values (CLIPVisionConfig / CLIPTextConfig).
func hfVisionDefaults() hfTowerConfig {
	return hfTowerConfig{HiddenSize: 768, IntermediateSize: 3072, NumHiddenLayers: 12, NumAttentionHeads: 12,
		HiddenAct: "quick_gelu", LayerNormEps: 1e-5, ImageSize: 224, PatchSize: 32, NumChannels: 3}
}

func hfTextDefaults() hfTowerConfig {
	return hfTowerConfig{HiddenSize: 512, IntermediateSize: 2048, NumHiddenLayers: 12, NumAttentionHeads: 8,
		HiddenAct: "quick_gelu", LayerNormEps: 1e-5, MaxPositionEmbeddings: 77, VocabSize: 49408}
}

const hfDefaultProjectionDim = 512

// parseHFConfig converts a transformers CLIPModel config.json into an
// open_clip config, refusing settings the towers here do not compute.
func parseHFConfig(b []byte) (clip.Config, error) {
	var top struct {
		ModelType     string          `json:"model_type"`
		ProjectionDim int             `json:"projection_dim"`
		Vision        json.RawMessage `json:"vision_config"`
		Text          json.RawMessage `json:"text_config"`
		VisionDict    json.RawMessage `json:"vision_config_dict"` // transformers < 4.22
		TextDict      json.RawMessage `json:"text_config_dict"`
	}
	top.ProjectionDim = hfDefaultProjectionDim
	if err := json.Unmarshal(b, &top); err != nil {
		return clip.Config{}, fmt.Errorf("parse config.json: %w", err)
	}
	if top.ModelType != "" && top.ModelType != "clip" {
		return clip.Config{}, fmt.Errorf("config.json: model_type %q is not supported (only transformers CLIPModel, model_type \"clip\")", top.ModelType)
	}
	vraw, traw := firstNonNull(top.Vision, top.VisionDict), firstNonNull(top.Text, top.TextDict)
	if vraw == nil || traw == nil {
		return clip.Config{}, errors.New("config.json: no vision_config and text_config: not a transformers CLIPModel config")
	}
	v, t := hfVisionDefaults(), hfTextDefaults()
	if err := json.Unmarshal(vraw, &v); err != nil {
		return clip.Config{}, fmt.Errorf("config.json vision_config: %w", err)
	}
	if err := json.Unmarshal(traw, &t); err != nil {
		return clip.Config{}, fmt.Errorf("config.json text_config: %w", err)
	}

	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	quick := map[string]bool{"quick_gelu": true, "gelu": false}
	vq, vok := quick[v.HiddenAct]
	tq, tok := quick[t.HiddenAct]
	check(vok, "vision_config.hidden_act %q is not supported (quick_gelu or gelu)", v.HiddenAct)
	check(tok, "text_config.hidden_act %q is not supported (quick_gelu or gelu)", t.HiddenAct)
	check(!vok || !tok || vq == tq, "vision and text hidden_act differ (%s, %s); open_clip uses one activation for both", v.HiddenAct, t.HiddenAct)
	check(v.LayerNormEps == 1e-5 && t.LayerNormEps == 1e-5, "layer_norm_eps %g/%g: only 1e-5 is supported", v.LayerNormEps, t.LayerNormEps)
	check(v.NumChannels == 3, "vision_config.num_channels %d: only RGB (3) is supported", v.NumChannels)
	check(v.NumAttentionHeads > 0 && v.HiddenSize%v.NumAttentionHeads == 0, "vision hidden_size %d is not a multiple of num_attention_heads %d", v.HiddenSize, v.NumAttentionHeads)
	check(t.IntermediateSize == 4*t.HiddenSize, "text intermediate_size %d is not 4 × hidden_size %d (open_clip's fixed text MLP ratio)", t.IntermediateSize, t.HiddenSize)
	if len(errs) > 0 {
		return clip.Config{}, fmt.Errorf("config.json: %w", errors.Join(errs...))
	}

	cfg := clip.Config{
		EmbedDim:  top.ProjectionDim,
		QuickGELU: vq,
		Vision: clip.VisionCfg{
			ImageSize: v.ImageSize,
			Layers:    v.NumHiddenLayers,
			Width:     v.HiddenSize,
			HeadWidth: v.HiddenSize / v.NumAttentionHeads,
			MLPRatio:  float64(v.IntermediateSize) / float64(v.HiddenSize),
			PatchSize: v.PatchSize,
		},
		Text: clip.TextCfg{
			ContextLength: t.MaxPositionEmbeddings,
			VocabSize:     t.VocabSize,
			Width:         t.HiddenSize,
			Heads:         t.NumAttentionHeads,
			Layers:        t.NumHiddenLayers,
		},
	}
	if got := cfg.VisionMLP(); got != v.IntermediateSize {
		return clip.Config{}, fmt.Errorf("config.json: vision intermediate_size %d is not representable as an open_clip mlp_ratio (gives %d)", v.IntermediateSize, got)
	}
	if err := cfg.Validate(); err != nil {
		return clip.Config{}, fmt.Errorf("config.json: %w", err)
	}
	return cfg, nil
}

func firstNonNull(msgs ...json.RawMessage) json.RawMessage {
	for _, m := range msgs {
		if len(m) > 0 && string(m) != "null" {
			return m
		}
	}
	return nil
}
