package train

import (
	"context"
	"fmt"

	"dapo/server/compute"
	"dapo/server/dapo"
)

// textForward is dapo.EncodeTextTrain on the backend, with dapo's
// backend text side (dapo.EncodeTextOn's parts): the prompt embeddings,
// the deep text tokens, the read-out rows through ln_final and the
// projection, and the mean over the prompt groups (on the host: [C·P, E]).
// It returns the raw class features [C, E] on the device.
func (f *devicePass) textForward(ctx context.Context) (compute.Tensor, error) {
	s, be := f.s, f.be
	cfg, tt, ids := s.cfg, &s.text, s.model.IDs
	prompts := &dapo.TextPrompts{NormalCtx: f.ctxN, AbnormalCtx: f.ctxA, Deep: f.deep}
	x, err := dapo.PromptEmbeddingsOn(cfg, tt, prompts, ids)
	if err != nil {
		return nil, err
	}
	// NewDeviceStep refuses text_depth < layers − 1, so the tokens stay
	// inserted to the end, as the backward assumes.
	deep := &dapo.DeepTextTokens{Config: cfg, Prompts: prompts, Backend: be, Alloc: f.alloc}
	final, tape, err := f.forward(ctx, &tt.Tower, x, compute.Hooks{Before: deep.Before}, s.spareText)
	if err != nil {
		return nil, fmt.Errorf("text tower: %w", err)
	}
	f.textFinal, f.textTape = final, tape
	f.rows = dapo.ReadoutRows(cfg, ids, deep.Inserted)
	groups := tt.Readout(final, f.rows)
	host := make([]float32, len(ids)*tt.EmbedDim)
	be.Download(host, groups)
	be.Free(groups)
	if err := be.Err(); err != nil {
		return nil, fmt.Errorf("text tower on %s: %w", be.Name(), err)
	}
	return f.upload(dapo.GroupMean(cfg, host, tt.EmbedDim)), nil
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
