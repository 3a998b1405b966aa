package tokenizer

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// naiveBPE transcribes open_clip's SimpleTokenizer.bpe literally (round by
// round, strings as symbols) to check the heap version in bpe.go against.
func naiveBPE(ranks map[[2]string]int32, word string) []string {
	sym, _ := bytesToUnicode()
	w := make([]string, len(word))
	for i := range len(word) {
		w[i] = string(sym[word[i]])
	}
	w[len(w)-1] += "</w>"
	for len(w) > 1 {
		best, bestRank := [2]string{}, int32(-1)
		for i := 0; i+1 < len(w); i++ {
			if r, ok := ranks[[2]string{w[i], w[i+1]}]; ok && (bestRank < 0 || r < bestRank) {
				best, bestRank = [2]string{w[i], w[i+1]}, r
			}
		}
		if bestRank < 0 {
			break
		}
		var next []string
		for i := 0; i < len(w); {
			if i+1 < len(w) && w[i] == best[0] && w[i+1] == best[1] {
				next = append(next, best[0]+best[1])
				i += 2
			} else {
				next = append(next, w[i])
				i++
			}
		}
		w = next
	}
	return w
}

func TestBPEMatchesNaive(t *testing.T) {
	tok, err := New()
	if err != nil {
		t.Fatal(err)
	}
	// Words built from vocabulary pieces hit many merges; repeats hit the
	// overlapping-pair case ("aaa" with merge a+a), random bytes the rest.
	rng := rand.New(rand.NewPCG(1, 2))
	sym, _ := bytesToUnicode()
	dec := map[rune]byte{}
	for b, r := range sym {
		dec[r] = byte(b)
	}
	piece := func() string {
		var b strings.Builder
		for _, r := range strings.TrimSuffix(tok.vocab[rng.IntN(SOT)], "</w>") {
			b.WriteByte(dec[r])
		}
		return b.String()
	}
	words := []string{"a", "aa", "aaa", "aaaaaaa", "abababab", "lllllll", "discoloration", "!!!!!!!!"}
	for range 3000 {
		var b strings.Builder
		switch rng.IntN(3) {
		case 0:
			for range 1 + rng.IntN(4) {
				b.WriteString(piece())
			}
		case 1:
			p := piece()
			for range 2 + rng.IntN(6) {
				b.WriteString(p)
			}
		default:
			for range 1 + rng.IntN(12) {
				b.WriteByte(byte(rng.IntN(256)))
			}
		}
		words = append(words, b.String())
	}
	ranks := make(map[[2]string]int32, len(tok.merges))
	for k, m := range tok.merges {
		ranks[[2]string{tok.vocab[k>>32], tok.vocab[uint32(k)]}] = m.rank
	}
	for _, w := range words {
		var got []string
		for _, id := range tok.bpe(w, nil) {
			got = append(got, tok.vocab[id])
		}
		if want := naiveBPE(ranks, w); !slices.Equal(got, want) {
			t.Errorf("bpe(%q) = %q, naive %q", w, got, want)
		}
	}
}

// TestCacheBounded checks that the cache never outgrows maxCached.
func TestCacheBounded(t *testing.T) {
	tok, err := New()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := range maxCached + 10 {
		b.Reset()
		for n := i; ; n /= 26 {
			b.WriteByte(byte('a' + n%26))
			if n < 26 {
				break
			}
		}
		tok.Encode(b.String())
	}
	if n := len(tok.cache); n > maxCached {
		t.Errorf("cache holds %d words, limit %d", n, maxCached)
	}
}

// BenchmarkEncodeUncached measures cleaning, pre-tokenising and BPE with
// the cache bypassed: the cost of a text with unseen words.
func BenchmarkEncodeUncached(b *testing.B) {
	tok, err := New()
	if err != nil {
		b.Fatal(err)
	}
	text := "The quick brown fox jumps over the lazy dog; naïve résumé &amp; discoloration, 日本語のテキスト, 3.14159 apples!"
	b.SetBytes(int64(len(text)))
	var ids []int
	for b.Loop() {
		ids = ids[:0]
		pretokenize(clean(text), func(w string) { ids = tok.bpe(w, ids) })
	}
}
