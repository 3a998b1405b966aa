package computetest

import (
	"math"
	"testing"
)

// TestRound checks Round against exact float64 arithmetic: the result has
// at most bits mantissa bits, is the nearest such value, and halfway cases
// go away from zero.
func TestRound(t *testing.T) {
	for _, bits := range []int{TF32, BF16} {
		ulp := math.Ldexp(1, -bits) // spacing at [1, 2)
		cases := []struct{ in, want float64 }{
			{1, 1},
			{1 + ulp, 1 + ulp},
			{1 + ulp/2, 1 + ulp},        // tie: away from zero
			{-(1 + ulp/2), -(1 + ulp)},  // tie, negative
			{1 + ulp/2 - 1e-7, 1},       // just below the tie
			{1.5 + ulp*0.75, 1.5 + ulp}, // nearest
			{2 - ulp/4, 2},              // rounds up into the next binade
		}
		for _, c := range cases {
			if got := float64(Round(float32(c.in), bits)); got != c.want {
				t.Errorf("bits %d: Round(%.10g) = %.10g, want %.10g", bits, c.in, got, c.want)
			}
		}
		for _, x := range []float32{0, float32(math.Inf(1)), float32(math.Inf(-1))} {
			if Round(x, bits) != x {
				t.Errorf("bits %d: Round(%v) changed it", bits, x)
			}
		}
		if v := Round(float32(math.NaN()), bits); v == v {
			t.Errorf("bits %d: NaN became %v", bits, v)
		}
	}
}
