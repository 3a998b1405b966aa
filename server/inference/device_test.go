package inference

import (
	"context"
	"os"
	"testing"

	"dapo/server/compute"
	"dapo/server/dapo/dapotest"
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
	ck := dapotest.MustCheckpoint(t, set)
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
