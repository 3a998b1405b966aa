package metrics

import (
	"math"
	"slices"
)

// ImageMetrics are the per-category image-level metrics (dapo-spec §5.2).
type ImageMetrics struct {
	AUROC float64 // roc_auc_score; NaN when only one class is present
	AP    float64 // average_precision_score
	F1Max float64 // max finite 2PR/(P+R) over the precision_recall_curve
}

// PRCurve is sklearn's precision_recall_curve: Precision and Recall have one
// more entry than Thresholds (the final point P=1, R=0); thresholds ascend.
type PRCurve struct {
	Precision, Recall, Thresholds []float64
}

// ROCCurve is sklearn's roc_curve (drop_intermediate=True). Thresholds[0] is
// +Inf as in scikit-learn >= 1.3 (1.2 used max+1).
type ROCCurve struct {
	FPR, TPR, Thresholds []float64
}

// clfCurve is sklearn's _binary_clf_curve: one entry per distinct score,
// in descending score order, with cumulative true/false positives at or
// above it.
type clfCurve struct {
	tps, fps   []uint64
	thresholds []float64
}

// binaryClfCurve returns ok=false where scikit-learn raises: empty input,
// length mismatch or a non-finite score.
func binaryClfCurve(labels []bool, scores []float64) (clfCurve, bool) {
	n := len(scores)
	if n == 0 || len(labels) != n {
		return clfCurve{}, false
	}
	for _, s := range scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return clfCurve{}, false
		}
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	// Order inside a tie group does not matter: ties are grouped below.
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	})
	var c clfCurve
	var tp, fp uint64
	for k, i := range idx {
		if labels[i] {
			tp++
		} else {
			fp++
		}
		if k == n-1 || scores[idx[k+1]] != scores[i] {
			c.tps = append(c.tps, tp)
			c.fps = append(c.fps, fp)
			c.thresholds = append(c.thresholds, scores[i])
		}
	}
	return c, true
}

// AUROC is sklearn roc_auc_score for binary labels (true = anomalous):
// the trapezoid under the ROC with tied scores grouped, computed exactly as
// the Mann–Whitney pair count (ties count 1/2). NaN for a single-class set
// (scikit-learn >= 1.6 behaviour), empty input or non-finite scores.
func AUROC(labels []bool, scores []float64) float64 {
	c, ok := binaryClfCurve(labels, scores)
	if !ok {
		return math.NaN()
	}
	return c.auroc()
}

func (c clfCurve) auroc() float64 {
	var twice, ptp, pfp uint64
	for i := range c.tps {
		dtp, dfp := c.tps[i]-ptp, c.fps[i]-pfp
		twice += dfp * (2*ptp + dtp)
		ptp, pfp = c.tps[i], c.fps[i]
	}
	return aucFromPairs(twice, ptp, pfp)
}

// ROC is sklearn roc_curve with drop_intermediate=True. With no positives
// (negatives) TPR (FPR) is NaN, as scikit-learn returns with a warning.
// Nil curve for invalid input.
func ROC(labels []bool, scores []float64) ROCCurve {
	c, ok := binaryClfCurve(labels, scores)
	if !ok {
		return ROCCurve{}
	}
	// Keep the first and last points and the corners of the curve.
	keep := make([]int, 0, len(c.tps))
	for i := range c.tps {
		if i == 0 || i == len(c.tps)-1 ||
			c.fps[i+1]+c.fps[i-1] != 2*c.fps[i] || c.tps[i+1]+c.tps[i-1] != 2*c.tps[i] {
			keep = append(keep, i)
		}
	}
	r := ROCCurve{FPR: []float64{0}, TPR: []float64{0}, Thresholds: []float64{math.Inf(1)}}
	p, n := float64(c.tps[len(c.tps)-1]), float64(c.fps[len(c.fps)-1])
	for _, i := range keep {
		r.FPR = append(r.FPR, float64(c.fps[i])/n)
		r.TPR = append(r.TPR, float64(c.tps[i])/p)
		r.Thresholds = append(r.Thresholds, c.thresholds[i])
	}
	return r
}

// PrecisionRecallCurve is sklearn precision_recall_curve (all thresholds,
// no truncation at full recall). With no positives recall is 1 everywhere
// but the final point, as scikit-learn does with a warning. Nil curve for
// invalid input.
func PrecisionRecallCurve(labels []bool, scores []float64) PRCurve {
	c, ok := binaryClfCurve(labels, scores)
	if !ok {
		return PRCurve{}
	}
	return c.pr()
}

func (c clfCurve) pr() PRCurve {
	n := len(c.tps)
	r := PRCurve{
		Precision:  make([]float64, n+1),
		Recall:     make([]float64, n+1),
		Thresholds: make([]float64, n),
	}
	last := c.tps[n-1]
	for i := range n {
		j := n - 1 - i // sklearn reverses to ascending thresholds
		if ps := c.tps[i] + c.fps[i]; ps != 0 {
			r.Precision[j] = float64(c.tps[i]) / float64(ps)
		}
		if last == 0 {
			r.Recall[j] = 1
		} else {
			r.Recall[j] = float64(c.tps[i]) / float64(last)
		}
		r.Thresholds[j] = c.thresholds[i]
	}
	r.Precision[n], r.Recall[n] = 1, 0
	return r
}

// AveragePrecision is sklearn average_precision_score:
// -Σ diff(recall)·precision[:-1], no interpolation. A set without positives
// gives -0.0 (scikit-learn's value, with its warning); NaN for invalid input.
func AveragePrecision(labels []bool, scores []float64) float64 {
	c, ok := binaryClfCurve(labels, scores)
	if !ok {
		return math.NaN()
	}
	return c.pr().ap()
}

func (r PRCurve) ap() float64 {
	t := make([]float64, len(r.Recall)-1)
	for i := range t {
		t[i] = (r.Recall[i+1] - r.Recall[i]) * r.Precision[i]
	}
	return -pairwiseSum(t)
}

// F1Max is the max over the PR curve of 2PR/(P+R), non-finite values
// (P=R=0) dropped; NaN for invalid input.
func F1Max(labels []bool, scores []float64) float64 {
	c, ok := binaryClfCurve(labels, scores)
	if !ok {
		return math.NaN()
	}
	return c.pr().f1Max()
}

// F1 returns the curve's f1 values (2PR/(P+R), NaN where P+R = 0).
func (r PRCurve) F1() []float64 {
	f := make([]float64, len(r.Precision))
	for i, p := range r.Precision {
		f[i] = 2 * p * r.Recall[i] / (p + r.Recall[i])
	}
	return f
}

func (r PRCurve) f1Max() float64 {
	best := math.NaN()
	for _, v := range r.F1() {
		if !math.IsNaN(v) && !math.IsInf(v, 0) && (math.IsNaN(best) || v > best) {
			best = v
		}
	}
	return best
}

// Image computes AUROC, AP and F1-max with one sort.
func Image(labels []bool, scores []float64) ImageMetrics {
	c, ok := binaryClfCurve(labels, scores)
	if !ok {
		nan := math.NaN()
		return ImageMetrics{nan, nan, nan}
	}
	pr := c.pr()
	return ImageMetrics{AUROC: c.auroc(), AP: pr.ap(), F1Max: pr.f1Max()}
}
