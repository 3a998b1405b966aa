package metrics

import "math"

// ProCurve is the per-threshold state of the reference cal_pro_score.
type ProCurve struct {
	Delta      float64   // δ = float64(float32(max−min)) / ProSteps
	Thresholds []float64 // numpy.arange(min, max, δ), float64
	FPRs       []float64 // FP pixels / GT-negative pixels
	PROs       []float64 // mean over all GT regions of TP / area
	Kept       []bool    // FPR < ProFPRLimit
}

// refProCurve reproduces cal_pro_score's loop on sorted data: neg holds the
// GT-negative scores, regions the scores of each GT region (all ascending).
//
// Thresholds follow numpy 1.24 exactly: δ = float64(float32(max−min))/200;
// np.arange(min, max, δ) has ceil(float64(max−min)/δ) entries (normally 200,
// sometimes 201), th[0] = min, th[1] = min+δ and th[i] = th[0] + i·(th[1]−th[0]).
// A pixel is positive where map > float32(th): numpy's value-based casting
// compares a float32 array with a float64 scalar in float32.
func refProCurve(neg []float32, regions [][]float32, lo, hi float32) ProCurve {
	diff := hi - lo // float32 subtraction, as numpy does on float32 scalars
	delta := float64(diff) / ProSteps
	if !(delta > 0) || math.IsInf(delta, 0) {
		return ProCurve{} // numpy raises: arange cannot compute a length
	}
	length := int(math.Ceil(float64(diff) / delta))
	c := ProCurve{Delta: delta}
	start := float64(lo)
	var step float64
	ratios := make([]float64, len(regions))
	for i := range length {
		var th float64
		switch i {
		case 0:
			th = start
		case 1:
			th = start + delta
			step = th - start
		default:
			th = start + float64(float64(i)*step) // conversion: no fused multiply-add
		}
		t := float32(th)
		fp := len(neg) - countLE(neg, t)
		for r, seg := range regions {
			tp := len(seg) - countLE(seg, t)
			ratios[r] = float64(tp) / float64(len(seg))
		}
		fpr := float64(fp) / float64(len(neg))
		c.Thresholds = append(c.Thresholds, th)
		c.FPRs = append(c.FPRs, fpr)
		c.PROs = append(c.PROs, pairwiseSum(ratios)/float64(len(regions)))
		c.Kept = append(c.Kept, fpr < ProFPRLimit)
	}
	return c
}

// countLE is the number of values <= t in ascending s.
func countLE(s []float32, t float32) int {
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s[m] <= t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// AUC is cal_pro_score's result: the kept FPRs min-max rescaled to [0,1],
// then sklearn.metrics.auc against the kept PROs. NaN where the reference
// fails or is undefined (fewer than 2 kept thresholds, no region, constant
// maps).
func (c ProCurve) AUC() float64 {
	var f, p []float64
	for i, k := range c.Kept {
		if k {
			f = append(f, c.FPRs[i])
			p = append(p, c.PROs[i])
		}
	}
	if len(f) < 2 {
		return math.NaN()
	}
	lo, hi := f[0], f[0]
	for _, v := range f {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	for i := range f {
		f[i] = (f[i] - lo) / (hi - lo)
	}
	return sklearnAUC(f, p)
}

// sweep walks every distinct score from the top, merging the sorted
// negatives with the sorted regions (a max-heap over region tops, so each
// positive keeps its region weight without a per-pixel label). It returns
// the exact pixel AUROC and the standard AUPRO (see PixelMetrics.AUPRO).
func sweep(neg []float32, regions [][]float32) (auroc, aupro float64) {
	nNeg := len(neg)
	h := make(regionHeap, 0, len(regions))
	var nPos int
	for _, seg := range regions {
		h = append(h, regionTop{seg: seg, area: float64(len(seg))})
		nPos += len(seg)
	}
	if nNeg == 0 || nPos == 0 {
		return math.NaN(), math.NaN()
	}
	h.init()
	numReg := float64(len(regions))

	var twice, tp, fp uint64
	var pro, area neumaier
	prevX, prevY := 0.0, 0.0
	clipped := false
	j := nNeg - 1
	for j >= 0 || len(h) > 0 {
		t := float32(math.Inf(-1))
		if j >= 0 {
			t = neg[j]
		}
		if len(h) > 0 && h.top() > t {
			t = h.top()
		}
		var dfp, dtp uint64
		for j >= 0 && neg[j] == t {
			j--
			dfp++
		}
		for len(h) > 0 && h.top() == t {
			r := &h[0]
			k := len(r.seg)
			for k > 0 && r.seg[k-1] == t {
				k--
			}
			c := len(r.seg) - k
			dtp += uint64(c)
			pro.add(float64(c) / r.area)
			r.seg = r.seg[:k]
			if k == 0 {
				h.pop()
			} else {
				h.down(0)
			}
		}
		twice += dfp * (2*tp + dtp)
		tp += dtp
		fp += dfp
		if !clipped {
			x := float64(fp) / float64(nNeg)
			y := pro.value() / numReg
			if x <= ProFPRLimit {
				area.add(float64(dfp) / float64(nNeg) * (y + prevY) / 2)
			} else {
				yl := prevY + (y-prevY)*(ProFPRLimit-prevX)/(x-prevX)
				area.add((ProFPRLimit - prevX) * (yl + prevY) / 2)
				clipped = true
			}
			prevX, prevY = x, y
		}
		if len(h) == 0 && clipped {
			twice += uint64(j+1) * 2 * tp // remaining negatives lie below every positive
			break
		}
	}
	return aucFromPairs(twice, tp, fp+uint64(max(j+1, 0))), area.value() / ProFPRLimit
}

// regionTop is one region's not yet swept scores (ascending, top = last).
type regionTop struct {
	seg  []float32
	area float64
}

// regionHeap is a max-heap on each region's highest remaining score.
type regionHeap []regionTop

func (h regionHeap) top() float32 { s := h[0].seg; return s[len(s)-1] }

func (h regionHeap) less(a, b int) bool {
	return h[a].seg[len(h[a].seg)-1] > h[b].seg[len(h[b].seg)-1]
}

func (h regionHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h regionHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

func (h *regionHeap) pop() {
	old := *h
	n := len(old) - 1
	old[0] = old[n]
	*h = old[:n]
	if n > 0 {
		h.down(0)
	}
}
