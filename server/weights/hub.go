package weights

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"dapo/server/clip"
)

// openAIMean is the image mean of OpenAI's CLIP preprocessing.
var openAIMean = [3]float64{0.48145466, 0.4578275, 0.40821073}

// hubConfig is open_clip's hub open_clip_config.json: the model config
// under model_cfg, preprocessing under preprocess_cfg, and sometimes
// descriptive keys.
type hubConfig struct {
	ModelCfg   json.RawMessage `json:"model_cfg"`
	Preprocess struct {
		Mean []float64 `json:"mean"`
	} `json:"preprocess_cfg"`
}

// activationChoice records how quick_gelu was decided, for the log.
type activationChoice struct {
	quickGELU bool
	reason    string
	doubtful  bool // worth a warning: the evidence is weak
}

// parseHubConfig reads an open_clip hub config. Hub configs of OpenAI
// weights do not always say quick_gelu although those weights were trained
// with it, so it is inferred when absent; folder is the folder's name,
// which a download tool usually derives from the hub id.
func parseHubConfig(b []byte, folder string) (clip.Config, activationChoice, error) {
	var hub hubConfig
	if err := json.Unmarshal(b, &hub); err != nil {
		return clip.Config{}, activationChoice{}, fmt.Errorf("parse open_clip_config.json: %w", err)
	}
	if len(hub.ModelCfg) == 0 || string(hub.ModelCfg) == "null" {
		return clip.Config{}, activationChoice{}, fmt.Errorf("open_clip_config.json has no model_cfg")
	}
	cfg, err := clip.ParseConfig(hub.ModelCfg)
	if err != nil {
		return clip.Config{}, activationChoice{}, fmt.Errorf("open_clip_config.json model_cfg: %w", err)
	}
	var model map[string]json.RawMessage
	var top map[string]json.RawMessage
	_ = json.Unmarshal(hub.ModelCfg, &model) // both decoded fine above
	_ = json.Unmarshal(b, &top)
	if _, ok := model["quick_gelu"]; ok {
		return cfg, activationChoice{quickGELU: cfg.QuickGELU, reason: "model_cfg.quick_gelu"}, nil
	}
	names := append(stringValues(top), stringValues(model)...)
	names = append(names, folder)
	for _, n := range names {
		if strings.Contains(strings.ToLower(n), "openai") {
			cfg.QuickGELU = true
			return cfg, activationChoice{quickGELU: true, reason: fmt.Sprintf("%q names OpenAI weights, which always use QuickGELU", n)}, nil
		}
	}
	if sameMean(hub.Preprocess.Mean, openAIMean[:]) {
		// open_clip also defaults to OpenAI's mean/std for models trained
		// elsewhere (LAION, DataComp) with plain GELU, so this alone
		// does not identify OpenAI weights.
		return cfg, activationChoice{quickGELU: false, doubtful: true,
			reason: "config does not say quick_gelu and names no OpenAI weights; preprocess_cfg has OpenAI's mean, which open_clip also uses for GELU models, so assuming GELU (force with quick_gelu if these are OpenAI weights)"}, nil
	}
	return cfg, activationChoice{quickGELU: false, reason: "config does not say quick_gelu and nothing points to OpenAI weights"}, nil
}

// provenance describes where a hub folder came from: its name, plus the
// source URLs that 'dapo weights pull' records in manifest.json (they name
// the hub repository, e.g. timm/vit_large_patch14_clip_336.openai, while
// the folder itself is called ViT-L-14-336).
func provenance(dir string) string {
	desc := filepath.Base(dir)
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return desc
	}
	var m struct {
		Files []struct {
			URL string `json:"url"`
		} `json:"files"`
	}
	if json.Unmarshal(b, &m) == nil {
		for _, f := range m.Files {
			desc += " " + f.URL
		}
	}
	return desc
}

// stringValues lists the string-valued keys of a JSON object (names,
// pretrained tags, hub ids).
func stringValues(m map[string]json.RawMessage) []string {
	var out []string
	for _, v := range m {
		var s string
		if json.Unmarshal(v, &s) == nil && s != "" {
			out = append(out, s)
		}
	}
	sort.Strings(out) // map order would make the logged reason vary
	return out
}

func sameMean(got, want []float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-6 {
			return false
		}
	}
	return true
}
