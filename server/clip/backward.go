package clip

import (
	"context"
	"fmt"

	"dapo/kernels/cpu"
)

// BackwardHooks mirror Hooks for Transformer.Backward, so the owner of the
// forward hooks (prompt insertion and blending, feature taps) can route
// gradients. Both may be nil. Backward walks the blocks from last to first
// and, for block `layer`, calls After, goes back through the block, then
// calls Before — the reverse of the forward's Before, block, After.
//
// After(layer, dx): dx is the gradient of the loss with respect to block
// `layer`'s output — the sequence the forward's After hook saw — as
// accumulated so far from the blocks above (and, for the last block, from
// dOut). After ADDS the gradient of any loss terms that read that output
// directly (feature layers) into dx.Data, in place. It must not keep dx:
// Backward goes on writing into it.
//
// Before(layer, dx) Seq: dx is the gradient with respect to block `layer`'s
// input, i.e. the sequence the forward's Before hook returned. Before
// returns the gradient with respect to the sequence that hook was given
// (block layer−1's output, or for layer 0 the tower input), with that
// sequence's shape, and takes out whatever belongs to its own parameters.
// Examples: for insertion of n rows after row 0 it reads rows 1..n of dx as
// the prompt gradient and returns dx without them; for the blend
// rows 1..n = α·h + (1−α)·P it accumulates (1−α)·dx into dP and scales
// those rows of dx by α in place. It may modify dx and return it, or return
// a new Seq; the returned Seq then belongs to Backward, which writes into
// it (do not keep it either). When the forward had no Before hook for a
// layer, the backward one must return dx unchanged.
type BackwardHooks struct {
	After  func(layer int, dx Seq)
	Before func(layer int, dx Seq) Seq
}

// Backward returns the gradient of the loss with respect to the sequence
// the tape's forward pass was given, from dOut, the gradient with respect
// to its final output, and the gradients the hooks route. A dOut with nil
// Data stands for zeros (all loss terms enter through After). dOut is only
// read. Backward stops with ctx's error when cancelled.
func (t *Transformer) Backward(ctx context.Context, tape *Tape, dOut Seq, hooks BackwardHooks) (Seq, error) {
	if tape == nil || tape.tower != t || len(tape.blocks) != len(t.Blocks) {
		return Seq{}, fmt.Errorf("transformer backward: tape was not recorded on this tower")
	}
	last := tape.blocks[len(tape.blocks)-1]
	dx := NewSeq(last.b, last.l, tape.w)
	if dOut.Data != nil {
		if err := checkShape(dOut, last.b, last.l, tape.w); err != nil {
			return Seq{}, fmt.Errorf("transformer backward: output gradient: %w", err)
		}
		copy(dx.Data, dOut.Data)
	}
	var s backwardScratch
	for i := len(t.Blocks) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return Seq{}, fmt.Errorf("transformer backward block %d: %w", i, err)
		}
		if hooks.After != nil {
			hooks.After(i, dx)
		}
		rec := &tape.blocks[i]
		if tape.checkpointed {
			rec = s.recompute(t, i, rec, tape.w)
		}
		t.blockBackward(i, rec, dx, &s)
		if hooks.Before != nil {
			dx = hooks.Before(i, dx)
			b, l := tape.inB, tape.inL
			if i > 0 {
				b, l = tape.blocks[i-1].b, tape.blocks[i-1].l
			}
			if err := checkShape(dx, b, l, tape.w); err != nil {
				return Seq{}, fmt.Errorf("transformer backward: Before hook of block %d: %w", i, err)
			}
		}
	}
	return dx, nil
}

func checkShape(s Seq, b, l, w int) error {
	if s.B != b || s.L != l || s.W != w || len(s.Data) != b*l*w {
		return fmt.Errorf("got %d×%d×%d with %d values, want %d×%d×%d", s.B, s.L, s.W, len(s.Data), b, l, w)
	}
	return nil
}

// backwardScratch is the working memory of the backward, reused across
// blocks: big holds the hidden gradient and later the qkv gradient, act
// the pre-activation gradient, row the width-wide gradients.
type backwardScratch struct {
	big, act, row []float32
	// checkpointed tapes: the block recomputed from its input
	rec   blockTape
	input []float32
	fwd   forwardScratch
}

// recompute re-runs block i's forward from its recorded input, filling the
// scratch record that blockBackward then reads.
func (s *backwardScratch) recompute(t *Transformer, i int, saved *blockTape, w int) *blockTape {
	s.input = grow(s.input, len(saved.x))
	copy(s.input, saved.x)
	s.rec.b, s.rec.l, s.rec.x = saved.b, saved.l, saved.x
	t.block(i, Seq{B: saved.b, L: saved.l, W: w, Data: s.input}, &s.fwd, &s.rec)
	return &s.rec
}

// zeroed returns buf resized to n and cleared: the backward kernels
// accumulate.
func zeroed(buf []float32, n int) []float32 {
	buf = grow(buf, n)
	clear(buf)
	return buf
}

// blockBackward turns dx, the gradient with respect to block i's output,
// in place into the gradient with respect to its input. With
// y = x + A(ln_1(x)) and z = y + M(ln_2(y)):
//
//	dy = dz + ln_2ᵀ(c_fcᵀ(actᵀ(c_projᵀ dz)))
//	dx = dy + ln_1ᵀ(in_projᵀ(attnᵀ(out_projᵀ dy)))
//
// The residual adds are free: the layer-norm backward accumulates into dx.
//
// Like the forward it runs over chunks of whole sequences of at most
// chunkRows rows: the scratch then stays a few MB (the text side's
// hidden-layer gradient would otherwise be 17 091 × 2048 floats), and the
// SGEMMs accumulate into C blocks that stay in cache.
//
// Encoded weights are decoded into the forward scratch's buffer first (a
// checkpointed tape's recompute has just decoded the same block there: the
// second decode is the price of not holding two blocks' weights).
func (t *Transformer) blockBackward(i int, rec *blockTape, dx Seq, s *backwardScratch) {
	blk := t.Blocks[i].dense(&s.fwd.weights)
	w, mlp := dx.W, blk.FC.Out
	per := max(1, chunkRows/max(rec.l, 1)) // sequences per chunk
	for b0 := 0; b0 < rec.b; b0 += per {
		b1 := min(b0+per, rec.b)
		r0, r1 := b0*rec.l, b1*rec.l
		part := blockTape{
			b: b1 - b0, l: rec.l,
			x:   rec.x[r0*w : r1*w],
			qkv: rec.qkv[r0*3*w : r1*3*w],
			mid: rec.mid[r0*w : r1*w],
			pre: rec.pre[r0*mlp : r1*mlp],
		}
		t.blockBackwardChunk(blk, &part, Seq{B: b1 - b0, L: dx.L, W: w, Data: dx.Data[r0*w : r1*w]}, s)
	}
}

// blockBackwardChunk is blockBackward over whole sequences, with blk's
// weights dense.
func (t *Transformer) blockBackwardChunk(blk *Block, rec *blockTape, dx Seq, s *backwardScratch) {
	n, w, mlp := rec.b*rec.l, dx.W, blk.FC.Out

	s.big = zeroed(s.big, n*max(mlp, 3*w))
	dHidden := s.big[:n*mlp]
	cpu.LinearBackwardInput(dHidden, dx.Data, n, mlp, w, blk.Proj.Weight)
	s.act = zeroed(s.act, n*mlp)
	if t.QuickGELU {
		cpu.QuickGELUBackward(s.act, dHidden, rec.pre)
	} else {
		cpu.GELUBackward(s.act, dHidden, rec.pre)
	}
	s.row = zeroed(s.row, n*w)
	cpu.LinearBackwardInput(s.row, s.act, n, w, mlp, blk.FC.Weight)
	cpu.LayerNormBackward(dx.Data, s.row, rec.mid, n, w, blk.LN2.Weight, cpu.LayerNormEps)

	clear(s.row)
	cpu.LinearBackwardInput(s.row, dx.Data, n, w, w, blk.OutProj.Weight)
	dqkv := s.big[:n*3*w]
	clear(dqkv)
	cpu.AttentionBackward(dqkv, s.row, rec.qkv, rec.b, rec.l, w, t.Heads, t.Causal)
	clear(s.row)
	cpu.LinearBackwardInput(s.row, dqkv, n, w, 3*w, blk.InProj.Weight)
	cpu.LayerNormBackward(dx.Data, s.row, rec.x, n, w, blk.LN1.Weight, cpu.LayerNormEps)
}
