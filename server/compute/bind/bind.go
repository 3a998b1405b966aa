// Package bind puts server/clip's frozen CLIP weights and server/dapo's
// learned parameters onto a compute.Backend, and runs DAPO's image side
// (deep visual prompts, feature layers, adapters) over the backend's
// tower: the encode path of detect, features and serve.
package bind

import (
	"context"
	"fmt"
	"slices"

	"dapo/server/clip"
	"dapo/server/compute"
	"dapo/server/dapo"
)

// Vision uploads the vision tower's weights (F32) to be.
func Vision(be compute.Backend, w *clip.Weights) (*compute.VisionTower, error) {
	v := w.VisionOn(be)
	if err := be.Err(); err != nil {
		return nil, fmt.Errorf("upload vision tower to %s: %w", be.Name(), err)
	}
	return v, nil
}

// Text uploads the text tower's weights; causal as plain CLIP (DAPO's
// prompt encoder sets Tower.Causal = false).
func Text(be compute.Backend, w *clip.Weights) (*compute.TextTower, error) {
	t := w.TextOn(be)
	if err := be.Err(); err != nil {
		return nil, fmt.Errorf("upload text tower to %s: %w", be.Name(), err)
	}
	return t, nil
}

// Prompts are DAPO's image-side learned parameters on a backend.
type Prompts struct {
	Visual   compute.Tensor   // [Depth, n_p, Wv]
	AdapterW []compute.Tensor // per feature layer [E, Wv]
	AdapterB []compute.Tensor // per feature layer [E]
}

// UploadPrompts puts the visual prompts and adapters on be.
func UploadPrompts(be compute.Backend, p *dapo.Params) (*Prompts, error) {
	out := &Prompts{Visual: clip.Upload(be, p.Visual)}
	for i := range p.AdapterW {
		out.AdapterW = append(out.AdapterW, clip.Upload(be, p.AdapterW[i]))
		out.AdapterB = append(out.AdapterB, clip.Upload(be, p.AdapterB[i]))
	}
	return out, be.Err()
}

// EncodeImage is dapo.EncodeImage on a backend: P_0 inserted after CLS
// before block 1, blended before each later block up to Depth; after each
// feature layer the prompt rows and CLS are dropped and the layer's
// adapter maps the patch tokens to the embedding space. Results come back
// to the host in dapo.ImageFeatures' layout.
func EncodeImage(ctx context.Context, c dapo.Config, v *compute.VisionTower, p *Prompts, pixels []float32, batch int) (*dapo.ImageFeatures, error) {
	be := v.Tower.Backend
	s, e, w := v.ImageSize, v.EmbedDim, v.Width
	if len(pixels) != batch*3*s*s {
		return nil, fmt.Errorf("vision encode: got %d pixel values, want %d (batch %d × 3 × %d × %d)", len(pixels), batch*3*s*s, batch, s, s)
	}
	n := c.PrefixTokenCnt
	alpha := float32(c.AlphaBlend)
	out := &dapo.ImageFeatures{Batch: batch, Adapted: make([][]float32, len(c.FeatureLayers))}
	px := be.Upload(pixels)
	x := v.Embed(px, batch)
	be.Free(px)
	var owned []compute.Tensor // sequences the hooks made
	hooks := compute.Hooks{
		Before: func(k int, x compute.Seq) compute.Seq {
			if k == 0 {
				y := compute.Seq{B: x.B, L: x.L + n, W: w, T: be.Alloc(x.B * (x.L + n) * w)}
				be.InsertAfterFirst(y.T, x.T, be.View(p.Visual, 0, n*w), x.B, x.L, w, n)
				be.Free(x.T)
				owned = append(owned, y.T)
				return y
			}
			if k < c.Depth {
				be.BlendRows(x.T, be.View(p.Visual, k*n*w, n*w), x.B, x.L, w, n, alpha)
			}
			return x
		},
		After: func(k int, x compute.Seq) {
			li := slices.Index(c.FeatureLayers, k+1)
			if li < 0 {
				return
			}
			tokens := be.Alloc(x.B * (x.L - n) * w) // [B, 1+G², W]
			be.RemoveAfterFirst(tokens, x.T, x.B, x.L, w, n)
			g2 := x.L - n - 1
			flat := be.Alloc(batch * g2 * w)
			be.DropFirst(flat, tokens, batch, x.L-n, w)
			adapted := be.Alloc(batch * g2 * e)
			be.Linear(adapted, flat, batch*g2, w, e, p.AdapterW[li], p.AdapterB[li])
			out.Adapted[li] = make([]float32, batch*g2*e)
			be.Download(out.Adapted[li], adapted)
			be.Free(adapted)
			be.Free(flat)
			be.Free(tokens)
		},
	}
	final, err := v.Tower.Forward(ctx, x, hooks)
	if err != nil {
		return nil, err
	}
	g := v.Global(final)
	for _, t := range owned {
		be.Free(t)
	}
	out.GlobalRaw = make([]float32, batch*e)
	be.Download(out.GlobalRaw, g)
	be.L2Normalize(g, batch, e)
	out.Global = make([]float32, batch*e)
	be.Download(out.Global, g)
	be.Free(g)
	if err := be.Err(); err != nil {
		return nil, fmt.Errorf("dapo image encode on %s: %w", be.Name(), err)
	}
	return out, nil
}
