package compute

import (
	"context"
	"fmt"
)

// Tape is what Backward needs from a forward pass: each block's input
// (checkpointing: the block's forward is re-run just before its backward,
// as server/clip's ForwardCheckpointed does). The tape owns its copies.
type Tape struct {
	t      *Transformer
	inputs []Seq
}

// Free releases the tape's tensors.
func (tp *Tape) Free() {
	for _, s := range tp.inputs {
		tp.t.Backend.Free(s.T)
	}
	tp.inputs = nil
}

// BackwardHooks mirror server/clip's: After adds loss gradients that read
// block `layer`'s output into dx; Before maps the gradient of the sequence
// the forward Before hook returned back to the one it was given.
type BackwardHooks struct {
	After  func(layer int, dx Seq)
	Before func(layer int, dx Seq) Seq
}

// ForwardCheckpointed is Forward that also records each block's input.
func (t *Transformer) ForwardCheckpointed(ctx context.Context, x Seq, hooks Hooks) (Seq, *Tape, error) {
	be := t.Backend
	tape := &Tape{t: t}
	var s scratch
	defer s.free(be)
	for i := range t.Blocks {
		if err := ctx.Err(); err != nil {
			tape.Free()
			return Seq{}, nil, fmt.Errorf("transformer block %d: %w", i, err)
		}
		if hooks.Before != nil {
			x = hooks.Before(i, x)
		}
		in := Seq{B: x.B, L: x.L, W: x.W, T: be.Alloc(x.B * x.L * x.W)}
		be.Copy(in.T, x.T)
		tape.inputs = append(tape.inputs, in)
		t.block(i, x, &s)
		if hooks.After != nil {
			hooks.After(i, x)
		}
	}
	if err := be.Err(); err != nil {
		tape.Free()
		return Seq{}, nil, fmt.Errorf("transformer forward on %s: %w", be.Name(), err)
	}
	return x, tape, nil
}

// Backward returns the gradient with respect to the tower input given dOut
// (nil T stands for zeros), block by block from the last: recompute the
// block's activations from its recorded input, then
//
//	dy = dz + ln_2ᵀ(c_fcᵀ(actᵀ(c_projᵀ dz)))
//	dx = dy + ln_1ᵀ(in_projᵀ(attnᵀ(out_projᵀ dy)))
//
// exactly as server/clip's blockBackward.
func (t *Transformer) Backward(ctx context.Context, tape *Tape, dOut Seq, hooks BackwardHooks) (Seq, error) {
	be := t.Backend
	if tape == nil || tape.t != t || len(tape.inputs) != len(t.Blocks) {
		return Seq{}, fmt.Errorf("transformer backward: tape was not recorded on this tower")
	}
	last := tape.inputs[len(tape.inputs)-1]
	dx := Seq{B: last.B, L: last.L, W: last.W, T: be.Zeros(last.B * last.L * last.W)}
	if dOut.T != nil {
		be.Copy(dx.T, dOut.T)
	}
	for i := len(t.Blocks) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return Seq{}, fmt.Errorf("transformer backward block %d: %w", i, err)
		}
		if hooks.After != nil {
			hooks.After(i, dx)
		}
		t.blockBackward(i, tape.inputs[i], dx)
		if hooks.Before != nil {
			dx = hooks.Before(i, dx)
		}
		if err := be.Err(); err != nil {
			return Seq{}, fmt.Errorf("transformer backward block %d on %s: %w", i, be.Name(), err)
		}
	}
	return dx, nil
}

// blockBackward recomputes block i's forward from its input and turns dx in
// place into the gradient with respect to that input.
func (t *Transformer) blockBackward(i int, in Seq, dx Seq) {
	be, blk := t.Backend, &t.Blocks[i]
	n, w, mlp := in.B*in.L, in.W, blk.FC.Out
	// Recompute: h = ln_1(x), qkv, mid = x + attn branch, pre = c_fc(ln_2(mid)).
	h := be.Alloc(n * w)
	qkv := be.Alloc(n * 3 * w)
	mid := be.Alloc(n * w)
	pre := be.Alloc(n * mlp)
	be.LayerNorm(h, in.T, n, w, blk.LN1.Weight, blk.LN1.Bias)
	be.Linear(qkv, h, n, w, 3*w, blk.InProj.Weight, blk.InProj.Bias)
	be.Attention(h, qkv, in.B, in.L, w, t.Heads, t.Causal)
	be.Linear(mid, h, n, w, w, blk.OutProj.Weight, blk.OutProj.Bias)
	be.Add(mid, in.T)
	be.LayerNorm(h, mid, n, w, blk.LN2.Weight, blk.LN2.Bias)
	be.Linear(pre, h, n, w, mlp, blk.FC.Weight, blk.FC.Bias)

	// MLP branch.
	dHidden := be.Zeros(n * mlp)
	be.LinearBackwardInput(dHidden, dx.T, n, mlp, w, blk.Proj.Weight)
	dAct := be.Zeros(n * mlp)
	be.ActivationBackward(dAct, dHidden, pre, n*mlp, t.QuickGELU)
	row := be.Zeros(n * w)
	be.LinearBackwardInput(row, dAct, n, w, mlp, blk.FC.Weight)
	be.LayerNormBackward(dx.T, row, mid, n, w, blk.LN2.Weight)

	// Attention branch.
	be.Free(row)
	row = be.Zeros(n * w)
	be.LinearBackwardInput(row, dx.T, n, w, w, blk.OutProj.Weight)
	dqkv := be.Zeros(n * 3 * w)
	be.AttentionBackward(dqkv, row, qkv, in.B, in.L, w, t.Heads, t.Causal)
	row2 := be.Zeros(n * w)
	be.LinearBackwardInput(row2, dqkv, n, w, 3*w, blk.InProj.Weight)
	be.LayerNormBackward(dx.T, row2, in.T, n, w, blk.LN1.Weight)
	for _, x := range []Tensor{h, qkv, mid, pre, dHidden, dAct, row, dqkv, row2} {
		be.Free(x)
	}
}
