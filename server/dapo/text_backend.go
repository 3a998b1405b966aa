package dapo

import (
	"context"
	"fmt"

	"dapo/server/clip"
	"dapo/server/compute"
)

// TextPrompts are the text side's learned parameters on a backend.
type TextPrompts struct {
	NormalCtx, AbnormalCtx compute.Tensor   // [P, n, Dt]
	Deep                   []compute.Tensor // per block [n, Dt]
}

// UploadTextPrompts puts the learned context and the deep text tokens on
// be (the CPU backend uses p's slices in place).
func UploadTextPrompts(be compute.Backend, p *Params) (*TextPrompts, error) {
	out := &TextPrompts{NormalCtx: clip.Upload(be, p.NormalCtx), AbnormalCtx: clip.Upload(be, p.AbnormalCtx)}
	for _, d := range p.TextDeep {
		out.Deep = append(out.Deep, clip.Upload(be, d))
	}
	if err := be.Err(); err != nil {
		return nil, fmt.Errorf("text prompts on %s: %w", be.Name(), err)
	}
	return out, nil
}

// PromptEmbeddingsOn assembles the prompt sequences on t's backend: the
// template ids through the frozen token embedding, with the learned
// context at positions 1..n (normal rows NormalCtx[p], defect rows
// AbnormalCtx[p]), plus the positional embedding: [(1+S)·P, ctx, Dt].
func PromptEmbeddingsOn(c Config, t *compute.TextTower, p *TextPrompts, ids [][]int) (compute.Seq, error) {
	be, w := t.Tower.Backend, t.Width
	ctxLen := t.PosEmbed.Len() / w
	for n, row := range ids {
		if len(row) != ctxLen {
			return compute.Seq{}, fmt.Errorf("text embed: row %d has %d ids, want %d", n, len(row), ctxLen)
		}
	}
	rows := len(ids)
	x := compute.Seq{B: rows, L: ctxLen, W: w, T: be.Alloc(rows * ctxLen * w)}
	be.EmbedTokens(x.T, t.TokenEmbedding, ids, t.PosEmbed, w)
	for row := 0; row < rows; row++ {
		ctxT, cnt := p.AbnormalCtx, c.AbnormalTokenCnt
		if row < c.PromptCount {
			ctxT, cnt = p.NormalCtx, c.NormalTokenCnt
		}
		group := row % c.PromptCount
		dst := be.View(x.T, (row*ctxLen+1)*w, cnt*w)
		be.Copy(dst, be.View(ctxT, group*cnt*w, cnt*w))
		be.Add(dst, be.View(t.PosEmbed, w, cnt*w))
	}
	if err := be.Err(); err != nil {
		be.Free(x.T)
		return compute.Seq{}, fmt.Errorf("text embed on %s: %w", be.Name(), err)
	}
	return x, nil
}

// DeepTextTokens is the text tower's Before hook for the deep text tokens:
// Deep[0] inserted after SOT before block 1, Deep[k] blended before each
// later block up to TextDepth, and — as the reference, whose layer counter
// passes text_depth — the tokens dropped again before block TextDepth+1
// (never when TextDepth is the number of layers, the released setting).
// The sequence the hook replaces is freed; alloc makes the ones it returns
// (their owner frees them). Inserted reports whether the tokens are still
// in the final sequence.
type DeepTextTokens struct {
	Config   Config
	Prompts  *TextPrompts
	Backend  compute.Backend
	Alloc    func(n int) compute.Tensor
	Inserted bool
}

// Before is the hook.
func (d *DeepTextTokens) Before(k int, x compute.Seq) compute.Seq {
	be, c, n := d.Backend, d.Config, d.Config.LayerTokenCnt
	switch {
	case k == 0:
		y := compute.Seq{B: x.B, L: x.L + n, W: x.W, T: d.Alloc(x.B * (x.L + n) * x.W)}
		be.InsertAfterFirst(y.T, x.T, d.Prompts.Deep[0], x.B, x.L, x.W, n)
		be.Free(x.T)
		d.Inserted = true
		return y
	case k < c.TextDepth:
		be.BlendRows(x.T, d.Prompts.Deep[k], x.B, x.L, x.W, n, float32(c.AlphaBlend))
	case k == c.TextDepth+1 && d.Inserted:
		y := compute.Seq{B: x.B, L: x.L - n, W: x.W, T: d.Alloc(x.B * (x.L - n) * x.W)}
		be.RemoveAfterFirst(y.T, x.T, x.B, x.L, x.W, n)
		d.Inserted = false
		return y
	}
	return x
}

// ReadoutRows is the row read from each prompt sequence: the template's
// EOT (argmax id) position, moved past the deep tokens in the "eot" mode
// while they are inserted.
func ReadoutRows(c Config, ids [][]int, inserted bool) []int {
	rows := clip.ArgmaxRows(ids)
	if c.TextReadout == ReadoutEOT && inserted {
		for i := range rows {
			rows[i] += c.LayerTokenCnt
		}
	}
	return rows
}

// GroupMean averages the projected read-outs [(1+S)·P, E] over the P
// prompt groups of each class: [(1+S), E], in float32 and a fixed order.
func GroupMean(c Config, groups []float32, e int) []float32 {
	classes := len(groups) / e / c.PromptCount
	raw := make([]float32, classes*e)
	for cl := 0; cl < classes; cl++ {
		dst := raw[cl*e : (cl+1)*e]
		for g := 0; g < c.PromptCount; g++ {
			src := groups[(cl*c.PromptCount+g)*e : (cl*c.PromptCount+g+1)*e]
			for i := range dst {
				dst[i] += src[i]
			}
		}
		for i := range dst {
			dst[i] /= float32(c.PromptCount)
		}
	}
	return raw
}

// EncodeTextOn runs DAPO's prompt encoder (encode_learn_prompts) on t's
// backend: prompt embeddings with the positional embedding, the deep text
// tokens (DeepTextTokens), the final layer norm and projection of the
// read-out row, the mean over the prompt groups and L2 normalisation.
// Attention is bidirectional unless TextCausal is set, as in the
// reference. trace (may be nil) sees each block's input and output and the
// ln_final output, copied to the host unless the backend is the CPU.
func EncodeTextOn(ctx context.Context, c Config, t *compute.TextTower, p *TextPrompts, ids [][]int, trace Trace) (*TextFeatures, error) {
	be, e := t.Tower.Backend, t.EmbedDim
	x, err := PromptEmbeddingsOn(c, t, p, ids)
	if err != nil {
		return nil, err
	}
	var owned []compute.Tensor
	defer func() {
		for _, o := range owned {
			be.Free(o)
		}
	}()
	deep := &DeepTextTokens{Config: c, Prompts: p, Backend: be, Alloc: func(n int) compute.Tensor {
		o := be.Alloc(n)
		owned = append(owned, o)
		return o
	}}
	hooks := compute.Hooks{Before: func(k int, x compute.Seq) compute.Seq {
		x = deep.Before(k, x)
		if trace != nil {
			trace("text.block_in", k, hostSeq(be, x))
		}
		return x
	}}
	if trace != nil {
		hooks.After = func(k int, x compute.Seq) { trace("text.block_out", k, hostSeq(be, x)) }
	}
	tower := t.Tower
	tower.Causal = c.TextCausal
	final, err := tower.Forward(ctx, x, hooks)
	if err != nil {
		return nil, err
	}
	if len(owned) == 0 {
		owned = append(owned, final.T) // the embedding itself: no hook replaced it
	}
	if trace != nil {
		n := final.B * final.L * final.W
		lnf := compute.Seq{B: final.B, L: final.L, W: final.W, T: be.Alloc(n)}
		owned = append(owned, lnf.T)
		be.LayerNorm(lnf.T, final.T, final.B*final.L, final.W, t.LNFinal.Weight, t.LNFinal.Bias)
		trace("text.ln_final_out", len(tower.Blocks), hostSeq(be, lnf))
	}
	rows := ReadoutRows(c, ids, deep.Inserted)
	g := t.Readout(final, rows)
	groups := make([]float32, len(ids)*e)
	be.Download(groups, g)
	be.Free(g)
	if err := be.Err(); err != nil {
		return nil, fmt.Errorf("dapo text encode on %s: %w", be.Name(), err)
	}
	raw := GroupMean(c, groups, e)
	feats := append([]float32(nil), raw...)
	l2rows(feats, len(raw)/e, e)
	return &TextFeatures{Groups: groups, Raw: raw, Features: feats, Readout: rows}, nil
}
