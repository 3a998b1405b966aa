// Package tokenizer is CLIP's byte-level BPE tokenizer as open_clip's
// SimpleTokenizer runs it with clean="lower": text is cleaned (NFC in
// place of ftfy.fix_text, HTML entities unescaped twice, whitespace
// collapsed, lower-cased), split by CLIP's pre-tokenising pattern, and each
// piece is encoded by merging its UTF-8 bytes with CLIP's merge list.
//
// Python's own semantics are kept where Go's library differs (see clean.go,
// unescape.go, pretokenize.go); differences that remain come from Unicode
// versions (Go's tables are Unicode 15.0) and from invalid UTF-8, which
// Python strings cannot hold and which is read here as U+FFFD.
//
// The vocabulary is embedded, so the package needs no files at run time
// and builds for js/wasm.
package tokenizer

import "sync"

// Fixed ids and sizes of CLIP's text side.
const (
	SOT           = 49406 // <start_of_text>
	EOT           = 49407 // <end_of_text>
	Pad           = 0     // fills a row after EOT
	VocabSize     = 49408
	ContextLength = 77 // CLIP's text context, the default row length
)

// Tokenizer encodes text into CLIP token ids. It is safe for concurrent
// use; the only mutable part is a bounded cache of encoded words.
type Tokenizer struct {
	vocab     []string         // id -> BPE vocabulary string
	merges    map[uint64]merge // (left id, right id) -> merge
	byteID    [256]int32       // id of a byte's symbol inside a word
	byteIDEnd [256]int32       // id of a byte's symbol ending a word (with </w>)

	mu    sync.RWMutex
	cache map[string][]int // pre-token -> ids
}

// New parses the embedded vocabulary.
func New() (*Tokenizer, error) {
	t := &Tokenizer{cache: make(map[string][]int)}
	if err := t.loadVocab(); err != nil {
		return nil, err
	}
	return t, nil
}

// Encode returns the BPE ids of text, without SOT/EOT or padding. A literal
// "<start_of_text>" or "<end_of_text>" in the text encodes to SOT or EOT,
// as in open_clip.
func (t *Tokenizer) Encode(text string) []int {
	return t.encode(nil, text)
}

// encode appends the BPE ids of text to ids.
func (t *Tokenizer) encode(ids []int, text string) []int {
	pretokenize(clean(text), func(tok string) {
		switch tok {
		case "<start_of_text>":
			ids = append(ids, SOT)
		case "<end_of_text>":
			ids = append(ids, EOT)
		default:
			ids = t.bpeWord(tok, ids)
		}
	})
	return ids
}

// Pieces returns the vocabulary strings of Encode's ids: bytes shown
// through CLIP's byte-to-unicode table, word ends marked by "</w>".
func (t *Tokenizer) Pieces(text string) []string {
	ids := t.Encode(text)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = t.vocab[id]
	}
	return out
}

// Tokenize returns one row of contextLength ids: SOT, the BPE ids, EOT,
// then Pad. Input that does not fit is cut to contextLength ids with the
// last set to EOT, and truncated is true. contextLength <= 0 means
// ContextLength.
func (t *Tokenizer) Tokenize(text string, contextLength int) (ids []int, truncated bool) {
	if contextLength <= 0 {
		contextLength = ContextLength
	}
	row := make([]int, 1, contextLength+2)
	row[0] = SOT
	row = append(t.encode(row, text), EOT)
	if len(row) > contextLength {
		row = row[:contextLength]
		row[contextLength-1] = EOT
		return row, true
	}
	for len(row) < contextLength {
		row = append(row, Pad)
	}
	return row, false
}

// TokenizeBatch tokenizes each text into a row as Tokenize does, silently
// truncating over-long texts as open_clip's tokenizer call does.
func (t *Tokenizer) TokenizeBatch(texts []string, contextLength int) [][]int {
	rows := make([][]int, len(texts))
	for i, s := range texts {
		rows[i], _ = t.Tokenize(s, contextLength)
	}
	return rows
}
