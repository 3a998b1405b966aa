package report

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"testing"
)

func near(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}

// The scikit-learn documentation example: y = [0 0 1 1],
// scores = [0.1 0.4 0.35 0.8].
func TestCurvesFromScoresSklearnExample(t *testing.T) {
	roc, pr := CurvesFromScores([]bool{false, false, true, true}, []float64{0.1, 0.4, 0.35, 0.8})
	if !near(roc.X, []float64{0, 0, 0.5, 0.5, 1}, 0) || !near(roc.Y, []float64{0, 0.5, 0.5, 1, 1}, 0) {
		t.Errorf("roc %v %v", roc.X, roc.Y)
	}
	if roc.Area != 0.75 {
		t.Errorf("auroc %v, want 0.75", roc.Area)
	}
	// precision_recall_curve: precision [0.5 0.667 0.5 1 1], recall [1 1 0.5 0.5 0].
	if !near(pr.Y, []float64{0.5, 2.0 / 3, 0.5, 1, 1}, 1e-15) || !near(pr.X, []float64{1, 1, 0.5, 0.5, 0}, 0) {
		t.Errorf("pr recall %v precision %v", pr.X, pr.Y)
	}
	// average_precision_score = 0.8333...
	if math.Abs(pr.Area-5.0/6) > 1e-15 {
		t.Errorf("ap %v, want 5/6", pr.Area)
	}
}

// Ties, worked by hand: positives at 0.9, 0.5, 0.3 and negatives at 0.9,
// 0.3. Distinct thresholds 0.9 (tp 1, fp 1), 0.5 (2, 1), 0.3 (3, 2).
func TestCurvesFromScoresTies(t *testing.T) {
	labels := []bool{true, false, true, false, true}
	scores := []float64{0.9, 0.9, 0.5, 0.3, 0.3}
	roc, pr := CurvesFromScores(labels, scores)
	if !near(roc.X, []float64{0, 0.5, 0.5, 1}, 0) || !near(roc.Y, []float64{0, 1.0 / 3, 2.0 / 3, 1}, 1e-15) {
		t.Errorf("roc %v %v", roc.X, roc.Y)
	}
	// Trapezoids 1/12 + 0 + 5/12; Mann–Whitney with ties ½ gives 3/6 too.
	if math.Abs(roc.Area-0.5) > 1e-15 {
		t.Errorf("auroc %v, want 0.5", roc.Area)
	}
	if !near(pr.Y, []float64{3.0 / 5, 2.0 / 3, 0.5, 1}, 1e-15) || !near(pr.X, []float64{1, 2.0 / 3, 1.0 / 3, 0}, 1e-15) {
		t.Errorf("pr recall %v precision %v", pr.X, pr.Y)
	}
	// AP = (1-2/3)·3/5 + (2/3-1/3)·2/3 + (1/3)·1/2 = 53/90.
	if math.Abs(pr.Area-53.0/90) > 1e-15 {
		t.Errorf("ap %v, want 53/90", pr.Area)
	}
}

// The trapezoid area must equal the pairwise (Mann–Whitney) AUROC.
func TestCurvesFromScoresAUROCBruteForce(t *testing.T) {
	r := splitMix64{3}
	for trial := range 20 {
		n := 5 + trial*7
		labels := make([]bool, n)
		scores := make([]float64, n)
		for i := range n {
			labels[i] = r.next()%3 == 0
			scores[i] = float64(r.next()%10) / 10 // many ties
		}
		labels[0], labels[1] = true, false
		var pairs, wins float64
		for i := range n {
			for j := range n {
				if labels[i] && !labels[j] {
					pairs++
					switch {
					case scores[i] > scores[j]:
						wins++
					case scores[i] == scores[j]:
						wins += 0.5
					}
				}
			}
		}
		roc, _ := CurvesFromScores(labels, scores)
		if math.Abs(roc.Area-wins/pairs) > 1e-12 {
			t.Fatalf("trial %d: trapezoid %v, pairs %v", trial, roc.Area, wins/pairs)
		}
	}
}

func TestCurvesFromScoresDegenerate(t *testing.T) {
	roc, pr := CurvesFromScores([]bool{false, false}, []float64{0.2, 0.1})
	if len(roc.X) != 0 || !math.IsNaN(roc.Area) || !math.IsNaN(pr.Area) {
		t.Errorf("no positives: roc %v area %v, ap %v", roc.X, roc.Area, pr.Area)
	}
	if !near(pr.X, []float64{1, 1, 0}, 0) || !near(pr.Y, []float64{0, 0, 1}, 0) {
		t.Errorf("no positives pr %v %v (sklearn: recall 1, precision 0)", pr.X, pr.Y)
	}
	roc, pr = CurvesFromScores([]bool{true, true}, []float64{0.2, 0.1})
	if len(roc.X) != 0 || !math.IsNaN(roc.Area) || pr.Area != 1 {
		t.Errorf("no negatives: roc %v, ap %v", roc.X, pr.Area)
	}
	roc, pr = CurvesFromScores(nil, nil)
	if len(roc.X)+len(pr.X) != 0 || !math.IsNaN(roc.Area) || !math.IsNaN(pr.Area) {
		t.Errorf("empty: %v %v", roc, pr)
	}
	// Non-finite scores are dropped, not propagated.
	roc, _ = CurvesFromScores([]bool{true, false, true}, []float64{0.9, 0.1, math.NaN()})
	if roc.Area != 1 {
		t.Errorf("NaN score: auroc %v", roc.Area)
	}
}

func testCurves(k int) (rocs, prs []Curve) {
	r := splitMix64{uint64(k)}
	for c := range k {
		labels := make([]bool, 120)
		scores := make([]float64, 120)
		for i := range labels {
			labels[i] = i%3 == 0
			scores[i] = float64(r.next()>>11) / (1 << 53)
			if labels[i] {
				scores[i] += 0.15 * float64(c)
			}
		}
		roc, pr := CurvesFromScores(labels, scores)
		roc.Name, pr.Name = fmt.Sprintf("product_%d", c), fmt.Sprintf("product_%d", c)
		rocs, prs = append(rocs, roc), append(prs, pr)
	}
	return rocs, prs
}

func TestCurvePlots(t *testing.T) {
	dir := t.TempDir()
	rocs, prs := testCurves(3)
	rocs[1].Area = math.NaN()
	rocs[2].X[1] = math.NaN() // a bad point is skipped, not fatal
	roc := filepath.Join(dir, "roc.png")
	pr := filepath.Join(dir, "pr.png")
	if err := ROCPlot(roc, "Image ROC", rocs); err != nil {
		t.Fatal(err)
	}
	if err := PRPlot(pr, "Image PR", prs); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{roc, pr} {
		if sz := decodePNG(t, p); sz.X != 500 || sz.Y != 500 {
			t.Errorf("%s is %v, want 500×500", p, sz)
		}
	}
	// Same input, same bytes.
	first := mustRead(t, roc)
	if err := ROCPlot(roc, "Image ROC", rocs); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, mustRead(t, roc)) {
		t.Error("ROCPlot is not deterministic")
	}

	// A long legend moves beside the plot: wider, same height.
	many, _ := testCurves(12)
	wide := filepath.Join(dir, "roc12.png")
	if err := ROCPlot(wide, "Many products", many); err != nil {
		t.Fatal(err)
	}
	if sz := decodePNG(t, wide); sz.X <= 500 || sz.Y != 500 {
		t.Errorf("12-curve plot is %v, want wider than 500 and 500 high", sz)
	}
	// No curves at all is still a figure (axes and diagonal).
	if err := ROCPlot(filepath.Join(dir, "empty.png"), "", nil); err != nil {
		t.Fatal(err)
	}
	noTempFiles(t, dir)

	if err := PRPlot(filepath.Join(dir, "bad.png"), "", []Curve{{Name: "x", X: []float64{0}, Y: nil}}); err == nil {
		t.Error("mismatched curve accepted")
	}
}
