package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSortFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	special := []float32{0, float32(math.Copysign(0, -1)), 1e-45, -1e-45, math.MaxFloat32,
		-math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), 1, -1}
	for it := range 300 {
		n := rng.IntN(5000)
		if it%50 == 0 {
			n = 200000
		}
		s := make([]float32, n)
		for i := range s {
			switch rng.IntN(4) {
			case 0:
				s[i] = special[rng.IntN(len(special))]
			case 1:
				s[i] = float32(rng.IntN(7)) - 3
			default:
				s[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(20)-10)))
			}
		}
		want := slices.Clone(s)
		slices.Sort(want)
		sortFloat32(s)
		for i := range s {
			// slices.Sort may order -0/+0 either way; values must match.
			if s[i] != want[i] {
				t.Fatalf("n=%d: index %d: %v, want %v", n, i, s[i], want[i])
			}
			if i > 0 && math.Signbit(float64(s[i-1])) == false && s[i-1] == 0 && s[i] == 0 && math.Signbit(float64(s[i])) {
				t.Fatalf("+0 before -0 at %d", i)
			}
		}
	}
}
