package inference

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"dapo/server/compute"
	"dapo/server/dapo/dapotest"
	"dapo/shared/golden"
	"dapo/shared/imaging"
	"dapo/shared/safetensors"
)

// TestHalfBackboneLazyOnCPU: on the CPU a Detector keeps an F16 backbone's
// block matrices memory-mapped (widened per block), while one on a compute
// backend binds them dense for the upload. Both encode the golden image
// to the same features within float32 rounding of different kernels.
func TestHalfBackboneLazyOnCPU(t *testing.T) {
	set := golden.Load(t)
	if _, err := os.Stat(set.Path("image_0.png")); err != nil {
		t.Skip("the golden set has no image_0.png")
	}
	dir := t.TempDir()
	cfg, err := os.ReadFile(set.Path("model_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(set.Path("backbone.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	var tensors []safetensors.Tensor
	for _, n := range f.Names() {
		v, shape, err := f.Float32(n)
		if err != nil {
			t.Fatal(err)
		}
		tensors = append(tensors, safetensors.FromFloat32(n, shape, v, safetensors.F16))
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, tensors, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"model_config.json": cfg, "backbone.safetensors": buf.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	ck := dapotest.MustCheckpoint(t, set)
	encode := func(opts Options, wantEncoded bool) []float32 {
		opts.Limits = imaging.Limits{MaxPixels: 1 << 22}
		det, err := New(context.Background(), dir, ck, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer det.Close()
		if got := det.Backbone.Weights.Encoded(); got != wantEncoded {
			t.Fatalf("backend %v: block weights encoded %v, want %v", opts.Backend != nil, got, wantEncoded)
		}
		im, err := det.LoadImage(set.Path("image_0.png"))
		if err != nil {
			t.Fatal(err)
		}
		feats, err := det.EncodeImages(context.Background(), []*Image{im})
		if err != nil {
			t.Fatal(err)
		}
		return feats[0].Global
	}
	cpu := encode(Options{}, true)
	dev := encode(Options{Backend: &compute.CPU{}}, false)
	for i := range cpu {
		if d := cpu[i] - dev[i]; d > 1e-4 || d < -1e-4 {
			t.Fatalf("global feature %d: CPU towers %g, backend %g", i, cpu[i], dev[i])
		}
	}
}
