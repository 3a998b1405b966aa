package scoring

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"dapo/shared/golden"
)

const fwd = "dapo_forward"

// goldenCase is the dev set's DAPO forward, read without assuming any of
// its sizes: batch, grid, size, classes and layers come from golden.json and
// the tensor shapes.
type goldenCase struct {
	set          *golden.Set
	layers       []int // 1-based feature layers
	subset       []int
	tau          float32
	b, gg, g, e  int
	c, s         int
	text         [][]float32
	global, raw  []float32 // [B*E]
	adapted      [][]float32
	multiTies    map[[3]int]bool
	subsetTies   map[[3]int]bool
	subsetMargin int
}

func loadGolden(t *testing.T) *goldenCase {
	t.Helper()
	set := golden.Load(t)
	var doc struct {
		Config struct {
			FeatureLayers []int    `json:"feature_layers"`
			Subset        []int    `json:"subset"`
			Temperature   float64  `json:"temperature"`
			ImageSize     int      `json:"image_size"`
			Grid          int      `json:"grid"`
			ClassOrder    []string `json:"class_order"`
		} `json:"dapo_config"`
		Facts map[string]json.RawMessage `json:"facts"`
	}
	set.JSON(t, "golden.json", &doc)
	cfg := doc.Config
	gc := &goldenCase{set: set, layers: cfg.FeatureLayers, subset: cfg.Subset, tau: float32(cfg.Temperature)}
	if len(gc.layers) == 0 || gc.tau <= 0 {
		t.Fatalf("golden.json dapo_config lacks feature_layers or temperature: %+v", cfg)
	}

	text, tshape := set.Float32(t, fwd, "text.features")
	gc.c, gc.e = tshape[0], tshape[1]
	if len(cfg.ClassOrder) != 0 && len(cfg.ClassOrder) != gc.c {
		t.Fatalf("class_order has %d names, text.features %d rows", len(cfg.ClassOrder), gc.c)
	}
	for k := 0; k < gc.c; k++ {
		gc.text = append(gc.text, text[k*gc.e:(k+1)*gc.e])
	}
	var gshape []int
	gc.global, gshape = set.Float32(t, fwd, "image.global")
	gc.b = gshape[0]
	if set.HasTensor(t, fwd, "image.global_raw") {
		gc.raw, _ = set.Float32(t, fwd, "image.global_raw")
	}
	for _, l := range gc.layers {
		v, sh := set.Float32(t, fwd, fmt.Sprintf("layer%d.adapted", l))
		if sh[0] != gc.b || sh[2] != gc.e {
			t.Fatalf("layer%d.adapted shape %v, want [%d, G², %d]", l, sh, gc.b, gc.e)
		}
		gc.gg = sh[1]
		gc.adapted = append(gc.adapted, v)
	}
	gc.g = int(math.Round(math.Sqrt(float64(gc.gg))))
	if gc.g*gc.g != gc.gg || (cfg.Grid != 0 && cfg.Grid != gc.g) {
		t.Fatalf("patch count %d is not grid² (dapo_config.grid %d)", gc.gg, cfg.Grid)
	}
	_, mshape := set.Float32(t, fwd, "anomaly_map")
	gc.s = mshape[1]
	if cfg.ImageSize != 0 && cfg.ImageSize != gc.s {
		t.Fatalf("anomaly_map side %d, dapo_config.image_size %d", gc.s, cfg.ImageSize)
	}
	gc.multiTies = ties(t, doc.Facts["multitype.near_tie_pixels_b_y_x_margin"])
	gc.subsetTies = ties(t, doc.Facts["subset.near_tie_pixels_b_y_x_margin"])
	return gc
}

func ties(t *testing.T, raw json.RawMessage) map[[3]int]bool {
	t.Helper()
	out := map[[3]int]bool{}
	if raw == nil {
		return out
	}
	var rows [][]float64
	if err := json.Unmarshal(raw, &rows); err != nil {
		t.Fatalf("near-tie list: %v", err)
	}
	for _, r := range rows {
		out[[3]int{int(r[0]), int(r[1]), int(r[2])}] = true
	}
	return out
}

func (gc *goldenCase) input(b int, raw bool) Input {
	in := Input{Text: gc.text, Grid: gc.g, Size: gc.s, Temperature: gc.tau}
	src := gc.global
	if raw {
		src = gc.raw
	}
	in.Global = src[b*gc.e : (b+1)*gc.e]
	for _, a := range gc.adapted {
		in.Layers = append(in.Layers, a[b*gc.gg*gc.e:(b+1)*gc.gg*gc.e])
	}
	return in
}

// batch gathers one tensor's values over the batch in the golden layout.
type batch map[string][]float32

func (m batch) add(name string, v ...float32) { m[name] = append(m[name], v...) }

func TestGoldenForward(t *testing.T) {
	gc := loadGolden(t)
	opts := Options{Subset: gc.subset, KeepPerLayer: true, KeepClassProbs: true}
	got := batch{}
	var multiArg, subArg []int64
	for b := 0; b < gc.b; b++ {
		res, err := Score(gc.input(b, false), opts)
		if err != nil {
			t.Fatal(err)
		}
		if b == 0 {
			got.add("text.abnormal_mean", res.AbnormalText...)
			got.add("text.binary_pair", gc.text[0]...)
			got.add("text.binary_pair", res.AbnormalText...)
		}
		got.add("image.logits", res.ImageLogits[:]...)
		got.add("image.probs", res.ImageProbs[:]...)
		got.add("image.score", res.ImageScore)
		got.add("anomaly_map", res.AnomalyMap...)
		got.add("multitype.image_probs", res.ClassImageProbs...)
		got.add("multitype.image_score", res.MultiTypeScore)
		for li, l := range gc.layers {
			lr := res.Layers[li]
			p := fmt.Sprintf("layer%d.", l)
			got.add(p+"adapted_normed", lr.Normed...)
			got.add(p+"logits_patch", lr.Logits...)
			got.add(p+"probs_patch", lr.Probs...)
			got.add(p+"probs_up", lr.ProbsUp...)
			got.add(p+"anomaly_map", lr.AnomalyMap...)
		}
		for _, v := range res.PixelClass {
			multiArg = append(multiArg, int64(v))
		}
		if res.Subset != nil {
			got.add("subset.image_probs", res.Subset.ImageProbs...)
			got.add("subset.image_score", res.Subset.ImageScore)
			for _, v := range res.Subset.PixelClass {
				subArg = append(subArg, int64(v))
			}
		}
		checkClassProbs(t, res)
	}
	for _, name := range sortedKeys(got) {
		if !gc.set.HasTensor(t, fwd, name) {
			t.Logf("%s: not in this golden set, skipped", name)
			continue
		}
		gc.set.CompareFloat32(t, fwd, name, got[name])
		want, _ := gc.set.Float32(t, fwd, name)
		if len(want) == len(got[name]) {
			t.Logf("%s: %d of %d values bit-identical", name, countEqual(got[name], want), len(want))
		}
	}
	gc.compareArgmax(t, "multitype.pixel_argmax", multiArg, gc.multiTies)
	if len(gc.subset) > 0 {
		gc.compareArgmax(t, "subset.pixel_argmax", subArg, gc.subsetTies)
	}
}

// checkClassProbs verifies the class-major layer sum against PixelClass
// and the final map: every pixel's probabilities sum to the number of layers.
func checkClassProbs(t *testing.T, res *Result) {
	t.Helper()
	n := res.Size * res.Size
	layers := float64(len(res.Layers))
	for p := 0; p < n; p += 97 {
		var sum float64
		best := 0
		for k := 0; k < res.Classes; k++ {
			v := res.ClassProbs[k*n+p]
			sum += float64(v)
			if v > res.ClassProbs[best*n+p] {
				best = k
			}
		}
		if math.Abs(sum-layers) > 1e-5 {
			t.Fatalf("pixel %d: class probabilities sum to %g, want %g", p, sum, layers)
		}
		if int(res.PixelClass[p]) != best {
			t.Fatalf("pixel %d: PixelClass %d, argmax of ClassProbs %d", p, res.PixelClass[p], best)
		}
	}
}

func (gc *goldenCase) compareArgmax(t *testing.T, name string, got []int64, ties map[[3]int]bool) {
	t.Helper()
	if !gc.set.HasTensor(t, fwd, name) {
		t.Logf("%s: not in this golden set, skipped", name)
		return
	}
	want, shape := gc.set.Int64(t, fwd, name)
	if len(want) != len(got) {
		t.Fatalf("%s: %d values, golden %d (shape %v)", name, len(got), len(want), shape)
	}
	s := gc.s
	bad, atTies := 0, 0
	for i := range want {
		if got[i] == want[i] {
			continue
		}
		key := [3]int{i / (s * s), i / s % s, i % s}
		if ties[key] {
			atTies++
			continue
		}
		bad++
		if bad <= 5 {
			t.Errorf("%s: b=%d y=%d x=%d: got %d, want %d (not a listed near tie)", name, key[0], key[1], key[2], got[i], want[i])
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d mismatches outside the near ties", name, bad)
	}
	t.Logf("%s: %d values, 0 mismatches outside the %d listed near ties, %d at near ties", name, len(want), len(ties), atTies)
}

// TestGoldenUpsampleBitExact feeds the golden patch probabilities straight
// to Upsample: the result must equal PyTorch's to the last bit.
func TestGoldenUpsampleBitExact(t *testing.T) {
	gc := loadGolden(t)
	for _, l := range gc.layers {
		name := fmt.Sprintf("layer%d.probs_patch", l)
		if !gc.set.HasTensor(t, fwd, name) || !gc.set.HasTensor(t, fwd, fmt.Sprintf("layer%d.probs_up", l)) {
			continue
		}
		pp, _ := gc.set.Float32(t, fwd, name)
		want, _ := gc.set.Float32(t, fwd, fmt.Sprintf("layer%d.probs_up", l))
		per := gc.s * gc.s * gc.c
		for b := 0; b < gc.b; b++ {
			up, err := Upsample(pp[b*gc.gg*gc.c:(b+1)*gc.gg*gc.c], gc.g, gc.g, gc.c, gc.s, gc.s)
			if err != nil {
				t.Fatal(err)
			}
			if n := countEqual(up, want[b*per:(b+1)*per]); n != per {
				t.Errorf("layer%d b=%d: %d of %d upsampled values bit-identical to PyTorch", l, b, n, per)
			}
		}
	}
}

// TestGoldenScoreRaw checks the raw-feature entry point against the
// normalised one and the golden score.
func TestGoldenScoreRaw(t *testing.T) {
	gc := loadGolden(t)
	if gc.raw == nil {
		t.Skip("no image.global_raw in this golden set")
	}
	var scores []float32
	for b := 0; b < gc.b; b++ {
		res, err := ScoreRaw(gc.input(b, true), Options{})
		if err != nil {
			t.Fatal(err)
		}
		scores = append(scores, res.ImageScore)
	}
	gc.set.CompareFloat32(t, fwd, "image.score", scores)
}

// TestGoldenWorkersIdentical checks that splitting rows over goroutines and
// the optional outputs change no value.
func TestGoldenWorkersIdentical(t *testing.T) {
	gc := loadGolden(t)
	in := gc.input(gc.b-1, false)
	a, err := Score(in, Options{Subset: gc.subset})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Score(in, Options{Subset: gc.subset, Workers: 3, KeepPerLayer: true, KeepClassProbs: true})
	if err != nil {
		t.Fatal(err)
	}
	if countEqual(a.AnomalyMap, b.AnomalyMap) != len(a.AnomalyMap) {
		t.Error("anomaly map depends on Workers/Keep options")
	}
	for p := range a.PixelClass {
		if a.PixelClass[p] != b.PixelClass[p] || a.Subset.PixelClass[p] != b.Subset.PixelClass[p] {
			t.Fatalf("pixel %d: classes depend on Workers/Keep options", p)
		}
	}
}

func countEqual(a, b []float32) int {
	n := 0
	for i := range a {
		if a[i] == b[i] {
			n++
		}
	}
	return n
}

func sortedKeys(m batch) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
