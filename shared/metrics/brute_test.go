package metrics

import (
	"math"
	"slices"
)

// Independent, deliberately naive implementations used as test oracles.

// bruteAUROC is the Mann–Whitney statistic: over all (positive, negative)
// pairs, 1 if the positive scores higher, 1/2 on a tie.
func bruteAUROC(labels []bool, scores []float64) float64 {
	var twice, p, n uint64
	for i := range scores {
		if !labels[i] {
			n++
			continue
		}
		p++
		for j := range scores {
			if labels[j] {
				continue
			}
			switch {
			case scores[i] > scores[j]:
				twice += 2
			case scores[i] == scores[j]:
				twice++
			}
		}
	}
	if p == 0 || n == 0 {
		return math.NaN()
	}
	return float64(twice) / float64(2*p*n)
}

// distinctDesc returns the distinct scores, highest first.
func distinctDesc(scores []float64) []float64 {
	d := slices.Clone(scores)
	slices.Sort(d)
	d = slices.Compact(d)
	slices.Reverse(d)
	return d
}

// countAt counts true/false labels with score >= t.
func countAt(labels []bool, scores []float64, t float64) (tp, fp int) {
	for i, s := range scores {
		if s >= t {
			if labels[i] {
				tp++
			} else {
				fp++
			}
		}
	}
	return
}

// bruteAP is Σ_n (R_n − R_{n−1})·P_n over descending distinct thresholds,
// counting from scratch at every threshold.
func bruteAP(labels []bool, scores []float64) float64 {
	pos := 0
	for _, l := range labels {
		if l {
			pos++
		}
	}
	if pos == 0 {
		return 0
	}
	ap, prevR := 0.0, 0.0
	for _, t := range distinctDesc(scores) {
		tp, fp := countAt(labels, scores, t)
		r := float64(tp) / float64(pos)
		ap += (r - prevR) * float64(tp) / float64(tp+fp)
		prevR = r
	}
	return ap
}

// bruteF1Max is the max of 2PR/(P+R) over all thresholds plus the final
// (P=1, R=0) point.
func bruteF1Max(labels []bool, scores []float64) float64 {
	pos := 0
	for _, l := range labels {
		if l {
			pos++
		}
	}
	best := 0.0
	for _, t := range distinctDesc(scores) {
		tp, fp := countAt(labels, scores, t)
		if tp == 0 {
			continue
		}
		p := float64(tp) / float64(tp+fp)
		r := float64(tp) / float64(pos)
		best = math.Max(best, 2*p*r/(p+r))
	}
	return best
}

// bruteLabel8 is a flood fill started from each unlabelled foreground pixel
// in raster order (so labels are in raster order of first pixel).
func bruteLabel8(mask []bool, w, h int) ([]int32, int) {
	lab := make([]int32, w*h)
	n := int32(0)
	for start := range mask {
		if !mask[start] || lab[start] != 0 {
			continue
		}
		n++
		stack := []int{start}
		lab[start] = n
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := i%w, i/w
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					xx, yy := x+dx, y+dy
					if xx < 0 || yy < 0 || xx >= w || yy >= h {
						continue
					}
					j := yy*w + xx
					if mask[j] && lab[j] == 0 {
						lab[j] = n
						stack = append(stack, j)
					}
				}
			}
		}
	}
	return lab, int(n)
}

// flatten pools images into per-pixel scores, labels and regions (lists of
// pooled pixel indices), using the flood fill.
func flatten(maps, masks [][]float32, w, h int) (scores []float64, labels []bool, regions [][]int) {
	for i, m := range maps {
		fg := make([]bool, w*h)
		for j := range fg {
			fg[j] = masks != nil && masks[i] != nil && masks[i][j] > 0.5
		}
		lab, n := bruteLabel8(fg, w, h)
		base := len(scores)
		reg := make([][]int, n)
		for j, v := range m {
			scores = append(scores, float64(v))
			labels = append(labels, fg[j])
			if lab[j] != 0 {
				reg[lab[j]-1] = append(reg[lab[j]-1], base+j)
			}
		}
		regions = append(regions, reg...)
	}
	return
}

// bruteStdAUPRO: PRO and FPR recounted at every distinct score (positive =
// score >= t), the curve from (0,0) integrated by trapezoids up to FPR 0.3
// with linear interpolation there, divided by 0.3.
func bruteStdAUPRO(scores []float64, regions [][]int) float64 {
	inRegion := make([]bool, len(scores))
	for _, r := range regions {
		for _, i := range r {
			inRegion[i] = true
		}
	}
	nNeg := 0
	for _, b := range inRegion {
		if !b {
			nNeg++
		}
	}
	if nNeg == 0 || len(regions) == 0 {
		return math.NaN()
	}
	xs, ys := []float64{0}, []float64{0}
	for _, t := range distinctDesc(scores) {
		fp := 0
		for i, s := range scores {
			if s >= t && !inRegion[i] {
				fp++
			}
		}
		pro := 0.0
		for _, r := range regions {
			tp := 0
			for _, i := range r {
				if scores[i] >= t {
					tp++
				}
			}
			pro += float64(tp) / float64(len(r))
		}
		xs = append(xs, float64(fp)/float64(nNeg))
		ys = append(ys, pro/float64(len(regions)))
	}
	area := 0.0
	for i := 1; i < len(xs); i++ {
		x0, x1, y0, y1 := xs[i-1], xs[i], ys[i-1], ys[i]
		if x1 <= 0.3 {
			area += (x1 - x0) * (y0 + y1) / 2
			continue
		}
		yl := y0 + (y1-y0)*(0.3-x0)/(x1-x0)
		area += (0.3 - x0) * (y0 + yl) / 2
		break
	}
	return area / 0.3
}

// bruteRefAUPRO follows cal_pro_score's loop pixel by pixel: thresholds by
// numpy.arange's rules, positive = map > float32(th), PRO averaged over all
// regions, FPR < 0.3 kept, kept FPRs min-max rescaled, |trapezoid|.
func bruteRefAUPRO(maps [][]float32, scores []float64, regions [][]int) float64 {
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, m := range maps {
		for _, v := range m {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	inRegion := make([]bool, len(scores))
	for _, r := range regions {
		for _, i := range r {
			inRegion[i] = true
		}
	}
	delta := float64(hi-lo) / 200
	if !(delta > 0) {
		return math.NaN()
	}
	n := int(math.Ceil(float64(hi-lo) / delta))
	var fx, fy []float64
	first := float64(lo) + delta
	for i := range n {
		th := float64(lo)
		if i == 1 {
			th = first
		} else if i > 1 {
			th = float64(lo) + float64(float64(i)*(first-float64(lo)))
		}
		t := float32(th)
		fp, neg := 0, 0
		for j, s := range scores {
			if !inRegion[j] {
				neg++
				if float32(s) > t {
					fp++
				}
			}
		}
		pro := 0.0
		for _, r := range regions {
			tp := 0
			for _, j := range r {
				if float32(scores[j]) > t {
					tp++
				}
			}
			pro += float64(tp) / float64(len(r))
		}
		fpr := float64(fp) / float64(neg)
		if fpr < 0.3 {
			fx = append(fx, fpr)
			fy = append(fy, pro/float64(len(regions)))
		}
	}
	if len(fx) < 2 {
		return math.NaN()
	}
	mn, mx := slices.Min(fx), slices.Max(fx)
	area := 0.0
	for i := 1; i < len(fx); i++ {
		a, b := (fx[i-1]-mn)/(mx-mn), (fx[i]-mn)/(mx-mn)
		area += (a - b) * (fy[i] + fy[i-1]) / 2 // FPR falls as th rises
	}
	return area
}
