package evaluate

import (
	"math"
	"math/rand/v2"
	"testing"

	"dapo/server/dataset"
	"dapo/shared/scoring"
)

func randUnit(r *rand.Rand, e int) []float32 {
	v := make([]float32, e)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	n, err := scoring.Normalize(v)
	if err != nil {
		panic(err)
	}
	return n
}

// TestSubsetProbs: the scoring stage's layer-summed subset probabilities
// (Subset.Probs, what the multi-type metrics read) equal an independent
// rebuild from the per-layer logits, have the per-pixel argmax
// Subset.PixelClass and sum to the number of layers.
func TestSubsetProbs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const e, c, grid, size, layers = 16, 6, 4, 13, 3
	text := make([][]float32, c)
	for i := range text {
		text[i] = randUnit(r, e)
	}
	var feats [][]float32
	for range layers {
		f := make([]float32, grid*grid*e)
		for i := range f {
			f[i] = float32(r.NormFloat64())
		}
		feats = append(feats, f)
	}
	subset := []int{0, 2, 5, 3}
	s, err := scoring.NewScorer(text, grid, size, 0, scoring.Options{Subset: subset, KeepPerLayer: true, KeepSubsetProbs: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Score(randUnit(r, e), feats)
	if err != nil {
		t.Fatal(err)
	}
	probs, err := subsetProbs(res, subset, grid)
	if err != nil {
		t.Fatal(err)
	}
	cs := len(subset)
	if len(res.Subset.Probs) != len(probs) {
		t.Fatalf("Subset.Probs has %d values, want %d", len(res.Subset.Probs), len(probs))
	}
	for i, v := range probs {
		if math.Abs(float64(v-res.Subset.Probs[i])) > 1e-6 {
			t.Fatalf("value %d: scoring %g, rebuilt %g", i, res.Subset.Probs[i], v)
		}
	}
	for p := range size * size {
		row := probs[p*cs : (p+1)*cs]
		best, sum := 0, 0.0
		for k, v := range row {
			if v > row[best] {
				best = k
			}
			sum += float64(v)
		}
		if best != int(res.Subset.PixelClass[p]) {
			t.Fatalf("pixel %d: argmax %d, scoring says %d", p, best, res.Subset.PixelClass[p])
		}
		if math.Abs(sum-layers) > 1e-4 {
			t.Fatalf("pixel %d: probabilities sum to %v, want %d", p, sum, layers)
		}
	}
	if _, err := subsetProbs(&scoring.Result{}, subset, grid); err == nil {
		t.Error("want an error without per-layer results")
	}
}

// TestPixelHistogram: the index is the number of edges strictly below the
// value, and best() matches a brute-force search over the edges.
func TestPixelHistogram(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const bins, hi = 50, 4.0
	h := newPixelHistogram(hi, bins)
	var vals []float32
	var pos []bool
	for i := range 3000 {
		v := float32(r.Float64() * hi)
		switch i % 10 {
		case 0:
			v = h.edges[r.IntN(bins+1)] // exactly on an edge
		case 1:
			v = 0
		}
		p := r.Float64() < 0.2+0.15*float64(v)
		vals, pos = append(vals, v), append(pos, p)
		h.add(v, p)
	}
	for _, v := range append(vals, -1, 5, float32(math.NaN())) {
		want := 0
		for _, e := range h.edges {
			if v > e {
				want++
			}
		}
		if got := h.index(v); got != want {
			t.Fatalf("index(%v) = %d, want %d", v, got, want)
		}
	}
	best := -1.0
	var bestT float32
	for j := bins; j >= 1; j-- {
		tp, fp, fn := 0, 0, 0
		for i, v := range vals {
			switch {
			case v > h.edges[j] && pos[i]:
				tp++
			case v > h.edges[j]:
				fp++
			case pos[i]:
				fn++
			}
		}
		f := 0.0
		if tp > 0 {
			f = 2 * float64(tp) / float64(2*tp+fp+fn)
		}
		if f > best {
			best, bestT = f, h.edges[j]
		}
	}
	got := h.best()
	if math.Abs(got.F1-best) > 1e-12 || got.Value != float64(bestT) {
		t.Errorf("best %+v, brute force F1 %v at %v", got, best, bestT)
	}
}

func TestBestImageThreshold(t *testing.T) {
	labels := []bool{false, false, true, false, true, true, true}
	scores := []float64{0.1, 0.4, 0.35, 0.8, 0.7, 0.9, 0.4}
	got, err := bestImageThreshold(labels, scores)
	if err != nil {
		t.Fatal(err)
	}
	best := -1.0
	for _, th := range scores {
		tp, fp, fn := 0, 0, 0
		for i, s := range scores {
			switch {
			case s >= th && labels[i]:
				tp++
			case s >= th:
				fp++
			case labels[i]:
				fn++
			}
		}
		best = max(best, 2*float64(tp)/float64(2*tp+fp+fn))
	}
	if math.Abs(got.F1-best) > 1e-12 {
		t.Errorf("F1 %v, brute force %v", got.F1, best)
	}
	if _, err := bestImageThreshold(labels, []float64{0, 0, math.NaN(), 0, 0, 0, 0}); err == nil {
		t.Error("want an error for a NaN score")
	}
}

func TestDefectPatches(t *testing.T) {
	const size, grid = 6, 3 // 2×2-pixel patches
	mask := make([]float32, size*size)
	set := func(x, y int) { mask[y*size+x] = 1 }
	set(0, 0)
	set(1, 0)
	set(0, 1) // 3 of 4 pixels of patch 0
	set(4, 4)
	set(5, 4)            // 2 of 4 of patch 8: not more than half
	mask[3*size+3] = 0.5 // 0.5 is background
	got := defectPatches(mask, size, grid)
	if len(got) != 1 || got[0] != 0 {
		t.Errorf("defect patches %v, want [0]", got)
	}
	if defectPatches(nil, size, grid) != nil {
		t.Error("nil mask has no defect patches")
	}
}

func TestPatchReservoir(t *testing.T) {
	const e = 4
	layer := make([]float32, 100*e)
	for i := range layer {
		layer[i] = float32(i%7 + 1)
	}
	patches := make([]int, 100)
	for i := range patches {
		patches[i] = i
	}
	run := func() *patchReservoir {
		r := newPatchReservoir(3, 30) // 10 per class
		for range 5 {
			r.addPatches(1, layer, patches, e)
		}
		r.addPatches(2, layer, patches[:3], e)
		return r
	}
	a, b := run(), run()
	seen, kept := a.total()
	if seen != 503 || kept != 13 || len(a.kept[1]) != 10 || len(a.kept[2]) != 3 {
		t.Errorf("seen %d kept %d (%d, %d)", seen, kept, len(a.kept[1]), len(a.kept[2]))
	}
	for i := range a.kept[1] {
		for j := range a.kept[1][i] {
			if a.kept[1][i][j] != b.kept[1][i][j] {
				t.Fatal("reservoir is not deterministic")
			}
		}
	}
}

func TestProductWords(t *testing.T) {
	inUse := []string{"crack", "hole", "scratch", "faulty imprint"}
	// Known product: the vocabulary's list, restricted to the words in use.
	if got := productWords("mvtec", "hazelnut", nil, inUse); len(got) != 3 || got[0] != "crack" || got[1] != "hole" || got[2] != "faulty imprint" {
		t.Errorf("hazelnut: %v", got)
	}
	// Unknown product: its anomalous keys mapped onto words in use.
	items := []dataset.Item{
		{DefectKey: "good"}, {DefectKey: "Scratch", Anomalous: true}, {DefectKey: "faulty_imprint", Anomalous: true}, {DefectKey: "dent", Anomalous: true},
	}
	if got := productWords("folder", "widget", items, inUse); len(got) != 2 || got[0] != "scratch" || got[1] != "faulty imprint" {
		t.Errorf("widget: %v", got)
	}
	if w, ok := defectWord("mvtec", "print", []string{"faulty imprint"}); !ok || w != "faulty imprint" {
		t.Errorf("mvtec print → %q %v", w, ok)
	}
	if _, ok := defectWord("mvtec", "good", inUse); ok {
		t.Error("good has no defect word")
	}
}
