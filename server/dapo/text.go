package dapo

import (
	"context"

	"dapo/kernels/cpu"
	"dapo/server/clip"
)

// Trace observes named intermediates ("text.block_in", "text.block_out",
// "vision.block_in", …) with the 0-based block index; tests compare them
// with the reference. Nil means no tracing.
type Trace func(name string, layer int, x clip.Seq)

// TextFeatures are the class text features.
type TextFeatures struct {
	Groups   []float32 // [(1+S), P, E] projected read-out rows
	Raw      []float32 // [(1+S), E] mean over the P groups
	Features []float32 // [(1+S), E] L2-normalised: t_0 normal, t_1..t_S defects
	Readout  []int     // row read from each prompt sequence
}

// EncodeText runs DAPO's prompt encoder (encode_learn_prompts): prompt
// embeddings plus positional embedding; the deep text tokens inserted
// after SOT before block 1 and blended before each later block up to
// TextDepth; ln_final; the read-out row; text projection; mean over the
// prompt groups; L2 normalisation. Attention is bidirectional unless
// TextCausal is set, as in the reference.
func EncodeText(ctx context.Context, c Config, text *clip.Text, p *Params, ids [][]int, trace Trace) (*TextFeatures, error) {
	x, err := PromptEmbeddings(c, text, p, ids)
	if err != nil {
		return nil, err
	}
	text.AddPositional(x)
	n := c.LayerTokenCnt
	alpha := float32(c.AlphaBlend)
	inserted := false
	tower := text.Tower
	tower.Causal = c.TextCausal
	hooks := clip.Hooks{
		Before: func(k int, x clip.Seq) clip.Seq {
			switch {
			case k == 0:
				x = insertAfterFirst(x, p.TextDeep[0], n)
				inserted = true
			case k < c.TextDepth:
				blendRows(x, p.TextDeep[k], n, alpha)
			case k == c.TextDepth+1 && inserted:
				// The reference drops the deep tokens once its layer
				// counter passes text_depth (never when text_depth equals
				// the number of layers, the released setting).
				x = removeAfterFirst(x, n)
				inserted = false
			}
			if trace != nil {
				trace("text.block_in", k, x)
			}
			return x
		},
	}
	if trace != nil {
		hooks.After = func(k int, x clip.Seq) { trace("text.block_out", k, x) }
	}
	final, err := tower.Forward(ctx, x, hooks)
	if err != nil {
		return nil, err
	}
	if trace != nil {
		lnf := final.Clone()
		cpu.LayerNorm(lnf.Data, lnf.Data, lnf.B*lnf.L, lnf.W, text.W.LNFinal.Weight, text.W.LNFinal.Bias, cpu.LayerNormEps)
		trace("text.ln_final_out", len(tower.Blocks), lnf)
	}
	rows := clip.ArgmaxRows(ids)
	if c.TextReadout == ReadoutEOT && inserted {
		for i := range rows {
			rows[i] += n
		}
	}
	tf := groupMean(c, text, final, rows)
	tf.Readout = rows
	return tf, nil
}
