package bundle_test

import (
	"math"
	"testing"

	"dapo/shared/bundle"
	"dapo/shared/bundle/bundletest"
	"dapo/shared/scoring"
)

// TestGoldenScores decodes a bundle built from the golden DAPO forward
// (image 0) and checks that scoring it reproduces the golden anomaly map.
// All sizes come from the golden files.
func TestGoldenScores(t *testing.T) {
	g := bundletest.LoadGolden(t, 0)
	got, err := bundle.Decode(g.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	res, err := scoring.Score(got.ScoringInput(), scoring.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var maxAbs, maxDiff float64
	for i, x := range g.AnomalyMap {
		maxAbs = math.Max(maxAbs, math.Abs(float64(x)))
		maxDiff = math.Max(maxDiff, math.Abs(float64(res.AnomalyMap[i]-x)))
	}
	bound := g.Set.Tol(t, "dapo_forward/anomaly_map").Bound(maxAbs)
	if len(res.AnomalyMap) != len(g.AnomalyMap) || maxDiff > bound {
		t.Fatalf("anomaly map: %d values, max |diff| %.3g > %.3g", len(res.AnomalyMap), maxDiff, bound)
	}
	t.Logf("anomaly map max |diff| %.3g (bound %.3g)", maxDiff, bound)
}
