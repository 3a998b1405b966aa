package train

import (
	"encoding/json"
	"testing"

	"dapo/server/dapo"
	"dapo/server/weights"
	"dapo/shared/golden"
)

// goldenSetup is what the training goldens start from.
type goldenSetup struct {
	set    *golden.Set
	cfg    dapo.Config
	bb     *weights.Backbone
	params *dapo.Params
	// The reference's loss weights and Adam settings (golden.json dapo_config).
	local, image float32
	adam         *Adam
}

// loadGoldenSetup reads the golden DAPO config, backbone and initial
// parameters; the backbone is closed when the test ends.
func loadGoldenSetup(t *testing.T) goldenSetup {
	t.Helper()
	set := golden.Load(t)
	var doc struct {
		DAPOConfig json.RawMessage `json:"dapo_config"`
	}
	set.JSON(t, "golden.json", &doc)
	var extra struct {
		LossWeights struct{ Local, Image float32 } `json:"loss_weights"`
		Adam        struct {
			LR    float64    `json:"lr"`
			Betas [2]float64 `json:"betas"`
			Eps   float64    `json:"eps"`
		} `json:"adam"`
	}
	if err := json.Unmarshal(doc.DAPOConfig, &extra); err != nil {
		t.Fatal(err)
	}
	cfg, err := dapo.ParseConfig(doc.DAPOConfig)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := weights.Open(set.Dir, weights.Options{ImageSize: cfg.ImageSize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bb.Close() })
	init := set.File(t, "dapo_params_init")
	params, err := dapo.BindParams(cfg, bb.Config, func(name string, shape []int) ([]float32, error) {
		v, _, err := init.Float32(name)
		return v, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return goldenSetup{set: set, cfg: cfg, bb: bb, params: params, local: extra.LossWeights.Local, image: extra.LossWeights.Image,
		adam: &Adam{LR: extra.Adam.LR, Beta1: extra.Adam.Betas[0], Beta2: extra.Adam.Betas[1], Eps: extra.Adam.Eps}}
}
