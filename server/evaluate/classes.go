package evaluate

import (
	"log/slog"
	"slices"
	"strings"

	"dapo/server/dataset"
	"dapo/shared/defects"
)

// defectWord maps an image's defect key to a defect word in use: the
// vocabulary's multi-type class word when the vocabulary knows the key (MVTec
// "print" → "faulty imprint"), else the key itself, compared with '_' and
// '-' read as spaces. ok is false for keys without a word in use (and for
// normal images).
func defectWord(vocab, key string, inUse []string) (string, bool) {
	if key == dataset.GoodKey {
		return "", false
	}
	if w, ok := defects.DefectWord(vocab, key); ok && slices.Contains(inUse, w) {
		return w, true
	}
	n := normaliseKey(key)
	for _, w := range inUse {
		if normaliseKey(w) == n {
			return w, true
		}
	}
	return "", false
}

func normaliseKey(s string) string {
	s = strings.ToLower(strings.NewReplacer("_", " ", "-", " ").Replace(s))
	return strings.Join(strings.Fields(s), " ")
}

// productWords is a product's class list L_p without its normal entry
// (§5.4): the vocabulary's list when it knows the product, otherwise the
// defect words in use that the product's defect keys map to, in the order
// of the words in use. Words of the vocabulary's list that are not in use
// (a custom --defects) are dropped with a warning.
func productWords(vocab, product string, items []dataset.Item, inUse []string) []string {
	if list, err := defects.ProductClasses(vocab, product); err == nil {
		var out, dropped []string
		for _, w := range list[1:] {
			if slices.Contains(inUse, w) {
				out = append(out, w)
			} else {
				dropped = append(dropped, w)
			}
		}
		if len(dropped) > 0 {
			slog.Warn("product classes not among the defect words in use; left out of multi-type scoring", "product", product, "words", dropped)
		}
		return out
	}
	found := map[string]bool{}
	for _, it := range items {
		if w, ok := defectWord(vocab, it.DefectKey, inUse); ok && it.Anomalous {
			found[w] = true
		}
	}
	var out []string
	for _, w := range inUse {
		if found[w] {
			out = append(out, w)
		}
	}
	return out
}
