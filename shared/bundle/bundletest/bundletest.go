// Package bundletest builds feature bundles for tests: one
// from the golden DAPO forward and random ones of production shape.
package bundletest

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"dapo/shared/bundle"
	"dapo/shared/golden"
	"dapo/shared/safetensors"
	"dapo/shared/scoring"
)

const fwd = "dapo_forward"

// Golden is image img of the golden DAPO forward as an encoded bundle, with
// the golden anomaly map for it and the set (for its tolerances).
type Golden struct {
	Set        *golden.Set
	Bundle     []byte
	AnomalyMap []float32 // [S*S]
	Size       int
	Layers     int
	Classes    []string
}

// LoadGolden builds the bundle; it skips the test where golden.Load does.
func LoadGolden(t testing.TB, img int) *Golden {
	t.Helper()
	set := golden.Load(t)
	var doc struct {
		Config struct {
			FeatureLayers []int    `json:"feature_layers"`
			Temperature   float64  `json:"temperature"`
			ClassOrder    []string `json:"class_order"`
		} `json:"dapo_config"`
	}
	set.JSON(t, "golden.json", &doc)
	cfg := doc.Config
	text, tshape := set.Float32(t, fwd, "text.features")
	c, e := tshape[0], tshape[1]
	global, _ := set.Float32(t, fwd, "image.global")
	want, mshape := set.Float32(t, fwd, "anomaly_map")
	size := mshape[1]
	if len(cfg.ClassOrder) != c {
		t.Fatalf("golden: class_order has %d names, text.features %d rows", len(cfg.ClassOrder), c)
	}
	b := &bundle.Bundle{Meta: bundle.Meta{
		Backbone:   bundle.Model{ID: "golden-backbone"},
		Checkpoint: bundle.Model{ID: "golden-dapo"},
		ImageSize:  size, FeatureLayers: cfg.FeatureLayers, Classes: cfg.ClassOrder,
		Temperature: float32(cfg.Temperature),
		Image:       bundle.Image{Name: fmt.Sprintf("image_%d.png", img), Width: size, Height: size},
	}, Global: global[img*e : (img+1)*e]}
	for k := 0; k < c; k++ {
		b.Text = append(b.Text, text[k*e:(k+1)*e])
	}
	for _, l := range cfg.FeatureLayers {
		v, sh := set.Float32(t, fwd, fmt.Sprintf("layer%d.adapted", l))
		gg := sh[1]
		b.Meta.Grid = int(math.Round(math.Sqrt(float64(gg))))
		if b.Meta.Grid*b.Meta.Grid != gg || sh[2] != e {
			t.Fatalf("golden: layer%d.adapted shape %v", l, sh)
		}
		b.Layers = append(b.Layers, v[img*gg*e:(img+1)*gg*e])
	}
	data, err := bundle.Encode(b, safetensors.F32)
	if err != nil {
		t.Fatal(err)
	}
	return &Golden{
		Set: set, Bundle: data, Size: size, Layers: len(cfg.FeatureLayers), Classes: cfg.ClassOrder,
		AnomalyMap: want[img*size*size : (img+1)*size*size],
	}
}

// Shape is a bundle's geometry.
type Shape struct {
	Grid, Size, E, Classes, Layers int
	Width, Height                  int // original image
}

// ViTL518 is the production shape: ViT-L/14 at 518 px, 4 feature layers,
// 768-d adapted features, normal + 20 defect classes.
var ViTL518 = Shape{Grid: 37, Size: 518, E: 768, Classes: 21, Layers: 4, Width: 1024, Height: 768}

// RandomBundle encodes a bundle of shape sh with random unit vectors.
func RandomBundle(seed int64, sh Shape) ([]byte, error) {
	r := rand.New(rand.NewSource(seed))
	unit := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		u, _ := scoring.Normalize(v)
		return u
	}
	b := &bundle.Bundle{Meta: bundle.Meta{
		Backbone:   bundle.Model{ID: "random"},
		Checkpoint: bundle.Model{ID: "random"},
		ImageSize:  sh.Size, Grid: sh.Grid, Temperature: 0.07,
		Image: bundle.Image{Name: "random.png", Width: sh.Width, Height: sh.Height},
	}, Global: unit(sh.E)}
	for l := 0; l < sh.Layers; l++ {
		b.Meta.FeatureLayers = append(b.Meta.FeatureLayers, 6*(l+1))
		var f []float32
		for p := 0; p < sh.Grid*sh.Grid; p++ {
			f = append(f, unit(sh.E)...)
		}
		b.Layers = append(b.Layers, f)
	}
	for k := 0; k < sh.Classes; k++ {
		name := "normal"
		if k > 0 {
			name = fmt.Sprintf("defect%d", k)
		}
		b.Meta.Classes = append(b.Meta.Classes, name)
		b.Text = append(b.Text, unit(sh.E))
	}
	return bundle.Encode(b, safetensors.F32)
}
