package dapo

import (
	"context"
	"slices"
	"testing"

	"dapo/server/clip"
	"dapo/shared/tokenizer"
)

// TestTextReadoutAndCausalOptions: the eot read-out takes the EOT token
// itself (shifted by the inserted deep tokens), and the causal option
// changes the features; the defaults reproduce the reference (golden tests).
func TestTextReadoutAndCausalOptions(t *testing.T) {
	_, cfg, bb, params := goldenModel(t)
	tok, err := tokenizer.New()
	if err != nil {
		t.Fatal(err)
	}
	ids, err := cfg.TemplateIDs(tok, bb.Config.Text.ContextLength)
	if err != nil {
		t.Fatal(err)
	}
	text := clip.NewText(bb.Weights)
	ctx := context.Background()
	base, err := EncodeText(ctx, cfg, text, params, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	eot := cfg
	eot.TextReadout = ReadoutEOT
	got, err := EncodeText(ctx, eot, text, params, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range ids {
		want := slices.Index(row, tokenizer.EOT) + cfg.LayerTokenCnt
		if got.Readout[i] != want || base.Readout[i] != want-cfg.LayerTokenCnt {
			t.Fatalf("row %d: eot read-out %d (want %d), shifted %d", i, got.Readout[i], want, base.Readout[i])
		}
	}
	if slices.Equal(got.Features, base.Features) {
		t.Error("eot read-out gave the same features as the shifted one")
	}
	causal := cfg
	causal.TextCausal = true
	c, err := EncodeText(ctx, causal, text, params, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(c.Features, base.Features) {
		t.Error("causal mask did not change the features")
	}
	if text.Tower.Causal != true {
		t.Error("EncodeText must not change the plain text tower's causal setting")
	}
}
