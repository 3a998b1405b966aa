package dapo

import (
	"context"
	"fmt"
	"slices"

	"dapo/server/clip"
)

// VisionTrainOut are the image-side outputs that the training head reads.
type VisionTrainOut struct {
	GlobalRaw []float32   // [B, E]: ln_post(CLS) @ proj, not normalised
	Tokens    [][]float32 // per feature layer [B·G², Wv]: patch tokens (prompt rows and CLS dropped)
}

// VisionTape holds what the image side's backward needs.
type VisionTape struct {
	c      Config
	vision *clip.Vision
	tape   *clip.Tape
	final  clip.Seq
}

// EncodeImageTrain runs the vision tower with deep visual prompts (as
// EncodeImage) and records a tape for Backward. The adapters are not
// applied: in training they live in the gorgonia graph. reuse, if not nil,
// is an earlier tape whose backward has run: its buffers are recorded into
// (and it must not be used again).
func EncodeImageTrain(ctx context.Context, c Config, vision *clip.Vision, p *Params, pixels []float32, batch int, reuse *VisionTape) (*VisionTrainOut, *VisionTape, error) {
	n, alpha := c.PrefixTokenCnt, float32(c.AlphaBlend)
	out := &VisionTrainOut{Tokens: make([][]float32, len(c.FeatureLayers))}
	hooks := clip.Hooks{
		Before: func(k int, x clip.Seq) clip.Seq {
			if k == 0 {
				return insertAfterFirst(x, p.Visual[:n*x.W], n)
			}
			if k < c.Depth {
				blendRows(x, p.Visual[k*n*x.W:(k+1)*n*x.W], n, alpha)
			}
			return x
		},
		After: func(k int, x clip.Seq) {
			if li := slices.Index(c.FeatureLayers, k+1); li >= 0 {
				out.Tokens[li] = patchRows(x, n)
			}
		},
	}
	x, err := vision.Embed(pixels, batch)
	if err != nil {
		return nil, nil, err
	}
	var old *clip.Tape
	if reuse != nil {
		old, reuse.tape = reuse.tape, nil
	}
	final, tape, err := vision.Tower.ForwardCachedReusing(ctx, x, hooks, old)
	if err != nil {
		return nil, nil, err
	}
	out.GlobalRaw = vision.Global(final)
	return out, &VisionTape{c: c, vision: vision, tape: tape, final: final}, nil
}

// patchRows copies the patch rows (after CLS and n prompt rows) of every
// sequence into [B·G², W].
func patchRows(x clip.Seq, n int) []float32 {
	g2 := x.L - 1 - n
	out := make([]float32, 0, x.B*g2*x.W)
	for b := 0; b < x.B; b++ {
		out = append(out, x.Data[(b*x.L+1+n)*x.W:(b+1)*x.L*x.W]...)
	}
	return out
}

// Backward takes the gradients with respect to GlobalRaw [B, E] and to each
// feature layer's Tokens [B·G², Wv] back to the deep visual tokens
// [Depth, n_p, Wv].
func (vt *VisionTape) Backward(ctx context.Context, dGlobal []float32, dTokens [][]float32) ([]float32, error) {
	c := vt.c
	n, alpha := c.PrefixTokenCnt, float32(c.AlphaBlend)
	w := vt.final.W
	if len(dTokens) != len(c.FeatureLayers) {
		return nil, fmt.Errorf("vision backward: %d token gradients for %d feature layers", len(dTokens), len(c.FeatureLayers))
	}
	dOut := vt.vision.GlobalBackward(vt.final, dGlobal)
	dVisual := make([]float32, c.Depth*n*w)
	hooks := clip.BackwardHooks{
		After: func(k int, dx clip.Seq) {
			li := slices.Index(c.FeatureLayers, k+1)
			if li < 0 || dTokens[li] == nil {
				return
			}
			g2 := dx.L - 1 - n
			src := dTokens[li]
			for b := 0; b < dx.B; b++ {
				dst := dx.Data[(b*dx.L+1+n)*w : (b+1)*dx.L*w]
				for i, v := range src[b*g2*w : (b+1)*g2*w] {
					dst[i] += v
				}
			}
		},
		Before: func(k int, dx clip.Seq) clip.Seq {
			if k == 0 {
				sumRows(dVisual[:n*w], dx, n, 1)
				return removeAfterFirst(dx, n)
			}
			if k < c.Depth {
				sumRows(dVisual[k*n*w:(k+1)*n*w], dx, n, 1-alpha)
				scaleRows(dx, n, alpha)
			}
			return dx
		},
	}
	if _, err := vt.vision.Tower.Backward(ctx, vt.tape, dOut, hooks); err != nil {
		return nil, err
	}
	return dVisual, nil
}
