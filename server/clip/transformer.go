package clip

import (
	"context"

	"dapo/server/compute"
)

// Seq is a batch of token sequences, [B, L, W] row-major.
type Seq struct {
	B, L, W int
	Data    []float32
}

// NewSeq allocates a zeroed batch.
func NewSeq(b, l, w int) Seq { return Seq{B: b, L: l, W: w, Data: make([]float32, b*l*w)} }

// Row returns token i of sequence b.
func (s Seq) Row(b, i int) []float32 {
	off := (b*s.L + i) * s.W
	return s.Data[off : off+s.W]
}

// Clone copies the batch.
func (s Seq) Clone() Seq {
	return Seq{B: s.B, L: s.L, W: s.W, Data: append([]float32(nil), s.Data...)}
}

// host is s on the CPU backend, sharing its memory.
func (s Seq) host() compute.Seq {
	var t compute.Tensor
	if s.Data != nil {
		t = compute.Host(s.Data)
	}
	return compute.Seq{B: s.B, L: s.L, W: s.W, T: t}
}

func fromHost(s compute.Seq) Seq {
	var d []float32
	if s.T != nil {
		d = s.T.(compute.Host)
	}
	return Seq{B: s.B, L: s.L, W: s.W, Data: d}
}

// Hooks let a caller act between transformer blocks without the tower
// knowing about prompts: Before may return a different (e.g. longer)
// sequence to feed block `layer` (0-based) — deep-prompt insertion and
// blending — and After observes each block's output — feature layers and
// golden intermediates. Both may be nil. See compute.Hooks.
type Hooks struct {
	Before func(layer int, x Seq) Seq
	After  func(layer int, x Seq)
}

func (h Hooks) host() compute.Hooks {
	var c compute.Hooks
	if h.Before != nil {
		c.Before = func(i int, x compute.Seq) compute.Seq { return h.Before(i, fromHost(x)).host() }
	}
	if h.After != nil {
		c.After = func(i int, x compute.Seq) { h.After(i, fromHost(x)) }
	}
	return c
}

// Transformer is a stack of pre-LN residual blocks over host weights. Its
// passes run compute.Transformer — the tower code the GPU backend runs too
// — on the CPU backend (kernels/cpu), in place on the caller's slices.
type Transformer struct {
	Blocks    []Block
	Heads     int
	QuickGELU bool
	Causal    bool
}

// chunkRows is compute.Transformer.ChunkRows on the CPU: 2048 rows of
// whole sequences bound the scratch (see there) and keep the SGEMM's
// panels tall.
const chunkRows = 2048

// tower is t as a compute.Transformer on be, made per pass: encoded
// (half-precision) block weights are decoded just before each block into a
// buffer that belongs to this pass, so concurrent passes share nothing
// mutable.
func (t *Transformer) tower(be *compute.CPU) *compute.Transformer {
	ct := &compute.Transformer{Backend: be, Blocks: make([]compute.Block, len(t.Blocks)),
		Heads: t.Heads, QuickGELU: t.QuickGELU, Causal: t.Causal, ChunkRows: chunkRowsFor(be)}
	encoded := false
	for i := range t.Blocks {
		ct.Blocks[i] = t.Blocks[i].On(be)
		encoded = encoded || t.Blocks[i].encoded()
	}
	if encoded {
		var buf []float32
		var cur compute.Block
		ct.Weights = func(i int) *compute.Block {
			cur = t.Blocks[i].dense(&buf).On(be)
			return &cur
		}
	}
	return ct
}

// Forward runs every block over x (which it may overwrite) and returns the
// final sequence. It stops early with ctx's error when cancelled.
func (t *Transformer) Forward(ctx context.Context, x Seq, hooks Hooks) (Seq, error) {
	y, err := t.tower(&compute.CPU{}).Forward(ctx, x.host(), hooks.host())
	return fromHost(y), err
}

// Block applies block i in place:
//
//	x += out_proj(MHA(ln_1(x)))
//	x += c_proj(act(c_fc(ln_2(x))))
func (t *Transformer) Block(i int, x Seq) error {
	one := *t
	one.Blocks = t.Blocks[i : i+1]
	_, err := one.Forward(context.Background(), x, Hooks{})
	return err
}
