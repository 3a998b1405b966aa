package scoring

import (
	"fmt"
	"math"
)

// Smoothing is an optional Gaussian blur of the final anomaly map, as
// scipy.ndimage.gaussian_filter does it (the AnomalyCLIP-style σ=4
// post-processing); DAPO does not smooth.
type Smoothing struct {
	// Sigma is the standard deviation in output pixels; 0 disables.
	Sigma float64
	// Truncate sets the kernel radius to int(Truncate·Sigma + 0.5), scipy's
	// rule; 0 means scipy's default 4. (A kornia-style odd kernel size k
	// corresponds to radius (k-1)/2.)
	Truncate float64
}

// gaussianKernel is scipy's _gaussian_kernel1d: exp(-0.5/σ²·x²) for
// x in [-r, r], normalised to sum 1. It returns the half kernel w[0..r].
func gaussianKernel(sm Smoothing) ([]float64, error) {
	if !(sm.Sigma > 0) || math.IsInf(sm.Sigma, 0) {
		return nil, fmt.Errorf("scoring: smoothing sigma %g must be positive and finite", sm.Sigma)
	}
	trunc := sm.Truncate
	if trunc == 0 {
		trunc = 4
	}
	if !(trunc > 0) || math.IsInf(trunc, 0) {
		return nil, fmt.Errorf("scoring: smoothing truncate %g must be positive and finite", trunc)
	}
	r := int(trunc*sm.Sigma + 0.5)
	if r > maxSize {
		return nil, fmt.Errorf("scoring: smoothing radius %d too large", r)
	}
	c := -0.5 / (sm.Sigma * sm.Sigma)
	full := make([]float64, 2*r+1)
	var sum float64
	for i := range full {
		x := float64(i - r)
		full[i] = math.Exp(c * x * x)
		sum += full[i]
	}
	half := make([]float64, r+1)
	for i := range half {
		half[i] = full[r+i] / sum
	}
	return half, nil
}

// GaussianSmooth returns m (w×h, row-major) blurred along axis 0 (down the
// columns), then along axis 1, with scipy's mode "reflect" (edge pixel
// repeated: d c b a | a b c d). Each pass accumulates in float64 and rounds
// to float32, as scipy does for a float32 array.
func GaussianSmooth(m []float32, w, h int, sm Smoothing) ([]float32, error) {
	if w < 1 || h < 1 || len(m) != w*h {
		return nil, fmt.Errorf("scoring: smooth: %d values for %dx%d", len(m), w, h)
	}
	k, err := gaussianKernel(sm)
	if err != nil {
		return nil, err
	}
	return gaussianSmooth(m, w, h, k), nil
}

func gaussianSmooth(m []float32, w, h int, k []float64) []float32 {
	r := len(k) - 1
	n := max(w, h)
	pad := make([]float64, n+2*r) // one line with reflected borders
	tmp := make([]float32, len(m))
	for x := 0; x < w; x++ { // axis 0, down each column
		line := pad[:h+2*r]
		for i := range line {
			line[i] = float64(m[reflect(i-r, h)*w+x])
		}
		for y := 0; y < h; y++ {
			tmp[y*w+x] = float32(correlateAt(line[y:y+2*r+1], k))
		}
	}
	out := make([]float32, len(m))
	for y := 0; y < h; y++ { // axis 1, along each row
		line := pad[:w+2*r]
		for i := range line {
			line[i] = float64(tmp[y*w+reflect(i-r, w)])
		}
		for x := 0; x < w; x++ {
			out[y*w+x] = float32(correlateAt(line[x:x+2*r+1], k))
		}
	}
	return out
}

// correlateAt is scipy's symmetric-kernel correlation at the centre of
// win (length 2r+1): win[r]·k0 + Σ_j (win[r-j] + win[r+j])·k_j.
func correlateAt(win []float64, k []float64) float64 {
	r := len(k) - 1
	s := win[r] * k[0]
	for j := 1; j <= r; j++ {
		s += (win[r-j] + win[r+j]) * k[j]
	}
	return s
}

// reflect maps an index outside [0, n) by half-sample symmetric reflection,
// periodic with period 2n so that radii beyond n still work.
func reflect(i, n int) int {
	p := 2 * n
	i %= p
	if i < 0 {
		i += p
	}
	if i >= n {
		i = p - 1 - i
	}
	return i
}
