package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestLayerNormBackward(t *testing.T) {
	for _, tc := range []struct{ rows, width int }{{1, 8}, {5, 13}, {7, 16}} {
		t.Run(fmt.Sprintf("%dx%d", tc.rows, tc.width), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.width)))
			n := tc.rows * tc.width
			x := randVec(rng, n, 2)
			for i := range x { // offset rows, as residual streams are
				x[i] += 0.5
			}
			weight := randVec(rng, tc.width, 1.5)
			bias := randVec(rng, tc.width, 0.5)
			r := randVec(rng, n, 1)

			y := make([]float32, n)
			LayerNorm(y, x, tc.rows, tc.width, weight, bias, LayerNormEps)
			checkClose(t, "layer norm", y, layerNorm64(to64(x), tc.rows, tc.width, weight, bias, LayerNormEps), 1e-6)

			got := withPrior(rng, n, func(dx []float32) {
				LayerNormBackward(dx, r, x, tc.rows, tc.width, weight, LayerNormEps)
			})
			want := fdGrad(func(x []float64) float64 {
				return dot64(r, layerNorm64(x, tc.rows, tc.width, weight, bias, LayerNormEps))
			}, to64(x))
			checkGrad(t, "dx", got, want, 1e-5)
		})
	}
}
