package evaluate

import (
	"fmt"
	"math"

	"dapo/shared/scoring"
)

// subsetProbs rebuilds the layer sum of the subset softmax maps, pixel-major
// [S*S*Cs] (§3 "defect type per pixel", steps 2-3), independently of the
// scoring stage's own: from the per-layer logits (Options.KeepPerLayer)
// with a float32 softmax, scoring.Upsample and the float32 layer sum in
// feature-layer order. The test checks Subset.Probs against it.
func subsetProbs(res *scoring.Result, subset []int, grid int) ([]float32, error) {
	if len(res.Layers) == 0 {
		return nil, fmt.Errorf("evaluate: per-layer results missing (KeepPerLayer off)")
	}
	c, cs, gg, s := res.Classes, len(subset), grid*grid, res.Size
	sum := make([]float32, s*s*cs)
	patch := make([]float32, gg*cs)
	logits := make([]float32, cs)
	for li, l := range res.Layers {
		if len(l.Logits) != gg*c {
			return nil, fmt.Errorf("evaluate: layer %d has %d logits, want %d×%d", li, len(l.Logits), gg, c)
		}
		for p := range gg {
			for i, k := range subset {
				logits[i] = l.Logits[p*c+k]
			}
			softmax32(patch[p*cs:(p+1)*cs], logits)
		}
		up, err := scoring.Upsample(patch, grid, grid, cs, s, s)
		if err != nil {
			return nil, err
		}
		for i, v := range up {
			sum[i] += v
		}
	}
	return sum, nil
}

// softmax32 is the scoring stage's softmax: subtract the max, exponentiate
// in float64 rounded to float32, sum in order in float32, multiply by the
// reciprocal.
func softmax32(dst, src []float32) {
	m := src[0]
	for _, x := range src[1:] {
		m = max(m, x)
	}
	var sum float32
	for i, x := range src {
		e := float32(math.Exp(float64(x - m)))
		dst[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range dst[:len(src)] {
		dst[i] *= inv
	}
}
