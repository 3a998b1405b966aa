package tokenizer

import (
	"html"
	"strings"
	"unicode/utf8"
)

// unescape reproduces Python's html.unescape, which differs from Go's
// html.UnescapeString on numeric references: Python drops control and
// noncharacter code points (&#1; -> ""), maps out-of-range numbers to
// U+FFFD instead of overflowing, and limits a name to 32 characters of
// anything but "\t\n\f <&#;". Named references are looked up through
// html.UnescapeString, whose table (but for &nGt; and &nLt;) and
// semicolon-less prefix rule match Python's html5 dict for such a name.
func unescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		j := strings.IndexByte(s, '&')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:j])
		s = s[j:]
		n, repl := charref(s)
		if n == 0 {
			b.WriteByte('&')
			s = s[1:]
			continue
		}
		b.WriteString(repl)
		s = s[n:]
	}
}

// charref matches Python's pattern
// &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?) at the start of
// s and returns the bytes consumed (0: no match) and the replacement.
func charref(s string) (int, string) {
	if len(s) > 1 && s[1] == '#' {
		base, k := 10, 2
		if len(s) > 3 && (s[2] == 'x' || s[2] == 'X') && hexVal(s[3]) >= 0 {
			base, k = 16, 3
		}
		start := k
		num := 0
		for ; k < len(s) && hexVal(s[k]) >= 0 && hexVal(s[k]) < base; k++ {
			// Saturate: any value past U+10FFFF gives U+FFFD anyway.
			if num <= utf8.MaxRune {
				num = num*base + hexVal(s[k])
			}
		}
		if k == start {
			return 0, ""
		}
		if k < len(s) && s[k] == ';' {
			k++
		}
		return k, numericRef(num)
	}
	k, runes := 1, 0
	for k < len(s) && runes < 32 {
		r, w := utf8.DecodeRuneInString(s[k:])
		if strings.ContainsRune("\t\n\f <&#;", r) {
			break
		}
		k += w
		runes++
	}
	if runes == 0 {
		return 0, ""
	}
	if k < len(s) && s[k] == ';' {
		k++
	}
	// Go's table leaves out the two references whose UTF-8 expansion is
	// longer than their name, because it unescapes in place.
	switch s[1:k] {
	case "nGt;":
		return k, "\u226B\u20D2"
	case "nLt;":
		return k, "\u226A\u20D2"
	}
	return k, html.UnescapeString(s[:k])
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// windows1252 is Python's _invalid_charrefs for 0x80..0x9F: references to
// C1 controls are read as Windows-1252, except the five unassigned bytes.
var windows1252 = [32]rune{
	0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
	0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
}

// numericRef follows Python's _replace_charref for &#N;.
func numericRef(n int) string {
	switch {
	case n == 0:
		return "\uFFFD"
	case n == 0x0D:
		return "\r"
	case 0x80 <= n && n <= 0x9F:
		return string(windows1252[n-0x80])
	case 0xD800 <= n && n <= 0xDFFF || n > utf8.MaxRune:
		return "\uFFFD"
	case 0x01 <= n && n <= 0x08, n == 0x0B, 0x0E <= n && n <= 0x1F, n == 0x7F,
		0xFDD0 <= n && n <= 0xFDEF, n&0xFFFE == 0xFFFE:
		return "" // Python's _invalid_codepoints
	}
	return string(rune(n))
}
