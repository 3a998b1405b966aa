package bundle

import (
	"bytes"
	"math"
	"math/rand"
	"testing"

	"dapo/shared/safetensors"
)

// testBundle builds a valid bundle with random features of the given sizes.
func testBundle(e, grid, layers, classes int, seed int64) *Bundle {
	rng := rand.New(rand.NewSource(seed))
	unit := func() []float32 {
		v := make([]float32, e)
		var s float64
		for i := range v {
			v[i] = float32(rng.NormFloat64())
			s += float64(v[i]) * float64(v[i])
		}
		for i := range v {
			v[i] /= float32(math.Sqrt(s))
		}
		return v
	}
	b := &Bundle{Meta: Meta{
		Format: Format, Version: Version,
		Backbone:   Model{ID: "ViT-L-14-336", Name: "CLIP ViT-L/14"},
		Checkpoint: Model{ID: "dapo-mvtec", Name: "DAPO (MVTec)"},
		ImageSize:  grid * 14, Grid: grid,
		Temperature: 0.07,
		Image:       Image{Name: "part.png", Width: 640, Height: 480},
	}, Global: unit(), JPEG: []byte{0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 0xFF, 0xD9}}
	for l := 0; l < layers; l++ {
		b.Meta.FeatureLayers = append(b.Meta.FeatureLayers, 6*(l+1))
		v := make([]float32, grid*grid*e)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 3)
		}
		b.Layers = append(b.Layers, v)
	}
	names := []string{"normal", "scratch", "hole", "bent", "crack", "stain"}
	for c := 0; c < classes; c++ {
		b.Meta.Classes = append(b.Meta.Classes, names[c])
		b.Text = append(b.Text, unit())
	}
	return b
}

func mustEncode(t testing.TB, b *Bundle, dt safetensors.DType) []byte {
	t.Helper()
	data, err := Encode(b, dt)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return data
}

func TestRoundTripF32(t *testing.T) {
	b := testBundle(16, 3, 2, 4, 1)
	got, err := Decode(mustEncode(t, b, safetensors.F32))
	if err != nil {
		t.Fatal(err)
	}
	equalMeta(t, got.Meta, b.Meta)
	exact(t, "global", got.Global, b.Global)
	for i := range b.Layers {
		exact(t, LayerName(i), got.Layers[i], b.Layers[i])
	}
	for c := range b.Text {
		exact(t, "text", got.Text[c], b.Text[c])
	}
	if !bytes.Equal(got.JPEG, b.JPEG) {
		t.Errorf("jpeg %x, want %x", got.JPEG, b.JPEG)
	}
	in := got.ScoringInput()
	if in.Grid != 3 || in.Size != 42 || in.Temperature != 0.07 || len(in.Layers) != 2 || len(in.Text) != 4 {
		t.Errorf("scoring input %+v", in)
	}
}

func TestRoundTripF16(t *testing.T) {
	b := testBundle(16, 4, 3, 3, 2)
	b.JPEG = nil
	b.Layers[0][0] = 1e-6 // subnormal in F16
	b.Layers[0][1] = -60000
	f16 := mustEncode(t, b, safetensors.F16)
	f32 := mustEncode(t, b, safetensors.F32)
	if len(f16) >= len(f32) {
		t.Errorf("F16 bundle %d bytes, F32 %d", len(f16), len(f32))
	}
	got, err := Decode(f16)
	if err != nil {
		t.Fatal(err)
	}
	if got.JPEG != nil {
		t.Errorf("jpeg appeared: %x", got.JPEG)
	}
	exact(t, "global", got.Global, b.Global) // global and text stay F32
	for i, l := range b.Layers {
		for k, x := range l {
			// Independent rounding: the same value through F16 and back.
			want := safetensors.Float16ToFloat32(safetensors.Float32ToFloat16(x))
			y := got.Layers[i][k]
			if y != want {
				t.Fatalf("%s[%d] = %g, want %g (from %g)", LayerName(i), k, y, want, x)
			}
			// Half precision: 11 significant bits, subnormal step 2^-24.
			if d := math.Abs(float64(y - x)); d > math.Max(math.Abs(float64(x))*0x1p-11, 0x1p-25) {
				t.Fatalf("%s[%d] = %g is %g from %g", LayerName(i), k, y, d, x)
			}
		}
	}
}

func exact(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s[%d] = %g, want %g", name, i, got[i], want[i])
		}
	}
}

func equalMeta(t *testing.T, got, want Meta) {
	t.Helper()
	if got.Format != want.Format || got.Version != want.Version || got.Backbone != want.Backbone ||
		got.Checkpoint != want.Checkpoint || got.ImageSize != want.ImageSize || got.Grid != want.Grid ||
		got.Temperature != want.Temperature || got.Image != want.Image ||
		len(got.FeatureLayers) != len(want.FeatureLayers) || len(got.Classes) != len(want.Classes) {
		t.Fatalf("meta %+v, want %+v", got, want)
	}
	for i := range got.FeatureLayers {
		if got.FeatureLayers[i] != want.FeatureLayers[i] {
			t.Fatalf("feature_layers %v, want %v", got.FeatureLayers, want.FeatureLayers)
		}
	}
	for i := range got.Classes {
		if got.Classes[i] != want.Classes[i] {
			t.Fatalf("classes %v, want %v", got.Classes, want.Classes)
		}
	}
}

func TestEncodeFillsFormatAndVersion(t *testing.T) {
	b := testBundle(8, 2, 1, 2, 3)
	b.Meta.Format, b.Meta.Version = "", ""
	got, err := Decode(mustEncode(t, b, safetensors.F32))
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta.Format != Format || got.Meta.Version != Version || b.Meta.Version != "" {
		t.Errorf("format %q version %q (caller's %q)", got.Meta.Format, got.Meta.Version, b.Meta.Version)
	}
}
