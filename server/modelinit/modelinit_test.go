package modelinit

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"dapo/server/clip"
	"dapo/server/weights"
	"dapo/shared/golden"
	"dapo/shared/safetensors"
)

func tiny(t *testing.T) clip.Config {
	t.Helper()
	cfg, err := Config("tiny")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// tiny is defined as the dev golden set's shape; other golden sets
// (DAPO_GOLDEN) have other shapes and are not compared.
func TestTinyIsTheGoldenShape(t *testing.T) {
	set := golden.Load(t)
	if f := set.File(t, "backbone"); f.Metadata["set"] != "dev" {
		t.Skipf("golden set %q is not the dev set", f.Metadata["set"])
	}
	b, err := os.ReadFile(set.Path("model_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := clip.ParseConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := tiny(t); !reflect.DeepEqual(got, want) {
		t.Errorf("tiny = %+v\ngolden %+v", got, want)
	}
}

func TestBuiltinConfigs(t *testing.T) {
	// Sizes from open_clip's model configs; heads and MLP follow from its
	// defaults (head_width 64, mlp_ratio 4).
	for _, c := range []struct {
		name                            string
		embed, image, patch, vw, vl, tw int
		quick                           bool
	}{
		{"ViT-B-16", 512, 224, 16, 768, 12, 512, false},
		{"ViT-B-32-quickgelu", 512, 224, 32, 768, 12, 512, true},
		{"ViT-L-14", 768, 224, 14, 1024, 24, 768, false},
		{"vit-l-14-336-QuickGELU", 768, 336, 14, 1024, 24, 768, true},
	} {
		cfg, err := Config(c.name)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		v := cfg.Vision
		if cfg.EmbedDim != c.embed || v.ImageSize != c.image || v.PatchSize != c.patch || v.Width != c.vw || v.Layers != c.vl ||
			cfg.Text.Width != c.tw || cfg.QuickGELU != c.quick || cfg.VisionHeads() != c.vw/64 || cfg.VisionMLP() != 4*c.vw {
			t.Errorf("%s: %+v", c.name, cfg)
		}
	}
	for _, n := range Names() {
		if _, err := Config(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if _, err := Config("ViT-H-14"); err == nil || !strings.Contains(err.Error(), "ViT-B-16") {
		t.Errorf("unknown name: %v", err)
	}
}

func TestConfigFromFile(t *testing.T) {
	want := tiny(t)
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.json")
	hub := filepath.Join(dir, "open_clip_config.json")
	hubDoc, _ := json.Marshal(map[string]any{"model_cfg": json.RawMessage(want.JSON()), "preprocess_cfg": map[string]any{}})
	for path, b := range map[string][]byte{plain: want.JSON(), hub: hubDoc} {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := Config(path)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, %v", path, got, err)
		}
	}
}

func writeTiny(t *testing.T, seed uint64, dtype safetensors.DType) (string, *Random) {
	t.Helper()
	r, err := Init(tiny(t), seed)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	meta := map[string]string{"seed": "x", "producer": "test"}
	if err := Write(context.Background(), dir, r.Config, r.Tensor, meta, dtype); err != nil {
		t.Fatal(err)
	}
	return dir, r
}

func TestWriteDeterministic(t *testing.T) {
	a, _ := writeTiny(t, 7, safetensors.F32)
	b, _ := writeTiny(t, 7, safetensors.F32)
	c, _ := writeTiny(t, 8, safetensors.F32)
	read := func(dir string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, WeightsFile))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(read(a), read(b)) {
		t.Error("the same seed wrote different files")
	}
	if bytes.Equal(read(a), read(c)) {
		t.Error("different seeds wrote the same file")
	}
	// The temporary files are gone.
	entries, _ := os.ReadDir(a)
	if len(entries) != 2 {
		t.Errorf("folder holds %d entries, want 2", len(entries))
	}
}

// The written folder loads with weights.Open, every tensor equals what the
// generator makes, and the file is a plain safetensors file with the
// metadata the project layout promises.
func TestWriteLoads(t *testing.T) {
	dir, r := writeTiny(t, 3, safetensors.F32)
	b, err := weights.Open(dir, weights.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Layout != weights.LayoutProject || !reflect.DeepEqual(b.Config, r.Config) {
		t.Errorf("layout %s config %+v", b.Layout, b.Config)
	}
	raw, err := os.ReadFile(filepath.Join(dir, WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range clip.ParamSpecs(r.Config) {
		got, shape, err := f.Float32(s.Name)
		if err != nil {
			t.Fatal(err)
		}
		want, err := r.Tensor(s.Name, s.Shape)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(shape, s.Shape) || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s differs from the generator", s.Name)
		}
	}
	if f.Metadata["format"] != "pt" || f.Metadata["seed"] != "x" || f.Metadata["producer"] != "test" {
		t.Errorf("metadata %v", f.Metadata)
	}
	if cfg, err := clip.ParseConfig([]byte(f.Metadata["model_config"])); err != nil || !reflect.DeepEqual(cfg, r.Config) {
		t.Errorf("metadata model_config %q: %v", f.Metadata["model_config"], err)
	}
}

func TestWriteHalfPrecision(t *testing.T) {
	for _, c := range []struct {
		dt    safetensors.DType
		round func(float32) float32
	}{
		{safetensors.F16, func(x float32) float32 { return safetensors.Float16ToFloat32(safetensors.Float32ToFloat16(x)) }},
		{safetensors.BF16, func(x float32) float32 { return math.Float32frombits(uint32(safetensors.Float32ToBFloat16(x)) << 16) }},
	} {
		dir, r := writeTiny(t, 5, c.dt)
		b, err := weights.Open(dir, weights.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want, err := r.Tensor("visual.proj", []int{r.Config.Vision.Width, r.Config.EmbedDim})
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range want {
			if got := b.Weights.Vision.Proj[i]; got != c.round(x) {
				t.Fatalf("%s: visual.proj[%d] = %g, want %g", c.dt, i, got, c.round(x))
			}
		}
		b.Close()
	}
}

func TestTensorIndependentOfOrder(t *testing.T) {
	cfg := tiny(t)
	specs := clip.ParamSpecs(cfg)
	a, _ := Init(cfg, 11)
	b, _ := Init(cfg, 11)
	last := specs[len(specs)-1]
	for _, s := range specs { // a makes everything first
		if _, err := a.Tensor(s.Name, s.Shape); err != nil {
			t.Fatal(err)
		}
	}
	x, _ := a.Tensor(last.Name, last.Shape)
	y, _ := b.Tensor(last.Name, last.Shape)
	if !reflect.DeepEqual(x, y) {
		t.Error("a tensor depends on the tensors made before it")
	}
	if _, err := a.Tensor(last.Name, []int{1}); err == nil {
		t.Error("a wrong shape was served")
	}
}

// The spreads follow open_clip's initialisation; checked on sample
// statistics, which for these sizes are within a few percent.
func TestInitScales(t *testing.T) {
	cfg, err := Config("ViT-B-32")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := Init(cfg, 1)
	vw, tw := float64(cfg.Vision.Width), float64(cfg.Text.Width)
	for _, c := range []struct {
		name      string
		mean, std float64
	}{
		{"token_embedding.weight", 0, 0.02},
		{"positional_embedding", 0, 0.01},
		{"visual.positional_embedding", 0, 1 / math.Sqrt(vw)},
		{"visual.transformer.resblocks.3.attn.in_proj_weight", 0, 1 / math.Sqrt(vw)},
		{"transformer.resblocks.0.attn.out_proj.weight", 0, 1 / math.Sqrt(tw) / math.Sqrt(2*float64(cfg.Text.Layers))},
		{"transformer.resblocks.5.mlp.c_fc.weight", 0, 1 / math.Sqrt(2*tw)},
		{"visual.ln_post.weight", 1, 0.1},
		{"ln_final.bias", 0, 0.05},
	} {
		shape := specShape(cfg, c.name)
		v, err := r.Tensor(c.name, shape)
		if err != nil {
			t.Fatal(err)
		}
		mean, std := moments(v)
		if math.Abs(mean-c.mean) > 0.2*c.std || math.Abs(std/c.std-1) > 0.15 {
			t.Errorf("%s: mean %.4g std %.4g, want %.4g and %.4g", c.name, mean, std, c.mean, c.std)
		}
	}
	ls, _ := r.Tensor("logit_scale", []int{})
	if math.Abs(float64(ls[0])-math.Log(1/0.07)) > 1e-6 {
		t.Errorf("logit_scale %g", ls[0])
	}
}

func specShape(cfg clip.Config, name string) []int {
	for _, s := range clip.ParamSpecs(cfg) {
		if s.Name == name {
			return s.Shape
		}
	}
	return nil
}

func moments(v []float32) (mean, std float64) {
	for _, x := range v {
		mean += float64(x)
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (float64(x) - mean) * (float64(x) - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)))
}

func TestWriteRefusesBadDType(t *testing.T) {
	r, _ := Init(tiny(t), 1)
	err := Write(context.Background(), t.TempDir(), r.Config, r.Tensor, nil, safetensors.I64)
	if err == nil {
		t.Fatal("wrote I64 weights")
	}
}
