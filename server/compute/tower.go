package compute

import (
	"context"
	"fmt"
)

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
