package metrics

import "math"

// pairwiseSum returns what numpy's np.sum / np.add.reduce returns for a
// contiguous float64 array: 0.0 + pairwise(a). Using numpy's exact summation
// tree keeps the small golden arrays (AP, AUPRO, PRO means) bit-identical.
func pairwiseSum(a []float64) float64 {
	return 0.0 + pairwise(a)
}

// pairwise is numpy's pairwise_sum_DOUBLE (8 accumulators, blocks of 128).
func pairwise(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		res := 0.0
		for _, v := range a {
			res += v
		}
		return res
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += a[i+j]
			}
		}
		res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += a[i]
		}
		return res
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return pairwise(a[:n2]) + pairwise(a[n2:])
	}
}

// neumaier is a compensated running sum, for long streaming sums (millions
// of pixels) where plain accumulation would lose ~1e-9.
type neumaier struct{ sum, c float64 }

func (s *neumaier) add(v float64) {
	t := s.sum + v
	if math.Abs(s.sum) >= math.Abs(v) {
		s.c += (s.sum - t) + v
	} else {
		s.c += (v - t) + s.sum
	}
	s.sum = t
}

func (s *neumaier) value() float64 { return s.sum + s.c }

// trapezoid is numpy.trapz(y, x): sum(diff(x) * (y[1:] + y[:-1]) / 2).
func trapezoid(x, y []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	t := make([]float64, len(x)-1)
	for i := range t {
		t[i] = (x[i+1] - x[i]) * (y[i+1] + y[i]) / 2.0
	}
	return pairwiseSum(t)
}

// sklearnAUC is sklearn.metrics.auc: trapezoid with the direction taken from
// x; NaN where sklearn raises (fewer than 2 points, x not monotonic).
func sklearnAUC(x, y []float64) float64 {
	if len(x) < 2 || len(x) != len(y) {
		return math.NaN()
	}
	dir := 1.0
	anyNeg, allNonPos := false, true
	for i := 1; i < len(x); i++ {
		d := x[i] - x[i-1]
		if d < 0 {
			anyNeg = true
		}
		if d > 0 {
			allNonPos = false
		}
	}
	if anyNeg {
		if !allNonPos {
			return math.NaN()
		}
		dir = -1
	}
	return dir * trapezoid(x, y)
}

// aucFromPairs turns a Mann–Whitney doubled pair count (2·#{neg < pos} +
// #{neg == pos}) into the AUROC; both integers are exact below 2^53, so the
// result is the correctly rounded area.
func aucFromPairs(twice uint64, pos, neg uint64) float64 {
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return float64(twice) / (2 * float64(pos) * float64(neg))
}
