package tokenizer_test

import (
	"slices"
	"sync"
	"testing"

	"dapo/shared/golden"
	"dapo/shared/tokenizer"
)

func newTokenizer(t testing.TB) *tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.New()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type goldenTokenizer struct {
	ContextLength int `json:"context_length"`
	SOT           int `json:"sot"`
	EOT           int `json:"eot"`
	Pad           int `json:"pad"`
	Cases         []struct {
		Text      string   `json:"text"`
		IDs       []int    `json:"ids"`
		NBPE      int      `json:"n_bpe_tokens"`
		Truncated bool     `json:"truncated"`
		Pieces    []string `json:"pieces"`
	} `json:"cases"`
}

// TestGolden checks every case of the golden set's tokenizer.json, which
// the reference open_clip tokenizer produced.
func TestGolden(t *testing.T) {
	var g goldenTokenizer
	golden.Load(t).JSON(t, "tokenizer.json", &g)
	if len(g.Cases) == 0 {
		t.Fatal("tokenizer.json has no cases")
	}
	if g.SOT != tokenizer.SOT || g.EOT != tokenizer.EOT || g.Pad != tokenizer.Pad {
		t.Fatalf("golden sot/eot/pad %d/%d/%d, package has %d/%d/%d",
			g.SOT, g.EOT, g.Pad, tokenizer.SOT, tokenizer.EOT, tokenizer.Pad)
	}
	tok := newTokenizer(t)
	for _, c := range g.Cases {
		ids, truncated := tok.Tokenize(c.Text, g.ContextLength)
		if !slices.Equal(ids, c.IDs) {
			t.Errorf("Tokenize(%q):\n got %v\nwant %v", c.Text, ids, c.IDs)
		}
		if truncated != c.Truncated {
			t.Errorf("Tokenize(%q): truncated %v, want %v", c.Text, truncated, c.Truncated)
		}
		if n := len(tok.Encode(c.Text)); n != c.NBPE {
			t.Errorf("Encode(%q): %d ids, want %d", c.Text, n, c.NBPE)
		}
		if p := tok.Pieces(c.Text); !slices.Equal(p, c.Pieces) {
			t.Errorf("Pieces(%q):\n got %q\nwant %q", c.Text, p, c.Pieces)
		}
	}
	rows := tok.TokenizeBatch([]string{g.Cases[0].Text, g.Cases[len(g.Cases)-1].Text}, g.ContextLength)
	if !slices.Equal(rows[0], g.Cases[0].IDs) || !slices.Equal(rows[1], g.Cases[len(g.Cases)-1].IDs) {
		t.Errorf("TokenizeBatch rows differ from the golden ids")
	}
}

// TestSpecWords checks the ids quoted in the DAPO spec (§2.3).
func TestSpecWords(t *testing.T) {
	tok := newTokenizer(t)
	for word, id := range map[string]int{"X": 343, "object": 14115, "flawless": 15531, "bent": 18369} {
		if got := tok.Encode(word); !slices.Equal(got, []int{id}) {
			t.Errorf("Encode(%q) = %v, want [%d]", word, got, id)
		}
	}
}

func TestTokenizeContextLength(t *testing.T) {
	tok := newTokenizer(t)
	ids, truncated := tok.Tokenize("a photo", 0)
	if len(ids) != tokenizer.ContextLength || truncated {
		t.Errorf("contextLength 0: %d ids (truncated %v), want %d", len(ids), truncated, tokenizer.ContextLength)
	}
	// Three BPE ids plus SOT/EOT need 5: 4 cuts the last word for EOT.
	ids, truncated = tok.Tokenize("a photo of", 4)
	want := append([]int{tokenizer.SOT}, tok.Encode("a photo")...)
	want = append(want, tokenizer.EOT)
	if !slices.Equal(ids, want) || !truncated {
		t.Errorf("contextLength 4: got %v (truncated %v), want %v, true", ids, truncated, want)
	}
	if ids, truncated = tok.Tokenize("a photo of", 5); truncated || ids[4] != tokenizer.EOT {
		t.Errorf("contextLength 5: got %v (truncated %v), want an exact fit", ids, truncated)
	}
}

// TestConcurrent runs encoders in parallel over shared words so that the
// race detector sees the cache under contention.
func TestConcurrent(t *testing.T) {
	tok := newTokenizer(t)
	texts := []string{"a photo of a flawless object", "X X X bent anomaly object", "naïve résumé", "discoloration"}
	want := make([][]int, len(texts))
	for i, s := range texts {
		want[i] = tok.Encode(s)
	}
	fresh := newTokenizer(t)
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(texts))
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 50; k++ {
				for i, s := range texts {
					if got := fresh.Encode(s); !slices.Equal(got, want[i]) {
						errs <- s
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("concurrent Encode(%q) differs", s)
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := tokenizer.New(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenize is the common case: short prompts whose words are
// already in the cache.
func BenchmarkTokenize(b *testing.B) {
	tok := newTokenizer(b)
	texts := []string{"X X X X X flawless object", "X X X faulty imprint anomaly object", "a photo of a damaged metal nut."}
	for b.Loop() {
		tok.TokenizeBatch(texts, tokenizer.ContextLength)
	}
}
