package cli

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"dapo/server/dapo"
	"dapo/shared/golden"
)

// TestCheckpointImportBothInputs: importing the reference .pth and the
// safetensors with reference names gives identical checkpoints.
func TestCheckpointImportBothInputs(t *testing.T) {
	set := golden.Load(t)
	dir := t.TempDir()
	var cks []*dapo.Checkpoint
	for _, in := range []string{"reference_checkpoint.pth", "dapo_params_init.safetensors"} {
		out := filepath.Join(dir, in+".ckpt")
		if msg, err := runCLI(t, "checkpoint", "import", set.Path(in), "--dapo-config", set.Path("golden.json"), "--model", set.Dir, "--out", out); err != nil {
			t.Fatalf("import %s: %v\n%s", in, err, msg)
		}
		ck, err := dapo.LoadCheckpoint(out)
		if err != nil {
			t.Fatal(err)
		}
		cks = append(cks, ck)
	}
	a := cks[0].Params.Tensors(cks[0].Meta.Config, cks[0].Meta.Backbone.Config)
	b := cks[1].Params.Tensors(cks[1].Meta.Config, cks[1].Meta.Backbone.Config)
	if len(a) != len(b) {
		t.Fatalf("%d vs %d tensors", len(a), len(b))
	}
	for i := range a {
		if a[i].Name != b[i].Name || !slices.Equal(a[i].Data, b[i].Data) {
			t.Errorf("tensor %s differs between the two imports", a[i].Name)
		}
	}
	if cks[0].Meta.Backbone.ID == "" || cks[0].Meta.Backbone.ID != cks[1].Meta.Backbone.ID {
		t.Errorf("backbone identity missing or different: %q vs %q", cks[0].Meta.Backbone.ID, cks[1].Meta.Backbone.ID)
	}
}

func TestCheckpointImportErrors(t *testing.T) {
	set := golden.Load(t)
	dir := t.TempDir()
	badCfg := filepath.Join(dir, "bad.json")
	os.WriteFile(badCfg, []byte(`{"depth": 4}`), 0o644)
	out := filepath.Join(dir, "x.ckpt")
	for name, args := range map[string][]string{
		"missing keys":   {"checkpoint", "import", set.Path("reference_checkpoint.pth"), "--dapo-config", badCfg, "--model", set.Dir, "--out", out},
		"no config":      {"checkpoint", "import", set.Path("reference_checkpoint.pth"), "--model", set.Dir, "--out", out},
		"wrong backbone": {"checkpoint", "import", set.Path("reference_checkpoint.pth"), "--dapo-config", set.Path("golden.json"), "--out", out},
		"not params":     {"checkpoint", "import", set.Path("golden.json"), "--dapo-config", set.Path("golden.json"), "--model", set.Dir, "--out", out},
	} {
		if msg, err := runCLI(t, args...); err == nil {
			t.Errorf("%s: want an error\n%s", name, msg)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a failed import left %s behind", out)
	}
}
