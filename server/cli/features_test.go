package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dapo/shared/bundle"
	"dapo/shared/gallery"
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

// TestFeaturesGallery: the output folder gets the app's gallery index,
// with MVTec-layout ground truth copied beside the bundle, and a second
// run into the same folder keeps the first run's items.
func TestFeaturesGallery(t *testing.T) {
	set := golden.Load(t)
	t.Setenv("DAPO_CACHE", t.TempDir())
	ck := importGolden(t, set)
	root := t.TempDir()
	img, err := os.ReadFile(set.Path("image_0.png"))
	if err != nil {
		t.Skip("golden set has no image_0.png")
	}
	mask := []byte("not checked: copied as is")
	for p, data := range map[string][]byte{
		"prod/test/crack/000.png":              img,
		"prod/ground_truth/crack/000_mask.png": mask,
		"prod/test/good/000.png":               img,
	} {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		if msg, err := runCLI(t, append([]string{"features", "--checkpoint", ck, "--model", set.Dir, "--out", out}, args...)...); err != nil {
			t.Fatalf("features: %v\n%s", err, msg)
		}
	}
	run(filepath.Join(root, "prod/test/crack"))
	run(filepath.Join(root, "prod/test/good/000.png"))
	data, err := os.ReadFile(filepath.Join(out, gallery.FileName))
	if err != nil {
		t.Fatal(err)
	}
	ix, err := gallery.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(ix.Items) != 2 {
		t.Fatalf("index items: %+v", ix.Items)
	}
	var withMask int
	for _, it := range ix.Items {
		if _, err := os.Stat(filepath.Join(out, it.Bundle)); err != nil {
			t.Errorf("index names a missing bundle: %v", err)
		}
		if it.Mask != "" {
			withMask++
			got, err := os.ReadFile(filepath.Join(out, it.Mask))
			if err != nil || string(got) != string(mask) {
				t.Errorf("mask %s: %q, %v", it.Mask, got, err)
			}
			if it.Source != sourceID(filepath.Join(root, "prod/test/crack/000.png")) {
				t.Errorf("mask attached to %+v, not the crack image", it)
			}
		}
	}
	if withMask != 1 {
		t.Errorf("%d items with a mask, want 1: %+v", withMask, ix.Items)
	}
}

func TestDisplayNames(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"data/B/pcb/test/crack/000.png", "data/B/washer/test/good/001.png"}, []string{"pcb/test/crack/000.png", "washer/test/good/001.png"}},
		{[]string{"a/b/000.png", "a/b/001.png"}, []string{"000.png", "001.png"}},
		{[]string{"/x/y/z.png"}, []string{"z.png"}},
		{[]string{"z.png", "d/w.png"}, []string{"z.png", "d/w.png"}},
	} {
		got := displayNames(tc.in)
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("displayNames(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
