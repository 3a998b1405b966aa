package dapo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"dapo/shared/safetensors"
)

func TestTextCache(t *testing.T) {
	set, cfg, bb, params := goldenModel(t)
	tc := TextCache{Dir: t.TempDir()}
	ctx := context.Background()
	first, err := tc.Features(ctx, cfg, bb.Weights, bb.ID, params)
	if err != nil {
		t.Fatal(err)
	}
	set.CompareFloat32(t, "dapo_forward", "text.features", first)
	files, _ := filepath.Glob(filepath.Join(tc.Dir, "text-*.safetensors"))
	if len(files) != 1 {
		t.Fatalf("want one cache file, got %v", files)
	}
	// A valid cached file is read as is: replace it with marked values.
	marked := slices.Clone(first)
	marked[0] = 42
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, []safetensors.Tensor{safetensors.FromFloat32("text.features", []int{1 + len(cfg.Defects), bb.Config.EmbedDim}, marked, safetensors.F32)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files[0], buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := tc.Features(ctx, cfg, bb.Weights, bb.ID, params); err != nil || got[0] != 42 {
		t.Fatalf("cached file not used (err %v)", err)
	}
	// A corrupt cached file is recomputed.
	if err := os.WriteFile(files[0], []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := tc.Features(ctx, cfg, bb.Weights, bb.ID, params)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(first, again) {
		t.Error("recomputation after a corrupt cache file gave different features")
	}
	// Other defect words are another key.
	other := cfg
	other.Defects = []string{"crack", "rust"}
	v, err := tc.Features(ctx, other, bb.Weights, bb.ID, params)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 3*bb.Config.EmbedDim {
		t.Errorf("got %d values for 3 classes", len(v))
	}
	files, _ = filepath.Glob(filepath.Join(tc.Dir, "text-*.safetensors"))
	if len(files) != 2 {
		t.Errorf("want two cache files after a vocabulary change, got %d", len(files))
	}
}
