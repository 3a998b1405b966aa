package dapo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"dapo/server/clip"
	"dapo/server/weights"
	"dapo/shared/golden"
	"dapo/shared/safetensors"
	"dapo/shared/tokenizer"
)

// goldenModel loads the golden backbone, DAPO config and initial params.
func goldenModel(t *testing.T) (*golden.Set, Config, *weights.Backbone, *Params) {
	t.Helper()
	set := golden.Load(t)
	var doc struct {
		DAPOConfig json.RawMessage `json:"dapo_config"`
	}
	set.JSON(t, "golden.json", &doc)
	cfg, err := ParseConfig(doc.DAPOConfig)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := weights.Open(set.Dir, weights.Options{ImageSize: cfg.ImageSize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bb.Close() })
	if err := cfg.Validate(bb.Config.Vision.Layers, bb.Config.Text.Layers); err != nil {
		t.Fatal(err)
	}
	f := set.File(t, "dapo_params_init")
	params, err := BindParams(cfg, bb.Config, fileSource(f))
	if err != nil {
		t.Fatal(err)
	}
	return set, cfg, bb, params
}

func fileSource(f *safetensors.File) clip.TensorSource {
	return func(name string, shape []int) ([]float32, error) {
		info, ok := f.Info(name)
		if !ok {
			return nil, fmt.Errorf("missing %s", name)
		}
		if !slices.Equal(info.Shape, shape) {
			return nil, fmt.Errorf("%s: shape %v, want %v", name, info.Shape, shape)
		}
		v, _, err := f.Float32(name)
		return v, err
	}
}

func TestGoldenTextSide(t *testing.T) {
	set, cfg, bb, params := goldenModel(t)
	tok, err := tokenizer.New()
	if err != nil {
		t.Fatal(err)
	}
	ids, err := cfg.TemplateIDs(tok, bb.Config.Text.ContextLength)
	if err != nil {
		t.Fatal(err)
	}
	var flat []int64
	for _, r := range ids {
		for _, v := range r {
			flat = append(flat, int64(v))
		}
	}
	set.CompareInt64(t, "dapo_forward", "text.template_ids", flat)

	text := clip.NewText(bb.Weights)
	emb, err := PromptEmbeddings(cfg, text, params, ids)
	if err != nil {
		t.Fatal(err)
	}
	set.CompareFloat32(t, "dapo_forward", "text.prompt_embeddings", emb.Data)

	traced := map[string]bool{}
	trace := func(name string, k int, x clip.Seq) {
		key := fmt.Sprintf("%s.%d", name, k+1)
		if name == "text.ln_final_out" {
			key = name
		}
		if set.HasTensor(t, "dapo_forward", key) {
			set.CompareFloat32(t, "dapo_forward", key, x.Data)
			traced[key] = true
		}
	}
	tf, err := EncodeText(context.Background(), cfg, text, params, ids, trace)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range set.File(t, "dapo_forward").Names() {
		if len(name) > 11 && name[:11] == "text.block_" && !traced[name] {
			t.Errorf("golden %s was never produced", name)
		}
	}
	readout := make([]int64, len(tf.Readout))
	for i, r := range tf.Readout {
		readout[i] = int64(r)
	}
	set.CompareInt64(t, "dapo_forward", "text.readout_index", readout)
	set.CompareFloat32(t, "dapo_forward", "text.features_groups", tf.Groups)
	set.CompareFloat32(t, "dapo_forward", "text.features_raw", tf.Raw)
	set.CompareFloat32(t, "dapo_forward", "text.features", tf.Features)
}

func TestGoldenImageSide(t *testing.T) {
	set, cfg, bb, params := goldenModel(t)
	var pixels []float32
	batch := 0
	for ; set.HasTensor(t, "preprocess", fmt.Sprintf("image_%d.tensor", batch)); batch++ {
		v, _ := set.Float32(t, "preprocess", fmt.Sprintf("image_%d.tensor", batch))
		pixels = append(pixels, v...)
	}
	traced := map[string]bool{}
	trace := func(name string, k int, x clip.Seq) {
		key := fmt.Sprintf("%s.%d", name, k+1)
		if name == "layer.tokens" {
			key = fmt.Sprintf("layer%d.tokens", k+1)
		}
		if set.HasTensor(t, "dapo_forward", key) {
			set.CompareFloat32(t, "dapo_forward", key, x.Data)
			traced[key] = true
		}
	}
	out, err := EncodeImage(context.Background(), cfg, clip.NewVision(bb.Weights), params, pixels, batch, trace)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range set.File(t, "dapo_forward").Names() {
		if (len(name) > 13 && name[:13] == "vision.block_") && !traced[name] {
			t.Errorf("golden %s was never produced", name)
		}
	}
	for i, l := range cfg.FeatureLayers {
		if !traced[fmt.Sprintf("layer%d.tokens", l)] {
			t.Errorf("layer%d.tokens never produced", l)
		}
		set.CompareFloat32(t, "dapo_forward", fmt.Sprintf("layer%d.adapted", l), out.Adapted[i])
	}
	set.CompareFloat32(t, "dapo_forward", "image.global_raw", out.GlobalRaw)
	set.CompareFloat32(t, "dapo_forward", "image.global", out.Global)
}
