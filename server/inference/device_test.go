package inference

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"dapo/server/compute"
	"dapo/server/dapo"
	"dapo/server/weights"
	"dapo/shared/golden"
	"dapo/shared/imaging"
	"dapo/shared/scoring"
)

// TestBackendGolden: a Detector whose vision side runs on a compute
// backend (here the CPU one; the GPU backend runs the same check in the
// GPU bundle) reproduces the reference's anomaly maps and image scores
// from the golden PNGs.
func TestBackendGolden(t *testing.T) {
	set := golden.Load(t)
	raw, err := os.ReadFile(set.Path("golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		DAPOConfig json.RawMessage `json:"dapo_config"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
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
	bbCfg, id := bb.Config, bb.ID
	bb.Close()
	params, err := dapo.ImportReference(set.Path("reference_checkpoint.pth"), cfg, bbCfg)
	if err != nil {
		t.Fatal(err)
	}
	ck := &dapo.Checkpoint{Meta: dapo.Meta{Config: cfg, Backbone: dapo.BackboneInfo{ID: id, Config: bbCfg}}, Params: params}
	released := false
	det, err := New(context.Background(), set.Dir, ck, Options{
		Limits:  imaging.Limits{MaxPixels: 1 << 22},
		Backend: &compute.CPU{}, Release: func() error { released = true; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if det.device == nil {
		t.Fatal("the backend is not used")
	}
	scorer, err := det.Scorer(scoring.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var maps, scores []float32
	for _, name := range []string{"image_0.png", "image_1.png"} {
		if _, err := os.Stat(set.Path(name)); err != nil {
			continue
		}
		im, err := det.LoadImage(set.Path(name))
		if err != nil {
			t.Fatal(err)
		}
		feats, err := det.EncodeImages(context.Background(), []*Image{im})
		if err != nil {
			t.Fatal(err)
		}
		res, err := scorer.Score(feats[0].Global, feats[0].Layers)
		if err != nil {
			t.Fatal(err)
		}
		maps = append(maps, res.AnomalyMap...)
		scores = append(scores, res.ImageScore)
	}
	set.CompareFloat32(t, "dapo_forward", "anomaly_map", maps)
	set.CompareFloat32(t, "dapo_forward", "image.score", scores)
	if err := det.Close(); err != nil || !released {
		t.Errorf("Close: %v, backend released: %v", err, released)
	}
}
