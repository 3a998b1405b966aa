package cli

import (
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"dapo/server/inference"
	"dapo/shared/golden"
	"dapo/shared/safetensors"
)

// importGolden turns the golden initial parameters into a checkpoint.
func importGolden(t *testing.T, set *golden.Set) string {
	t.Helper()
	ck := filepath.Join(t.TempDir(), "golden.safetensors")
	if out, err := runCLI(t, "checkpoint", "import", set.Path("reference_checkpoint.pth"), "--dapo-config", set.Path("golden.json"), "--model", set.Dir, "--out", ck); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	return ck
}

// TestDetectGolden: dapo detect on the golden PNG files with the imported
// golden parameters reproduces the reference's anomaly maps and image
// scores from the image files themselves.
func TestDetectGolden(t *testing.T) {
	set := golden.Load(t)
	t.Setenv("DAPO_CACHE", t.TempDir())
	ck := importGolden(t, set)
	var images []string
	for i := 0; ; i++ {
		p := set.Path(fmt.Sprintf("image_%d.png", i))
		if _, err := os.Stat(p); err != nil {
			break
		}
		images = append(images, p)
	}
	out := t.TempDir()
	args := append([]string{"detect", "--checkpoint", ck, "--model", set.Dir, "--raw", "--out", out}, images...)
	if msg, err := runCLI(t, args...); err != nil {
		t.Fatalf("detect: %v\n%s", err, msg)
	}
	var maps, scores []float32
	for i := range images {
		name := fmt.Sprintf("image_%d", i)
		var v inference.Verdict
		b, err := os.ReadFile(filepath.Join(out, name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		scores = append(scores, float32(v.Score))
		raw, err := os.ReadFile(filepath.Join(out, name+".safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := safetensors.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := f.Float32("anomaly_map")
		if err != nil {
			t.Fatal(err)
		}
		maps = append(maps, m...)
		var classes []string
		if err := json.Unmarshal([]byte(f.Metadata["classes"]), &classes); err != nil || len(classes) < 2 || classes[0] != "normal" {
			t.Errorf("classes metadata %q", f.Metadata["classes"])
		}
	}
	set.CompareFloat32(t, "dapo_forward", "anomaly_map", maps)
	set.CompareFloat32(t, "dapo_forward", "image.score", scores)
}

// TestDetectMVTecMini runs a seeded untrained tiny model over real images
// and checks every promised output, at the original image size.
func TestDetectMVTecMini(t *testing.T) {
	set := golden.Load(t)
	mini := filepath.Join(set.Dir, "..", "..", "data", "mvtec-mini", "hazelnut", "test")
	if _, err := os.Stat(mini); err != nil {
		t.Fatalf("mvtec-mini not found beside the golden set: %v", err)
	}
	t.Setenv("DAPO_CACHE", t.TempDir())
	dir := t.TempDir()
	bb, ck, out := filepath.Join(dir, "bb"), filepath.Join(dir, "ck.safetensors"), filepath.Join(dir, "out")
	for _, args := range [][]string{
		{"model", "init", "--config", "tiny", "--seed", "7", "--out", bb},
		{"checkpoint", "init", "--model", bb, "--seed", "7", "--out", ck},
		{"detect", mini, "--checkpoint", ck, "--model", bb, "--subset", "crack,hole", "--out", out},
	} {
		if msg, err := runCLI(t, args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, msg)
		}
	}
	src, err := os.Open(filepath.Join(mini, "crack", "000.png"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(src)
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	var v inference.Verdict
	b, err := os.ReadFile(filepath.Join(out, "crack_000.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if v.Score < 0 || v.Score > 1 || (v.Verdict != "normal" && v.Verdict != "anomalous") || len(v.DefectTypes) != 2 {
		t.Errorf("implausible verdict with a 2-word subset: %+v", v)
	}
	sum := 0.0
	for _, d := range v.DefectTypes {
		sum += d.Probability
		if d.Name != "crack" && d.Name != "hole" {
			t.Errorf("defect %q outside the subset", d.Name)
		}
	}
	if sum < 0.999 || sum > 1.001 {
		t.Errorf("defect probabilities sum to %g", sum)
	}
	for _, suffix := range []string{"_map.png", "_overlay.png", "_mask.png"} {
		f, err := os.Open(filepath.Join(out, "crack_000"+suffix))
		if err != nil {
			t.Fatal(err)
		}
		c, err := png.DecodeConfig(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", suffix, err)
		}
		if c.Width != cfg.Width || c.Height != cfg.Height {
			t.Errorf("%s is %dx%d, the image %dx%d", suffix, c.Width, c.Height, cfg.Width, cfg.Height)
		}
	}
}

func TestDetectErrors(t *testing.T) {
	set := golden.Load(t)
	t.Setenv("DAPO_CACHE", t.TempDir())
	ck := importGolden(t, set)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.png")
	os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\nbroken"), 0o644)
	for name, args := range map[string][]string{
		"no checkpoint":  {"detect", set.Path("image_0.png"), "--model", set.Dir, "--out", dir},
		"unknown subset": {"detect", set.Path("image_0.png"), "--checkpoint", ck, "--model", set.Dir, "--subset", "rust", "--out", dir},
		"bad threshold":  {"detect", set.Path("image_0.png"), "--checkpoint", ck, "--model", set.Dir, "--image-threshold", "2", "--out", dir},
		"corrupt image":  {"detect", bad, set.Path("image_0.png"), "--checkpoint", ck, "--model", set.Dir, "--out", dir},
	} {
		if msg, err := runCLI(t, args...); err == nil {
			t.Errorf("%s: want an error\n%s", name, msg)
		}
	}
	// The good image next to the corrupt one was still processed.
	if _, err := os.Stat(filepath.Join(dir, "image_0.json")); err != nil {
		t.Errorf("a corrupt image lost the other image's result: %v", err)
	}
}
