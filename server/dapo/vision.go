package dapo

import (
	"context"
	"slices"

	"dapo/kernels/cpu"
	"dapo/server/clip"
)

// ImageFeatures are the image-side outputs for a batch.
type ImageFeatures struct {
	Batch     int
	GlobalRaw []float32   // [B, E]: ln_post(CLS of the last block) @ proj
	Global    []float32   // [B, E]: GlobalRaw L2-normalised
	Adapted   [][]float32 // per feature layer [B, G², E]: adapter(patch tokens), not normalised
}

// EncodeImage runs the vision tower with deep visual prompts: P_0 inserted
// after CLS before block 1 (raw: no positional embedding, no ln_pre),
// blended before each later block up to Depth; after each feature layer
// the prompt rows are dropped, CLS is dropped and the layer's adapter maps
// the patch tokens to the embedding space.
func EncodeImage(ctx context.Context, c Config, vision *clip.Vision, p *Params, pixels []float32, batch int, trace Trace) (*ImageFeatures, error) {
	n := c.PrefixTokenCnt
	alpha := float32(c.AlphaBlend)
	e := vision.Config.EmbedDim
	out := &ImageFeatures{Batch: batch, Adapted: make([][]float32, len(c.FeatureLayers))}
	hooks := clip.Hooks{
		Before: func(k int, x clip.Seq) clip.Seq {
			if k == 0 {
				x = insertAfterFirst(x, p.Visual[:n*x.W], n)
			} else if k < c.Depth {
				blendRows(x, p.Visual[k*n*x.W:(k+1)*n*x.W], n, alpha)
			}
			if trace != nil {
				trace("vision.block_in", k, x)
			}
			return x
		},
		After: func(k int, x clip.Seq) {
			if trace != nil {
				trace("vision.block_out", k, x)
			}
			li := slices.Index(c.FeatureLayers, k+1)
			if li < 0 {
				return
			}
			tokens := removeAfterFirst(x, n) // [B, 1+G², W]
			if trace != nil {
				trace("layer.tokens", k, tokens)
			}
			g2 := tokens.L - 1
			flat := make([]float32, batch*g2*x.W)
			for b := 0; b < batch; b++ {
				copy(flat[b*g2*x.W:(b+1)*g2*x.W], tokens.Data[(b*tokens.L+1)*x.W:(b+1)*tokens.L*x.W])
			}
			adapted := make([]float32, batch*g2*e)
			cpu.Linear(adapted, flat, batch*g2, x.W, e, p.AdapterW[li], p.AdapterB[li])
			out.Adapted[li] = adapted
		},
	}
	final, err := vision.Forward(ctx, pixels, batch, hooks)
	if err != nil {
		return nil, err
	}
	out.GlobalRaw = vision.Global(final)
	out.Global = append([]float32(nil), out.GlobalRaw...)
	cpu.L2Normalize(out.Global, batch, e)
	return out, nil
}
