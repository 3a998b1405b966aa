package compute

import (
	"context"
	"fmt"
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
// directly (feature layers) into dx, in place. It must not keep dx:
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
// T stands for zeros (all loss terms enter through After). dOut is only
// read. The result belongs to the caller; when a Before hook returns a new
// sequence, the one it was given becomes the hook's (to free, on a backend
// that needs it). Backward stops with ctx's error when cancelled.
func (t *Transformer) Backward(ctx context.Context, tape *Tape, dOut Seq, hooks BackwardHooks) (Seq, error) {
	be := t.Backend
	if tape == nil || tape.be != be || len(tape.blocks) != len(t.Blocks) || len(t.Blocks) == 0 {
		return Seq{}, fmt.Errorf("transformer backward: tape was not recorded on this tower")
	}
	last := tape.blocks[len(tape.blocks)-1]
	dx := Seq{B: last.b, L: last.l, W: tape.w, T: be.Zeros(last.b * last.l * tape.w)}
	if dOut.T != nil {
		if err := checkShape(dOut, last.b, last.l, tape.w); err != nil {
			return Seq{}, fmt.Errorf("transformer backward: output gradient: %w", err)
		}
		be.Copy(dx.T, dOut.T)
	}
	var s backwardScratch
	defer s.release(be)
	for i := len(t.Blocks) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return Seq{}, fmt.Errorf("transformer backward block %d: %w", i, err)
		}
		if hooks.After != nil {
			hooks.After(i, dx)
		}
		saved := &tape.blocks[i]
		rec := saved.record()
		if tape.checkpointed {
			rec = s.recompute(t, i, saved, tape.w)
		}
		t.blockBackward(i, saved.b, saved.l, saved.x, rec, dx, &s)
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
		if err := be.Err(); err != nil {
			return Seq{}, fmt.Errorf("transformer backward block %d on %s: %w", i, be.Name(), err)
		}
	}
	return dx, nil
}

func checkShape(s Seq, b, l, w int) error {
	n := 0
	if s.T != nil {
		n = s.T.Len()
	}
	if s.B != b || s.L != l || s.W != w || n != b*l*w {
		return fmt.Errorf("got %d×%d×%d with %d values, want %d×%d×%d", s.B, s.L, s.W, n, b, l, w)
	}
	return nil
}

// backwardScratch is the working memory of the backward, reused across
// blocks: big holds the hidden gradient and later the qkv gradient, act
// the pre-activation gradient, row the width-wide gradients; for
// checkpointed tapes also the block recomputed from its input.
type backwardScratch struct {
	big, act, row       buffer
	input, qkv, mid, pp buffer
	fwd                 forwardScratch
}

func (s *backwardScratch) release(be Backend) {
	for _, b := range []*buffer{&s.big, &s.act, &s.row, &s.input, &s.qkv, &s.mid, &s.pp} {
		b.release(be)
	}
	s.fwd.release(be)
}

// recompute re-runs block i's forward from its recorded input (a copy:
// the tape is only read), filling the record blockBackward then reads.
func (s *backwardScratch) recompute(t *Transformer, i int, saved *blockTape, w int) *record {
	be := t.Backend
	n, mlp := saved.b*saved.l, t.Blocks[i].FC.Out
	in := s.input.get(be, n*w)
	be.Copy(in, saved.x)
	rec := &record{qkv: s.qkv.get(be, n*3*w), mid: s.mid.get(be, n*w), pre: s.pp.get(be, n*mlp)}
	t.block(i, Seq{B: saved.b, L: saved.l, W: w, T: in}, &s.fwd, rec)
	return rec
}

// blockBackward turns dx, the gradient with respect to block i's output,
// in place into the gradient with respect to its input x ([b,l,w]). With
// y = x + A(ln_1(x)) and z = y + M(ln_2(y)):
//
//	dy = dz + ln_2ᵀ(c_fcᵀ(actᵀ(c_projᵀ dz)))
//	dx = dy + ln_1ᵀ(in_projᵀ(attnᵀ(out_projᵀ dy)))
//
// The residual adds are free: the layer-norm backward accumulates into dx.
// Like the forward it runs over chunks of whole sequences: on the CPU the
// scratch then stays a few MB (the text side's hidden-layer gradient would
// otherwise be 17 010 × 2048 floats), and the GEMMs accumulate into C
// blocks that stay in cache.
//
// Lazily decoded weights are decoded again here (a checkpointed tape's
// recompute has just decoded the same block: the second decode is the
// price of not holding two blocks' weights).
func (t *Transformer) blockBackward(i, b, l int, x Tensor, rec *record, dx Seq, s *backwardScratch) {
	be, blk := t.Backend, t.weights(i)
	w, mlp := dx.W, blk.FC.Out
	per := t.chunkSeqs(b, l)
	for b0 := 0; b0 < b; b0 += per {
		b1 := min(b0+per, b)
		r0, r1 := b0*l, b1*l
		if per >= b {
			t.blockBackwardChunk(blk, b, l, x, rec, dx, s)
			continue
		}
		part := Seq{B: b1 - b0, L: l, W: w, T: be.View(dx.T, r0*w, (r1-r0)*w)}
		t.blockBackwardChunk(blk, b1-b0, l, be.View(x, r0*w, (r1-r0)*w), rec.rows(be, r0, r1, w, mlp), part, s)
	}
}

// blockBackwardChunk is blockBackward over whole sequences.
func (t *Transformer) blockBackwardChunk(blk *Block, b, l int, x Tensor, rec *record, dx Seq, s *backwardScratch) {
	be := t.Backend
	n, w, mlp := b*l, dx.W, blk.FC.Out

	big := s.big.zeroed(be, n*max(mlp, 3*w))
	dHidden := be.View(big, 0, n*mlp)
	be.LinearBackwardInput(dHidden, dx.T, n, mlp, w, blk.Proj.Weight)
	act := s.act.zeroed(be, n*mlp)
	be.ActivationBackward(act, dHidden, rec.pre, n*mlp, t.QuickGELU)
	row := s.row.zeroed(be, n*w)
	be.LinearBackwardInput(row, act, n, w, mlp, blk.FC.Weight)
	be.LayerNormBackward(dx.T, row, rec.mid, n, w, blk.LN2.Weight)

	be.Zero(row)
	be.LinearBackwardInput(row, dx.T, n, w, w, blk.OutProj.Weight)
	dqkv := be.View(big, 0, n*3*w)
	be.Zero(dqkv)
	be.AttentionBackward(dqkv, row, rec.qkv, b, l, w, t.Heads, t.Causal)
	be.Zero(row)
	be.LinearBackwardInput(row, dqkv, n, w, 3*w, blk.InProj.Weight)
	be.LayerNormBackward(dx.T, row, x, n, w, blk.LN1.Weight)
}
