package evaluate

import (
	"context"
	"errors"
	"fmt"
	"math"

	"dapo/server/dataset"
	"dapo/server/inference"
	"dapo/shared/metrics"
	"dapo/shared/scoring"
)

// DefaultBins is the pixel histogram's resolution: thresholds are searched
// on a grid of n_layers/DefaultBins (0.0004 for four layers).
const DefaultBins = 10000

// CalibrateOptions configures Calibrate.
type CalibrateOptions struct {
	Batch int
	// Bins is the number of pixel threshold steps over [0, n_layers]
	// (0: DefaultBins).
	Bins     int
	Progress func(int)
}

// Threshold is one chosen threshold with its F1, precision and recall on
// the calibration set.
type Threshold struct {
	Value, F1, Precision, Recall float64
}

// Calibration is the result of Calibrate.
type Calibration struct {
	// Image is the F1-optimal image threshold (anomalous when score ≥ it);
	// Pixel the F1-optimal pixel threshold (anomalous when map > it) over
	// all pixels of all images, on the histogram grid.
	Image, Pixel Threshold
	// PixelFromMasks is false when no image had ground-truth foreground, so
	// Pixel fell back to the max-over-normal rule.
	PixelFromMasks bool
	// MaxNormal holds the smallest thresholds that flag no normal image and
	// no normal pixel.
	MaxNormal   inference.ThresholdPair
	Images      int
	Normal      int
	Anomalous   int
	PixelImages int
	Pixels      int64
	Positives   int64
}

// Calibrate scores every item of ds (a labelled split) and picks the
// F1-optimal image and pixel thresholds, plus the max-over-normal
// alternative. Memory is constant in the number of pixels: the pixel
// threshold is searched on a histogram of the maps (they lie in
// [0, n_layers]) whose bin edges are the candidate thresholds, so the F1
// reported for the chosen edge is exact, not an estimate.
func Calibrate(ctx context.Context, det *inference.Detector, ds *dataset.Dataset, opts CalibrateOptions) (*Calibration, error) {
	if len(ds.Items) == 0 {
		return nil, errors.New("calibrate: the dataset split has no images")
	}
	bins := opts.Bins
	if bins <= 0 {
		bins = DefaultBins
	}
	scorer, err := det.Scorer(scoring.Options{})
	if err != nil {
		return nil, err
	}
	hist := newPixelHistogram(float64(len(det.Config.FeatureLayers)), bins)
	c := &Calibration{}
	var labels []bool
	var scores []float64
	maxImg, maxPix := float32(math.Inf(-1)), float32(math.Inf(-1))
	err = encodeItems(ctx, det, ds.Items, opts.Batch, func(_ int, l loaded) error {
		res, err := scorer.Score(l.feats.Global, l.feats.Layers)
		if err != nil {
			return fmt.Errorf("score %s: %w", l.item.ImagePath, err)
		}
		c.Images++
		labels, scores = append(labels, l.item.Anomalous), append(scores, float64(res.ImageScore))
		if l.item.Anomalous {
			c.Anomalous++
		} else {
			c.Normal++
			maxImg = max(maxImg, res.ImageScore)
			for _, v := range res.AnomalyMap {
				maxPix = max(maxPix, v)
			}
		}
		if l.item.Anomalous && l.mask == nil {
			return nil // no pixel ground truth
		}
		c.PixelImages++
		for p, v := range res.AnomalyMap {
			hist.add(v, l.mask != nil && l.mask[p] > 0.5)
		}
		return nil
	}, opts.Progress)
	if err != nil {
		return nil, err
	}
	if c.Normal == 0 || c.Anomalous == 0 {
		return nil, fmt.Errorf("calibrate: need normal and anomalous images, got %d normal and %d anomalous", c.Normal, c.Anomalous)
	}
	// score ≥ threshold flags an image, so the max-over-normal image
	// threshold is the next float32 above the largest normal score.
	c.MaxNormal = inference.ThresholdPair{
		Image: math.Min(1, float64(math.Nextafter32(maxImg, float32(math.Inf(1))))),
		Pixel: float64(maxPix),
	}
	if c.Image, err = bestImageThreshold(labels, scores); err != nil {
		return nil, err
	}
	c.Pixels, c.Positives = hist.total()
	if c.Positives > 0 {
		c.Pixel, c.PixelFromMasks = hist.best(), true
	} else {
		c.Pixel = Threshold{Value: c.MaxNormal.Pixel, F1: math.NaN(), Precision: math.NaN(), Recall: math.NaN()}
	}
	return c, nil
}

// Thresholds is the calibration as 'dapo detect' reads it.
func (c *Calibration) Thresholds() inference.Thresholds {
	t := inference.Thresholds{
		Image: c.Image.Value, Pixel: c.Pixel.Value, Method: "f1_max", ImageF1: c.Image.F1, PixelF1: c.Pixel.F1,
		Alternatives: map[string]inference.ThresholdPair{"max_normal": c.MaxNormal},
	}
	if !c.PixelFromMasks {
		t.Method = "f1_max image, max_normal pixel (no ground-truth masks)"
		t.PixelF1 = 0
	}
	return t
}

// bestImageThreshold is the argmax of F1 over the precision-recall curve's
// thresholds (ties: the larger threshold, fewer false alarms).
func bestImageThreshold(labels []bool, scores []float64) (Threshold, error) {
	pr := metrics.PrecisionRecallCurve(labels, scores)
	f1 := pr.F1()
	best := Threshold{F1: math.Inf(-1)}
	for i, t := range pr.Thresholds {
		if f := f1[i]; !math.IsNaN(f) && !math.IsInf(f, 0) && f >= best.F1 {
			best = Threshold{Value: t, F1: f, Precision: pr.Precision[i], Recall: pr.Recall[i]}
		}
	}
	if math.IsInf(best.F1, -1) {
		return best, errors.New("calibrate: no finite F1 on the image scores (non-finite scores?)")
	}
	return best, nil
}

// pixelHistogram counts map values by position among the candidate
// thresholds edges[j] = j·hi/bins (float32, as the scoring stage compares):
// a value lands in index k = the number of edges strictly below it, so
// "value > edges[j]" holds exactly for the indices above j.
type pixelHistogram struct {
	hi       float64
	edges    []float32
	pos, neg []int64
}

func newPixelHistogram(hi float64, bins int) *pixelHistogram {
	h := &pixelHistogram{hi: hi, edges: make([]float32, bins+1), pos: make([]int64, bins+2), neg: make([]int64, bins+2)}
	for j := range h.edges {
		h.edges[j] = float32(float64(j) * hi / float64(bins))
	}
	return h
}

// index is the number of edges strictly below v (0 for NaN).
func (h *pixelHistogram) index(v float32) int {
	bins := len(h.edges) - 1
	g := 0
	if f := float64(v) / h.hi * float64(bins); f > 0 {
		g = int(math.Min(math.Ceil(f), float64(bins+1)))
	}
	for g > 0 && !(v > h.edges[g-1]) {
		g--
	}
	for g <= bins && v > h.edges[g] {
		g++
	}
	return g
}

func (h *pixelHistogram) add(v float32, positive bool) {
	if positive {
		h.pos[h.index(v)]++
	} else {
		h.neg[h.index(v)]++
	}
}

func (h *pixelHistogram) total() (pixels, positives int64) {
	for k := range h.pos {
		positives += h.pos[k]
		pixels += h.pos[k] + h.neg[k]
	}
	return pixels, positives
}

// best is the F1-optimal edge above 0 (0 would mean "no mask" to the
// scoring stage); ties go to the larger threshold.
func (h *pixelHistogram) best() Threshold {
	_, p := h.total()
	best := Threshold{F1: -1}
	var tp, fp int64
	for j := len(h.edges) - 1; j >= 1; j-- {
		tp += h.pos[j+1]
		fp += h.neg[j+1]
		f1 := 0.0
		if tp > 0 {
			f1 = 2 * float64(tp) / float64(2*tp+fp+(p-tp))
		}
		if f1 > best.F1 {
			best = Threshold{Value: float64(h.edges[j]), F1: f1, Recall: float64(tp) / float64(p)}
			if tp+fp > 0 {
				best.Precision = float64(tp) / float64(tp+fp)
			}
		}
	}
	return best
}
