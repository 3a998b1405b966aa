package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"dapo/shared/golden"
	"dapo/shared/safetensors"
)

// runCLI executes the command tree with args and returns stdout.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := NewRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// TestEmbedGolden runs the whole path from the golden PNG files and prompt
// strings — decode, Pillow resize, normalise, tokenise, both towers — and
// compares with the reference's plain CLIP features.
func TestEmbedGolden(t *testing.T) {
	set := golden.Load(t)
	var facts struct {
		Facts struct {
			TextPrompts []string `json:"clip.text_prompts"`
		} `json:"facts"`
	}
	set.JSON(t, "golden.json", &facts)
	var images []string
	for i := 0; ; i++ {
		p := set.Path(fmt.Sprintf("image_%d.png", i))
		if _, err := os.Stat(p); err != nil {
			break
		}
		images = append(images, p)
	}
	if len(images) == 0 || len(facts.Facts.TextPrompts) == 0 {
		t.Fatal("golden set has no images or text prompts")
	}
	dir := t.TempDir()
	imgOut := filepath.Join(dir, "img.safetensors")
	args := append([]string{"embed", "--model", set.Dir, "--out", imgOut, "--image"}, images...)
	if out, err := runCLI(t, args...); err != nil {
		t.Fatalf("embed images: %v\n%s", err, out)
	}
	txtOut := filepath.Join(dir, "txt.safetensors")
	args = append([]string{"embed", "--model", set.Dir, "--out", txtOut, "--text"}, facts.Facts.TextPrompts...)
	if out, err := runCLI(t, args...); err != nil {
		t.Fatalf("embed texts: %v\n%s", err, out)
	}
	for file, names := range map[string][]string{
		imgOut: {"image.features", "image.features_normed"},
		txtOut: {"text.features", "text.features_normed"},
	} {
		buf, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, err := safetensors.Parse(buf)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			got, _, err := f.Float32(name)
			if err != nil {
				t.Fatal(err)
			}
			set.CompareFloat32(t, "clip_encoders", name, got)
		}
		if file == txtOut {
			ids, _, err := f.Int64("text.ids")
			if err != nil {
				t.Fatal(err)
			}
			set.CompareInt64(t, "clip_encoders", "text.ids", ids)
		}
	}
}

// TestEmbedJSON checks the --json shape and that normalised rows are unit
// length, on the golden backbone.
func TestEmbedJSON(t *testing.T) {
	set := golden.Load(t)
	out, err := runCLI(t, "embed", "--model", set.Dir, "--json", "--text", "a hole", "a scratch")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var doc map[string][][]float64
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	raw, normed := doc["text_features"], doc["text_features_normed"]
	if len(raw) != 2 || len(normed) != 2 {
		t.Fatalf("want 2 rows of each, got %d and %d", len(raw), len(normed))
	}
	for i, row := range normed {
		var sq, rsq float64
		for j, v := range row {
			sq += v * v
			rsq += raw[i][j] * raw[i][j]
		}
		if sq < 1-1e-5 || sq > 1+1e-5 {
			t.Errorf("row %d of text_features_normed has squared norm %g", i, sq)
		}
		if rsq == 0 {
			t.Errorf("row %d of text_features is zero", i)
		}
	}
}

// TestEmbedErrors checks that bad input gives clear errors.
func TestEmbedErrors(t *testing.T) {
	set := golden.Load(t)
	bad := filepath.Join(t.TempDir(), "bad.png")
	if err := os.WriteFile(bad, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"no input":      {"embed", "--model", set.Dir},
		"both modes":    {"embed", "--model", set.Dir, "--image", bad, "--text", "x"},
		"no model":      {"embed", "--text", "x"},
		"corrupt image": {"embed", "--model", set.Dir, "--image", bad},
		"missing image": {"embed", "--model", set.Dir, "--image", bad + ".nope"},
		"missing model": {"embed", "--model", filepath.Join(t.TempDir(), "nope"), "--text", "x"},
	}
	for name, args := range cases {
		if out, err := runCLI(t, args...); err == nil {
			t.Errorf("%s: want an error, got none\n%s", name, out)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}
