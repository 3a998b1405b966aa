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

// Hooks act between blocks exactly like server/clip's Hooks: Before may
// return another (e.g. longer) sequence for block `layer`, After observes
// each block's output.
type Hooks struct {
	Before func(layer int, x Seq) Seq
	After  func(layer int, x Seq)
}

// Transformer is a stack of pre-LN residual blocks on a backend: the same
// sequence of kernel calls as server/clip's Transformer.Block.
type Transformer struct {
	Backend   Backend
	Blocks    []Block
	Heads     int
	QuickGELU bool
	Causal    bool
}

// Forward runs every block over x in place (hooks may swap the sequence)
// and returns the final one.
func (t *Transformer) Forward(ctx context.Context, x Seq, hooks Hooks) (Seq, error) {
	be := t.Backend
	var s scratch
	defer s.free(be)
	for i := range t.Blocks {
		if err := ctx.Err(); err != nil {
			return Seq{}, fmt.Errorf("transformer block %d: %w", i, err)
		}
		if hooks.Before != nil {
			x = hooks.Before(i, x)
		}
		t.block(i, x, &s)
		if err := be.Err(); err != nil {
			return Seq{}, fmt.Errorf("transformer block %d on %s: %w", i, be.Name(), err)
		}
		if hooks.After != nil {
			hooks.After(i, x)
		}
	}
	return x, nil
}

// scratch holds one block's working tensors, reused across blocks (and
// re-made when a hook changes the sequence length).
type scratch struct {
	n, w, mlp      int
	h, qkv, hidden Tensor
}

func (s *scratch) ensure(be Backend, n, w, mlp int) {
	if s.h != nil && s.n == n && s.w == w && s.mlp == mlp {
		return
	}
	s.free(be)
	s.n, s.w, s.mlp = n, w, mlp
	s.h = be.Alloc(n * w)
	s.qkv = be.Alloc(n * 3 * w)
	s.hidden = be.Alloc(n * mlp)
}

func (s *scratch) free(be Backend) {
	for _, t := range []Tensor{s.h, s.qkv, s.hidden} {
		if t != nil {
			be.Free(t)
		}
	}
	s.h, s.qkv, s.hidden = nil, nil, nil
}

// block applies block i in place:
//
//	x += out_proj(MHA(ln_1(x)))
//	x += c_proj(act(c_fc(ln_2(x))))
func (t *Transformer) block(i int, x Seq, s *scratch) {
	be, blk := t.Backend, &t.Blocks[i]
	n, w, mlp := x.B*x.L, x.W, blk.FC.Out
	s.ensure(be, n, w, mlp)
	be.LayerNorm(s.h, x.T, n, w, blk.LN1.Weight, blk.LN1.Bias)
	be.Linear(s.qkv, s.h, n, w, 3*w, blk.InProj.Weight, blk.InProj.Bias)
	be.Attention(s.h, s.qkv, x.B, x.L, w, t.Heads, t.Causal)
	attn := be.View(s.qkv, 0, n*w) // q,k,v are no longer needed
	be.Linear(attn, s.h, n, w, w, blk.OutProj.Weight, blk.OutProj.Bias)
	be.Add(x.T, attn)

	be.LayerNorm(s.h, x.T, n, w, blk.LN2.Weight, blk.LN2.Bias)
	be.Linear(s.hidden, s.h, n, w, mlp, blk.FC.Weight, blk.FC.Bias)
	be.Activation(s.hidden, n*mlp, t.QuickGELU)
	be.Linear(s.h, s.hidden, n, mlp, w, blk.Proj.Weight, blk.Proj.Bias)
	be.Add(x.T, s.h)
}

// VisionTower is the CLIP image tower on a backend.
type VisionTower struct {
	Tower                        Transformer
	ImageSize, PatchSize, Width  int
	EmbedDim                     int
	Conv1, ClassEmbedding, PosEm Tensor // [W,3,P,P], [W], [1+G²,W]
	LNPre, LNPost                LayerNorm
	Proj                         Tensor // [W,E]
}

// Grid is the number of patches per side.
func (v *VisionTower) Grid() int { return v.ImageSize / v.PatchSize }

// Embed turns pixels [B,3,S,S] (normalised, in backend memory) into the
// block-1 input [B,1+G²,W]: patch convolution as a product over unfolded
// patches, class token, positional embedding, ln_pre.
func (v *VisionTower) Embed(pixels Tensor, batch int) Seq {
	be := v.Tower.Backend
	g, p, w := v.Grid(), v.PatchSize, v.Width
	kdim := 3 * p * p
	patches := be.Alloc(batch * g * g * kdim)
	be.PatchUnfold(patches, pixels, batch, v.ImageSize, p)
	emb := be.Alloc(batch * g * g * w)
	be.Linear(emb, patches, batch*g*g, kdim, w, v.Conv1, nil)
	be.Free(patches)
	x := Seq{B: batch, L: 1 + g*g, W: w, T: be.Alloc(batch * (1 + g*g) * w)}
	be.VisionAssemble(x.T, emb, v.ClassEmbedding, v.PosEm, batch, g*g, w)
	be.Free(emb)
	be.LayerNorm(x.T, x.T, batch*x.L, w, v.LNPre.Weight, v.LNPre.Bias)
	return x
}

// Global maps the CLS row of final through ln_post and proj: [B,E] before
// L2 normalisation, in backend memory.
func (v *VisionTower) Global(final Seq) Tensor {
	be := v.Tower.Backend
	w := final.W
	cls := be.Alloc(final.B * w)
	be.GatherRows(cls, final.T, make([]int, final.B), final.L, w)
	be.LayerNorm(cls, cls, final.B, w, v.LNPost.Weight, v.LNPost.Bias)
	out := be.Alloc(final.B * v.EmbedDim)
	be.MatMul(out, cls, final.B, w, v.EmbedDim, v.Proj)
	be.Free(cls)
	return out
}

// EncodeImage is plain CLIP image encoding of host pixels [B,3,S,S]:
// features [B,E] before normalisation, on the host.
func (v *VisionTower) EncodeImage(ctx context.Context, pixels []float32, batch int) ([]float32, error) {
	s := v.ImageSize
	if len(pixels) != batch*3*s*s {
		return nil, fmt.Errorf("vision encode: got %d pixel values, want %d (batch %d × 3 × %d × %d)", len(pixels), batch*3*s*s, batch, s, s)
	}
	be := v.Tower.Backend
	px := be.Upload(pixels)
	x := v.Embed(px, batch)
	be.Free(px)
	final, err := v.Tower.Forward(ctx, x, Hooks{})
	if err != nil {
		return nil, err
	}
	g := v.Global(final)
	be.Free(final.T)
	out := make([]float32, batch*v.EmbedDim)
	be.Download(out, g)
	be.Free(g)
	return out, be.Err()
}

// TextTower is the CLIP text tower on a backend.
type TextTower struct {
	Tower                    Transformer
	Width, EmbedDim          int
	TokenEmbedding, PosEmbed Tensor // [V,W], [ctx,W]
	LNFinal                  LayerNorm
	Projection               Tensor // [W,E]
}

// Embed looks up token ids [N,ctx] and adds the positional embedding.
func (t *TextTower) Embed(ids [][]int) Seq {
	be := t.Tower.Backend
	l := 0
	if len(ids) > 0 {
		l = len(ids[0])
	}
	x := Seq{B: len(ids), L: l, W: t.Width, T: be.Alloc(len(ids) * l * t.Width)}
	be.EmbedTokens(x.T, t.TokenEmbedding, ids, t.PosEmbed, t.Width)
	return x
}

// Readout applies ln_final to row rows[n] of each sequence and projects:
// [N,E] before normalisation, in backend memory.
func (t *TextTower) Readout(final Seq, rows []int) Tensor {
	be := t.Tower.Backend
	w := final.W
	sel := be.Alloc(final.B * w)
	be.GatherRows(sel, final.T, rows, final.L, w)
	be.LayerNorm(sel, sel, final.B, w, t.LNFinal.Weight, t.LNFinal.Bias)
	out := be.Alloc(final.B * t.EmbedDim)
	be.MatMul(out, sel, final.B, w, t.EmbedDim, t.Projection)
	be.Free(sel)
	return out
}

// EncodeText is plain CLIP text encoding (causal mask, EOT read-out at the
// argmax id): [N,E] before normalisation, on the host.
func (t *TextTower) EncodeText(ctx context.Context, ids [][]int) ([]float32, error) {
	be := t.Tower.Backend
	for n, row := range ids {
		if len(row) != len(ids[0]) {
			return nil, fmt.Errorf("text encode: row %d has %d ids, row 0 has %d", n, len(row), len(ids[0]))
		}
	}
	x := t.Embed(ids)
	final, err := t.Tower.Forward(ctx, x, Hooks{})
	if err != nil {
		return nil, err
	}
	rows := make([]int, len(ids))
	for n, row := range ids {
		for i, v := range row {
			if v > row[rows[n]] {
				rows[n] = i
			}
		}
	}
	f := t.Readout(final, rows)
	be.Free(final.T)
	out := make([]float32, len(ids)*t.EmbedDim)
	be.Download(out, f)
	be.Free(f)
	return out, be.Err()
}
