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
// final sequence. It stops early with ctx's error when cancelled. One
// scratch serves every block: a ViT-L/14 block at 518 px would otherwise
// allocate 40 MB per block for the garbage collector to clear.
func (t *Transformer) Forward(ctx context.Context, x Seq, hooks Hooks) (Seq, error) {
	var s forwardScratch
	for i := range t.Blocks {
		if err := ctx.Err(); err != nil {
			return Seq{}, fmt.Errorf("transformer block %d: %w", i, err)
		}
		if hooks.Before != nil {
			x = hooks.Before(i, x)
		}
		t.block(i, x, &s, nil)
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
	var s forwardScratch
	t.block(i, x, &s, nil)
}

// forwardScratch is a block's working memory, reused across blocks: h the
// width-wide activations, big the in_proj output and later the MLP hidden
// layer, hidden the activation output when the pre-activation is recorded,
// weights the block's matrices decoded from encoded (lazily bound) weights
// (50 MB for a ViT-L/14 block; unused when the weights are dense).
type forwardScratch struct{ h, big, hidden, weights []float32 }

// chunkRows bounds the rows (batch·tokens) a block processes at once. A
// block's scratch is about 9·width floats per row; DAPO's text side (211
// prompt sequences of 81 tokens, 17 091 rows) would otherwise hold 260 MB
// of scratch at ViT-L's text width. Chunks of whole sequences keep
// attention intact, and 2048 rows still give the SGEMM tall enough panels
// that packing the weights once per chunk costs a few percent.
const chunkRows = 2048

// block is Block over scratch s, in chunks of whole sequences of at most
// chunkRows rows (at least one sequence). With rec non-nil it also keeps
// qkv, mid and pre in rec (whose buffers are reused when large enough);
// the arithmetic and the chunks are the same either way, so recorded and
// plain forwards agree bit for bit.
//
// Encoded weights are decoded into s.weights first, once for all chunks.
func (t *Transformer) block(i int, x Seq, s *forwardScratch, rec *blockTape) {
	blk := t.Blocks[i].dense(&s.weights)
	w, mlp := x.W, blk.FC.Out
	per := max(1, chunkRows/max(x.L, 1)) // sequences per chunk
	if rec != nil {
		n := x.B * x.L
		rec.qkv = grow(rec.qkv, n*3*w)
		rec.mid = grow(rec.mid, n*w)
		rec.pre = grow(rec.pre, n*mlp)
	}
	for b0 := 0; b0 < x.B; b0 += per {
		b1 := min(b0+per, x.B)
		r0, r1 := b0*x.L, b1*x.L // rows of this chunk
		part := Seq{B: b1 - b0, L: x.L, W: w, Data: x.Data[r0*w : r1*w]}
		var cr *chunkRecord
		if rec != nil {
			cr = &chunkRecord{qkv: rec.qkv[r0*3*w : r1*3*w], mid: rec.mid[r0*w : r1*w], pre: rec.pre[r0*mlp : r1*mlp]}
		}
		t.blockChunk(blk, part, s, cr)
	}
}

// chunkRecord is the part of a blockTape that one chunk fills.
type chunkRecord struct{ qkv, mid, pre []float32 }

// blockChunk applies blk (with dense weights) in place to x, whole
// sequences. Both residual projections accumulate into x in the SGEMM
// itself; the c_fc bias and the activation are one pass.
func (t *Transformer) blockChunk(blk *Block, x Seq, s *forwardScratch, rec *chunkRecord) {
	n, w, mlp := x.B*x.L, x.W, blk.FC.Out
	s.h = grow(s.h, n*w)
	h := s.h
	var qkv, pre, hidden []float32
	if rec != nil {
		s.hidden = grow(s.hidden, n*mlp)
		qkv, pre, hidden = rec.qkv, rec.pre, s.hidden
	} else {
		s.big = grow(s.big, n*max(3*w, mlp))
		qkv, pre = s.big[:n*3*w], s.big[:n*mlp] // qkv is dead once attention ran
		hidden = pre
	}

	cpu.LayerNorm(h, x.Data, n, w, blk.LN1.Weight, blk.LN1.Bias, cpu.LayerNormEps)
	cpu.Linear(qkv, h, n, w, 3*w, blk.InProj.Weight, blk.InProj.Bias)
	cpu.Attention(h, qkv, x.B, x.L, w, t.Heads, t.Causal)
	cpu.LinearResidual(x.Data, h, n, w, w, blk.OutProj.Weight, blk.OutProj.Bias)
	if rec != nil {
		copy(rec.mid, x.Data)
	}

	cpu.LayerNorm(h, x.Data, n, w, blk.LN2.Weight, blk.LN2.Bias, cpu.LayerNormEps)
	cpu.Linear(pre, h, n, w, mlp, blk.FC.Weight, nil)
	if t.QuickGELU {
		cpu.BiasQuickGELU(hidden, pre, n, mlp, blk.FC.Bias)
	} else {
		cpu.BiasGELU(hidden, pre, n, mlp, blk.FC.Bias)
	}
	cpu.LinearResidual(x.Data, hidden, n, mlp, w, blk.Proj.Weight, blk.Proj.Bias)
}

// grow returns buf resized to n, reallocating only when it is too small.
// The contents are not cleared.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}
