package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// blobImage draws a mask of a few discs and stray pixels, and a map that is
// higher inside the mask, plus noise; levels > 0 quantises the map onto a
// grid so many pixels tie (also with the reference thresholds).
// scratch (2·w·h values, or nil) holds the returned map and mask, so a
// benchmark makes no garbage.
func blobImage(rng *rand.Rand, w, h, levels int, scratch []float32) (amap, mask []float32) {
	if scratch == nil {
		scratch = make([]float32, 2*w*h)
	}
	amap, mask = scratch[:w*h], scratch[w*h:2*w*h]
	clear(mask)
	nb := rng.IntN(4)
	for range nb {
		cx, cy := rng.IntN(w), rng.IntN(h)
		r := 1 + rng.IntN(max(1, min(w, h)/5))
		for y := max(0, cy-r); y < min(h, cy+r+1); y++ {
			for x := max(0, cx-r); x < min(w, cx+r+1); x++ {
				if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r {
					mask[y*w+x] = 1
				}
			}
		}
	}
	for range rng.IntN(3) {
		mask[rng.IntN(w*h)] = 0.7 // > 0.5: anomalous
	}
	for range rng.IntN(3) {
		mask[rng.IntN(w*h)] = 0.3 // <= 0.5: normal
	}
	for i := range amap {
		v := 0.6*rng.Float64() + 0.5*float64(mask[i])*rng.Float64()
		if levels > 0 {
			v = math.Round(v*float64(levels)) / float64(levels)
		}
		amap[i] = float32(v)
	}
	return amap, mask
}

func TestPixelVsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	worst := map[string]float64{}
	for it := range 150 {
		w, h := 4+rng.IntN(20), 4+rng.IntN(20)
		nImg := 1 + rng.IntN(4)
		levels := []int{0, 10, 50, 200}[rng.IntN(4)]
		var maps, masks [][]float32
		for range nImg {
			m, k := blobImage(rng, w, h, levels, nil)
			if rng.IntN(5) == 0 {
				k = nil // a good image without a mask
			}
			maps, masks = append(maps, m), append(masks, k)
		}
		hint := []int{0, 1, w * h * nImg}[rng.IntN(3)]
		acc := NewPixelAccumulator(hint)
		for i := range maps {
			if err := acc.Add(maps[i], masks[i], w, h); err != nil {
				t.Fatal(err)
			}
		}
		r := acc.Result()
		scores, labels, regions := flatten(maps, masks, w, h)
		if r.Regions != len(regions) || r.Pixels != len(scores) {
			t.Fatalf("case %d: %d regions %d pixels, brute %d %d", it, r.Regions, r.Pixels, len(regions), len(scores))
		}
		for what, pair := range map[string][2]float64{
			"AUROC":    {r.AUROC, bruteAUROC(labels, scores)},
			"AUPRO":    {r.AUPRO, bruteStdAUPRO(scores, regions)},
			"AUPRORef": {r.AUPRORef, bruteRefAUPRO(maps, scores, regions)},
		} {
			got, want := pair[0], pair[1]
			if math.IsNaN(got) != math.IsNaN(want) {
				t.Fatalf("case %d %s: got %v want %v", it, what, got, want)
			}
			if d := math.Abs(got - want); d > 1e-12 {
				t.Fatalf("case %d %s: got %.17g want %.17g", it, what, got, want)
			} else if !math.IsNaN(d) {
				worst[what] = math.Max(worst[what], d)
			}
		}
		if again := acc.Result(); again.AUROC != r.AUROC && !math.IsNaN(r.AUROC) {
			t.Fatal("second Result differs")
		}
	}
	t.Logf("max |diff| vs brute force: %v", worst)
}

func TestPixelUndefined(t *testing.T) {
	const w, h = 5, 4
	flat := make([]float32, w*h)
	mask := make([]float32, w*h)
	mask[7] = 1
	ramp := make([]float32, w*h)
	for i := range ramp {
		ramp[i] = float32(i)
	}
	full := make([]float32, w*h)
	for i := range full {
		full[i] = 1
	}
	nanMap := append([]float32(nil), ramp...)
	nanMap[3] = float32(math.NaN())

	check := func(name string, add func(*PixelAccumulator), wantAUROC, wantRef, wantStd bool) {
		t.Helper()
		a := NewPixelAccumulator(0)
		add(a)
		r := a.Result()
		for what, pair := range map[string]struct {
			v       float64
			defined bool
		}{"AUROC": {r.AUROC, wantAUROC}, "AUPRORef": {r.AUPRORef, wantRef}, "AUPRO": {r.AUPRO, wantStd}} {
			if math.IsNaN(pair.v) == pair.defined {
				t.Errorf("%s: %s = %v, defined=%v expected", name, what, pair.v, pair.defined)
			}
		}
	}
	check("no images", func(*PixelAccumulator) {}, false, false, false)
	check("no anomalous region", func(a *PixelAccumulator) { _ = a.Add(ramp, nil, w, h) }, false, false, false)
	check("constant maps", func(a *PixelAccumulator) { _ = a.Add(flat, mask, w, h) }, true, false, true)
	check("all anomalous", func(a *PixelAccumulator) { _ = a.Add(ramp, full, w, h) }, false, false, false)
	check("NaN in map", func(a *PixelAccumulator) { _ = a.Add(nanMap, mask, w, h) }, false, false, false)
	check("ramp", func(a *PixelAccumulator) { _ = a.Add(ramp, mask, w, h) }, true, true, true)

	a := NewPixelAccumulator(0)
	if a.Add(ramp, mask, w+1, h) == nil || a.Add(ramp, mask[:3], w, h) == nil || a.Add(ramp, mask, 0, 0) == nil {
		t.Error("bad sizes accepted")
	}
	a.Result()
	if a.Add(ramp, mask, w, h) == nil {
		t.Error("Add after Result accepted")
	}
}
