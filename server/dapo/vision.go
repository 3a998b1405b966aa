package dapo

import (
	"context"
	"fmt"
	"slices"

	"dapo/server/clip"
	"dapo/server/compute"
)

// ImageFeatures are the image-side outputs for a batch.
type ImageFeatures struct {
	Batch     int
	GlobalRaw []float32   // [B, E]: ln_post(CLS of the last block) @ proj
	Global    []float32   // [B, E]: GlobalRaw L2-normalised
	Adapted   [][]float32 // per feature layer [B, G², E]: adapter(patch tokens), not normalised
}

// EncodeImage runs the vision tower with deep visual prompts on the CPU:
// EncodeImageOn over the CPU backend, using the weights and parameters in
// place.
func EncodeImage(ctx context.Context, c Config, vision *clip.Vision, p *Params, pixels []float32, batch int, trace Trace) (*ImageFeatures, error) {
	be := &compute.CPU{}
	prompts, err := UploadPrompts(be, p)
	if err != nil {
		return nil, err
	}
	return EncodeImageOn(ctx, c, vision.Pass(be), prompts, pixels, batch, trace)
}

// Prompts are the image side's learned parameters on a backend.
type Prompts struct {
	Visual   compute.Tensor   // [Depth, n_p, Wv]
	AdapterW []compute.Tensor // per feature layer [E, Wv]
	AdapterB []compute.Tensor // per feature layer [E]
}

// UploadPrompts puts the visual prompts and adapters on be (the CPU
// backend uses p's slices in place).
func UploadPrompts(be compute.Backend, p *Params) (*Prompts, error) {
	out := &Prompts{Visual: clip.Upload(be, p.Visual)}
	for i := range p.AdapterW {
		out.AdapterW = append(out.AdapterW, clip.Upload(be, p.AdapterW[i]))
		out.AdapterB = append(out.AdapterB, clip.Upload(be, p.AdapterB[i]))
	}
	if err := be.Err(); err != nil {
		return nil, fmt.Errorf("visual prompts and adapters on %s: %w", be.Name(), err)
	}
	return out, nil
}

// EncodeImageOn runs the vision tower v with deep visual prompts on its
// backend: P_0 inserted after CLS before block 1 (raw: no positional
// embedding, no ln_pre), blended before each later block up to Depth;
// after each feature layer the prompt rows are dropped, CLS is dropped
// and the layer's adapter maps the patch tokens to the embedding space.
// Results come back to the host. trace (may be nil) sees each block's
// input and output and each feature layer's tokens, copied to the host
// unless the backend is the CPU.
func EncodeImageOn(ctx context.Context, c Config, v *compute.VisionTower, p *Prompts, pixels []float32, batch int, trace Trace) (*ImageFeatures, error) {
	be := v.Tower.Backend
	s := v.ImageSize
	if len(pixels) != batch*3*s*s {
		return nil, fmt.Errorf("vision embed: got %d pixel values, want %d (batch %d × 3 × %d × %d)", len(pixels), batch*3*s*s, batch, s, s)
	}
	w, e, n := v.Width, v.EmbedDim, c.PrefixTokenCnt
	alpha := float32(c.AlphaBlend)
	out := &ImageFeatures{Batch: batch, Adapted: make([][]float32, len(c.FeatureLayers))}
	show := func(name string, k int, x compute.Seq) {
		if trace != nil {
			trace(name, k, hostSeq(be, x))
		}
	}
	px := be.Upload(pixels)
	x := v.Embed(px, batch)
	be.Free(px)
	var owned []compute.Tensor // sequences the hooks made
	defer func() {
		for _, t := range owned {
			be.Free(t)
		}
	}()
	hooks := compute.Hooks{
		Before: func(k int, x compute.Seq) compute.Seq {
			if k == 0 {
				y := compute.Seq{B: x.B, L: x.L + n, W: w, T: be.Alloc(x.B * (x.L + n) * w)}
				be.InsertAfterFirst(y.T, x.T, be.View(p.Visual, 0, n*w), x.B, x.L, w, n)
				be.Free(x.T)
				owned = append(owned, y.T)
				x = y
			} else if k < c.Depth {
				be.BlendRows(x.T, be.View(p.Visual, k*n*w, n*w), x.B, x.L, w, n, alpha)
			}
			show("vision.block_in", k, x)
			return x
		},
		After: func(k int, x compute.Seq) {
			show("vision.block_out", k, x)
			li := slices.Index(c.FeatureLayers, k+1)
			if li < 0 {
				return
			}
			tokens := compute.Seq{B: x.B, L: x.L - n, W: w, T: be.Alloc(x.B * (x.L - n) * w)} // [B, 1+G², W]
			be.RemoveAfterFirst(tokens.T, x.T, x.B, x.L, w, n)
			show("layer.tokens", k, tokens)
			g2 := tokens.L - 1
			flat := be.Alloc(batch * g2 * w)
			be.DropFirst(flat, tokens.T, batch, tokens.L, w)
			adapted := be.Alloc(batch * g2 * e)
			be.Linear(adapted, flat, batch*g2, w, e, p.AdapterW[li], p.AdapterB[li])
			out.Adapted[li] = make([]float32, batch*g2*e)
			be.Download(out.Adapted[li], adapted)
			be.Free(adapted)
			be.Free(flat)
			be.Free(tokens.T)
		},
	}
	final, err := v.Tower.Forward(ctx, x, hooks)
	if err != nil {
		return nil, err
	}
	g := v.Global(final)
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

// hostSeq is x as a host sequence: x itself on the CPU backend, a copy
// otherwise.
func hostSeq(be compute.Backend, x compute.Seq) clip.Seq {
	if h, ok := x.T.(compute.Host); ok {
		return clip.Seq{B: x.B, L: x.L, W: x.W, Data: h}
	}
	d := make([]float32, x.B*x.L*x.W)
	be.Download(d, x.T)
	return clip.Seq{B: x.B, L: x.L, W: x.W, Data: d}
}
