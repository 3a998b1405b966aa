package metrics

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestLabel8VsFloodFill(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for it := range 2000 {
		w, h := 1+rng.IntN(40), 1+rng.IntN(40)
		p := rng.Float64()
		mask := make([]bool, w*h)
		for i := range mask {
			mask[i] = rng.Float64() < p
		}
		want, wn := bruteLabel8(mask, w, h)
		got := make([]int32, w*h)
		for i := range got {
			got[i] = -7 // Label8 must overwrite everything
		}
		if n := Label8(mask, w, h, got); n != wn || !slices.Equal(got, want) {
			t.Fatalf("case %d (%dx%d): %d regions, flood fill %d", it, w, h, n, wn)
		}
	}
}

func TestLabel8Shapes(t *testing.T) {
	// A U shape merges two provisional labels late; a diagonal chain is one
	// 8-connected region.
	u := []bool{
		true, false, true,
		true, false, true,
		true, true, true,
	}
	lab := make([]int32, 9)
	if n := Label8(u, 3, 3, lab); n != 1 || slices.Max(lab) != 1 {
		t.Errorf("U: n=%d labels %v", n, lab)
	}
	diag := []bool{
		false, false, true,
		false, true, false,
		true, false, false,
	}
	if n := Label8(diag, 3, 3, lab); n != 1 {
		t.Errorf("diagonal: n=%d", n)
	}
	if n := Label8(u, 4, 3, lab); n != 0 {
		t.Errorf("wrong size: n=%d, want 0", n)
	}
}
