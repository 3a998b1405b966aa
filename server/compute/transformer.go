package compute

import (
	"context"
	"fmt"
)

// Seq is a batch of token sequences [B, L, W] in a backend's memory.
type Seq struct {
	B, L, W int
	T       Tensor
}

// LayerNorm is a layer norm's affine parameters.
type LayerNorm struct{ Weight, Bias Tensor }

// Linear is y = x·Wᵀ + b, W [Out, In].
type Linear struct {
	Weight, Bias Tensor
	Out, In      int
}

// Block is one pre-LN residual block's frozen weights.
type Block struct {
	LN1, LN2 LayerNorm
	InProj   Linear // [3W, W]
	OutProj  Linear // [W, W]
	FC       Linear // [MLP, W]
	Proj     Linear // [W, MLP]
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

// Transformer is a stack of pre-LN residual blocks on a backend. It is the
// one implementation of the CLIP towers' blocks: server/clip runs it on
// the CPU backend, server/gpu's callers on the CUDA backend.
type Transformer struct {
	Backend   Backend
	Blocks    []Block
	Heads     int
	QuickGELU bool
	Causal    bool

	// ChunkRows bounds the rows (batch·tokens) a block processes at once;
	// 0 means no bound. Chunks are whole sequences (at least one), so
	// attention stays intact. On the CPU a block's scratch is about
	// 9·width floats per row: DAPO's text side (210 prompt sequences of
	// 81 tokens) would otherwise hold 260 MB of scratch at ViT-L's text
	// width, and 2048-row chunks still give the SGEMM panels tall enough
	// that packing the weights once per chunk costs a few percent. A GPU
	// wants the whole batch in one go.
	ChunkRows int

	// Weights, when set, gives block i's weights in place of &Blocks[i];
	// the result is used until the next call. server/clip decodes
	// half-precision weights there just before a block runs.
	Weights func(i int) *Block
}

func (t *Transformer) weights(i int) *Block {
	if t.Weights != nil {
		return t.Weights(i)
	}
	return &t.Blocks[i]
}

// chunkSeqs is the number of sequences of l tokens per chunk.
func (t *Transformer) chunkSeqs(b, l int) int {
	if t.ChunkRows <= 0 {
		return max(b, 1)
	}
	return max(1, t.ChunkRows/max(l, 1))
}

// buffer is backend memory reused across blocks and passes: reallocated
// only when too small. get's contents are undefined.
type buffer struct{ t Tensor }

func (b *buffer) get(be Backend, n int) Tensor {
	if b.t == nil || b.t.Len() < n {
		b.release(be)
		b.t = be.Alloc(n)
	}
	return be.View(b.t, 0, n)
}

// zeroed is get with the n elements cleared: the backward kernels add
// into their outputs.
func (b *buffer) zeroed(be Backend, n int) Tensor {
	v := b.get(be, n)
	be.Zero(v)
	return v
}

func (b *buffer) release(be Backend) {
	if b.t != nil {
		be.Free(b.t)
		b.t = nil
	}
}

// forwardScratch is a block's working memory, reused across blocks: h the
// width-wide activations, big the in_proj output and later the MLP hidden
// layer, hidden the activation output when the pre-activation is recorded.
// One scratch per pass: a ViT-L/14 block at 518 px would otherwise
// allocate 40 MB per block.
type forwardScratch struct{ h, big, hidden buffer }

func (s *forwardScratch) release(be Backend) {
	s.h.release(be)
	s.big.release(be)
	s.hidden.release(be)
}

// Forward runs every block over x (which it overwrites; hooks may swap the
// sequence) and returns the final sequence. It stops early with ctx's
// error when cancelled.
func (t *Transformer) Forward(ctx context.Context, x Seq, hooks Hooks) (Seq, error) {
	be := t.Backend
	var s forwardScratch
	defer s.release(be)
	w := x.W
	for i := range t.Blocks {
		if err := ctx.Err(); err != nil {
			return Seq{}, fmt.Errorf("transformer block %d: %w", i, err)
		}
		if hooks.Before != nil {
			x = hooks.Before(i, x)
		}
		if err := checkSeq(x, w); err != nil {
			return Seq{}, fmt.Errorf("transformer block %d: input %w", i, err)
		}
		t.block(i, x, &s, nil)
		if err := be.Err(); err != nil {
			return Seq{}, fmt.Errorf("transformer block %d on %s: %w", i, be.Name(), err)
		}
		if hooks.After != nil {
			hooks.After(i, x)
		}
	}
	return x, nil
}

// checkSeq checks that x holds B·L·W values of width w.
func checkSeq(x Seq, w int) error {
	if x.W != w || x.T == nil || x.T.Len() != x.B*x.L*x.W {
		n := 0
		if x.T != nil {
			n = x.T.Len()
		}
		return fmt.Errorf("%d×%d×%d with %d values, want width %d", x.B, x.L, x.W, n, w)
	}
	return nil
}

// record is where a recording forward keeps a block's activations for the
// backward: qkv the in_proj output [n,3w], mid the residual stream after
// attention (ln_2's input) [n,w], pre the c_fc output before the
// activation [n,mlp].
type record struct{ qkv, mid, pre Tensor }

// rows returns the record's part for rows [r0, r1).
func (r *record) rows(be Backend, r0, r1, w, mlp int) *record {
	return &record{
		qkv: be.View(r.qkv, r0*3*w, (r1-r0)*3*w),
		mid: be.View(r.mid, r0*w, (r1-r0)*w),
		pre: be.View(r.pre, r0*mlp, (r1-r0)*mlp),
	}
}

// block applies block i in place to x, over chunks of whole sequences:
//
//	x += out_proj(MHA(ln_1(x)))
//	x += c_proj(act(c_fc(ln_2(x))))
//
// With rec non-nil it also fills rec for the whole batch; the arithmetic
// and the chunks are the same either way, so recorded and plain forwards
// agree bit for bit.
func (t *Transformer) block(i int, x Seq, s *forwardScratch, rec *record) {
	be, blk := t.Backend, t.weights(i)
	w, mlp := x.W, blk.FC.Out
	per := t.chunkSeqs(x.B, x.L)
	for b0 := 0; b0 < x.B; b0 += per {
		b1 := min(b0+per, x.B)
		r0, r1 := b0*x.L, b1*x.L
		part := x
		var cr *record
		if per < x.B {
			part = Seq{B: b1 - b0, L: x.L, W: w, T: be.View(x.T, r0*w, (r1-r0)*w)}
			if rec != nil {
				cr = rec.rows(be, r0, r1, w, mlp)
			}
		} else {
			cr = rec
		}
		t.blockChunk(blk, part, s, cr)
	}
}

// blockChunk applies blk in place to x, whole sequences. Both residual
// projections accumulate into x inside the GEMM; the c_fc bias and the
// activation are one pass.
func (t *Transformer) blockChunk(blk *Block, x Seq, s *forwardScratch, rec *record) {
	be := t.Backend
	n, w, mlp := x.B*x.L, x.W, blk.FC.Out
	h := s.h.get(be, n*w)
	var qkv, pre, hidden Tensor
	if rec != nil {
		qkv, pre, hidden = rec.qkv, rec.pre, s.hidden.get(be, n*mlp)
	} else {
		big := s.big.get(be, n*max(3*w, mlp))
		// qkv is dead once attention has run.
		qkv, pre = be.View(big, 0, n*3*w), be.View(big, 0, n*mlp)
		hidden = pre
	}

	be.LayerNorm(h, x.T, n, w, blk.LN1.Weight, blk.LN1.Bias)
	be.Linear(qkv, h, n, w, 3*w, blk.InProj.Weight, blk.InProj.Bias)
	be.Attention(h, qkv, x.B, x.L, w, t.Heads, t.Causal)
	be.LinearResidual(x.T, h, n, w, w, blk.OutProj.Weight, blk.OutProj.Bias)
	if rec != nil {
		be.Copy(rec.mid, x.T)
	}

	be.LayerNorm(h, x.T, n, w, blk.LN2.Weight, blk.LN2.Bias)
	be.Linear(pre, h, n, w, mlp, blk.FC.Weight, nil)
	be.BiasActivation(hidden, pre, n, mlp, blk.FC.Bias, t.QuickGELU)
	be.LinearResidual(x.T, hidden, n, mlp, w, blk.Proj.Weight, blk.Proj.Bias)
}
