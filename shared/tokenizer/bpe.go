package tokenizer

// merge is one entry of the merge table: its rank (lower merges first) and
// the id of the merged symbol.
type merge struct {
	rank int32
	out  int32
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// maxCached bounds the per-Tokenizer cache so that a stream of distinct
// words (or a fuzzer) cannot grow it without limit; long words are rare and
// not worth keeping.
const (
	maxCached      = 1 << 15
	maxCachedBytes = 64
)

// bpeWord returns the ids of one pre-token, consulting the cache first.
func (t *Tokenizer) bpeWord(word string, dst []int) []int {
	if len(word) > maxCachedBytes {
		return t.bpe(word, dst)
	}
	t.mu.RLock()
	ids, ok := t.cache[word]
	t.mu.RUnlock()
	if ok {
		return append(dst, ids...)
	}
	start := len(dst)
	dst = t.bpe(word, dst)
	ids = append([]int(nil), dst[start:]...)
	t.mu.Lock()
	if len(t.cache) >= maxCached {
		clear(t.cache)
	}
	t.cache[word] = ids
	t.mu.Unlock()
	return dst
}

// symbol is a node of the doubly linked list of a word's symbols; a merged
// symbol keeps the index of its left part, so indices stay in text order.
type symbol struct {
	id         int32
	prev, next int32 // -1 at the ends
}

// candidate is a mergeable adjacent pair seen at some point; it is stale if
// either symbol has changed since.
type candidate struct {
	rank, pos   int32
	left, right int32
}

func (c candidate) less(d candidate) bool {
	return c.rank < d.rank || c.rank == d.rank && c.pos < d.pos
}

// bpe applies the merges to the UTF-8 bytes of word and appends the ids.
//
// open_clip merges in rounds: take the lowest-ranked adjacent pair, merge
// all its occurrences left to right, repeat. Popping pairs from a heap
// ordered by (rank, position) does the same in O(n log n) because a merge
// never creates a pair ranked below itself (checked in loadVocab), so every
// occurrence of a rank is consumed, left to right, before the next rank.
func (t *Tokenizer) bpe(word string, dst []int) []int {
	n := len(word)
	if n == 0 {
		return dst
	}
	syms := make([]symbol, n)
	for i := 0; i < n; i++ {
		syms[i] = symbol{id: t.byteID[word[i]], prev: int32(i - 1), next: int32(i + 1)}
	}
	syms[n-1].id = t.byteIDEnd[word[n-1]]
	syms[n-1].next = -1

	var h []candidate
	push := func(pos int32) {
		nx := syms[pos].next
		if nx < 0 {
			return
		}
		m, ok := t.merges[pairKey(syms[pos].id, syms[nx].id)]
		if !ok {
			return
		}
		h = heapPush(h, candidate{rank: m.rank, pos: pos, left: syms[pos].id, right: syms[nx].id})
	}
	for i := 0; i < n-1; i++ {
		push(int32(i))
	}
	for len(h) > 0 {
		var c candidate
		c, h = heapPop(h)
		nx := syms[c.pos].next
		if syms[c.pos].id != c.left || nx < 0 || syms[nx].id != c.right {
			continue // stale: one side was merged away since
		}
		syms[c.pos].id = t.merges[pairKey(c.left, c.right)].out
		after := syms[nx].next
		syms[c.pos].next = after
		if after >= 0 {
			syms[after].prev = c.pos
		}
		syms[nx].id = -1 // dead
		if p := syms[c.pos].prev; p >= 0 {
			push(p)
		}
		push(c.pos)
	}
	for i := int32(0); i >= 0; i = syms[i].next {
		dst = append(dst, int(syms[i].id))
	}
	return dst
}

// heapPush and heapPop keep a binary min-heap without container/heap's
// interface boxing, which dominates the cost for short words.
func heapPush(h []candidate, c candidate) []candidate {
	h = append(h, c)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

func heapPop(h []candidate) (candidate, []candidate) {
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].less(h[m]) {
			m = l
		}
		if r < len(h) && h[r].less(h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return top, h
}
