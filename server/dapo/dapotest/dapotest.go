// Package dapotest loads the golden set's DAPO pieces for tests in other
// packages: the config, the backbone with the initial parameters, and the
// reference's learned parameters as a checkpoint. Everything comes from
// the folder (DAPO_GOLDEN), so other golden sets work unchanged.
package dapotest

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"dapo/server/dapo"
	"dapo/server/weights"
	"dapo/shared/golden"
)

// Config reads the set's dapo_config from golden.json.
func Config(set *golden.Set) (dapo.Config, error) {
	raw, err := os.ReadFile(set.Path("golden.json"))
	if err != nil {
		return dapo.Config{}, err
	}
	var doc struct {
		DAPOConfig json.RawMessage `json:"dapo_config"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return dapo.Config{}, fmt.Errorf("golden.json: %w", err)
	}
	return dapo.ParseConfig(doc.DAPOConfig)
}

// Checkpoint is the reference's trained parameters (reference_checkpoint.pth)
// on the golden backbone, as dapo checkpoint import would make it.
func Checkpoint(set *golden.Set) (*dapo.Checkpoint, error) {
	cfg, err := Config(set)
	if err != nil {
		return nil, err
	}
	bb, err := weights.Open(set.Dir, weights.Options{ImageSize: cfg.ImageSize})
	if err != nil {
		return nil, err
	}
	bbCfg, id := bb.Config, bb.ID
	bb.Close()
	params, err := dapo.ImportReference(set.Path("reference_checkpoint.pth"), cfg, bbCfg)
	if err != nil {
		return nil, err
	}
	return &dapo.Checkpoint{Meta: dapo.Meta{Config: cfg, Backbone: dapo.BackboneInfo{ID: id, Config: bbCfg}}, Params: params}, nil
}

// MustCheckpoint is Checkpoint failing the test on error.
func MustCheckpoint(t testing.TB, set *golden.Set) *dapo.Checkpoint {
	t.Helper()
	ck, err := Checkpoint(set)
	if err != nil {
		t.Fatalf("golden checkpoint: %v", err)
	}
	return ck
}
