package dapo

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestImportReferenceBothForms: the reference's .pth and the safetensors
// with reference names give exactly the golden initial parameters.
func TestImportReferenceBothForms(t *testing.T) {
	set, cfg, bb, want := goldenModel(t)
	for _, file := range []string{"reference_checkpoint.pth", "dapo_params_init.safetensors"} {
		got, err := ImportReference(set.Path(file), cfg, bb.Config)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		wt, gt := want.Tensors(cfg, bb.Config), got.Tensors(cfg, bb.Config)
		for i := range wt {
			if !slices.Equal(wt[i].Data, gt[i].Data) {
				t.Errorf("%s: %s differs from dapo_params_init", file, wt[i].Name)
			}
		}
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	_, cfg, bb, params := goldenModel(t)
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	ck := &Checkpoint{Meta: Meta{Config: cfg, Backbone: BackboneInfo{ID: bb.ID, Config: bb.Config}, Source: "test"}, Params: params}
	if err := ck.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Meta.Config.Defects, cfg.Defects) || back.Meta.Backbone.ID != bb.ID {
		t.Errorf("metadata did not survive: %+v", back.Meta)
	}
	a, b := params.Tensors(cfg, bb.Config), back.Params.Tensors(cfg, bb.Config)
	for i := range a {
		if !slices.Equal(a[i].Data, b[i].Data) {
			t.Errorf("%s changed on the round trip", a[i].Name)
		}
	}
}

func TestCheckpointErrors(t *testing.T) {
	set, cfg, bb, _ := goldenModel(t)
	dir := t.TempDir()
	// A truncated checkpoint, a reference file given where a project
	// checkpoint is expected, and a config whose shapes do not fit.
	full := filepath.Join(dir, "ck.safetensors")
	_, _, _, params := goldenModel(t)
	ck := &Checkpoint{Meta: Meta{Config: cfg, Backbone: BackboneInfo{Config: bb.Config}}, Params: params}
	if err := ck.Save(full); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(full)
	trunc := filepath.Join(dir, "trunc.safetensors")
	os.WriteFile(trunc, data[:len(data)/2], 0o644)
	for path, want := range map[string]string{
		trunc:                                    "truncated",
		set.Path("dapo_params_init.safetensors"): "dapo checkpoint import",
	} {
		_, err := LoadCheckpoint(path)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one mentioning %q", filepath.Base(path), err, want)
		}
	}
	bad := cfg
	bad.PromptCount++
	if _, err := ImportReference(set.Path("reference_checkpoint.pth"), bad, bb.Config); err == nil || !strings.Contains(err.Error(), "learnable_normal_tokens") {
		t.Errorf("mis-shaped import: error %v, want one naming the tensor", err)
	}
}
