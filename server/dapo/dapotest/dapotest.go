// Package dapotest loads the golden set's DAPO pieces for tests in other
// packages: the config, the backbone with the initial parameters, and the
// reference's learned parameters as a checkpoint. Everything comes from
// the folder (DAPO_GOLDEN), so other golden sets work unchanged.
package dapotest

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
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

// Model is the golden backbone (closed when the test ends), the DAPO
// config and the initial parameters (dapo_params_init).
type Model struct {
	Set      *golden.Set
	Config   dapo.Config
	Backbone *weights.Backbone
	Params   *dapo.Params
}

// LoadModel reads the golden set's backbone, config and initial
// parameters, failing the test on error.
func LoadModel(t testing.TB) *Model {
	t.Helper()
	set := golden.Load(t)
	cfg, err := Config(set)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := weights.Open(set.Dir, weights.Options{ImageSize: cfg.ImageSize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bb.Close() })
	if err := cfg.Validate(bb.Config.Vision.Layers, bb.Config.Text.Layers); err != nil {
		t.Fatal(err)
	}
	f := set.File(t, "dapo_params_init")
	params, err := dapo.BindParams(cfg, bb.Config, func(name string, shape []int) ([]float32, error) {
		info, ok := f.Info(name)
		if !ok {
			return nil, fmt.Errorf("dapo_params_init: missing %s", name)
		}
		if !slices.Equal(info.Shape, shape) {
			return nil, fmt.Errorf("dapo_params_init: %s has shape %v, want %v", name, info.Shape, shape)
		}
		v, _, err := f.Float32(name)
		return v, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return &Model{Set: set, Config: cfg, Backbone: bb, Params: params}
}

// TrainSettings are the reference's loss weights and Adam settings, from
// golden.json's dapo_config.
type TrainSettings struct {
	LossWeights struct{ Local, Image float32 } `json:"loss_weights"`
	Adam        struct {
		LR    float64    `json:"lr"`
		Betas [2]float64 `json:"betas"`
		Eps   float64    `json:"eps"`
	} `json:"adam"`
}

// LoadTrainSettings reads the set's TrainSettings, failing the test on error.
func LoadTrainSettings(t testing.TB, set *golden.Set) TrainSettings {
	t.Helper()
	var doc struct {
		DAPOConfig TrainSettings `json:"dapo_config"`
	}
	set.JSON(t, "golden.json", &doc)
	return doc.DAPOConfig
}
