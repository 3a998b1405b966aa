package clip

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestForwardCachedReusing: recording into an earlier tape's buffers —
// of the same shape, a larger one and a smaller one — gives the same
// output and gradients, bit for bit, as a fresh tape.
func TestForwardCachedReusing(t *testing.T) {
	const w = 8
	tw := randTower(21, 2, w, 2, true, false)
	ctx := context.Background()
	run := func(b, l int, old *Tape) (out, dx []float32, tape *Tape) {
		x := randVec(rand.New(rand.NewPCG(uint64(b), uint64(l))), b*l*w, 0, 1)
		r := randVec(rand.New(rand.NewPCG(uint64(l), uint64(b))), b*l*w, 0, 1)
		var y Seq
		var err error
		if old == nil {
			y, tape, err = tw.ForwardCached(ctx, Seq{B: b, L: l, W: w, Data: x}, Hooks{})
		} else {
			y, tape, err = tw.ForwardCachedReusing(ctx, Seq{B: b, L: l, W: w, Data: x}, Hooks{}, old)
		}
		if err != nil {
			t.Fatal(err)
		}
		d, err := tw.Backward(ctx, tape, Seq{B: b, L: l, W: w, Data: r}, BackwardHooks{})
		if err != nil {
			t.Fatal(err)
		}
		return slices.Clone(y.Data), d.Data, tape
	}
	_, _, prev := run(2, 6, nil)
	for _, sh := range [][2]int{{2, 6}, {3, 9}, {1, 4}} {
		wantOut, wantDx, _ := run(sh[0], sh[1], nil)
		gotOut, gotDx, tape := run(sh[0], sh[1], prev)
		if !bitEqual(gotOut, wantOut) || !bitEqual(gotDx, wantDx) {
			t.Errorf("shape %v: reusing a tape changed the result", sh)
		}
		if prev.tape != nil {
			t.Errorf("shape %v: the old tape still holds its buffers", sh)
		}
		prev = tape
	}
}
