package bundle

import (
	"fmt"
	"math"
	"testing"

	"dapo/shared/golden"
	"dapo/shared/safetensors"
	"dapo/shared/scoring"
)

// TestGoldenScores builds a bundle from the golden DAPO forward (image 0),
// round-trips it and checks that scoring it reproduces the golden anomaly
// map. All sizes come from the golden files.
func TestGoldenScores(t *testing.T) {
	const fwd, img = "dapo_forward", 0
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
	b := &Bundle{Meta: Meta{
		Backbone:   Model{ID: "golden-backbone"},
		Checkpoint: Model{ID: "golden-dapo"},
		ImageSize:  size, FeatureLayers: cfg.FeatureLayers, Classes: cfg.ClassOrder,
		Temperature: float32(cfg.Temperature),
		Image:       Image{Name: "image_0.png", Width: size, Height: size},
	}, Global: global[img*e : (img+1)*e]}
	if len(b.Meta.Classes) != c {
		t.Fatalf("class_order has %d names, text.features %d rows", len(b.Meta.Classes), c)
	}
	for k := 0; k < c; k++ {
		b.Text = append(b.Text, text[k*e:(k+1)*e])
	}
	for _, l := range cfg.FeatureLayers {
		v, sh := set.Float32(t, fwd, fmt.Sprintf("layer%d.adapted", l))
		gg := sh[1]
		b.Meta.Grid = int(math.Round(math.Sqrt(float64(gg))))
		if b.Meta.Grid*b.Meta.Grid != gg || sh[2] != e {
			t.Fatalf("layer%d.adapted shape %v", l, sh)
		}
		b.Layers = append(b.Layers, v[img*gg*e:(img+1)*gg*e])
	}
	got, err := Decode(mustEncode(t, b, safetensors.F32))
	if err != nil {
		t.Fatal(err)
	}
	res, err := scoring.Score(got.ScoringInput(), scoring.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ref := want[img*size*size : (img+1)*size*size]
	var maxAbs, maxDiff float64
	for i, x := range ref {
		maxAbs = math.Max(maxAbs, math.Abs(float64(x)))
		maxDiff = math.Max(maxDiff, math.Abs(float64(res.AnomalyMap[i]-x)))
	}
	bound := set.Tol(t, fwd+"/anomaly_map").Bound(maxAbs)
	if len(res.AnomalyMap) != len(ref) || maxDiff > bound {
		t.Fatalf("anomaly map: %d values, max |diff| %.3g > %.3g", len(res.AnomalyMap), maxDiff, bound)
	}
	t.Logf("anomaly map max |diff| %.3g (bound %.3g)", maxDiff, bound)
}
