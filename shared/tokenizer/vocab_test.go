package tokenizer

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// TestEmbeddedVocabChecksum pins the embedded file to the team folder's
// published sha256 of CLIP's bpe_simple_vocab_16e6.txt.gz.
func TestEmbeddedVocabChecksum(t *testing.T) {
	const want = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"
	sum := sha256.Sum256(vocabGz)
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("embedded vocab sha256 %s, want %s", got, want)
	}
}

// TestByteSymbols checks two fixed points of CLIP's byte table: printable
// ASCII stands for itself and the space byte becomes U+0120 ("Ġ").
func TestByteSymbols(t *testing.T) {
	sym, order := bytesToUnicode()
	if sym['a'] != 'a' || sym[' '] != 'Ġ' || order[0] != '!' {
		t.Errorf("bytes_to_unicode: a->%q space->%q first %q", sym['a'], sym[' '], order[0])
	}
}
