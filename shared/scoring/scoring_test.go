package scoring

import (
	"math"
	"strings"
	"sync"
	"testing"
)

// basisInput builds an image whose answers are known: text row k is the
// unit vector e_k, every patch points at the normal row except a square of
// patches pointing at defect `local`, and the global feature leans towards
// defect `global`.
func basisInput(grid, size, c, local, global int, square [4]int) Input {
	e := c + 2
	unit := func(k int) []float32 {
		v := make([]float32, e)
		v[k] = 1
		return v
	}
	in := Input{Grid: grid, Size: size}
	for k := 0; k < c; k++ {
		in.Text = append(in.Text, unit(k))
	}
	g := make([]float32, e)
	g[0], g[global] = 0.6, 0.8
	in.Global = g
	f := make([]float32, grid*grid*e)
	for y := 0; y < grid; y++ {
		for x := 0; x < grid; x++ {
			k := 0
			if y >= square[0] && y < square[1] && x >= square[2] && x < square[3] {
				k = local
			}
			f[(y*grid+x)*e+k] = 3 // raw features: the stage normalises them
		}
	}
	in.Layers = [][]float32{f, f}
	return in
}

func TestDefectTypes(t *testing.T) {
	in := basisInput(5, 41, 6, 2, 3, [4]int{1, 3, 2, 4})
	res, err := Score(in, Options{PixelThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.DefectImage != 3 {
		t.Errorf("DefectImage %d, want 3", res.DefectImage)
	}
	if res.DefectInMask != 2 {
		t.Errorf("DefectInMask %d, want 2 (votes %v)", res.DefectInMask, res.MaskVotes)
	}
	// Patch rows 1..2 and columns 2..3 sit at output (10·i): a defect patch
	// pixel is inside the mask, the image corner is not.
	S := res.Size
	if !res.Mask[10*S+20] || res.Mask[0] {
		t.Errorf("mask wrong at the defect patch or at the corner")
	}
	if res.PixelClass[10*S+20] != 2 || res.PixelClass[0] != 0 {
		t.Errorf("pixel classes %d, %d, want 2, 0", res.PixelClass[10*S+20], res.PixelClass[0])
	}
	var votes int
	for p, m := range res.Mask {
		if m {
			votes++
			if res.AnomalyMap[p] <= 1 {
				t.Fatalf("mask pixel %d has map %g", p, res.AnomalyMap[p])
			}
		}
	}
	if res.MaskVotes[2] != votes {
		t.Errorf("votes %v, want all %d for class 2", res.MaskVotes, votes)
	}

	// With a subset the image-level type is chosen within it and the pixel
	// classes index it.
	res, err = Score(in, Options{PixelThreshold: 1, Subset: []int{0, 2, 5}})
	if err != nil {
		t.Fatal(err)
	}
	// g has no component along e_2 or e_5: their probabilities tie exactly
	// and the first (row 2) wins, numpy's rule.
	if res.DefectImage != 2 {
		t.Errorf("subset DefectImage %d, want 2", res.DefectImage)
	}
	if res.DefectInMask != 2 || res.Subset.PixelClass[10*S+20] != 1 {
		t.Errorf("subset: DefectInMask %d, pixel class %d; want 2 and index 1", res.DefectInMask, res.Subset.PixelClass[10*S+20])
	}
	if math.Abs(float64(res.Subset.ImageScore+res.Subset.ImageProbs[0])-1) > 1e-6 {
		t.Errorf("subset image score %g and P(normal) %g do not sum to 1", res.Subset.ImageScore, res.Subset.ImageProbs[0])
	}

	// No threshold: no mask and no in-mask type.
	res, err = Score(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mask != nil || res.DefectInMask != -1 {
		t.Errorf("mask computed without a threshold")
	}
	// A threshold above every value gives an empty mask.
	res, err = Score(in, Options{PixelThreshold: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.DefectInMask != -1 {
		t.Errorf("empty mask gave defect %d", res.DefectInMask)
	}
}

func TestScoreInvariants(t *testing.T) {
	in := randInput(4, 4, 23, 16, 5, 3)
	res, err := Score(in, Options{KeepPerLayer: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := float64(res.ImageProbs[0] + res.ImageProbs[1] - 1); math.Abs(d) > 1e-6 {
		t.Errorf("image probs sum to 1%+g", d)
	}
	if d := float64(res.MultiTypeScore + res.ClassImageProbs[0] - 1); math.Abs(d) > 1e-6 {
		t.Errorf("multi-type score + P(normal) = 1%+g", d)
	}
	// The final map is the in-order sum of the layer maps, each of which
	// is 1 − P(normal) up to rounding.
	for p := range res.AnomalyMap {
		var sum float32
		for _, l := range res.Layers {
			sum += l.AnomalyMap[p]
			if d := float64(l.AnomalyMap[p] + l.ProbsUp[p*res.Classes] - 1); math.Abs(d) > 1e-6 {
				t.Fatalf("pixel %d: layer map + P(normal) = 1%+g", p, d)
			}
		}
		if sum != res.AnomalyMap[p] {
			t.Fatalf("pixel %d: final map %g, sum of layer maps %g", p, res.AnomalyMap[p], sum)
		}
	}
}

func TestScoreRawMatchesScore(t *testing.T) {
	in := randInput(8, 3, 9, 12, 4, 2)
	raw := make([]float32, len(in.Global))
	for i, v := range in.Global {
		raw[i] = 2.5 * v
	}
	want, err := Score(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in.Global = raw
	if _, err := Score(in, Options{}); err == nil || !strings.Contains(err.Error(), "ScoreRaw") {
		t.Errorf("Score accepted a raw feature (err %v)", err)
	}
	got, err := ScoreRaw(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(got.ImageScore-want.ImageScore)) > 1e-6 {
		t.Errorf("ScoreRaw %g, Score %g", got.ImageScore, want.ImageScore)
	}
}

func TestSmoothingOption(t *testing.T) {
	in := randInput(6, 4, 20, 8, 3, 2)
	plain, err := Score(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sm := Smoothing{Sigma: 2}
	got, err := Score(in, Options{Smooth: sm})
	if err != nil {
		t.Fatal(err)
	}
	want, err := GaussianSmooth(plain.AnomalyMap, 20, 20, sm)
	if err != nil {
		t.Fatal(err)
	}
	if countEqual(got.AnomalyMap, want) != len(want) {
		t.Error("smoothed map differs from GaussianSmooth of the plain map")
	}
}

func TestScorerConcurrentUse(t *testing.T) {
	in := randInput(10, 4, 30, 8, 4, 2)
	s, err := NewScorer(in.Text, in.Grid, in.Size, 0, Options{Subset: []int{0, 1, 3}, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.Score(in.Global, in.Layers)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.Score(in.Global, in.Layers)
			if err != nil {
				t.Error(err)
				return
			}
			if countEqual(got.AnomalyMap, want.AnomalyMap) != len(want.AnomalyMap) {
				t.Error("concurrent Score differs")
			}
		}()
	}
	wg.Wait()
}

func TestValidation(t *testing.T) {
	good := func() Input { return randInput(12, 3, 9, 8, 4, 2) }
	nan := float32(math.NaN())
	cases := []struct {
		name string
		edit func(*Input, *Options)
		want string
	}{
		{"no layers", func(in *Input, _ *Options) { in.Layers = nil }, "no feature layers"},
		{"short layer", func(in *Input, _ *Options) { in.Layers[1] = in.Layers[1][1:] }, "layer 1 has"},
		{"nan layer", func(in *Input, _ *Options) { in.Layers[0][5] = nan }, "layer 0 value 5"},
		{"inf layer", func(in *Input, _ *Options) { in.Layers[0][2] = float32(math.Inf(-1)) }, "layer 0 value 2"},
		{"zero patch", func(in *Input, _ *Options) { clear(in.Layers[1][8:16]) }, "layer 1 patch 1"},
		{"global length", func(in *Input, _ *Options) { in.Global = in.Global[:7] }, "global feature has 7"},
		{"global nan", func(in *Input, _ *Options) { in.Global[0] = nan }, "global feature value 0"},
		{"raw text", func(in *Input, _ *Options) { in.Text[2] = []float32{1, 1, 1, 1, 1, 1, 1, 1} }, "text row 2 has norm"},
		{"ragged text", func(in *Input, _ *Options) { in.Text[1] = in.Text[1][:4] }, "text row 1 has 4"},
		{"one class", func(in *Input, _ *Options) { in.Text = in.Text[:1] }, "need 2..256 text rows"},
		{"grid", func(in *Input, _ *Options) { in.Grid = 0 }, "grid 0"},
		{"size", func(in *Input, _ *Options) { in.Size = maxSize + 1 }, "size"},
		{"temperature", func(in *Input, _ *Options) { in.Temperature = -1 }, "temperature"},
		{"subset no normal", func(_ *Input, o *Options) { o.Subset = []int{1, 2} }, "must start with 0"},
		{"subset only normal", func(_ *Input, o *Options) { o.Subset = []int{0} }, "must start with 0"},
		{"subset range", func(_ *Input, o *Options) { o.Subset = []int{0, 4} }, "outside"},
		{"subset repeat", func(_ *Input, o *Options) { o.Subset = []int{0, 2, 2} }, "repeated"},
		{"threshold", func(_ *Input, o *Options) { o.PixelThreshold = float32(math.NaN()) }, "threshold"},
		{"sigma", func(_ *Input, o *Options) { o.Smooth.Sigma = -1 }, "sigma"},
		{"truncate", func(_ *Input, o *Options) { o.Smooth = Smoothing{Sigma: 1, Truncate: -2} }, "truncate"},
	}
	for _, tc := range cases {
		in, opts := good(), Options{}
		tc.edit(&in, &opts)
		_, err := Score(in, opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := Score(good(), Options{}); err != nil {
		t.Errorf("good input rejected: %v", err)
	}
	if _, err := Normalize(make([]float32, 3)); err == nil {
		t.Error("Normalize accepted a zero vector")
	}
}
