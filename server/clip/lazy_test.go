package clip

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
)

// f64Encoding is an Encoded test double: the values kept as float64 (exact
// for float32 data), decoded on demand.
type f64Encoding struct{ v []float64 }

func (e f64Encoding) Len() int { return len(e.v) }

func (e f64Encoding) Decode(dst []float32, from int) {
	for i := range dst {
		dst[i] = float32(e.v[from+i])
	}
}

// encodeTower returns a copy of t whose block matrices are held encoded.
func encodeTower(t *Transformer) *Transformer {
	lazy := *t
	lazy.Blocks = make([]Block, len(t.Blocks))
	for i, b := range t.Blocks {
		for _, l := range b.linears() {
			l.enc, l.Weight = f64Encoding{v: to64(l.Weight)}, nil
		}
		lazy.Blocks[i] = b
	}
	return &lazy
}

// TestEncodedTowerBitIdentical: a tower whose matrices are decoded per
// block computes exactly what the dense tower computes, forward (plain,
// recorded and checkpointed) and backward, over several chunks.
func TestEncodedTowerBitIdentical(t *testing.T) {
	const layers, w, heads, seq = 3, 32, 4, 700 // 3 chunks of 2 sequences
	for _, quick := range []bool{false, true} {
		dense := randTower(7, layers, w, heads, quick, false)
		lazy := encodeTower(dense)
		for i := range lazy.Blocks {
			b := &lazy.Blocks[i]
			if !b.InProj.Encoded() || b.InProj.Weight != nil || b.Proj.Weight != nil {
				t.Fatal("encodeTower left a dense weight")
			}
		}
		rng := rand.New(rand.NewPCG(3, 4))
		x := Seq{B: 5, L: seq, W: w, Data: randVec(rng, 5*seq*w, 0, 1)}
		ctx := context.Background()

		want, err := dense.Forward(ctx, x.Clone(), Hooks{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := lazy.Forward(ctx, x.Clone(), Hooks{})
		if err != nil {
			t.Fatal(err)
		}
		if !bitEqual(got.Data, want.Data) {
			t.Fatalf("quick=%v: Forward over encoded weights differs", quick)
		}

		dOut := randVec(rng, len(x.Data), 0, 1)
		backward := func(tw *Transformer, checkpoint bool) []float32 {
			f := tw.ForwardCached
			if checkpoint {
				f = tw.ForwardCheckpointed
			}
			out, tape, err := f(ctx, x.Clone(), Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			if !bitEqual(out.Data, want.Data) {
				t.Fatalf("quick=%v checkpoint=%v: recorded forward differs", quick, checkpoint)
			}
			dx, err := tw.Backward(ctx, tape, Seq{B: x.B, L: x.L, W: w, Data: dOut}, BackwardHooks{})
			if err != nil {
				t.Fatal(err)
			}
			return dx.Data
		}
		for _, cp := range []bool{false, true} {
			if !bitEqual(backward(lazy, cp), backward(dense, cp)) {
				t.Errorf("quick=%v checkpoint=%v: Backward over encoded weights differs", quick, cp)
			}
		}
		// The encoded tower was only read.
		if !lazy.Blocks[0].FC.Encoded() || lazy.Blocks[0].FC.Weight != nil {
			t.Error("running the tower changed its encoded Linear")
		}
	}
}

// TestLinearDense: Dense decodes an encoded weight exactly, across the
// spans decodeParallel splits it into, and returns a dense one as is.
func TestLinearDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 2*decodeSpan + 12345 // three spans, the last partial
	v := randVec(rng, n, 0, 1)
	l := Linear{Out: n / 5, In: 5, enc: f64Encoding{v: to64(v)}}
	if !l.Encoded() || l.Weight != nil {
		t.Fatal("encoded Linear reports dense")
	}
	if got := l.Dense(); !bitEqual(got, v) {
		t.Error("Dense differs from the encoded values")
	}
	d := Linear{Weight: v, Out: n / 5, In: 5}
	if d.Encoded() || &d.Dense()[0] != &v[0] {
		t.Error("Dense of a dense Linear is not its Weight")
	}
}

// TestBindLazy: the four matrices of each block come from the lazy source
// when it yields them and from the tensor source otherwise; Densify then
// gives the same values as Bind.
func TestBindLazy(t *testing.T) {
	cfg := Config{EmbedDim: 16,
		Vision: VisionCfg{ImageSize: 32, Layers: 2, Width: 32, PatchSize: 16, HeadWidth: 16, MLPRatio: 4},
		Text:   TextCfg{ContextLength: 8, VocabSize: 50, Width: 32, Heads: 2, Layers: 2}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	values := map[string][]float32{}
	src := func(name string, shape []int) ([]float32, error) {
		if v, ok := values[name]; ok {
			return v, nil
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		rng := rand.New(rand.NewPCG(uint64(len(values)), 9))
		values[name] = randVec(rng, n, 0, 1)
		return values[name], nil
	}
	dense, err := Bind(cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	asked := 0
	lazySrc := func(name string, shape []int) Encoded {
		asked++
		if strings.HasSuffix(name, "c_proj.weight") {
			return nil // this one stays dense
		}
		v, _ := src(name, shape)
		return f64Encoding{v: to64(v)}
	}
	lazy, err := BindLazy(cfg, src, lazySrc)
	if err != nil {
		t.Fatal(err)
	}
	if want := 4 * (cfg.Vision.Layers + cfg.Text.Layers); asked != want {
		t.Errorf("lazy source asked for %d tensors, want %d (the block matrices)", asked, want)
	}
	b := lazy.Vision.Blocks[1]
	if !b.InProj.Encoded() || !b.OutProj.Encoded() || !b.FC.Encoded() || b.Proj.Encoded() {
		t.Errorf("encoded: in_proj %v out_proj %v c_fc %v c_proj %v, want true true true false",
			b.InProj.Encoded(), b.OutProj.Encoded(), b.FC.Encoded(), b.Proj.Encoded())
	}
	if b.InProj.Weight != nil || b.Proj.Weight == nil || b.InProj.Bias == nil {
		t.Error("an encoded Weight is set, or a dense one or a bias is missing")
	}
	if !lazy.Encoded() || dense.Encoded() {
		t.Error("Weights.Encoded is wrong")
	}
	lazy.Densify()
	if lazy.Encoded() {
		t.Error("Densify left encoded weights")
	}
	for i, b := range lazy.Text.Blocks {
		for k, l := range b.linears() {
			if !bitEqual(l.Weight, dense.Text.Blocks[i].linears()[k].Weight) {
				t.Errorf("text block %d matrix %d differs after Densify", i, k)
			}
		}
	}

	// An encoding of the wrong size is reported, not run.
	_, err = BindLazy(cfg, src, func(name string, shape []int) Encoded {
		return f64Encoding{v: make([]float64, 3)}
	})
	if err == nil || !strings.Contains(err.Error(), "in_proj_weight") {
		t.Errorf("a mis-sized encoding bound: %v", err)
	}
}
