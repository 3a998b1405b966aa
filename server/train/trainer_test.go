package train

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dapo/server/compute"
	"dapo/server/compute/computetest"
	"dapo/server/dapo"
	"dapo/server/modelinit"
	"dapo/server/synth"
	"dapo/shared/safetensors"
)

// fixture writes a small synthetic dataset and a tiny random backbone.
func fixture(t *testing.T) (data, model string) {
	t.Helper()
	dir := t.TempDir()
	data, model = filepath.Join(dir, "data"), filepath.Join(dir, "bb")
	if _, err := synth.Generate(context.Background(), data, synth.Options{Family: "A", N: 3, Size: 48, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	cfg, err := modelinit.Config("tiny")
	if err != nil {
		t.Fatal(err)
	}
	r, err := modelinit.Init(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := modelinit.Write(context.Background(), model, cfg, r.Tensor, nil, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	return data, model
}

func options(data, model, out string) Options {
	c := dapo.Default(nil)
	c.FeatureLayers, c.Depth, c.TextDepth = []int{2, 4}, 4, 4
	c.PromptCount, c.NormalTokenCnt, c.AbnormalTokenCnt = 2, 3, 3
	c.ImageSize = 42
	return Options{Format: "mvtec", Root: data, Split: "test", ModelDir: model, Out: out, Epochs: 2, Batch: 4,
		LR: 1e-3, Seed: 9, Config: c, LocalWeight: 4, ImageWeight: 1, MaskMode: MaskReference}
}

// tensorsOf reads every tensor of a checkpoint (parameters and optimizer
// state) as raw bytes.
func tensorsOf(t *testing.T, path string) map[string][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, n := range f.Names() {
		raw, _, _ := f.Raw(n)
		out[n] = bytes.Clone(raw)
	}
	return out
}

// TestResumeIsExact: a run stopped after k steps (by --max-steps, and by a
// cancelled context as on Ctrl-C) and resumed to the end is
// tensor-for-tensor identical to an uninterrupted run.
func TestResumeIsExact(t *testing.T) {
	data, model := fixture(t)
	ctx := context.Background()
	straight := options(data, model, filepath.Join(t.TempDir(), "straight"))
	if _, err := Run(ctx, straight); err != nil {
		t.Fatal(err)
	}
	want := tensorsOf(t, filepath.Join(straight.Out, LastCheckpoint))
	if len(want) < 4 || !slices.ContainsFunc(mapsKeys(want), func(k string) bool { return strings.HasPrefix(k, "optim.m.") }) {
		t.Fatalf("checkpoint lacks optimizer state: %v", mapsKeys(want))
	}

	// Stopped by --max-steps after 1 step, resumed.
	a := options(data, model, filepath.Join(t.TempDir(), "a"))
	a.MaxSteps = 1
	if _, err := Run(ctx, a); err != nil {
		t.Fatal(err)
	}
	a.MaxSteps, a.Resume = 0, true
	if _, err := Run(ctx, a); err != nil {
		t.Fatal(err)
	}
	compare(t, "max-steps resume", want, tensorsOf(t, filepath.Join(a.Out, LastCheckpoint)))
	compare(t, "epoch file", tensorsOf(t, filepath.Join(straight.Out, "epoch_1.safetensors")), tensorsOf(t, filepath.Join(a.Out, "epoch_1.safetensors")))

	// Cancelled mid-run (as SIGINT does), resumed.
	b := options(data, model, filepath.Join(t.TempDir(), "b"))
	cctx, cancel := context.WithCancel(ctx)
	b.Progress = func(p Progress) {
		if p.Step == 2 {
			cancel()
		}
	}
	_, err := Run(cctx, b)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run returned %v", err)
	}
	b.Progress, b.Resume = nil, true
	if _, err := Run(ctx, b); err != nil {
		t.Fatal(err)
	}
	compare(t, "cancel resume", want, tensorsOf(t, filepath.Join(b.Out, LastCheckpoint)))

	// Settings that change the model or the data are refused on resume.
	c := options(data, model, a.Out)
	c.Resume, c.Batch = true, 2
	if _, err := Run(ctx, c); err == nil || !strings.Contains(err.Error(), "Batch") {
		t.Errorf("resume with another batch size: %v", err)
	}
	// A fresh run into a used folder is refused.
	d := options(data, model, a.Out)
	if _, err := Run(ctx, d); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("fresh run into a used folder: %v", err)
	}
	for _, f := range []string{"train_log.jsonl", "loss.png", "epoch_0.safetensors"} {
		if _, err := os.Stat(filepath.Join(straight.Out, f)); err != nil {
			t.Errorf("missing output %s: %v", f, err)
		}
	}
}

func compare(t *testing.T, what string, want, got map[string][]byte) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%s: %d tensors, want %d", what, len(got), len(want))
	}
	for name, w := range want {
		if !bytes.Equal(w, got[name]) {
			t.Errorf("%s: tensor %s differs", what, name)
		}
	}
}

func mapsKeys(m map[string][]byte) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}

// TestDeviceTraining: `dapo train --device` runs Run with a Backend
// (DeviceStep); on the CPU with a GPU's memory rules (computetest.Strict)
// its run makes no memory mistake, is resume-exact like Step's, and its
// final parameters agree with a Step run's (max |Δ| ≤ 1e-4·max|want| per
// tensor; optimizer moments as well).
func TestDeviceTraining(t *testing.T) {
	data, model := fixture(t)
	ctx := context.Background()
	ref := options(data, model, filepath.Join(t.TempDir(), "cpu"))
	if _, err := Run(ctx, ref); err != nil {
		t.Fatal(err)
	}
	straight := options(data, model, filepath.Join(t.TempDir(), "device"))
	strict := &computetest.Strict{}
	straight.Backend = strict
	if _, err := Run(ctx, straight); err != nil {
		t.Fatal(err)
	}
	if err := strict.Err(); err != nil {
		t.Fatal(err)
	}
	want := tensorsOf(t, filepath.Join(straight.Out, LastCheckpoint))
	for name, raw := range tensorsOf(t, filepath.Join(ref.Out, LastCheckpoint)) {
		got, ok := want[name]
		if !ok {
			t.Errorf("device checkpoint lacks %s", name)
			continue
		}
		relCompare(t, name, floats(got), floats(raw), 1e-4)
	}

	a := options(data, model, filepath.Join(t.TempDir(), "a"))
	a.Backend, a.MaxSteps = &compute.CPU{}, 1
	if _, err := Run(ctx, a); err != nil {
		t.Fatal(err)
	}
	a.MaxSteps, a.Resume = 0, true
	if _, err := Run(ctx, a); err != nil {
		t.Fatal(err)
	}
	compare(t, "device max-steps resume", want, tensorsOf(t, filepath.Join(a.Out, LastCheckpoint)))
	if _, err := os.Stat(filepath.Join(straight.Out, "train_log.jsonl")); err != nil {
		t.Error(err)
	}
}

func floats(raw []byte) []float32 {
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}
