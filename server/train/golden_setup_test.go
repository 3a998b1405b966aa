package train

import (
	"testing"

	"dapo/server/dapo"
	"dapo/server/dapo/dapotest"
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
	m := dapotest.LoadModel(t)
	ts := dapotest.LoadTrainSettings(t, m.Set)
	return goldenSetup{set: m.Set, cfg: m.Config, bb: m.Backbone, params: m.Params,
		local: ts.LossWeights.Local, image: ts.LossWeights.Image,
		adam: &Adam{LR: ts.Adam.LR, Beta1: ts.Adam.Betas[0], Beta2: ts.Adam.Betas[1], Eps: ts.Adam.Eps}}
}
