package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dapo/server/dataset"
	"dapo/server/synth"
)

// runSynth executes the synth command on its own, so the test does not
// depend on how the root command wires it in.
func runSynth(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newSynthCmd()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	err = cmd.Execute()
	return out.String(), errb.String(), err
}

func TestSynthWritesLoadableDataset(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "synth-b")
	out, errOut, err := runSynth(t, "--out", dir, "--family", "b", "--n", "3", "--size", "48", "--seed", "5", "--workers", "2")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	m, err := synth.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Family != "B" || m.N != 3 || m.Size != 48 || m.Seed != 5 {
		t.Errorf("manifest %+v", m)
	}
	if !strings.Contains(out, "wrote 12 images") || !strings.Contains(out, "pcb") {
		t.Errorf("output %q, want a line with 12 images and the products", out)
	}
	d, err := dataset.Load("mvtec", dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Items) != m.Images {
		t.Errorf("loader found %d images, manifest %d", len(d.Items), m.Images)
	}
	// The same flags into another folder give the same bytes.
	dir2 := filepath.Join(t.TempDir(), "again")
	if _, _, err := runSynth(t, "--out", dir2, "--family", "B", "--n", "3", "--size", "48", "--seed", "5", "--workers", "1"); err != nil {
		t.Fatal(err)
	}
	for _, it := range d.Items {
		rel, _ := filepath.Rel(dir, it.ImagePath)
		a, _ := os.ReadFile(it.ImagePath)
		b, err := os.ReadFile(filepath.Join(dir2, rel))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between runs (%v)", rel, err)
		}
	}
}

func TestSynthErrors(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--out", filepath.Join(full, "a"), "--family", "C"}, "unknown family"},
		{[]string{"--out", filepath.Join(full, "a"), "--family", "A", "--n", "0"}, "at least one"},
		{[]string{"--out", filepath.Join(full, "a"), "--family", "A", "--size", "16"}, "outside"},
		{[]string{"--out", filepath.Join(full, "a"), "--family", "A", "--size", "0"}, "outside"},
		{[]string{"--out", filepath.Join(full, "a"), "--family", "A", "--size", "4096"}, "outside"},
		{[]string{"--out", full, "--family", "A", "--n", "1"}, "not empty"},
		{[]string{"--family", "A"}, `"out" not set`},
	} {
		_, _, err := runSynth(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
	// --force accepts the non-empty folder.
	if _, _, err := runSynth(t, "--out", full, "--family", "a", "--n", "1", "--size", "32", "--force"); err != nil {
		t.Errorf("--force: %v", err)
	}
}

func TestSynthHelp(t *testing.T) {
	out, _, err := runSynth(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"metal_plate", "stone_tile", "crack", "(family B)", "ground_truth/<defect>/NNN_mask.png", "--seed", "dapo synth --out"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
