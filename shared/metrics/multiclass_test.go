package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMultiClassVsBruteForce checks each column against the binary
// brute-force oracles and the F1 against counts over the argmax, feeding
// images through Add (mask + defect index) as the pipeline does.
func TestMultiClassVsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for it := range 100 {
		c := 2 + rng.IntN(5)
		acc, err := NewMultiClassAccumulator(c, 0)
		if err != nil {
			t.Fatal(err)
		}
		w, h := 3+rng.IntN(8), 3+rng.IntN(8)
		var gt []int
		var probs []float32
		for range 1 + rng.IntN(5) {
			defect := rng.IntN(c)
			var mask []float32
			if rng.IntN(4) != 0 {
				mask = make([]float32, w*h)
				for i := range mask {
					mask[i] = float32(rng.IntN(3)) / 2 // 0, 0.5 (normal), 1
				}
			}
			p := make([]float32, w*h*c)
			for i := range w * h {
				g := 0
				if mask != nil && mask[i] > 0.5 {
					g = defect
				}
				gt = append(gt, g)
				for k := range c {
					p[i*c+k] = float32(rng.IntN(6)) / 4
				}
				p[i*c+g] += float32(rng.IntN(3)) / 4
			}
			probs = append(probs, p...)
			if err := acc.Add(p, mask, defect); err != nil {
				t.Fatal(err)
			}
		}
		r := acc.Result()

		var aurocs, aps, f1s []float64
		for k := range c {
			labels := make([]bool, len(gt))
			scores := make([]float64, len(gt))
			for i, g := range gt {
				labels[i] = g == k
				scores[i] = float64(probs[i*c+k])
			}
			wa, wp := bruteAUROC(labels, scores), bruteAP(labels, scores)
			npx := 0
			for _, l := range labels {
				if l {
					npx++
				}
			}
			if r.PerClass[k].Pixels != npx {
				t.Errorf("class %d: %d pixels, want %d", k, r.PerClass[k].Pixels, npx)
			}
			if !sameOrBothNaN(r.PerClass[k].AUROC, wa, 1e-15) {
				t.Errorf("AUROC: got %v want %v", r.PerClass[k].AUROC, wa)
			}
			if !sameOrBothNaN(r.PerClass[k].AP, wp, 1e-12) {
				t.Errorf("AP: got %v want %v", r.PerClass[k].AP, wp)
			}
			aurocs, aps = append(aurocs, wa), append(aps, wp)

			var tp, fp, fn int
			for i, g := range gt {
				pred := 0
				for j := range c {
					if probs[i*c+j] > probs[i*c+pred] {
						pred = j
					}
				}
				switch {
				case g == k && pred == k:
					tp++
				case pred == k:
					fp++
				case g == k:
					fn++
				}
			}
			wf := math.NaN()
			if tp+fp+fn > 0 {
				wf = 2 * float64(tp) / float64(2*tp+fp+fn)
				f1s = append(f1s, wf)
			}
			if !sameOrBothNaN(r.PerClass[k].F1, wf, 1e-15) {
				t.Errorf("F1: got %v want %v", r.PerClass[k].F1, wf)
			}
		}
		avg := func(v []float64) float64 {
			s := 0.0
			for _, x := range v {
				s += x
			}
			return s / float64(len(v))
		}
		if !sameOrBothNaN(r.AUROC, avg(aurocs), 1e-12) {
			t.Errorf("macro AUROC: got %v want %v", r.AUROC, avg(aurocs))
		}
		if !sameOrBothNaN(r.AP, avg(aps), 1e-12) {
			t.Errorf("macro AP: got %v want %v", r.AP, avg(aps))
		}
		if !sameOrBothNaN(r.F1, avg(f1s), 1e-12) {
			t.Errorf("macro F1: got %v want %v", r.F1, avg(f1s))
		}
		if r.Pixels != len(gt) {
			t.Errorf("%d pixels, want %d", r.Pixels, len(gt))
		}
		if t.Failed() {
			t.Fatalf("case %d (C=%d)", it, c)
		}
	}
}

func TestMultiClassUndefined(t *testing.T) {
	if _, err := NewMultiClassAccumulator(0, 0); err == nil {
		t.Error("0 classes accepted")
	}
	a, _ := NewMultiClassAccumulator(3, 0)
	if a.Add(make([]float32, 7), nil, 0) == nil {
		t.Error("probs not a multiple of C accepted")
	}
	if a.Add(make([]float32, 6), nil, 3) == nil {
		t.Error("defect out of range accepted")
	}
	if a.Add(make([]float32, 6), make([]float32, 3), 1) == nil {
		t.Error("mask size mismatch accepted")
	}
	if a.AddLabels(make([]float32, 6), []int{0, 5}) == nil {
		t.Error("label out of range accepted")
	}
	// Only good pixels: every AUROC undefined; F1 only over class 0.
	_ = a.Add([]float32{0.9, 0.05, 0.05, 0.2, 0.5, 0.3}, nil, 0)
	r := a.Result()
	if !math.IsNaN(r.AUROC) || !math.IsNaN(r.PerClass[0].AUROC) || r.PerClass[1].AP != 0 {
		t.Errorf("single class: %+v", r)
	}
	// GT 0,0; argmax 0,1: F1_0 = 2/3, F1_1 = 0, class 2 absent from both.
	if !math.IsNaN(r.PerClass[2].F1) || math.Abs(r.F1-(2.0/3+0)/2) > 1e-15 {
		t.Errorf("F1 over GT ∪ prediction: %+v", r)
	}
	if a.Add([]float32{1, 0, 0}, nil, 0) == nil {
		t.Error("Add after Result accepted")
	}

	// NaN probabilities: AUROC/AP NaN, argmax as numpy (NaN wins).
	b, _ := NewMultiClassAccumulator(2, 0)
	_ = b.AddLabels([]float32{0.2, float32(math.NaN()), 0.9, 0.1}, []int{1, 0})
	rb := b.Result()
	if !math.IsNaN(rb.AUROC) || !math.IsNaN(rb.AP) || rb.PerClass[1].F1 != 1 {
		t.Errorf("NaN probs: %+v", rb)
	}
	// Empty accumulator.
	e, _ := NewMultiClassAccumulator(2, 0)
	if re := e.Result(); !math.IsNaN(re.AUROC) || !math.IsNaN(re.F1) {
		t.Errorf("empty: %+v", re)
	}
}
