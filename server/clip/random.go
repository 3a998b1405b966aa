package clip

import (
	"math"
	"math/rand/v2"
	"strings"
)

// RandomSource returns a TensorSource of deterministic Gaussian values with
// CLIP-like scales (layer-norm weights near 1). It serves benchmarks and
// tests that need weights of real sizes without files; `dapo model init`
// writes proper random backbones.
func RandomSource(seed uint64) TensorSource {
	return func(name string, shape []int) ([]float32, error) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		var h uint64 = 1469598103934665603
		for i := 0; i < len(name); i++ {
			h = (h ^ uint64(name[i])) * 1099511628211
		}
		r := rand.New(rand.NewPCG(seed, h))
		std, mean := 0.02, 0.0
		if len(shape) == 2 {
			std = 1 / math.Sqrt(float64(shape[1]))
		}
		if isNormWeight(name) {
			mean, std = 1, 0.05
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(mean + std*r.NormFloat64())
		}
		return v, nil
	}
}

func isNormWeight(name string) bool {
	return strings.HasSuffix(name, ".weight") && strings.Contains(name, "ln_")
}
