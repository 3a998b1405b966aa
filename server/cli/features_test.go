package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"dapo/shared/bundle"
	"dapo/shared/golden"
	"dapo/shared/scoring"
)

// TestFeaturesGolden: bundles written from the golden PNGs with the
// imported golden parameters re-score, without the server, to the
// reference's anomaly maps and image scores.
func TestFeaturesGolden(t *testing.T) {
	set := golden.Load(t)
	t.Setenv("DAPO_CACHE", t.TempDir())
	ck := importGolden(t, set)
	out := t.TempDir()
	var images []string
	for _, name := range []string{"image_0.png", "image_1.png"} {
		if _, err := os.Stat(set.Path(name)); err == nil {
			images = append(images, set.Path(name))
		}
	}
	args := append([]string{"features", "--checkpoint", ck, "--model", set.Dir, "--out", out}, images...)
	if msg, err := runCLI(t, args...); err != nil {
		t.Fatalf("features: %v\n%s", err, msg)
	}
	var maps, scores []float32
	for i := range images {
		data, err := os.ReadFile(filepath.Join(out, fmt.Sprintf("image_%d.bundle.safetensors", i)))
		if err != nil {
			t.Fatal(err)
		}
		b, err := bundle.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.JPEG) == 0 || b.Meta.Image.Width == 0 {
			t.Errorf("bundle %d lacks its preview or image size: %+v", i, b.Meta.Image)
		}
		res, err := scoring.Score(b.ScoringInput(), scoring.Options{})
		if err != nil {
			t.Fatal(err)
		}
		maps = append(maps, res.AnomalyMap...)
		scores = append(scores, res.ImageScore)
	}
	set.CompareFloat32(t, "dapo_forward", "anomaly_map", maps)
	set.CompareFloat32(t, "dapo_forward", "image.score", scores)
}
