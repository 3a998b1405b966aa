package clip

import (
	"context"
	"fmt"

	"dapo/kernels/cpu"
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

// Hooks let a caller act between transformer blocks without the tower
// knowing about prompts: Before may return a different (e.g. longer)
// sequence to feed block `layer` (0-based) — deep-prompt insertion and
// blending — and After observes each block's output — feature layers and
// golden intermediates. Both may be nil.
type Hooks struct {
	Before func(layer int, x Seq) Seq
	After  func(layer int, x Seq)
}

// Transformer is a stack of pre-LN residual blocks.
type Transformer struct {
	Blocks    []Block
	Heads     int
	QuickGELU bool
	Causal    bool
}

// Forward runs every block over x (which it may overwrite) and returns the
// final sequence. It stops early with ctx's error when cancelled.
func (t *Transformer) Forward(ctx context.Context, x Seq, hooks Hooks) (Seq, error) {
	for i := range t.Blocks {
		if err := ctx.Err(); err != nil {
			return Seq{}, fmt.Errorf("transformer block %d: %w", i, err)
		}
		if hooks.Before != nil {
			x = hooks.Before(i, x)
		}
		t.Block(i, x)
		if hooks.After != nil {
			hooks.After(i, x)
		}
	}
	return x, nil
}

// Block applies block i in place:
//
//	x += out_proj(MHA(ln_1(x)))
//	x += c_proj(act(c_fc(ln_2(x))))
func (t *Transformer) Block(i int, x Seq) {
	blk := &t.Blocks[i]
	n, w := x.B*x.L, x.W
	h := make([]float32, n*w)
	cpu.LayerNorm(h, x.Data, n, w, blk.LN1.Weight, blk.LN1.Bias, cpu.LayerNormEps)
	qkv := make([]float32, n*3*w)
	cpu.Linear(qkv, h, n, w, 3*w, blk.InProj.Weight, blk.InProj.Bias)
	cpu.Attention(h, qkv, x.B, x.L, w, t.Heads, t.Causal)
	attn := qkv[:n*w] // reuse: q,k,v are no longer needed
	cpu.Linear(attn, h, n, w, w, blk.OutProj.Weight, blk.OutProj.Bias)
	cpu.Add(x.Data, attn)

	cpu.LayerNorm(h, x.Data, n, w, blk.LN2.Weight, blk.LN2.Bias, cpu.LayerNormEps)
	mlp := blk.FC.Out
	hidden := make([]float32, n*mlp)
	cpu.Linear(hidden, h, n, w, mlp, blk.FC.Weight, blk.FC.Bias)
	if t.QuickGELU {
		cpu.QuickGELU(hidden)
	} else {
		cpu.GELU(hidden)
	}
	cpu.Linear(h, hidden, n, mlp, w, blk.Proj.Weight, blk.Proj.Bias)
	cpu.Add(x.Data, h)
}
