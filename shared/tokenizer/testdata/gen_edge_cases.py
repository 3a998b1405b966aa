"""Writes edge_cases.json: open_clip SimpleTokenizer(clean="lower") outputs
for inputs that exercise Python-specific cleaning and regex behaviour.

The tokenizer below is open_clip's code with ftfy.fix_text stubbed by NFC
(as the golden set does); it needs the `regex` module. Run from this folder:
python3 gen_edge_cases.py ../bpe_simple_vocab_16e6.txt.gz
"""
import gzip, html, json, sys, unicodedata
import regex as re


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def get_pairs(word):
    return set(zip(word[:-1], word[1:]))


def clean(text):
    text = unicodedata.normalize("NFC", text)  # ftfy.fix_text stub
    text = html.unescape(html.unescape(text)).strip()
    text = " ".join(text.split()).strip()
    return text.lower()


class SimpleTokenizer:
    def __init__(self, bpe_path):
        self.byte_encoder = bytes_to_unicode()
        merges = gzip.open(bpe_path).read().decode("utf-8").split("\n")
        merges = merges[1:49152 - 256 - 2 + 1]
        merges = [tuple(m.split()) for m in merges]
        vocab = list(bytes_to_unicode().values())
        vocab = vocab + [v + "</w>" for v in vocab]
        for m in merges:
            vocab.append("".join(m))
        special = ["<start_of_text>", "<end_of_text>"]
        vocab.extend(special)
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {t: t for t in special}
        self.pat = re.compile("|".join(special) + r"""|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", re.IGNORECASE)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        pairs = get_pairs(word)
        if not pairs:
            return token + "</w>"
        while True:
            bigram = min(pairs, key=lambda p: self.bpe_ranks.get(p, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        word = " ".join(word)
        self.cache[token] = word
        return word

    def pieces(self, text):
        out = []
        for token in re.findall(self.pat, clean(text)):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            out.extend(self.bpe(token).split(" "))
        return out


CASES = [
    # html.unescape: numeric references Python treats specially
    "&#0; &#1; &#8; &#11; &#13;x &#31; &#127; &#128; &#129; &#150; &#159; &#160;",
    "&#xD800; &#xdfff; &#x10FFFF; &#x110000; &#99999999999999999999999; &#xFFFE; &#xFDD0;",
    "&#65 &#x41 &#X41; &#0065; &#; &#x; &#xg; &#-1; &# 1",
    # named references: semicolon-less, prefixes, case, long names
    "&amp &ampfoo &amp;amp; &AMP; &Amp; &notit; &noti; &not &copy2024 &lt3",
    "&amp;lt;b&amp;gt; &#38;lt; &#x26;amp;amp; &amp;#65;",
    "&CounterClockwiseContourIntegral; &CounterClockwiseContourIntegralX; &aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaamp;",
    "&NotEqualTilde; &nvlt; &bne; &ThickSpace;x &fjlig; &acE; &nGt; &nLt; &nGtv; &nLt",
    "a&b c & d &&amp; &;amp &\tamp; &amp-x &amp\u00e9; &\u00e9amp;",
    # whitespace Python's str.split knows and Go's unicode.IsSpace does not
    "a\x1cb\x1dc\x1ed\x1fe", "a\x85b\xa0c\u1680d\u2000e\u2028f\u2029g\u202fh\u205fi\u3000j",
    "a\u200bb\u180ec\ufeffd\u2060e", "\t\n\x0b\x0c\r x \r\n",
    # lower(): final sigma, dotted capital I, other casing
    "ΟΔΟΣ ΟΔΟΣ. ΣΑΣ Σ AΣ AΣ' AΣ'B A'Σ A.Σ.", "Σ̈ ΑΣ̈ ΑΣ̈Α ΑΣ\u00adΑ", "İSTANBUL İ i̇",
    "ǅungla ǈ ǋ ẞ ß ΐ ﬁ Ⅻ ⅻ Ⓐ ⓐ 𐐀 𞤀",
    # regex: IGNORECASE variants, U+0345, contractions, specials
    "x'ſ it'S he'LL <ſtart_of_text> <START_OF_TEXT> K\u212a \u0345 a\u0345b \u03b9\u0345",
    "<start_of_text>hello<end_of_text> x<end_of_text>y <end_of_text <start_of_text>>",
    "''s ''t 's' '' 'll've 'ddd 'x don’t",
    # numbers and letters from other scripts
    "١٢٣ ٤٥ ۱۲ ¹²³ x² ½ ⅓ 〇 零 ①②", "한국어 텍스트 ไทย עִבְרִית العربية हिन्दी",
    "e\u0301 \u0301 a\u0308\u0304 \u1100\u1161\u11a8", "👨‍👩‍👧 🇩🇪 ✌🏽 \U0010fffd \ue000",
    # punctuation runs and BPE on rare byte sequences
    "!!!???... --- ___ *** ~~~ @#$%^&*() ¡¿ «» „“ ‘’",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "pneumonoultramicroscopicsilicovolcanoconiosis supercalifragilisticexpialidocious",
    "\u00ad\u034f\u200d\u200c", "\x00\x01\x7f\x80\x9f",
]


def main():
    tok = SimpleTokenizer(sys.argv[1] if len(sys.argv) > 1 else "../bpe_simple_vocab_16e6.txt.gz")
    out = []
    for text in CASES:
        pieces = tok.pieces(text)
        out.append({"text": text, "cleaned": clean(text), "pieces": pieces, "ids": [tok.encoder[p] for p in pieces]})
    doc = {"producer": "gen_edge_cases.py (open_clip SimpleTokenizer, ftfy stubbed by NFC, regex " + re.__version__ + ", Python " + sys.version.split()[0] + ", unicodedata " + unicodedata.unidata_version + ")", "cases": out}
    with open("edge_cases.json", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
