package clip

import (
	"context"
	"fmt"

	"dapo/server/compute"
)

// Tape holds what Transformer.Backward needs from one forward pass: a
// compute.Tape on the CPU backend (see there for what is kept, its
// memory, and why the caller may reuse every sequence it handed over).
// Backward only reads the tape: it may run several times, or
// concurrently, over one tape.
type Tape struct {
	tower *Transformer
	be    *compute.CPU
	tape  *compute.Tape
}

// TapeBytesPerBlock is the memory a block's record takes for batch
// sequences of seq tokens, full or checkpointed.
func TapeBytesPerBlock(batch, seq, width, mlp int, checkpointed bool) int64 {
	return compute.TapeBytesPerBlock(batch, seq, width, mlp, checkpointed)
}

// Bytes is the activation memory the tape holds (0 once a later forward
// has taken its buffers).
func (tp *Tape) Bytes() int64 {
	if tp.tape == nil {
		return 0
	}
	return tp.tape.Bytes()
}

// ForwardCached is Forward that also records a full Tape for Backward
// (compute.Transformer.ForwardCached).
func (t *Transformer) ForwardCached(ctx context.Context, x Seq, hooks Hooks) (Seq, *Tape, error) {
	return t.forwardTape(ctx, x, hooks, false, nil)
}

// ForwardCachedReusing is ForwardCached recording into old's buffers
// (compute.Transformer.ForwardCachedReusing; old is emptied, nil is
// allowed): how a training loop reuses the previous step's tape.
func (t *Transformer) ForwardCachedReusing(ctx context.Context, x Seq, hooks Hooks, old *Tape) (Seq, *Tape, error) {
	return t.forwardTape(ctx, x, hooks, false, old)
}

// ForwardCheckpointed is ForwardCached keeping only each block's input
// (compute.Transformer.ForwardCheckpointed): one more forward pass for a
// tape 9× smaller, the choice for ViT-L at high resolution.
func (t *Transformer) ForwardCheckpointed(ctx context.Context, x Seq, hooks Hooks) (Seq, *Tape, error) {
	return t.forwardTape(ctx, x, hooks, true, nil)
}

func (t *Transformer) forwardTape(ctx context.Context, x Seq, hooks Hooks, checkpoint bool, old *Tape) (Seq, *Tape, error) {
	be := &compute.CPU{}
	var prev *compute.Tape
	if old != nil {
		be, prev = old.be, old.tape
		old.tape = nil
	}
	ct := t.tower(be)
	var y compute.Seq
	var tape *compute.Tape
	var err error
	if checkpoint {
		y, tape, err = ct.ForwardCheckpointedReusing(ctx, x.host(), hooks.host(), prev)
	} else {
		y, tape, err = ct.ForwardCachedReusing(ctx, x.host(), hooks.host(), prev)
	}
	if err != nil {
		return Seq{}, nil, err
	}
	return fromHost(y), &Tape{tower: t, be: be, tape: tape}, nil
}

// BackwardHooks mirror Hooks for Transformer.Backward: see
// compute.BackwardHooks for the contract.
type BackwardHooks struct {
	After  func(layer int, dx Seq)
	Before func(layer int, dx Seq) Seq
}

func (h BackwardHooks) host() compute.BackwardHooks {
	var c compute.BackwardHooks
	if h.Before != nil {
		c.Before = func(i int, dx compute.Seq) compute.Seq { return h.Before(i, fromHost(dx)).host() }
	}
	if h.After != nil {
		c.After = func(i int, dx compute.Seq) { h.After(i, fromHost(dx)) }
	}
	return c
}

// Backward returns the gradient of the loss with respect to the sequence
// the tape's forward pass was given, from dOut, the gradient with respect
// to its final output, and the gradients the hooks route. A dOut with nil
// Data stands for zeros (all loss terms enter through After). dOut is only
// read. Backward stops with ctx's error when cancelled.
func (t *Transformer) Backward(ctx context.Context, tape *Tape, dOut Seq, hooks BackwardHooks) (Seq, error) {
	if tape == nil || tape.tower != t || tape.tape == nil {
		return Seq{}, fmt.Errorf("transformer backward: tape was not recorded on this tower")
	}
	dx, err := t.tower(tape.be).Backward(ctx, tape.tape, dOut.host(), hooks.host())
	return fromHost(dx), err
}
