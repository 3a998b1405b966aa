package clip

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"

	"dapo/kernels/cpu"
	"dapo/shared/golden"
	"dapo/shared/safetensors"
)

// loadGoldenWeights binds the golden backbone straight from its safetensors
// file (the weights package's layouts are tested there).
func loadGoldenWeights(t *testing.T, set *golden.Set) *Weights {
	t.Helper()
	cfgBytes, err := os.ReadFile(set.Path("model_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(cfgBytes)
	if err != nil {
		t.Fatal(err)
	}
	buf, err := os.ReadFile(set.Path("backbone.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(buf)
	if err != nil {
		t.Fatal(err)
	}
	w, err := Bind(cfg, func(name string, shape []int) ([]float32, error) {
		info, ok := f.Info(name)
		if !ok {
			return nil, fmt.Errorf("missing %s", name)
		}
		if !slices.Equal(info.Shape, shape) {
			return nil, fmt.Errorf("%s: shape %v, want %v", name, info.Shape, shape)
		}
		v, _, err := f.Float32(name)
		return v, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestGoldenPlainEncoders runs both towers without prompts on the golden
// preprocessed images and token ids and compares with the reference's
// encode_image / encode_text outputs.
func TestGoldenPlainEncoders(t *testing.T) {
	set := golden.Load(t)
	w := loadGoldenWeights(t, set)
	ctx := context.Background()
	e := w.Config.EmbedDim

	// Images: every preprocess image_<i>.tensor, in index order, as one batch.
	var pixels []float32
	batch := 0
	for ; set.HasTensor(t, "preprocess", fmt.Sprintf("image_%d.tensor", batch)); batch++ {
		v, _ := set.Float32(t, "preprocess", fmt.Sprintf("image_%d.tensor", batch))
		pixels = append(pixels, v...)
	}
	if _, shape := set.Float32(t, "clip_encoders", "image.features"); shape[0] != batch {
		t.Fatalf("golden has %d image features, %d preprocessed images", shape[0], batch)
	}
	img, err := NewVision(w).EncodeImage(ctx, pixels, batch)
	if err != nil {
		t.Fatal(err)
	}
	set.CompareFloat32(t, "clip_encoders", "image.features", img)
	cpu.L2Normalize(img, batch, e)
	set.CompareFloat32(t, "clip_encoders", "image.features_normed", img)

	ids64, idShape := set.Int64(t, "clip_encoders", "text.ids")
	ids := make([][]int, idShape[0])
	for n := range ids {
		ids[n] = make([]int, idShape[1])
		for i := range ids[n] {
			ids[n][i] = int(ids64[n*idShape[1]+i])
		}
	}
	txt, err := NewText(w).EncodeText(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	set.CompareFloat32(t, "clip_encoders", "text.features", txt)
	cpu.L2Normalize(txt, len(ids), e)
	set.CompareFloat32(t, "clip_encoders", "text.features_normed", txt)
}
