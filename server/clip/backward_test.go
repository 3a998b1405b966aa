package clip

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"dapo/kernels/cpu"
)

// towerKinds are the two tower flavours: vision-like and text-like.
var towerKinds = []struct {
	name          string
	quick, causal bool
}{
	{"quickgelu", true, false},
	{"gelu_causal", false, true},
}

func TestBlockBackward(t *testing.T) {
	for _, kind := range towerKinds {
		t.Run(kind.name, func(t *testing.T) {
			const b, l, w = 2, 7, 12
			tw := randTower(3, 1, w, 2, kind.quick, kind.causal)
			rng := rand.New(rand.NewPCG(4, 5))
			x := randVec(rng, b*l*w, 0.2, 1)
			r := randVec(rng, b*l*w, 0, 1)

			out, tape, err := tw.ForwardCached(context.Background(), Seq{B: b, L: l, W: w, Data: slices.Clone(x)}, Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(out.Data, block64(tw, 0, to64(x), b, l, w)); e > 1e-5 {
				t.Fatalf("forward off the float64 reference by %.3g", e)
			}
			dx, err := tw.Backward(context.Background(), tape, Seq{B: b, L: l, W: w, Data: r}, BackwardHooks{})
			if err != nil {
				t.Fatal(err)
			}
			want := fdGrad(func(x []float64) float64 { return dot64(r, block64(tw, 0, x, b, l, w)) }, to64(x))
			checkGrad(t, "dx", dx.Data, want, 1e-5)
		})
	}
}

// All loss terms may enter through After: a nil dOut is zeros, and After
// on the last block is the same as dOut.
func TestBackwardAfterOnLastBlockIsDOut(t *testing.T) {
	const b, l, w = 2, 6, 8
	tw := randTower(14, 2, w, 2, true, false)
	rng := rand.New(rand.NewPCG(15, 16))
	x := randVec(rng, b*l*w, 0, 1)
	r := randVec(rng, b*l*w, 0, 1)
	ctx := context.Background()
	_, tape, err := tw.ForwardCached(ctx, Seq{B: b, L: l, W: w, Data: x}, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := tw.Backward(ctx, tape, Seq{B: b, L: l, W: w, Data: r}, BackwardHooks{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := tw.Backward(ctx, tape, Seq{}, BackwardHooks{After: func(layer int, dx Seq) {
		if layer == 1 {
			cpu.Add(dx.Data, r)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !bitEqual(got.Data, want.Data) {
		t.Error("After on the last block differs from dOut")
	}
	if tape.Bytes() != 2*TapeBytesPerBlock(b, l, w, 4*w, false) {
		t.Errorf("tape holds %d bytes, want %d", tape.Bytes(), 2*TapeBytesPerBlock(b, l, w, 4*w, false))
	}
}

func TestBackwardErrors(t *testing.T) {
	const b, l, w = 1, 5, 8
	tw := randTower(17, 2, w, 2, true, false)
	x := Seq{B: b, L: l, W: w, Data: make([]float32, b*l*w)}
	_, tape, err := tw.ForwardCached(context.Background(), x, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tw.Backward(ctx, tape, Seq{}, BackwardHooks{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
	if _, err := tw.Backward(context.Background(), tape, NewSeq(b, l+1, w), BackwardHooks{}); err == nil {
		t.Error("wrong dOut shape: no error")
	}
	other := randTower(17, 2, w, 2, true, false)
	if _, err := other.Backward(context.Background(), tape, Seq{}, BackwardHooks{}); err == nil {
		t.Error("tape of another tower: no error")
	}
	bad := BackwardHooks{Before: func(_ int, dx Seq) Seq { return NewSeq(dx.B, dx.L+1, dx.W) }}
	if _, err := tw.Backward(context.Background(), tape, Seq{}, bad); err == nil {
		t.Error("Before hook returning the wrong shape: no error")
	}
}

// The figures quoted in Tape's comment (ViT-L/14 at 518 px, batch 8).
func TestTapeBytesPerBlockViTL518(t *testing.T) {
	if got := TapeBytesPerBlock(8, 1374, 1024, 4096, false); got != 405_209_088 {
		t.Errorf("full tape: %d bytes per block", got)
	}
	if got := TapeBytesPerBlock(8, 1374, 1024, 4096, true); got != 45_023_232 {
		t.Errorf("checkpointed tape: %d bytes per block", got)
	}
}
