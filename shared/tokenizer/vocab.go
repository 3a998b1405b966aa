package tokenizer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"strings"
)

// vocabGz is CLIP's BPE merge list (MIT licence, see LICENSE-vocab),
// sha256 924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a.
//
//go:embed bpe_simple_vocab_16e6.txt.gz
var vocabGz []byte

// numMerges is how many merge lines open_clip reads after the header:
// merges[1:49152-256-2+1].
const numMerges = 49152 - 256 - 2

// bytesToUnicode reproduces CLIP's bytes_to_unicode: printable Latin-1
// bytes stand for themselves, the rest are shifted to U+0100 and up so
// that no symbol is whitespace or a control character. order lists the
// bytes in the table's insertion order, which fixes their vocabulary ids.
func bytesToUnicode() (sym [256]rune, order [256]byte) {
	var printable [256]bool
	n := 0
	for _, rg := range [][2]int{{'!', '~'}, {0xA1, 0xAC}, {0xAE, 0xFF}} {
		for b := rg[0]; b <= rg[1]; b++ {
			printable[b] = true
			sym[b] = rune(b)
			order[n] = byte(b)
			n++
		}
	}
	shift := 0
	for b := 0; b < 256; b++ {
		if !printable[b] {
			sym[b] = rune(256 + shift)
			shift++
			order[n] = byte(b)
			n++
		}
	}
	return sym, order
}

// loadVocab builds the vocabulary (id -> string) and the merge table the
// way open_clip's SimpleTokenizer does: byte symbols, the same with </w>,
// one entry per merge, then the two special tokens.
func (t *Tokenizer) loadVocab() error {
	zr, err := gzip.NewReader(bytes.NewReader(vocabGz))
	if err != nil {
		return fmt.Errorf("tokenizer: open embedded vocab: %w", err)
	}
	defer zr.Close()

	sym, order := bytesToUnicode()
	vocab := make([]string, 0, VocabSize)
	for _, b := range order {
		vocab = append(vocab, string(sym[b]))
	}
	for _, b := range order {
		vocab = append(vocab, string(sym[b])+"</w>")
	}
	for i, b := range order {
		t.byteID[b] = int32(i)
		t.byteIDEnd[b] = int32(256 + i)
	}

	pairs := make([][2]string, 0, numMerges)
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	sc.Scan() // header line ("#version: 0.2")
	for len(pairs) < numMerges && sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			return fmt.Errorf("tokenizer: vocab merge line %d: want 2 symbols, got %q", len(pairs)+2, sc.Text())
		}
		pairs = append(pairs, [2]string{f[0], f[1]})
		vocab = append(vocab, f[0]+f[1])
	}
	if err := sc.Err(); err != nil && err != io.EOF {
		return fmt.Errorf("tokenizer: read embedded vocab: %w", err)
	}
	if len(pairs) != numMerges {
		return fmt.Errorf("tokenizer: embedded vocab has %d merges, want %d", len(pairs), numMerges)
	}
	vocab = append(vocab, "<start_of_text>", "<end_of_text>")
	if len(vocab) != VocabSize {
		return fmt.Errorf("tokenizer: vocab has %d entries, want %d", len(vocab), VocabSize)
	}

	// Python's dict(zip(vocab, range)) keeps the last id of a repeated
	// string, so later entries overwrite earlier ones here too.
	enc := make(map[string]int32, len(vocab))
	for i, s := range vocab {
		enc[s] = int32(i)
	}
	if enc["<start_of_text>"] != SOT || enc["<end_of_text>"] != EOT {
		return fmt.Errorf("tokenizer: special tokens are not at %d/%d", SOT, EOT)
	}

	// The heap-ordered BPE in bpe.go equals open_clip's round-by-round
	// merging only if every merge ranks after the merges that built its
	// parts (true of a learned merge list); check it rather than assume it.
	madeAt := make(map[int32]int32, numMerges)
	t.merges = make(map[uint64]merge, numMerges)
	for rank, p := range pairs {
		a, okA := enc[p[0]]
		b, okB := enc[p[1]]
		if !okA || !okB {
			// A part that is no symbol can never appear in a word.
			continue
		}
		for _, part := range [2]int32{a, b} {
			if k, ok := madeAt[part]; ok && int(k) >= rank {
				return fmt.Errorf("tokenizer: merge %d uses %q built by later merge %d", rank, vocab[part], k)
			}
		}
		out := enc[p[0]+p[1]]
		if _, seen := madeAt[out]; !seen {
			madeAt[out] = int32(rank)
		}
		key := pairKey(a, b)
		// Python's dict(zip(merges, range)) also keeps the last rank.
		t.merges[key] = merge{rank: int32(rank), out: out}
	}
	t.vocab = vocab
	return nil
}
