package metrics

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ClassMetrics are one class's one-vs-rest pixel metrics.
type ClassMetrics struct {
	AUROC float64 // NaN when the class has no GT pixel (or all pixels are it)
	AP    float64 // 0 when the class has no GT pixel (scikit-learn's -0.0)
	// F1 of "argmax == class" against "GT == class"; NaN when the class is
	// neither in the GT nor predicted (it is then not in the macro F1).
	F1     float64
	Pixels int // GT pixels of the class
}

// MultiClassMetrics are the multi-type segmentation metrics of one product
// (dapo-spec §5.4).
type MultiClassMetrics struct {
	// AUROC and AP are macro means over all C one-hot columns (including
	// class 0 = good). A column without GT pixels makes AUROC NaN, like
	// scikit-learn >= 1.6; use PerClass to average differently.
	AUROC, AP float64
	// F1 is f1_score(gt, argmax, average="macro"): the mean over the labels
	// present in GT ∪ prediction.
	F1       float64
	PerClass []ClassMetrics
	Pixels   int
}

// MultiClassAccumulator pools the pixels of one product for the multi-type
// metrics. It stores the C float32 probabilities of each pixel (4·C bytes
// per pixel), grouped by GT class so no per-pixel label is kept, and a C×C
// confusion matrix of the argmax.
type MultiClassAccumulator struct {
	c         int
	cols      [][][]float32 // cols[g][k]: column k of the pixels whose GT is g
	conf      []uint64      // conf[g*c+p]: GT g predicted p
	gt        []int32       // one image's GT labels (scratch)
	nonFinite bool
	done      bool
	res       MultiClassMetrics
}

// NewMultiClassAccumulator returns an accumulator for classes 0..numClasses-1
// (0 = good/normal). pixelHint (the product's pixel count, 0 if unknown)
// pre-sizes the good-pixel group, by far the largest, so it never grows.
func NewMultiClassAccumulator(numClasses, pixelHint int) (*MultiClassAccumulator, error) {
	if numClasses < 1 {
		return nil, fmt.Errorf("metrics: %d classes", numClasses)
	}
	a := &MultiClassAccumulator{c: numClasses, conf: make([]uint64, numClasses*numClasses)}
	a.cols = make([][][]float32, numClasses)
	for g := range a.cols {
		a.cols[g] = make([][]float32, numClasses)
	}
	for k := range a.cols[0] {
		a.cols[0][k] = make([]float32, 0, max(pixelHint, 0))
	}
	return a, nil
}

// Add pools one image: probs is pixel-major (C values per pixel, the 4-layer
// sum of the class softmax maps); GT is defect where mask > 0.5, else 0; a
// nil mask is an all-good image (len(probs)/C pixels).
func (a *MultiClassAccumulator) Add(probs, mask []float32, defect int) error {
	if defect < 0 || defect >= a.c {
		return fmt.Errorf("metrics: defect class %d outside [0,%d)", defect, a.c)
	}
	n := len(probs) / a.c
	if mask != nil && len(mask) != n {
		return fmt.Errorf("metrics: mask has %d values, probs %d pixels", len(mask), n)
	}
	return a.add(probs, n, func(i int) int {
		if mask != nil && mask[i] > 0.5 {
			return defect
		}
		return 0
	})
}

// AddLabels pools pixels with explicit GT labels in [0, C).
func (a *MultiClassAccumulator) AddLabels(probs []float32, labels []int) error {
	for _, g := range labels {
		if g < 0 || g >= a.c {
			return fmt.Errorf("metrics: label %d outside [0,%d)", g, a.c)
		}
	}
	return a.add(probs, len(labels), func(i int) int { return labels[i] })
}

func (a *MultiClassAccumulator) add(probs []float32, n int, gt func(int) int) error {
	switch {
	case a.done:
		return errors.New("metrics: MultiClassAccumulator.Add after Result")
	case len(probs) != n*a.c:
		return fmt.Errorf("metrics: probs has %d values, want %d pixels × %d classes", len(probs), n, a.c)
	}
	// Size every group once per image, then fill: per-pixel appends would
	// regrow (copy) the big columns many times.
	a.gt = slices.Grow(a.gt[:0], n)[:n]
	count := make([]int, a.c)
	for i := range n {
		g := gt(i)
		a.gt[i] = int32(g)
		count[g]++
		a.conf[g*a.c+argmax(probs[i*a.c:(i+1)*a.c])]++
	}
	for g, cnt := range count {
		for k := range a.c {
			a.cols[g][k] = slices.Grow(a.cols[g][k], cnt)
		}
	}
	for k := range a.c {
		for i, g := range a.gt {
			a.cols[g][k] = append(a.cols[g][k], probs[i*a.c+k])
		}
	}
	for _, v := range probs {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			a.nonFinite = true
			break
		}
	}
	return nil
}

// argmax is numpy's: the first maximum wins and a NaN beats everything.
func argmax(p []float32) int {
	best := 0
	for k, v := range p {
		if v != v {
			return k
		}
		if v > p[best] {
			best = k
		}
	}
	return best
}

// Result computes the metrics; it sorts the pooled columns in place, so the
// accumulator is finished afterwards (Result repeats, Add fails).
func (a *MultiClassAccumulator) Result() MultiClassMetrics {
	if a.done {
		return a.res
	}
	a.done = true
	r := MultiClassMetrics{PerClass: make([]ClassMetrics, a.c)}
	for g := range a.c {
		r.PerClass[g].Pixels = len(a.cols[g][0])
		r.Pixels += r.PerClass[g].Pixels
	}
	var aurocs, aps, f1s []float64
	for k := range a.c {
		cm := &r.PerClass[k]
		cm.AUROC, cm.AP = math.NaN(), math.NaN()
		if !a.nonFinite {
			cm.AUROC, cm.AP = a.column(k)
		}
		for g := range a.c {
			a.cols[g][k] = nil // done with column k
		}
		cm.F1 = a.f1(k)
		aurocs = append(aurocs, cm.AUROC)
		aps = append(aps, cm.AP)
		if !math.IsNaN(cm.F1) {
			f1s = append(f1s, cm.F1)
		}
	}
	r.AUROC, r.AP, r.F1 = mean(aurocs), mean(aps), mean(f1s)
	a.res = r
	a.cols, a.gt = nil, nil
	return r
}

// f1 is scikit-learn's per-label F1 from the confusion matrix:
// P = tp/(tp+fp), R = tp/(tp+fn) (0 when empty), F = 2PR/(P+R) (0 when 0).
func (a *MultiClassAccumulator) f1(k int) float64 {
	var tp, fp, fn uint64
	for g := range a.c {
		for p := range a.c {
			v := a.conf[g*a.c+p]
			switch {
			case g == k && p == k:
				tp += v
			case p == k:
				fp += v
			case g == k:
				fn += v
			}
		}
	}
	if tp+fp+fn == 0 {
		return math.NaN()
	}
	var prec, rec float64
	if tp+fp > 0 {
		prec = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		rec = float64(tp) / float64(tp+fn)
	}
	if prec+rec == 0 {
		return 0
	}
	return 2 * prec * rec / (prec + rec)
}

// column computes the one-vs-rest AUROC and AP of class k: its positives
// are cols[k][k], its negatives the other GT groups' column k. Each group is
// sorted on its own and the groups are merged on the fly from the top.
func (a *MultiClassAccumulator) column(k int) (auroc, ap float64) {
	lists := make([][]float32, 0, a.c)
	var nPos, nNeg uint64
	for g := range a.c {
		s := a.cols[g][k]
		sortFloat32(s)
		lists = append(lists, s)
		if g == k {
			nPos = uint64(len(s))
		} else {
			nNeg += uint64(len(s))
		}
	}
	var twice, tp, fp uint64
	var sum neumaier
	for {
		first := true
		var t float32
		for _, s := range lists {
			if len(s) > 0 && (first || s[len(s)-1] > t) {
				t, first = s[len(s)-1], false
			}
		}
		if first {
			break
		}
		var dtp, dfp uint64
		for g, s := range lists {
			m := len(s)
			for m > 0 && s[m-1] == t {
				m--
			}
			if g == k {
				dtp += uint64(len(s) - m)
			} else {
				dfp += uint64(len(s) - m)
			}
			lists[g] = s[:m]
		}
		twice += dfp * (2*tp + dtp)
		tp += dtp
		fp += dfp
		// AP: Σ (R_n − R_{n−1})·P_n over descending distinct thresholds.
		if dtp > 0 {
			sum.add(float64(dtp) / float64(nPos) * (float64(tp) / float64(tp+fp)))
		}
	}
	if nPos+nNeg == 0 {
		return math.NaN(), math.NaN()
	}
	return aucFromPairs(twice, nPos, nNeg), sum.value()
}

// mean is np.mean: NaN for an empty slice, NaN propagates.
func mean(v []float64) float64 {
	return pairwiseSum(v) / float64(len(v))
}
