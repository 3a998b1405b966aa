package train

import (
	"context"
	"fmt"

	"dapo/server/clip"
	"dapo/server/compute"
	"dapo/server/dapo"
)

// textForward is dapo.EncodeTextTrain on the backend: template embeddings
// with the learned context at positions 1..n and the positional embedding,
// the deep text tokens inserted before block 1 and blended before each
// later block up to TextDepth, the read-out rows through ln_final and the
// projection, and the mean over the prompt groups (on the host: [C·P, E]).
// It returns the raw class features [C, E] on the device.
func (f *devicePass) textForward(ctx context.Context) (compute.Tensor, error) {
	s, be := f.s, f.be
	cfg, tt, ids := s.cfg, &s.text, s.model.IDs
	n, alpha := cfg.LayerTokenCnt, float32(cfg.AlphaBlend)
	rowsN, l, w, e := len(ids), len(ids[0]), tt.Width, tt.EmbedDim
	x := compute.Seq{B: rowsN, L: l, W: w, T: be.Alloc(rowsN * l * w)}
	be.EmbedTokens(x.T, tt.TokenEmbedding, ids, tt.PosEmbed, w)
	for row := 0; row < rowsN; row++ {
		ctxT, cnt := f.ctxA, cfg.AbnormalTokenCnt
		if row < cfg.PromptCount {
			ctxT, cnt = f.ctxN, cfg.NormalTokenCnt
		}
		group := row % cfg.PromptCount
		dst := be.View(x.T, (row*l+1)*w, cnt*w)
		be.Copy(dst, be.View(ctxT, group*cnt*w, cnt*w))
		be.Add(dst, be.View(tt.PosEmbed, w, cnt*w))
	}
	hooks := compute.Hooks{Before: func(k int, x compute.Seq) compute.Seq {
		if k == 0 {
			y := compute.Seq{B: x.B, L: x.L + n, W: w, T: f.alloc(x.B * (x.L + n) * w)}
			be.InsertAfterFirst(y.T, x.T, f.deep[0], x.B, x.L, w, n)
			be.Free(x.T)
			return y
		}
		if k < cfg.TextDepth {
			be.BlendRows(x.T, f.deep[k], x.B, x.L, w, n, alpha)
		}
		return x
	}}
	final, tape, err := f.forward(ctx, &tt.Tower, x, hooks, s.spareText)
	if err != nil {
		return nil, fmt.Errorf("text tower: %w", err)
	}
	f.textFinal, f.textTape = final, tape
	f.rows = clip.ArgmaxRows(ids)
	if cfg.TextReadout == dapo.ReadoutEOT {
		for i := range f.rows {
			f.rows[i] += n
		}
	}
	groups := tt.Readout(final, f.rows)
	host := make([]float32, rowsN*e)
	be.Download(host, groups)
	be.Free(groups)
	if err := be.Err(); err != nil {
		return nil, fmt.Errorf("text tower on %s: %w", be.Name(), err)
	}
	// Mean over the prompt groups as dapo's groupMean (same order, float32).
	classes := rowsN / cfg.PromptCount
	raw := make([]float32, classes*e)
	for cl := 0; cl < classes; cl++ {
		dst := raw[cl*e : (cl+1)*e]
		for g := 0; g < cfg.PromptCount; g++ {
			src := host[(cl*cfg.PromptCount+g)*e : (cl*cfg.PromptCount+g+1)*e]
			for i := range dst {
				dst[i] += src[i]
			}
		}
		for i := range dst {
			dst[i] /= float32(cfg.PromptCount)
		}
	}
	return f.upload(raw), nil
}

// textBackward takes dRaw [C,E] back to the learned context and the deep
// text tokens (as dapo.TextTape.Backward).
func (f *devicePass) textBackward(ctx context.Context, dRaw compute.Tensor) ([][]float32, error) {
	s, be := f.s, f.be
	cfg, tt := s.cfg, &s.text
	n, alpha := cfg.LayerTokenCnt, float32(cfg.AlphaBlend)
	final, w, e := f.textFinal, tt.Width, tt.EmbedDim
	rowsN := final.B
	hostRaw := make([]float32, dRaw.Len())
	be.Download(hostRaw, dRaw)
	dGroups := make([]float32, rowsN*e)
	inv := 1 / float32(cfg.PromptCount)
	for r := 0; r < rowsN; r++ {
		cl := r / cfg.PromptCount
		for i := 0; i < e; i++ {
			dGroups[r*e+i] = hostRaw[cl*e+i] * inv
		}
	}
	// Read-out: y = ln_final(final[n, rows[n]])·proj.
	dSel := f.zeros(rowsN * w)
	be.MatMulBackwardInput(dSel, f.upload(dGroups), rowsN, w, e, tt.Projection)
	sel := f.alloc(rowsN * w)
	be.GatherRows(sel, final.T, f.rows, final.L, w)
	dRow := f.zeros(rowsN * w)
	be.LayerNormBackward(dRow, dSel, sel, rowsN, w, tt.LNFinal.Weight)
	dFinal := compute.Seq{B: rowsN, L: final.L, W: w, T: f.zeros(rowsN * final.L * w)}
	for r := 0; r < rowsN; r++ {
		be.Copy(be.View(dFinal.T, (r*final.L+f.rows[r])*w, w), be.View(dRow, r*w, w))
	}
	dDeep := make([]compute.Tensor, cfg.TextDepth)
	for k := range dDeep {
		dDeep[k] = f.zeros(n * w)
	}
	hooks := compute.BackwardHooks{Before: func(k int, dx compute.Seq) compute.Seq {
		switch {
		case k == 0:
			// Σ_b of the inserted rows (alpha 0: the rows are taken whole).
			be.BlendRowsBackward(dx.T, dDeep[0], dx.B, dx.L, w, n, 0)
			y := compute.Seq{B: dx.B, L: dx.L - n, W: w, T: f.alloc(dx.B * (dx.L - n) * w)}
			be.RemoveAfterFirst(y.T, dx.T, dx.B, dx.L, w, n)
			f.own(dx.T)
			return y
		case k < cfg.TextDepth:
			be.BlendRowsBackward(dx.T, dDeep[k], dx.B, dx.L, w, n, alpha)
		}
		return dx
	}}
	dIn, err := tt.Tower.Backward(ctx, f.textTape, dFinal, hooks)
	if err != nil {
		return nil, fmt.Errorf("text tower backward: %w", err)
	}
	// dIn.T is the hook's y, owned already.
	// The learned context sits at positions 1..cnt of the prompt rows.
	dCtxN := f.zeros(cfg.PromptCount * cfg.NormalTokenCnt * w)
	dCtxA := f.zeros(cfg.PromptCount * cfg.AbnormalTokenCnt * w)
	for row := 0; row < dIn.B; row++ {
		dst, cnt := dCtxA, cfg.AbnormalTokenCnt
		if row < cfg.PromptCount {
			dst, cnt = dCtxN, cfg.NormalTokenCnt
		}
		group := row % cfg.PromptCount
		be.Add(be.View(dst, group*cnt*w, cnt*w), be.View(dIn.T, (row*dIn.L+1)*w, cnt*w))
	}
	out := [][]float32{download(be, dCtxN), download(be, dCtxA)}
	for _, t := range dDeep {
		out = append(out, download(be, t))
	}
	return out, nil
}
