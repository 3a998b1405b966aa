package dapo

import (
	"fmt"
	"strings"

	"dapo/server/clip"
	"dapo/shared/tokenizer"
)

// Templates returns the prompt texts in row order: PromptCount normal rows,
// then PromptCount rows per defect word. The X placeholders hold the
// positions the learned context replaces.
func (c Config) Templates() []string {
	normal := strings.TrimSpace(strings.Repeat("X ", c.NormalTokenCnt)) + " " + c.NormalWord + " " + c.ClassWord
	var rows []string
	for p := 0; p < c.PromptCount; p++ {
		rows = append(rows, normal)
	}
	ctx := strings.TrimSpace(strings.Repeat("X ", c.AbnormalTokenCnt))
	for _, d := range c.Defects {
		t := ctx + " " + d + " " + c.AnomalyWord + " " + c.ClassWord
		for p := 0; p < c.PromptCount; p++ {
			rows = append(rows, t)
		}
	}
	return rows
}

// TemplateIDs tokenises the templates into rows of the text context length.
// A defect word whose prompt would not fit is an error, since truncation
// would cut the anchor the prompt is built around.
func (c Config) TemplateIDs(tok *tokenizer.Tokenizer, contextLength int) ([][]int, error) {
	rows := c.Templates()
	ids := make([][]int, len(rows))
	for i, t := range rows {
		row, truncated := tok.Tokenize(t, contextLength)
		if truncated {
			return nil, fmt.Errorf("prompt %q does not fit %d tokens", t, contextLength)
		}
		ids[i] = row
	}
	for _, d := range c.Defects {
		if len(tok.Encode(d)) == 0 {
			return nil, fmt.Errorf("defect word %q has no tokens", d)
		}
	}
	return ids, nil
}

// PromptEmbeddings embeds the template ids with the frozen token embedding
// and splices the learned context into positions 1..n (the X tokens):
// normal rows use NormalCtx[p], defect rows AbnormalCtx[p]. The result is
// [(1+S)·P, ctx, Dt] before the positional embedding.
func PromptEmbeddings(c Config, text *clip.Text, p *Params, ids [][]int) (clip.Seq, error) {
	x, err := text.TokenEmbeddings(ids)
	if err != nil {
		return clip.Seq{}, err
	}
	dt := x.W
	for row := 0; row < x.B; row++ {
		group := row % c.PromptCount
		ctx, n := p.AbnormalCtx, c.AbnormalTokenCnt
		if row < c.PromptCount {
			ctx, n = p.NormalCtx, c.NormalTokenCnt
		}
		for j := 0; j < n; j++ {
			copy(x.Row(row, 1+j), ctx[(group*n+j)*dt:(group*n+j+1)*dt])
		}
	}
	return x, nil
}
