package clip

import (
	"context"
	"fmt"

	"dapo/kernels/cpu"
	"dapo/server/compute"
)

// Text is the CLIP text tower.
type Text struct {
	Config Config
	W      *TextWeights
	Tower  Transformer
}

// NewText builds the text tower over bound weights. Causal masking is on,
// as in plain CLIP; DAPO's prompt encoder switches it off.
func NewText(w *Weights) *Text {
	return &Text{
		Config: w.Config,
		W:      &w.Text,
		Tower:  Transformer{Blocks: w.Text.Blocks, Heads: w.Config.Text.Heads, QuickGELU: w.Config.QuickGELU, Causal: true},
	}
}

// TokenEmbeddings looks up token ids [N, ctx] into [N, ctx, W] (without the
// positional embedding: DAPO splices learned context into this).
func (t *Text) TokenEmbeddings(ids [][]int) (Seq, error) {
	c := t.Config.Text
	x := NewSeq(len(ids), c.ContextLength, c.Width)
	for n, row := range ids {
		if len(row) != c.ContextLength {
			return Seq{}, fmt.Errorf("text embed: row %d has %d ids, want %d", n, len(row), c.ContextLength)
		}
		for i, id := range row {
			if id < 0 || id >= c.VocabSize {
				return Seq{}, fmt.Errorf("text embed: row %d position %d: token id %d outside vocabulary of %d", n, i, id, c.VocabSize)
			}
			copy(x.Row(n, i), t.W.TokenEmbedding[id*c.Width:(id+1)*c.Width])
		}
	}
	return x, nil
}

// AddPositional adds the positional embedding to the first ctx tokens.
func (t *Text) AddPositional(x Seq) {
	w := x.W
	for n := 0; n < x.B; n++ {
		for i := 0; i < t.Config.Text.ContextLength && i < x.L; i++ {
			cpu.Add(x.Row(n, i), t.W.PosEmbedding[i*w:(i+1)*w])
		}
	}
}

// Pass is the whole tower on be for one pass (its decode buffer for
// half-precision weights belongs to the pass), over t's slices.
func (t *Text) Pass(be *compute.CPU) *compute.TextTower {
	tt := textParts(be, t.Config, t.W)
	tt.Tower = *t.Tower.tower(be)
	return tt
}

// Readout applies ln_final to the given row of each sequence and projects
// it: [N, E] before normalisation (compute.TextTower.Readout on the CPU).
func (t *Text) Readout(final Seq, rows []int) []float32 {
	return textParts(&compute.CPU{}, t.Config, t.W).Readout(final.host(), rows).(compute.Host)
}

// EncodeText is plain CLIP text encoding of token rows: causal mask, EOT
// read-out (the argmax of the ids, as CLIP does), projection. Features
// [N, E] before normalisation.
func (t *Text) EncodeText(ctx context.Context, ids [][]int) ([]float32, error) {
	x, err := t.TokenEmbeddings(ids)
	if err != nil {
		return nil, err
	}
	t.AddPositional(x)
	final, err := t.Tower.Forward(ctx, x, Hooks{})
	if err != nil {
		return nil, err
	}
	return t.Readout(final, ArgmaxRows(ids)), nil
}

// ArgmaxRows returns the index of the largest id per row (the first one on
// ties): the EOT position, since EOT has the largest id.
func ArgmaxRows(ids [][]int) []int {
	out := make([]int, len(ids))
	for n, row := range ids {
		best := 0
		for i, v := range row {
			if v > row[best] {
				best = i
			}
		}
		out[n] = best
	}
	return out
}
