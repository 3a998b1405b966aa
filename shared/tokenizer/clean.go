package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// clean is open_clip's clean="lower" path: ftfy.fix_text (stubbed as NFC,
// as in the reference data), html.unescape twice, whitespace collapsed to
// single spaces and trimmed, then Python's str.lower().
func clean(text string) string {
	// Python strings are always valid Unicode; take U+FFFD for bad bytes.
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = norm.NFC.String(text)
	text = unescape(unescape(text))
	text = strings.Join(strings.FieldsFunc(text, pyIsSpace), " ")
	return pyLower(text)
}

// pyIsSpace is Python's str.isspace: Go's unicode.IsSpace (the White_Space
// property) plus U+001C..U+001F, which Python counts through their
// bidirectional class.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || 0x1C <= r && r <= 0x1F
}

// pyLower is Python's str.lower(): the simple lower-case mapping, except
// U+0130 (full mapping "i\u0307") and capital sigma, which becomes final
// sigma at the end of a word.
func pyLower(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch r {
		case 'İ':
			b.WriteString("i\u0307")
		case 'Σ':
			if finalSigma(s, i) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma is the Final_Sigma condition as CPython tests it for the sigma
// at byte offset i: a cased letter before it and none after it, skipping
// case-ignorable characters on both sides.
func finalSigma(s string, i int) bool {
	before := strings.TrimRightFunc(s[:i], caseIgnorable)
	if before == "" {
		return false
	}
	if r, _ := utf8.DecodeLastRuneInString(before); !cased(r) {
		return false
	}
	after := strings.TrimLeftFunc(s[i+len("Σ"):], caseIgnorable)
	if after == "" {
		return true
	}
	r, _ := utf8.DecodeRuneInString(after)
	return !cased(r)
}

// cased is Unicode's derived property Cased.
func cased(r rune) bool {
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// caseIgnorable is Unicode's derived property Case_Ignorable: categories
// Mn, Me, Cf, Lm, Sk plus Word_Break MidLetter, MidNumLet and Single_Quote
// (listed here because Go has no Word_Break table).
func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024, 0x2027,
		0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}
