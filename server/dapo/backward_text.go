package dapo

import (
	"context"
	"fmt"

	"dapo/kernels/cpu"
	"dapo/server/clip"
)

// TextTape holds what the prompt encoder's backward needs.
type TextTape struct {
	c     Config
	text  *clip.Text
	tower *clip.Transformer // the tower the tape was recorded on
	tape  *clip.Tape
	final clip.Seq
	rows  []int
}

// TextGrads are the gradients of the learned text tensors.
type TextGrads struct {
	NormalCtx, AbnormalCtx []float32
	TextDeep               [][]float32
}

// EncodeTextTrain is EncodeText recording a tape for TextBackward. reuse,
// if not nil, is an earlier tape whose backward has run: its buffers are
// recorded into (and it must not be used again).
func EncodeTextTrain(ctx context.Context, c Config, text *clip.Text, p *Params, ids [][]int, reuse *TextTape) (*TextFeatures, *TextTape, error) {
	x, err := PromptEmbeddings(c, text, p, ids)
	if err != nil {
		return nil, nil, err
	}
	text.AddPositional(x)
	n, alpha := c.LayerTokenCnt, float32(c.AlphaBlend)
	if c.TextDepth < len(text.Tower.Blocks)-1 {
		return nil, nil, fmt.Errorf("training with text_depth %d < text layers − 1 is not supported (the reference drops the deep tokens there)", c.TextDepth)
	}
	tower := &clip.Transformer{Blocks: text.Tower.Blocks, Heads: text.Tower.Heads, QuickGELU: text.Tower.QuickGELU, Causal: c.TextCausal}
	hooks := clip.Hooks{Before: func(k int, x clip.Seq) clip.Seq {
		if k == 0 {
			return insertAfterFirst(x, p.TextDeep[0], n)
		}
		if k < c.TextDepth {
			blendRows(x, p.TextDeep[k], n, alpha)
		}
		return x
	}}
	var old *clip.Tape
	if reuse != nil {
		old, reuse.tape = reuse.tape, nil
	}
	final, tape, err := tower.ForwardCachedReusing(ctx, x, hooks, old)
	if err != nil {
		return nil, nil, err
	}
	rows := clip.ArgmaxRows(ids)
	if c.TextReadout == ReadoutEOT {
		for i := range rows {
			rows[i] += n
		}
	}
	tf := groupMean(c, text, final, rows)
	tf.Readout = rows
	tt := &TextTape{c: c, text: text, tower: tower, tape: tape, final: final, rows: rows}
	return tf, tt, nil
}

// groupMean reads out, projects and averages the prompt groups.
func groupMean(c Config, text *clip.Text, final clip.Seq, rows []int) *TextFeatures {
	groups := text.Readout(final, rows)
	e := text.Config.EmbedDim
	raw := GroupMean(c, groups, e)
	feats := append([]float32(nil), raw...)
	l2rows(feats, len(raw)/e, e)
	return &TextFeatures{Groups: groups, Raw: raw, Features: feats}
}

// Backward takes dRaw [(1+S), E] — the gradient with respect to the raw
// (group-mean, unnormalised) class features — back to the learned text
// tensors.
func (tt *TextTape) Backward(ctx context.Context, dRaw []float32) (*TextGrads, error) {
	c := tt.c
	e := tt.text.Config.EmbedDim
	rowsN := tt.final.B
	if len(dRaw) != rowsN/c.PromptCount*e {
		return nil, fmt.Errorf("text backward: gradient has %d values, want %d", len(dRaw), rowsN/c.PromptCount*e)
	}
	dGroups := make([]float32, rowsN*e)
	inv := 1 / float32(c.PromptCount)
	for r := 0; r < rowsN; r++ {
		cl := r / c.PromptCount
		for i := 0; i < e; i++ {
			dGroups[r*e+i] = dRaw[cl*e+i] * inv
		}
	}
	dFinal := tt.text.ReadoutBackward(tt.final, tt.rows, dGroups)
	n, alpha := c.LayerTokenCnt, float32(c.AlphaBlend)
	dt := tt.text.Config.Text.Width
	g := &TextGrads{NormalCtx: make([]float32, c.PromptCount*c.NormalTokenCnt*dt), AbnormalCtx: make([]float32, c.PromptCount*c.AbnormalTokenCnt*dt)}
	for k := 0; k < c.TextDepth; k++ {
		g.TextDeep = append(g.TextDeep, make([]float32, n*dt))
	}
	hooks := clip.BackwardHooks{Before: func(k int, dx clip.Seq) clip.Seq {
		switch {
		case k == 0:
			sumRows(g.TextDeep[0], dx, n, 1)
			return removeAfterFirst(dx, n)
		case k < c.TextDepth:
			sumRows(g.TextDeep[k], dx, n, 1-alpha)
			scaleRows(dx, n, alpha)
		}
		return dx
	}}
	dIn, err := tt.tower.Backward(ctx, tt.tape, dFinal, hooks)
	if err != nil {
		return nil, err
	}
	// The learned context sits at positions 1..n of the prompt embeddings.
	for row := 0; row < dIn.B; row++ {
		group := row % c.PromptCount
		dst, cnt := g.AbnormalCtx, c.AbnormalTokenCnt
		if row < c.PromptCount {
			dst, cnt = g.NormalCtx, c.NormalTokenCnt
		}
		for j := 0; j < cnt; j++ {
			src := dIn.Row(row, 1+j)
			off := (group*cnt + j) * dt
			for i, v := range src {
				dst[off+i] += v
			}
		}
	}
	return g, nil
}

// sumRows adds scale·Σ_b dx[b, 1..n] into dst [n, W].
func sumRows(dst []float32, dx clip.Seq, n int, scale float32) {
	w := dx.W
	for b := 0; b < dx.B; b++ {
		for j := 0; j < n; j++ {
			row := dx.Row(b, 1+j)
			for i, v := range row {
				dst[j*w+i] += scale * v
			}
		}
	}
}

// scaleRows multiplies rows 1..n of every sequence by s.
func scaleRows(dx clip.Seq, n int, s float32) {
	for b := 0; b < dx.B; b++ {
		for j := 0; j < n; j++ {
			row := dx.Row(b, 1+j)
			for i := range row {
				row[i] *= s
			}
		}
	}
}

func l2rows(x []float32, rows, width int) { cpu.L2Normalize(x, rows, width) }
