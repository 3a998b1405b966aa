package tokenizer_test

import (
	"slices"
	"testing"

	"dapo/shared/tokenizer"
)

// FuzzTokenize checks the row invariants the text encoder relies on: a
// full row that starts with SOT, whose last non-pad id is EOT, and whose
// ids all index the embedding table.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{
		"", "X X X X X flawless object", "a photo of a BENT metal nut.",
		"&amp;lt;b&amp;gt; &#128; &#1; &nGt; &notit;", "ΟΔΟΣ İstanbul ſ'ſ \u0345 \x1c\x85\u3000",
		"<start_of_text>x<end_of_text>", "日本語 😀 ١٢٣ x²", "\xff\xfe invalid \xc3",
		"word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word",
	} {
		f.Add(s, uint8(0))
	}
	tok, err := tokenizer.New()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string, n uint8) {
		enc := tok.Encode(text)
		if p := tok.Pieces(text); len(p) != len(enc) {
			t.Fatalf("%d pieces for %d ids", len(p), len(enc))
		}
		for _, ctx := range []int{tokenizer.ContextLength, 2 + int(n)%128} {
			ids, truncated := tok.Tokenize(text, ctx)
			if len(ids) != ctx {
				t.Fatalf("ctx %d: %d ids", ctx, len(ids))
			}
			if ids[0] != tokenizer.SOT {
				t.Fatalf("ctx %d: first id %d, want SOT", ctx, ids[0])
			}
			last := -1
			for i, id := range ids {
				if id < 0 || id >= tokenizer.VocabSize {
					t.Fatalf("ctx %d: id %d at %d out of range", ctx, id, i)
				}
				if id != tokenizer.Pad {
					last = i
				}
			}
			if ids[last] != tokenizer.EOT {
				t.Fatalf("ctx %d: last non-pad id %d, want EOT", ctx, ids[last])
			}
			if truncated != (len(enc)+2 > ctx) {
				t.Fatalf("ctx %d: truncated %v with %d BPE ids", ctx, truncated, len(enc))
			}
			if keep := min(len(enc), ctx-2); !slices.Equal(ids[1:1+keep], enc[:keep]) {
				t.Fatalf("ctx %d: row does not start with Encode's ids", ctx)
			}
		}
	})
}
