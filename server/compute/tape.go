package compute

import (
	"context"
	"fmt"
)

// Tape holds what Transformer.Backward needs from one forward pass. It owns
// private copies of every activation: nothing on it aliases the sequence
// the forward was given, the ones the hooks returned, or the result, so the
// caller (e.g. a gorgonia op whose outputs the TapeMachine later overwrites
// in place) may reuse all of those freely. Backward only reads the tape:
// it may run several times, or concurrently, over one tape.
//
// Only the input gradient is ever computed (the weights are frozen), so a
// block keeps its input x (for ln_1), the packed q,k,v (for attention), the
// residual stream after attention (for ln_2) and the c_fc output before the
// activation. The ln_1/ln_2 outputs and the attention output before
// out_proj would only serve weight gradients, and the layer-norm statistics
// are recomputed from the inputs. No attention probabilities are kept:
// AttentionBackward recomputes them.
//
// Memory per block, n = batch·tokens rows (TapeBytesPerBlock): full tape
// (5·width + mlp)·4 bytes per row, checkpointed 4·width. ViT-L/14 at 518 px
// (width 1024, mlp 4096), batch 8, 1374 tokens (1370 + 4 prompt tokens):
// 405 MB (386 MiB) per block, 9.7 GB for 24 blocks; checkpointed 45 MB
// (42.9 MiB) per block, 1.08 GB for 24. Backward adds one chunk's scratch
// (9·width floats per row of a chunk: 51 MB at that size with the CPU's
// 2048-row chunks; when checkpointed also the recomputed record and its
// input for the whole batch, 10·width floats per row, 450 MB, and the
// forward's chunk scratch, 28 MB).
type Tape struct {
	be           Backend
	inB, inL, w  int // shape of the sequence the tower was given
	checkpointed bool
	blocks       []blockTape
}

// blockTape is one block's record. On a checkpointed tape only x is set;
// the buffers keep their memory for reuse by a later tape.
type blockTape struct {
	b, l               int // shape of the block's input (after the Before hook)
	x, qkv, mid, pre   Tensor
	bx, bqkv, bmid, bp buffer
}

func (r *blockTape) record() *record { return &record{qkv: r.qkv, mid: r.mid, pre: r.pre} }

func (r *blockTape) release(be Backend) {
	for _, b := range []*buffer{&r.bx, &r.bqkv, &r.bmid, &r.bp} {
		b.release(be)
	}
	*r = blockTape{}
}

// TapeBytesPerBlock is the memory a block's record takes for batch
// sequences of seq tokens, full or checkpointed.
func TapeBytesPerBlock(batch, seq, width, mlp int, checkpointed bool) int64 {
	perRow := int64(width)
	if !checkpointed {
		perRow = int64(5*width + mlp)
	}
	return 4 * perRow * int64(batch) * int64(seq)
}

// Bytes is the activation memory the tape holds.
func (tp *Tape) Bytes() int64 {
	var n int64
	for _, r := range tp.blocks {
		for _, t := range []Tensor{r.x, r.qkv, r.mid, r.pre} {
			if t != nil {
				n += 4 * int64(t.Len())
			}
		}
	}
	return n
}

// Free releases the tape's memory (on a GPU; the CPU's belongs to the
// garbage collector). The tape is empty afterwards.
func (tp *Tape) Free() {
	if tp == nil {
		return
	}
	for i := range tp.blocks {
		tp.blocks[i].release(tp.be)
	}
	tp.blocks = nil
}

// ForwardCached is Forward (same arithmetic, bit-identical results, same
// hooks, and like Forward it overwrites x) that also records a Tape for
// Backward. See Tape for what is kept and its memory.
func (t *Transformer) ForwardCached(ctx context.Context, x Seq, hooks Hooks) (Seq, *Tape, error) {
	return t.forwardTape(ctx, x, hooks, false, nil)
}

// ForwardCachedReusing is ForwardCached recording into the buffers of old,
// a tape whose Backward has run and which is not needed any more (old is
// emptied; nil is allowed). A training loop reuses the previous step's
// tape this way instead of touching gigabytes of fresh pages every step.
func (t *Transformer) ForwardCachedReusing(ctx context.Context, x Seq, hooks Hooks, old *Tape) (Seq, *Tape, error) {
	return t.forwardTape(ctx, x, hooks, false, old)
}

// ForwardCheckpointed is ForwardCached keeping only each block's input:
// Backward re-runs each block's forward (bit-identically) just before its
// backward. That costs one more forward pass — about +50% on forward plus
// backward, as the frozen-weight backward costs about one forward — for a
// tape (5·width+mlp)/width times smaller (9× for CLIP's mlp = 4·width):
// the choice for ViT-L at high resolution on the CPU.
func (t *Transformer) ForwardCheckpointed(ctx context.Context, x Seq, hooks Hooks) (Seq, *Tape, error) {
	return t.forwardTape(ctx, x, hooks, true, nil)
}

// ForwardCheckpointedReusing is ForwardCheckpointed recording into old's
// buffers, as ForwardCachedReusing.
func (t *Transformer) ForwardCheckpointedReusing(ctx context.Context, x Seq, hooks Hooks, old *Tape) (Seq, *Tape, error) {
	return t.forwardTape(ctx, x, hooks, true, old)
}

func (t *Transformer) forwardTape(ctx context.Context, x Seq, hooks Hooks, checkpoint bool, old *Tape) (Seq, *Tape, error) {
	be := t.Backend
	tape := &Tape{be: be, inB: x.B, inL: x.L, w: x.W, checkpointed: checkpoint}
	if old != nil && old.be == be && len(old.blocks) == len(t.Blocks) {
		tape.blocks, old.blocks = old.blocks, nil
	} else {
		old.Free()
		tape.blocks = make([]blockTape, len(t.Blocks))
	}
	fail := func(err error) (Seq, *Tape, error) {
		tape.Free()
		return Seq{}, nil, err
	}
	var s forwardScratch
	defer s.release(be)
	for i := range t.Blocks {
		if err := ctx.Err(); err != nil {
			return fail(fmt.Errorf("transformer block %d: %w", i, err))
		}
		if hooks.Before != nil {
			x = hooks.Before(i, x)
		}
		if err := checkSeq(x, tape.w); err != nil {
			return fail(fmt.Errorf("transformer block %d: input %w", i, err))
		}
		n, w, mlp := x.B*x.L, x.W, t.Blocks[i].FC.Out
		rec := &tape.blocks[i]
		rec.b, rec.l = x.B, x.L
		rec.x = rec.bx.get(be, n*w)
		be.Copy(rec.x, x.T)
		if checkpoint {
			rec.bqkv.release(be)
			rec.bmid.release(be)
			rec.bp.release(be)
			rec.qkv, rec.mid, rec.pre = nil, nil, nil
			t.block(i, x, &s, nil)
		} else {
			rec.qkv, rec.mid, rec.pre = rec.bqkv.get(be, n*3*w), rec.bmid.get(be, n*w), rec.bp.get(be, n*mlp)
			t.block(i, x, &s, rec.record())
		}
		if err := be.Err(); err != nil {
			return fail(fmt.Errorf("transformer block %d on %s: %w", i, be.Name(), err))
		}
		if hooks.After != nil {
			hooks.After(i, x)
		}
	}
	return x, tape, nil
}
