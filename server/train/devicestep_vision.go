package train

import (
	"context"
	"fmt"
	"slices"

	"dapo/server/compute"
)

// visionForward is dapo.EncodeImageTrain plus the adapters on the backend:
// P_0 inserted after CLS before block 1, blended before each later block
// up to Depth; after each feature layer its patch tokens (prompt rows and
// CLS dropped) are kept and adapted. It returns the raw global features
// [B, E] on the device.
func (f *devicePass) visionForward(ctx context.Context) (compute.Tensor, error) {
	s, be := f.s, f.be
	cfg, d, v := s.cfg, s.dims, s.model.Vision
	n, alpha, w, e := cfg.PrefixTokenCnt, float32(cfg.AlphaBlend), v.Width, v.EmbedDim
	rows := d.Batch * d.Grid * d.Grid
	f.tokens, f.feats = make([]compute.Tensor, d.Layers), make([]compute.Tensor, d.Layers)
	px := be.Upload(s.pixels)
	x := v.Embed(px, d.Batch)
	be.Free(px)
	hooks := compute.Hooks{
		Before: func(k int, x compute.Seq) compute.Seq {
			if k == 0 {
				y := compute.Seq{B: x.B, L: x.L + n, W: w, T: f.alloc(x.B * (x.L + n) * w)}
				be.InsertAfterFirst(y.T, x.T, be.View(f.visual, 0, n*w), x.B, x.L, w, n)
				be.Free(x.T)
				return y
			}
			if k < cfg.Depth {
				be.BlendRows(x.T, be.View(f.visual, k*n*w, n*w), x.B, x.L, w, n, alpha)
			}
			return x
		},
		After: func(k int, x compute.Seq) {
			li := slices.Index(cfg.FeatureLayers, k+1)
			if li < 0 {
				return
			}
			tokens := be.Alloc(x.B * (x.L - n) * w)
			be.RemoveAfterFirst(tokens, x.T, x.B, x.L, w, n)
			flat := f.alloc(rows * w)
			be.DropFirst(flat, tokens, x.B, x.L-n, w)
			be.Free(tokens)
			feat := f.alloc(rows * e)
			be.Linear(feat, flat, rows, w, e, f.adW[li], f.adB[li])
			f.tokens[li], f.feats[li] = flat, feat
		},
	}
	final, tape, err := f.forward(ctx, &v.Tower, x, hooks, f.s.spareVision)
	if err != nil {
		return nil, fmt.Errorf("vision tower: %w", err)
	}
	f.visFinal, f.visTape = final, tape
	global := v.Global(final)
	f.own(global)
	if err := be.Err(); err != nil {
		return nil, fmt.Errorf("vision tower on %s: %w", be.Name(), err)
	}
	for li, t := range f.feats {
		if t == nil {
			return nil, fmt.Errorf("vision tower: feature layer %d never ran", cfg.FeatureLayers[li])
		}
	}
	return global, nil
}

// visionBackward takes the adapted features' and the global features'
// gradients back to the adapters and the deep visual tokens; it returns
// [dVisual, dW_0, db_0, dW_1, db_1, …].
func (f *devicePass) visionBackward(ctx context.Context, dFeats []compute.Tensor, dGlobal compute.Tensor) ([][]float32, error) {
	s, be := f.s, f.be
	cfg, d, v := s.cfg, s.dims, s.model.Vision
	n, alpha, w, e := cfg.PrefixTokenCnt, float32(cfg.AlphaBlend), v.Width, v.EmbedDim
	rows, g2 := d.Batch*d.Grid*d.Grid, d.Grid*d.Grid
	final := f.visFinal
	// Adapters: F = X·Wᵀ + b.
	adapters := make([][]float32, 0, 2*d.Layers)
	dTokens := make([]compute.Tensor, d.Layers)
	for l := range dFeats {
		dw, db := f.zeros(e*w), f.zeros(e)
		be.LinearBackwardWeight(dw, db, dFeats[l], f.tokens[l], rows, w, e)
		dTokens[l] = f.zeros(rows * w)
		be.LinearBackwardInput(dTokens[l], dFeats[l], rows, w, e, f.adW[l])
		adapters = append(adapters, download(be, dw), download(be, db))
	}
	// Global read-out: ln_post(final[b, 0])·proj.
	dCls := f.zeros(d.Batch * w)
	be.MatMulBackwardInput(dCls, dGlobal, d.Batch, w, e, v.Proj)
	cls := f.alloc(d.Batch * w)
	be.GatherRows(cls, final.T, make([]int, d.Batch), final.L, w)
	dClsIn := f.zeros(d.Batch * w)
	be.LayerNormBackward(dClsIn, dCls, cls, d.Batch, w, v.LNPost.Weight)
	dFinal := compute.Seq{B: d.Batch, L: final.L, W: w, T: f.zeros(d.Batch * final.L * w)}
	for b := 0; b < d.Batch; b++ {
		be.Copy(be.View(dFinal.T, b*final.L*w, w), be.View(dClsIn, b*w, w))
	}
	dVisual := f.zeros(cfg.Depth * n * w)
	hooks := compute.BackwardHooks{
		After: func(k int, dx compute.Seq) {
			li := slices.Index(cfg.FeatureLayers, k+1)
			if li < 0 {
				return
			}
			for b := 0; b < dx.B; b++ {
				be.Add(be.View(dx.T, (b*dx.L+1+n)*w, g2*w), be.View(dTokens[li], b*g2*w, g2*w))
			}
		},
		Before: func(k int, dx compute.Seq) compute.Seq {
			switch {
			case k == 0:
				// P_0 was inserted after CLS: its rows' gradient is the
				// prompt's; the rest is the image input's (unused, but the
				// hook contract hands back its shape).
				be.BlendRowsBackward(dx.T, be.View(dVisual, 0, n*w), dx.B, dx.L, w, n, 0)
				in := compute.Seq{B: dx.B, L: dx.L - n, W: w, T: f.alloc(dx.B * (dx.L - n) * w)}
				be.RemoveAfterFirst(in.T, dx.T, dx.B, dx.L, w, n)
				f.own(dx.T)
				return in
			case k < cfg.Depth:
				be.BlendRowsBackward(dx.T, be.View(dVisual, k*n*w, n*w), dx.B, dx.L, w, n, alpha)
			}
			return dx
		},
	}
	_, err := v.Tower.Backward(ctx, f.visTape, dFinal, hooks)
	if err != nil {
		return nil, fmt.Errorf("vision tower backward: %w", err)
	}
	// The input gradient is the hook's in, owned already and unused.
	return append([][]float32{download(be, dVisual)}, adapters...), nil
}
