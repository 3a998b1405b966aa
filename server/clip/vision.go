package clip

import (
	"context"
	"fmt"

	"dapo/kernels/cpu"
)

// Vision is the CLIP image tower.
type Vision struct {
	Config Config
	W      *VisionWeights
	Tower  Transformer
}

// NewVision builds the vision tower over bound weights.
func NewVision(w *Weights) *Vision {
	return &Vision{
		Config: w.Config,
		W:      &w.Vision,
		Tower:  Transformer{Blocks: w.Vision.Blocks, Heads: w.Config.VisionHeads(), QuickGELU: w.Config.QuickGELU},
	}
}

// Embed turns pixels [B,3,S,S] (normalised CHW) into the block-1 input
// [B, 1+G², W]: patch convolution (as a matrix product over unfolded
// patches), class token, positional embedding, ln_pre. Patches are in
// row-major grid order (row·G+col).
func (v *Vision) Embed(pixels []float32, batch int) (Seq, error) {
	c := v.Config
	s, p, g, w := c.Vision.ImageSize, c.Vision.PatchSize, c.Grid(), c.Vision.Width
	if len(pixels) != batch*3*s*s {
		return Seq{}, fmt.Errorf("vision embed: got %d pixel values, want %d (batch %d × 3 × %d × %d)", len(pixels), batch*3*s*s, batch, s, s)
	}
	kdim := 3 * p * p
	patches := make([]float32, batch*g*g*kdim)
	for b := 0; b < batch; b++ {
		img := pixels[b*3*s*s:]
		for gy := 0; gy < g; gy++ {
			for gx := 0; gx < g; gx++ {
				dst := patches[((b*g+gy)*g+gx)*kdim:]
				for ch := 0; ch < 3; ch++ {
					for ky := 0; ky < p; ky++ {
						src := img[ch*s*s+(gy*p+ky)*s+gx*p:]
						copy(dst[(ch*p+ky)*p:(ch*p+ky)*p+p], src[:p])
					}
				}
			}
		}
	}
	emb := make([]float32, batch*g*g*w)
	cpu.Linear(emb, patches, batch*g*g, kdim, w, v.W.Conv1, nil)

	x := NewSeq(batch, 1+g*g, w)
	for b := 0; b < batch; b++ {
		copy(x.Row(b, 0), v.W.ClassEmbedding)
		copy(x.Data[(b*x.L+1)*w:(b+1)*x.L*w], emb[b*g*g*w:(b+1)*g*g*w])
		for i := 0; i < x.L; i++ {
			row := x.Row(b, i)
			cpu.Add(row, v.W.PosEmbedding[i*w:(i+1)*w])
		}
	}
	cpu.LayerNorm(x.Data, x.Data, batch*x.L, w, v.W.LNPre.Weight, v.W.LNPre.Bias, cpu.LayerNormEps)
	return x, nil
}

// Forward runs embed and all blocks, returning the last block's output
// (whatever tokens the hooks inserted are still in it).
func (v *Vision) Forward(ctx context.Context, pixels []float32, batch int, hooks Hooks) (Seq, error) {
	x, err := v.Embed(pixels, batch)
	if err != nil {
		return Seq{}, err
	}
	return v.Tower.Forward(ctx, x, hooks)
}

// Global maps the CLS row of the final sequence through ln_post and proj:
// the image feature [B, E] before L2 normalisation.
func (v *Vision) Global(final Seq) []float32 {
	w, e := final.W, v.Config.EmbedDim
	cls := make([]float32, final.B*w)
	for b := 0; b < final.B; b++ {
		copy(cls[b*w:(b+1)*w], final.Row(b, 0))
	}
	cpu.LayerNorm(cls, cls, final.B, w, v.W.LNPost.Weight, v.W.LNPost.Bias, cpu.LayerNormEps)
	out := make([]float32, final.B*e)
	cpu.MatMul(out, cls, final.B, w, e, v.W.Proj)
	return out
}

// EncodeImage is plain CLIP image encoding: features [B, E] before
// normalisation.
func (v *Vision) EncodeImage(ctx context.Context, pixels []float32, batch int) ([]float32, error) {
	final, err := v.Forward(ctx, pixels, batch, Hooks{})
	if err != nil {
		return nil, err
	}
	return v.Global(final), nil
}
