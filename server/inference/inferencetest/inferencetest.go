// Package inferencetest is the Detector's golden check with its vision
// side on a compute backend: server/inference runs it on the CPU backend,
// server/gpu on the GPU (in the GPU bundle).
package inferencetest

import (
	"context"
	"math"
	"os"
	"testing"

	"dapo/server/compute"
	"dapo/server/dapo/dapotest"
	"dapo/server/inference"
	"dapo/shared/golden"
	"dapo/shared/imaging"
	"dapo/shared/metrics"
	"dapo/shared/scoring"
)

// BackendGolden opens a Detector on the golden checkpoint with its vision
// side on be, scores the golden PNGs and checks:
//   - the reference's anomaly maps and image scores (dapo_forward), within
//     tolerances.json;
//   - the pipeline metrics (golden.json metrics.dapo_pipeline: pixel and
//     image AUROC) computed from these maps and scores. Maps within the
//     tolerance may order near-equal pixels differently from the
//     reference, so the check is exact where it can be: the golden value
//     and ours must both lie in the interval the metric can take when
//     every score moves by at most the tolerance (lowest: anomalous scores
//     down, normal ones up; highest: the reverse).
func BackendGolden(t *testing.T, be compute.Backend) {
	set := golden.Load(t)
	maps, scores := Maps(t, set, be)
	set.CompareFloat32(t, "dapo_forward", "anomaly_map", maps)
	set.CompareFloat32(t, "dapo_forward", "image.score", scores)
	pipelineMetrics(t, set, maps, scores)
}

// Maps scores the golden PNGs with a Detector on the golden checkpoint
// whose vision side runs on be: the anomaly maps and image scores, in
// dapo_forward's layout.
func Maps(t *testing.T, set *golden.Set, be compute.Backend) (maps, scores []float32) {
	t.Helper()
	released := false
	det := Open(t, set, be, func() error { released = true; return nil })
	maps, scores, err := Score(set, det)
	if err != nil {
		t.Fatal(err)
	}
	if err := det.Close(); err != nil || !released {
		t.Errorf("Close: %v, backend released: %v", err, released)
	}
	return maps, scores
}

// Open opens a Detector on the golden checkpoint with its vision side on
// be (release is its Options.Release).
func Open(t *testing.T, set *golden.Set, be compute.Backend, release func() error) *inference.Detector {
	t.Helper()
	ck := dapotest.MustCheckpoint(t, set)
	det, err := inference.New(context.Background(), set.Dir, ck, inference.Options{
		Limits:  imaging.Limits{MaxPixels: 1 << 22},
		Backend: be, Release: release,
	})
	if err != nil {
		t.Fatal(err)
	}
	if det.Device() == "" || det.Device() != be.Name() {
		t.Fatalf("the detector runs on %q, not on %s", det.Device(), be.Name())
	}
	return det
}

// Score runs the golden PNGs through det (safe from several goroutines, as
// the Detector is): the anomaly maps and image scores.
func Score(set *golden.Set, det *inference.Detector) (maps, scores []float32, err error) {
	scorer, err := det.Scorer(scoring.Options{})
	if err != nil {
		return nil, nil, err
	}
	for _, name := range []string{"image_0.png", "image_1.png"} {
		if _, err := os.Stat(set.Path(name)); err != nil {
			continue
		}
		im, err := det.LoadImage(set.Path(name))
		if err != nil {
			return nil, nil, err
		}
		feats, err := det.EncodeImages(context.Background(), []*inference.Image{im})
		if err != nil {
			return nil, nil, err
		}
		res, err := scorer.Score(feats[0].Global, feats[0].Layers)
		if err != nil {
			return nil, nil, err
		}
		maps = append(maps, res.AnomalyMap...)
		scores = append(scores, res.ImageScore)
	}
	return maps, scores, nil
}

// pipelineMetrics checks golden.json metrics.dapo_pipeline against the
// metrics of maps and scores (see BackendGolden).
func pipelineMetrics(t *testing.T, set *golden.Set, maps, scores []float32) {
	var doc struct {
		Metrics map[string]struct {
			PixelAUROC *float64 `json:"pixel_auroc"`
			ImageAUROC *float64 `json:"image_auroc"`
		} `json:"metrics"`
	}
	set.JSON(t, "golden.json", &doc)
	c, ok := doc.Metrics["dapo_pipeline"]
	if !ok || !set.HasTensor(t, "preprocess", "mask_test_binarised") {
		t.Log("golden set has no dapo_pipeline metrics: pipeline check skipped")
		return
	}
	masks, _ := set.Float32(t, "preprocess", "mask_test_binarised")
	if len(masks) != len(maps) {
		t.Fatalf("%d mask pixels for %d map pixels", len(masks), len(maps))
	}
	pixelAnom := make([]bool, len(masks))
	for i, m := range masks {
		pixelAnom[i] = m > 0.5
	}
	mapTol := set.Tol(t, "dapo_forward/anomaly_map").Bound(maxAbs(maps))
	if c.PixelAUROC != nil {
		within(t, "pixel AUROC", pixelAnom, maps, mapTol, *c.PixelAUROC)
	}
	if c.ImageAUROC == nil {
		return
	}
	per := len(masks) / len(scores)
	imageAnom := make([]bool, len(scores))
	for i := range scores {
		for _, a := range pixelAnom[i*per : (i+1)*per] {
			imageAnom[i] = imageAnom[i] || a
		}
	}
	within(t, "image AUROC", imageAnom, scores, set.Tol(t, "dapo_forward/image.score").Bound(maxAbs(scores)), *c.ImageAUROC)
}

// within checks that AUROC(labels, scores) and want both lie in the range
// AUROC takes when every score moves by at most tol.
func within(t *testing.T, what string, labels []bool, scores []float32, tol, want float64) {
	t.Helper()
	shifted := func(sign float64) float64 {
		s := make([]float64, len(scores))
		for i, v := range scores {
			d := -sign * tol
			if labels[i] {
				d = sign * tol
			}
			s[i] = float64(v) + d
		}
		return metrics.AUROC(labels, s)
	}
	plain := make([]float64, len(scores))
	for i, v := range scores {
		plain[i] = float64(v)
	}
	got, lo, hi := metrics.AUROC(labels, plain), shifted(-1), shifted(+1)
	const eps = 1e-12 // summation order of the metric itself
	if !(lo-eps <= want && want <= hi+eps) || !(lo-eps <= got && got <= hi+eps) {
		t.Errorf("%s: ours %.12g, golden %.12g, reachable within the score tolerance %.3g: [%.12g, %.12g]", what, got, want, tol, lo, hi)
		return
	}
	t.Logf("%s: ours %.12g, golden %.12g, range [%.12g, %.12g]", what, got, want, lo, hi)
}

func maxAbs(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(float64(x)))
	}
	return m
}
