package clip

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"dapo/kernels/cpu"
)

// promptCase is a 3-block tower with DAPO-style deep prompts: n rows P1
// inserted after row 0 before block 1, and rows 1..n blended with P2 as
// α·h + (1−α)·P2 before block 2. The loss reads the outputs of blocks 0
// and 1 (feature taps, through After) and the final output.
type promptCase struct {
	tw         *Transformer
	b, l, n, w int
	alpha      float32
	x, p1, p2  []float32
	rTap       [2][]float32 // loss weights on the outputs of blocks 0, 1
	rOut       []float32    // loss weight on the final output
}

func newPromptCase(quick, causal bool) *promptCase {
	c := &promptCase{b: 2, l: 5, n: 2, w: 8, alpha: 0.75}
	c.tw = randTower(7, 3, c.w, 2, quick, causal)
	rng := rand.New(rand.NewPCG(8, 9))
	c.x = randVec(rng, c.b*c.l*c.w, 0.2, 1)
	c.p1 = randVec(rng, c.n*c.w, 0, 1)
	c.p2 = randVec(rng, c.n*c.w, 0, 1)
	c.rTap[0] = randVec(rng, c.b*c.l*c.w, 0, 1)
	c.rTap[1] = randVec(rng, c.b*(c.l+c.n)*c.w, 0, 1)
	c.rOut = randVec(rng, c.b*(c.l+c.n)*c.w, 0, 1)
	return c
}

// hooks are the forward hooks; taps (if not nil) receives copies of the
// outputs of every block.
func (c *promptCase) hooks(taps *[][]float32) Hooks {
	h := Hooks{Before: func(layer int, x Seq) Seq {
		switch layer {
		case 1:
			return Seq{B: x.B, L: x.L + c.n, W: x.W, Data: insertRows(x.Data, c.p1, x.B, x.L, c.n, x.W)}
		case 2:
			blendRows(x.Data, c.p2, x.B, x.L, c.n, x.W, c.alpha)
		}
		return x
	}}
	if taps != nil {
		h.After = func(_ int, x Seq) { *taps = append(*taps, slices.Clone(x.Data)) }
	}
	return h
}

// backwardHooks mirror hooks, collecting the prompt gradients into dP1 and
// dP2 and injecting the tap losses' gradients.
func (c *promptCase) backwardHooks(dP1, dP2 []float32) BackwardHooks {
	w, n := c.w, c.n
	return BackwardHooks{
		After: func(layer int, dx Seq) {
			if layer < 2 {
				cpu.Add(dx.Data, c.rTap[layer])
			}
		},
		Before: func(layer int, dx Seq) Seq {
			switch layer {
			case 1: // insertion: the prompt rows' gradient is P1's, summed over the batch
				out := NewSeq(dx.B, dx.L-n, w)
				for s := 0; s < dx.B; s++ {
					copy(out.Row(s, 0), dx.Row(s, 0))
					for i := 0; i < n; i++ {
						cpu.Add(dP1[i*w:(i+1)*w], dx.Row(s, 1+i))
					}
					copy(out.Data[(s*out.L+1)*w:(s+1)*out.L*w], dx.Data[(s*dx.L+1+n)*w:(s+1)*dx.L*w])
				}
				return out
			case 2: // blend: (1−α)·dx to P2, α·dx to the block-1 output
				for s := 0; s < dx.B; s++ {
					for i := 0; i < n; i++ {
						row := dx.Row(s, 1+i)
						for j, v := range row {
							dP2[i*w+j] += (1 - c.alpha) * v
							row[j] = c.alpha * v
						}
					}
				}
			}
			return dx
		},
	}
}

// loss64 is the test loss through the float64 reference tower.
func (c *promptCase) loss64(x0, p1, p2 []float64) float64 {
	x, l := slices.Clone(x0), c.l
	var loss float64
	for i := range c.tw.Blocks {
		switch i {
		case 1:
			x = insertRows(x, p1, c.b, l, c.n, c.w)
			l += c.n
		case 2:
			blendRows(x, p2, c.b, l, c.n, c.w, float64(c.alpha))
		}
		x = block64(c.tw, i, x, c.b, l, c.w)
		if i < 2 {
			loss += dot64(c.rTap[i], x)
		}
	}
	return loss + dot64(c.rOut, x)
}

// gradients runs the float32 forward and backward, with a full or a
// checkpointed tape.
func (c *promptCase) gradients(t *testing.T, checkpoint bool) (dx, dP1, dP2 []float32) {
	t.Helper()
	ctx := context.Background()
	in := Seq{B: c.b, L: c.l, W: c.w, Data: slices.Clone(c.x)}
	forward := c.tw.ForwardCached
	if checkpoint {
		forward = c.tw.ForwardCheckpointed
	}
	out, tape, err := forward(ctx, in, c.hooks(nil))
	if err != nil {
		t.Fatal(err)
	}
	// The tape must own its activations (gorgonia reuses op outputs in
	// place): scribbling over the input and the output changes nothing.
	for i := range out.Data {
		out.Data[i] = float32(math.NaN())
	}
	for i := range in.Data {
		in.Data[i] = float32(math.NaN())
	}
	dP1, dP2 = make([]float32, c.n*c.w), make([]float32, c.n*c.w)
	dOut := Seq{B: c.b, L: c.l + c.n, W: c.w, Data: c.rOut}
	d, err := c.tw.Backward(ctx, tape, dOut, c.backwardHooks(dP1, dP2))
	if err != nil {
		t.Fatal(err)
	}
	if d.B != c.b || d.L != c.l || d.W != c.w {
		t.Fatalf("input gradient is %d×%d×%d, want %d×%d×%d", d.B, d.L, d.W, c.b, c.l, c.w)
	}
	return d.Data, dP1, dP2
}

func TestTowerBackwardPromptHooks(t *testing.T) {
	for _, kind := range towerKinds {
		t.Run(kind.name, func(t *testing.T) {
			c := newPromptCase(kind.quick, kind.causal)
			var taps [][]float32
			out, err := c.tw.Forward(context.Background(), Seq{B: c.b, L: c.l, W: c.w, Data: slices.Clone(c.x)}, c.hooks(&taps))
			if err != nil {
				t.Fatal(err)
			}
			if got := float64(dotF32(c.rOut, out.Data) + dotF32(c.rTap[0], taps[0]) + dotF32(c.rTap[1], taps[1])); math.Abs(got-c.loss64(to64(c.x), to64(c.p1), to64(c.p2))) > 1e-4*math.Abs(got) {
				t.Fatalf("float32 loss %v off the float64 reference", got)
			}

			dx, dP1, dP2 := c.gradients(t, false)
			x64, p164, p264 := to64(c.x), to64(c.p1), to64(c.p2)
			checkGrad(t, "dx", dx, fdGrad(func(x []float64) float64 { return c.loss64(x, p164, p264) }, x64), 1e-5)
			checkGrad(t, "dP1 (inserted)", dP1, fdGrad(func(p []float64) float64 { return c.loss64(x64, p, p264) }, p164), 1e-5)
			checkGrad(t, "dP2 (blended)", dP2, fdGrad(func(p []float64) float64 { return c.loss64(x64, p164, p) }, p264), 1e-5)

			cdx, cdP1, cdP2 := c.gradients(t, true)
			if !bitEqual(cdx, dx) || !bitEqual(cdP1, dP1) || !bitEqual(cdP2, dP2) {
				t.Error("checkpointed tape: gradients differ from the full tape's")
			}
		})
	}
}

// The recorded forwards must be Forward exactly: same output and same
// After-hook observations, bit for bit. The larger shape drives the packed
// SGEMM paths.
func TestForwardCachedBitIdentical(t *testing.T) {
	for _, sz := range []struct{ b, l, w, heads int }{{2, 5, 8, 2}, {2, 37, 64, 4}} {
		for _, kind := range towerKinds {
			t.Run(fmt.Sprintf("%s_%dx%dx%d", kind.name, sz.b, sz.l, sz.w), func(t *testing.T) {
				c := newPromptCase(kind.quick, kind.causal)
				c.b, c.l, c.w = sz.b, sz.l, sz.w
				c.tw = randTower(11, 3, sz.w, sz.heads, kind.quick, kind.causal)
				rng := rand.New(rand.NewPCG(12, 13))
				c.x = randVec(rng, c.b*c.l*c.w, 0, 1)
				c.p1 = randVec(rng, c.n*c.w, 0, 1)
				c.p2 = randVec(rng, c.n*c.w, 0, 1)

				run := func(f func(context.Context, Seq, Hooks) (Seq, error)) (Seq, [][]float32) {
					var taps [][]float32
					out, err := f(context.Background(), Seq{B: c.b, L: c.l, W: c.w, Data: slices.Clone(c.x)}, c.hooks(&taps))
					if err != nil {
						t.Fatal(err)
					}
					return out, taps
				}
				drop := func(f func(context.Context, Seq, Hooks) (Seq, *Tape, error)) func(context.Context, Seq, Hooks) (Seq, error) {
					return func(ctx context.Context, x Seq, h Hooks) (Seq, error) {
						out, _, err := f(ctx, x, h)
						return out, err
					}
				}
				want, wantTaps := run(c.tw.Forward)
				for name, f := range map[string]func(context.Context, Seq, Hooks) (Seq, *Tape, error){
					"ForwardCached": c.tw.ForwardCached, "ForwardCheckpointed": c.tw.ForwardCheckpointed,
				} {
					got, gotTaps := run(drop(f))
					if got.B != want.B || got.L != want.L || !bitEqual(got.Data, want.Data) {
						t.Errorf("%s: output differs from Forward", name)
					}
					for i := range wantTaps {
						if !bitEqual(gotTaps[i], wantTaps[i]) {
							t.Errorf("%s: block %d output differs from Forward", name, i)
						}
					}
				}
			})
		}
	}
}
