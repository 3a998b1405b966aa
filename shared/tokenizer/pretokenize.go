package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// pretokenize splits cleaned text like open_clip's
//
//	<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//
// compiled by Python's regex module with IGNORECASE, calling emit for each
// match in order. Text between matches (whitespace) is dropped.
//
// IGNORECASE matters in two places: the literal alternatives also match
// simple case-fold variants ("'ſ" matches 's), and the negated class
// excludes any character with a case variant that is a letter or a number,
// so U+0345 (a mark that folds to iota) matches no alternative at all and
// is dropped, as in Python.
func pretokenize(s string, emit func(tok string)) {
	for i := 0; i < len(s); {
		if n := matchLiteral(s[i:]); n > 0 {
			emit(s[i : i+n])
			i += n
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsLetter(r):
			n := w + spanFunc(s[i+w:], unicode.IsLetter)
			emit(s[i : i+n])
			i += n
		case unicode.IsNumber(r):
			emit(s[i : i+w])
			i += w
		case isOther(r):
			n := w + spanFunc(s[i+w:], isOther)
			emit(s[i : i+n])
			i += n
		default:
			i += w
		}
	}
}

// matchLiteral returns the length of the special token or contraction that
// s starts with, trying them in the pattern's order, or 0.
func matchLiteral(s string) int {
	if s == "" || s[0] != '<' && s[0] != '\'' {
		return 0
	}
	literals := [...]string{"<start_of_text>", "<end_of_text>", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"}
	for _, lit := range literals {
		if n := prefixFold(s, lit); n > 0 {
			return n
		}
	}
	return 0
}

// prefixFold returns the byte length of the prefix of s that equals the
// ASCII literal lit under simple case folding, or 0.
func prefixFold(s, lit string) int {
	n := 0
	for k := 0; k < len(lit); k++ {
		if n >= len(s) {
			return 0
		}
		r, w := utf8.DecodeRuneInString(s[n:])
		if !foldEq(r, rune(lit[k])) {
			return 0
		}
		n += w
	}
	return n
}

// foldEq reports whether r is in the simple case-fold orbit of p.
func foldEq(r, p rune) bool {
	for q := p; ; {
		if q == r {
			return true
		}
		if q = unicode.SimpleFold(q); q == p {
			return false
		}
	}
}

// isOther is [^\s\p{L}\p{N}] under IGNORECASE: neither the character nor
// any of its case variants is whitespace, a letter or a number.
func isOther(r rune) bool {
	for q := r; ; {
		if pyIsSpace(q) || unicode.IsLetter(q) || unicode.IsNumber(q) {
			return false
		}
		if q = unicode.SimpleFold(q); q == r {
			return true
		}
	}
}

// spanFunc returns the byte length of the longest prefix of s whose runes
// all satisfy f.
func spanFunc(s string, f func(rune) bool) int {
	for i, r := range s {
		if !f(r) {
			return i
		}
	}
	return len(s)
}
