package report

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"
)

// clusters makes n points in d dimensions around one centre per class,
// with class c's text feature near its centre.
func clusters(n, d, classes int) (pts [][]float32, labels []int, names []string, feats [][]float32) {
	r := splitMix64{9}
	rnd := func() float32 { return float32(r.next()>>11)/(1<<53) - 0.5 }
	centres := make([][]float32, classes)
	for c := range centres {
		centres[c] = make([]float32, d)
		for j := range centres[c] {
			centres[c][j] = rnd()
		}
		names = append(names, fmt.Sprintf("defect_%d", c))
		f := slices.Clone(centres[c])
		f[0] += 0.2
		feats = append(feats, f)
	}
	for i := range n {
		c := i % classes
		p := make([]float32, d)
		for j := range p {
			p[j] = centres[c][j] + 0.2*rnd()
		}
		pts, labels = append(pts, p), append(labels, c)
	}
	return pts, labels, names, feats
}

func TestEmbeddingPlot(t *testing.T) {
	dir := t.TempDir()
	pts, labels, names, feats := clusters(600, 32, 5)
	pts[3][7] = float32(math.NaN()) // skipped
	path := filepath.Join(dir, "embedding.png")
	if err := EmbeddingPlot(path, "Defect patches", pts, labels, names, feats); err != nil {
		t.Fatal(err)
	}
	if sz := decodePNG(t, path); sz.Y != 600 || sz.X <= 600 {
		t.Errorf("size %v, want 600 high with the legend beside", sz)
	}
	first := mustRead(t, path)
	if err := EmbeddingPlot(path, "Defect patches", pts, labels, names, feats); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, mustRead(t, path)) {
		t.Error("EmbeddingPlot is not deterministic")
	}
	noTempFiles(t, dir)
}

func TestEmbeddingPlotDegenerate(t *testing.T) {
	dir := t.TempDir()
	names := []string{"scratch", "hole"}
	same := []float32{1, 2, 3}
	nan := float32(math.NaN())
	for i, c := range []struct {
		pts    [][]float32
		labels []int
		feats  [][]float32
	}{
		{nil, nil, nil}, // nothing at all
		{nil, nil, [][]float32{{1, 0, 0}, {0, 1, 0}}},                                     // text features only
		{[][]float32{same}, []int{0}, nil},                                                // one point
		{[][]float32{same, {3, 2, 1}}, []int{0, 1}, nil},                                  // two points
		{[][]float32{same, same, same}, []int{0, 1, 0}, nil},                              // identical points
		{[][]float32{{nan, 1, 1}, {1, nan, 1}}, []int{0, 1}, [][]float32{{1, 1, 1}, nil}}, // all NaN, one feature missing
		{[][]float32{same, same}, []int{0, 0}, [][]float32{{nan, 0, 0}, {1, 1, 1}}},       // NaN feature
	} {
		path := filepath.Join(dir, fmt.Sprintf("case%d.png", i))
		if err := EmbeddingPlot(path, "degenerate", c.pts, c.labels, names, c.feats); err != nil {
			t.Errorf("case %d: %v", i, err)
			continue
		}
		decodePNG(t, path)
	}

	bad := filepath.Join(dir, "bad.png")
	for i, c := range []struct {
		pts    [][]float32
		labels []int
		feats  [][]float32
	}{
		{[][]float32{same}, nil, nil},                         // labels missing
		{[][]float32{same}, []int{2}, nil},                    // label out of range
		{[][]float32{same}, []int{-1}, nil},                   // negative label
		{[][]float32{same, {1, 2}}, []int{0, 0}, nil},         // ragged points
		{[][]float32{same}, []int{0}, [][]float32{same}},      // one feature for two classes
		{[][]float32{same}, []int{0}, [][]float32{same, {1}}}, // feature of another dimension
		{[][]float32{{}}, []int{0}, nil},                      // empty point
	} {
		if err := EmbeddingPlot(bad, "", c.pts, c.labels, names, c.feats); err == nil {
			t.Errorf("invalid case %d accepted", i)
		}
	}
}

func TestEmbeddingPlotSubsample(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 7000 points")
	}
	pts, labels, names, feats := clusters(7000, 24, 4)
	path := filepath.Join(t.TempDir(), "many.png")
	if err := EmbeddingPlot(path, "Many patches", pts, labels, names, feats); err != nil {
		t.Fatal(err)
	}
	decodePNG(t, path)
}

func TestCapPerClass(t *testing.T) {
	mk := func(sizes ...int) [][]int {
		var out [][]int
		next := 0
		for _, s := range sizes {
			var idx []int
			for range s {
				idx = append(idx, next)
				next++
			}
			out = append(out, idx)
		}
		return out
	}
	small := mk(3, 4)
	if got := capPerClass(small, 10); !slices.EqualFunc(got, small, slices.Equal) {
		t.Errorf("under the limit: %v", got)
	}
	by := mk(10, 5000, 3000, 0, 7)
	got := capPerClass(by, 5000)
	total := 0
	for c, idx := range got {
		total += len(idx)
		if !slices.IsSorted(idx) {
			t.Errorf("class %d not sorted", c)
		}
		for _, i := range idx {
			if !slices.Contains(by[c], i) {
				t.Fatalf("class %d got foreign index %d", c, i)
			}
		}
	}
	if total != 5000 {
		t.Errorf("kept %d, want 5000", total)
	}
	// Rare classes keep everything; the two big ones share the rest evenly.
	if len(got[0]) != 10 || len(got[3]) != 0 || len(got[4]) != 7 {
		t.Errorf("rare classes cut: %d %d %d", len(got[0]), len(got[3]), len(got[4]))
	}
	if d := len(got[1]) - len(got[2]); d < 0 || d > 1 || len(got[1])+len(got[2]) != 4983 {
		t.Errorf("big classes %d and %d", len(got[1]), len(got[2]))
	}
	if again := capPerClass(by, 5000); !slices.EqualFunc(got, again, slices.Equal) {
		t.Error("not deterministic")
	}
}
