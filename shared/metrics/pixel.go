package metrics

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// PixelMetrics are the per-category pixel-level metrics (dapo-spec §5.3).
type PixelMetrics struct {
	// AUROC is roc_auc_score over all pixels (GT = mask > 0.5).
	AUROC float64
	// AUPRORef is the reference metrics.cal_pro_score (200 thresholds,
	// FPR < 0.3 kept, kept FPRs min-max rescaled, trapezoid).
	AUPRORef float64
	// AUPRO is the standard, threshold-free AUPRO: the exact area under the
	// PRO-vs-FPR curve over every distinct score (ties grouped, linear
	// between points, from (0,0)), up to FPR = ProFPRLimit with the curve
	// linearly interpolated there, divided by ProFPRLimit.
	AUPRO float64
	// RefCurve holds the per-threshold arrays of the reference AUPRO.
	RefCurve ProCurve

	Images, Pixels, Positives, Regions int
}

// ProFPRLimit is the FPR bound of both AUPRO variants (expect_fpr).
const ProFPRLimit = 0.3

// ProSteps is the reference threshold count (max_step).
const ProSteps = 200

// PixelAccumulator pools the pixels of one product category image by image.
//
// Memory is 4 bytes per pixel (its float32 score) plus 4 bytes per GT region
// and one image's scratch: GT labels and region ids are not stored per pixel
// but encoded by position — negatives fill the buffer from the front and
// positives from the back, grouped by region. Result sorts in place (once).
type PixelAccumulator struct {
	buf        []float32 // neg = buf[:nNeg]; pos = buf[len(buf)-nPos:]
	nNeg, nPos int
	areas      []int32 // region areas, in image order then skimage label order
	images     int
	lo, hi     float32
	nonFinite  bool

	// per-image scratch
	fg     []bool
	labels []int32
	cursor []int
	lab    labeler

	done bool
	res  PixelMetrics
}

// NewPixelAccumulator returns an accumulator; pixelHint (the category's
// total pixel count, 0 if unknown) pre-sizes the score buffer so it never
// grows — growing briefly holds the old and the new buffer.
func NewPixelAccumulator(pixelHint int) *PixelAccumulator {
	a := &PixelAccumulator{}
	if pixelHint > 0 {
		a.buf = make([]float32, pixelHint)
	}
	return a
}

// Add pools one image: anomalyMap and mask are row-major w×h; a pixel is
// anomalous where mask > 0.5 (test-time binarisation); a nil mask is an
// all-normal image. Non-finite scores make every pixel metric NaN.
func (a *PixelAccumulator) Add(anomalyMap, mask []float32, w, h int) error {
	n := w * h
	switch {
	case a.done:
		return errors.New("metrics: PixelAccumulator.Add after Result")
	case w <= 0 || h <= 0:
		return fmt.Errorf("metrics: bad image size %dx%d", w, h)
	case len(anomalyMap) != n:
		return fmt.Errorf("metrics: anomaly map has %d values, want %d", len(anomalyMap), n)
	case mask != nil && len(mask) != n:
		return fmt.Errorf("metrics: mask has %d values, want %d", len(mask), n)
	}
	a.fg = slices.Grow(a.fg[:0], n)[:n]
	a.labels = slices.Grow(a.labels[:0], n)[:n]
	for i := range a.fg {
		a.fg[i] = mask != nil && mask[i] > 0.5
	}
	nreg := a.lab.label(a.fg, w, h, a.labels)

	// Region l of this image occupies [end-cum(l), end-cum(l-1)) of the
	// positive block, end = start of the positives stored so far.
	a.cursor = slices.Grow(a.cursor[:0], nreg+1)[:nreg+1]
	clear(a.cursor)
	for _, l := range a.labels {
		a.cursor[l]++
	}
	posImg := n - a.cursor[0]
	a.reserve(n)
	end := len(a.buf) - a.nPos
	for l := 1; l <= nreg; l++ {
		a.areas = append(a.areas, int32(a.cursor[l]))
		end -= a.cursor[l]
		a.cursor[l] = end
	}
	neg := a.buf[a.nNeg:]
	k := 0
	for i, v := range anomalyMap {
		if l := a.labels[i]; l != 0 {
			a.buf[a.cursor[l]] = v
			a.cursor[l]++
		} else {
			neg[k] = v
			k++
		}
	}
	a.nNeg += n - posImg
	a.nPos += posImg

	for _, v := range anomalyMap {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			a.nonFinite = true
			break
		}
	}
	lo, hi := slices.Min(anomalyMap), slices.Max(anomalyMap)
	if a.images == 0 {
		a.lo, a.hi = lo, hi
	} else {
		a.lo, a.hi = min(a.lo, lo), max(a.hi, hi)
	}
	a.images++
	return nil
}

// reserve makes room for n more pixels, keeping negatives at the front and
// positives at the back.
func (a *PixelAccumulator) reserve(n int) {
	if len(a.buf)-a.nNeg-a.nPos >= n {
		return
	}
	size := max(a.nNeg+a.nPos+n, len(a.buf)+len(a.buf)/2)
	nb := make([]float32, size)
	copy(nb, a.buf[:a.nNeg])
	copy(nb[size-a.nPos:], a.buf[len(a.buf)-a.nPos:])
	a.buf = nb
}

// Result computes the metrics. It sorts the pooled scores in place, so the
// accumulator is finished afterwards: Result returns the same value again
// and Add fails.
func (a *PixelAccumulator) Result() PixelMetrics {
	if a.done {
		return a.res
	}
	a.done = true
	nan := math.NaN()
	r := PixelMetrics{
		AUROC: nan, AUPRORef: nan, AUPRO: nan,
		Images: a.images, Pixels: a.nNeg + a.nPos, Positives: a.nPos, Regions: len(a.areas),
	}
	if a.images > 0 && !a.nonFinite {
		neg := a.buf[:a.nNeg]
		sortFloat32(neg)
		regions := make([][]float32, len(a.areas))
		end := len(a.buf)
		for i, ar := range a.areas {
			regions[i] = a.buf[end-int(ar) : end]
			end -= int(ar)
			sortFloat32(regions[i])
		}
		r.RefCurve = refProCurve(neg, regions, a.lo, a.hi)
		r.AUPRORef = r.RefCurve.AUC()
		r.AUROC, r.AUPRO = sweep(neg, regions)
	}
	a.res = r
	// The pooled scores are no longer needed: let the GC take them.
	a.buf, a.areas, a.fg, a.labels, a.cursor, a.lab = nil, nil, nil, nil, nil, labeler{}
	return r
}
