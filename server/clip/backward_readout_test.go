package clip

import (
	"math/rand/v2"
	"testing"
)

func TestReadoutBackward(t *testing.T) {
	const b, l, w, e = 3, 6, 8, 5
	rng := rand.New(rand.NewPCG(18, 19))
	ln := LayerNorm{Weight: randVec(rng, w, 1, 0.3), Bias: randVec(rng, w, 0, 0.1)}
	proj := randVec(rng, w*e, 0, 0.5)
	final := Seq{B: b, L: l, W: w, Data: randVec(rng, b*l*w, 0.3, 1)}
	r := randVec(rng, b*e, 0, 1)
	rows := []int{4, 0, 5}

	// readout64 is ln + projection of the chosen row per sequence.
	readout64 := func(x []float64, rows []int) []float64 {
		sel := make([]float64, 0, b*w)
		for n := 0; n < b; n++ {
			off := (n*l + rows[n]) * w
			sel = append(sel, x[off:off+w]...)
		}
		return matMul64(layerNorm64(sel, b, w, ln), b, w, e, proj)
	}

	txt := &Text{Config: Config{EmbedDim: e}, W: &TextWeights{LNFinal: ln, Projection: proj}}
	if err := relErr(txt.Readout(final, rows), readout64(to64(final.Data), rows)); err > 1e-5 {
		t.Fatalf("Readout off the float64 reference by %.3g", err)
	}
	got := txt.ReadoutBackward(final, rows, r)
	checkGrad(t, "text readout", got.Data, fdGrad(func(x []float64) float64 { return dot64(r, readout64(x, rows)) }, to64(final.Data)), 1e-5)

	vis := &Vision{Config: Config{EmbedDim: e}, W: &VisionWeights{LNPost: ln, Proj: proj}}
	cls := make([]int, b)
	if err := relErr(vis.Global(final), readout64(to64(final.Data), cls)); err > 1e-5 {
		t.Fatalf("Global off the float64 reference by %.3g", err)
	}
	got = vis.GlobalBackward(final, r)
	checkGrad(t, "vision global", got.Data, fdGrad(func(x []float64) float64 { return dot64(r, readout64(x, cls)) }, to64(final.Data)), 1e-5)
}
