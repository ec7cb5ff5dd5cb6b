package prompt

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// lowerCaser is Unicode full lower-casing (SpecialCasing included: final
// sigma, U+0130 -> "i̇"), which is what Python's str.lower does; Go's
// strings.ToLower maps rune by rune and misses both.
var lowerCaser = cases.Lower(language.Und)

// cleanText normalises a prompt the way transformers' slow CLIPTokenizer does
// when ftfy is not installed (the stock diffusers setup): its BasicTokenizer
// with strip_accents=False and do_split_on_punc=False. In order:
//   - NUL, U+FFFD and control/format characters (Cc, Cf; not tab, newline,
//     carriage return) are dropped;
//   - tab, newline, carriage return and space separators (Zs) become spaces;
//   - CJK ideographs get a space on each side (each becomes its own word);
//   - NFC normalisation, lower-casing, and splitting on white space,
//     re-joined with single spaces.
func cleanText(text string) string {
	var b strings.Builder
	b.Grow(len(text) + 8)
	for _, r := range text {
		switch {
		case r == 0 || r == unicode.ReplacementChar || isControl(r):
			// dropped
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || unicode.Is(unicode.Zs, r):
			b.WriteByte(' ')
		case isCJKIdeograph(r):
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	normalized := norm.NFC.String(b.String())
	return lowerCaser.String(strings.Join(strings.Fields(normalized), " "))
}

func isControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.In(r, unicode.Cc, unicode.Cf)
}

// isCJKIdeograph covers the CJK Unified Ideographs blocks (and their
// extensions and compatibility forms) that BERT's tokenizer spaces out. Kana
// and Hangul are not in them.
func isCJKIdeograph(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) ||
		(r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) ||
		(r >= 0x2B820 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0x2F800 && r <= 0x2FA1F)
}

// splitWords cuts cleaned text into BPE words with CLIP's pattern
//
//	<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//
// calling word for each match; white space between matches is skipped. The
// two special tokens are reported by their id through special.
func splitWords(s string, word func(string), special func(int32)) {
	for i := 0; i < len(s); {
		r, size := runeAt(s, i)
		switch {
		case unicode.IsSpace(r):
			i += size
		case strings.HasPrefix(s[i:], "<|startoftext|>"):
			special(BOS)
			i += len("<|startoftext|>")
		case strings.HasPrefix(s[i:], "<|endoftext|>"):
			special(EOS)
			i += len("<|endoftext|>")
		case r == '\'' && contractionLen(s[i+1:]) > 0:
			n := 1 + contractionLen(s[i+1:])
			word(s[i : i+n])
			i += n
		case unicode.IsLetter(r):
			j := i + size
			for j < len(s) {
				r2, n := runeAt(s, j)
				if !unicode.IsLetter(r2) {
					break
				}
				j += n
			}
			word(s[i:j])
			i = j
		case unicode.IsNumber(r):
			word(s[i : i+size]) // digits are single words: "2024" is 4 tokens
			i += size
		default:
			j := i + size
			for j < len(s) {
				r2, n := runeAt(s, j)
				if unicode.IsSpace(r2) || unicode.IsLetter(r2) || unicode.IsNumber(r2) {
					break
				}
				j += n
			}
			word(s[i:j])
			i = j
		}
	}
}

// contractionLen is the length of s, up to the apostrophe already consumed,
// if s starts with one of CLIP's contraction suffixes (s t re ve m ll d).
func contractionLen(s string) int {
	for _, c := range [...]string{"s", "t", "re", "ve", "m", "ll", "d"} {
		if strings.HasPrefix(s, c) {
			return len(c)
		}
	}
	return 0
}

func runeAt(s string, i int) (rune, int) { return utf8.DecodeRuneInString(s[i:]) }
