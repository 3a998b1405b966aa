package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randomImageCase draws labels with a random positive rate (sometimes 0 or
// 1) and scores that are either continuous or from a few tied levels.
func randomImageCase(rng *rand.Rand) ([]bool, []float64) {
	n := 1 + rng.IntN(60)
	rate := []float64{0, 1, 0.1, 0.5, 0.9, rng.Float64()}[rng.IntN(6)]
	levels := []int{0, 2, 3, 7}[rng.IntN(4)]
	labels := make([]bool, n)
	scores := make([]float64, n)
	for i := range n {
		labels[i] = rng.Float64() < rate
		if levels == 0 {
			scores[i] = rng.NormFloat64()
		} else {
			scores[i] = float64(rng.IntN(levels)) / float64(levels)
		}
		if labels[i] {
			scores[i] += 0.3 * rng.Float64()
		}
	}
	return labels, scores
}

func TestImageVsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	worst := map[string]float64{}
	for range 3000 {
		labels, scores := randomImageCase(rng)
		m := Image(labels, scores)
		for what, pair := range map[string][2]float64{
			"AUROC": {m.AUROC, bruteAUROC(labels, scores)},
			"AP":    {m.AP, bruteAP(labels, scores)},
			"F1Max": {m.F1Max, bruteF1Max(labels, scores)},
		} {
			got, want := pair[0], pair[1]
			if math.IsNaN(got) || math.IsNaN(want) {
				if math.IsNaN(got) != math.IsNaN(want) {
					t.Fatalf("%s: got %v want %v\nlabels %v\nscores %v", what, got, want, labels, scores)
				}
				continue
			}
			d := math.Abs(got - want)
			worst[what] = math.Max(worst[what], d)
			if d > 1e-12 {
				t.Fatalf("%s: got %.17g want %.17g\nlabels %v\nscores %v", what, got, want, labels, scores)
			}
		}
		// The ROC curve's trapezoid is the AUROC.
		if r := ROC(labels, scores); !math.IsNaN(m.AUROC) {
			if d := math.Abs(sklearnAUC(r.FPR, r.TPR) - m.AUROC); d > 1e-12 {
				t.Fatalf("ROC area %v vs AUROC %v", sklearnAUC(r.FPR, r.TPR), m.AUROC)
			}
		}
	}
	t.Logf("max |diff| vs brute force: %v", worst)
}

func TestImageUndefined(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name   string
		labels []bool
		scores []float64
	}{
		{"empty", nil, nil},
		{"length mismatch", []bool{true, false}, []float64{1}},
		{"NaN score", []bool{true, false}, []float64{nan, 0.5}},
		{"Inf score", []bool{true, false}, []float64{math.Inf(1), 0.5}},
	}
	for _, c := range cases {
		m := Image(c.labels, c.scores)
		if !math.IsNaN(m.AUROC) || !math.IsNaN(m.AP) || !math.IsNaN(m.F1Max) {
			t.Errorf("%s: %+v, want NaNs", c.name, m)
		}
		if pr := PrecisionRecallCurve(c.labels, c.scores); pr.Precision != nil {
			t.Errorf("%s: PR curve %+v, want empty", c.name, pr)
		}
		if r := ROC(c.labels, c.scores); r.FPR != nil {
			t.Errorf("%s: ROC %+v, want empty", c.name, r)
		}
	}
	// One class only: AUROC undefined, AP/F1 as scikit-learn.
	one := Image([]bool{false, false, false}, []float64{0.1, 0.2, 0.2})
	if !math.IsNaN(one.AUROC) || one.AP != 0 || one.F1Max != 0 {
		t.Errorf("all normal: %+v", one)
	}
	all := Image([]bool{true, true}, []float64{0.1, 0.2})
	if !math.IsNaN(all.AUROC) || all.AP != 1 || all.F1Max != 1 {
		t.Errorf("all anomalous: %+v", all)
	}
}
