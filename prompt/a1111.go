package prompt

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Emphasis factors of A1111's bracket syntax.
const (
	roundBracketWeight  = 1.1
	squareBracketWeight = 1 / 1.1
)

// parseA1111 reads AUTOMATIC1111's prompt attention syntax with the same
// results as its prompt_parser.parse_prompt_attention:
//
//	a (b) [c] (d:1.5) ((e)) \(f\) BREAK g
//
// Brackets multiply the weight of everything they enclose (nested brackets
// multiply again); "\(", "\)", "\[", "\]" and "\\" are the literal
// characters and a lone backslash is dropped, so no backslash reaches the
// tokenizer. Unbalanced brackets are lenient: an unmatched closing bracket is
// literal text, and a bracket left open applies its factor up to the end.
// "(text:w)" takes w as written (negative and zero weights included); a
// weight that does not parse as a number is kept as text. Adjacent pieces
// of equal weight are merged, since A1111 tokenizes each piece separately.
//
// One deliberate difference: BREAK inside brackets still breaks (A1111 would
// multiply its marker weight and then tokenize the word "BREAK").
func parseA1111(text string) []Piece {
	var (
		res    []Piece
		round  []int // indices into res where open "(" started
		square []int
	)
	multiply := func(from int, factor float64) {
		for i := from; i < len(res); i++ {
			if !res[i].Break {
				res[i].Weight *= factor
			}
		}
	}
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '\\' && i+1 < len(text) && strings.IndexByte(`()[]\`, text[i+1]) >= 0:
			res = append(res, Piece{Text: text[i+1 : i+2], Weight: 1})
			i += 2
		case c == '\\':
			i++ // a lone backslash escapes nothing and is dropped
		case c == '(':
			round = append(round, len(res))
			i++
		case c == '[':
			square = append(square, len(res))
			i++
		case c == ':':
			if w, n, ok := weightSuffix(text[i:]); ok && len(round) > 0 {
				multiply(round[len(round)-1], w)
				round = round[:len(round)-1]
				i += n
				break
			}
			res = append(res, Piece{Text: ":", Weight: 1})
			i++
		case c == ')' && len(round) > 0:
			multiply(round[len(round)-1], roundBracketWeight)
			round = round[:len(round)-1]
			i++
		case c == ']' && len(square) > 0:
			multiply(square[len(square)-1], squareBracketWeight)
			square = square[:len(square)-1]
			i++
		case c == ')' || c == ']':
			res = append(res, Piece{Text: text[i : i+1], Weight: 1})
			i++
		default:
			j := i + strings.IndexAny(text[i:], `\()[]:`)
			if j < i {
				j = len(text)
			}
			res = appendWithBreaks(res, text[i:j])
			i = j
		}
	}
	for _, at := range round {
		multiply(at, roundBracketWeight)
	}
	for _, at := range square {
		multiply(at, squareBracketWeight)
	}
	if len(res) == 0 {
		return []Piece{{Text: "", Weight: 1}}
	}
	return mergeEqualWeights(res)
}

// weightSuffix matches `:\s*([+-]?[.\d]+)\s*\)` at the start of s and
// returns the weight and the match length.
func weightSuffix(s string) (weight float64, n int, ok bool) {
	i := skipSpace(s, 1)
	start := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := i
	for i < len(s) && (s[i] == '.' || ('0' <= s[i] && s[i] <= '9')) {
		i++
	}
	if i == digits {
		return 0, 0, false
	}
	number := s[start:i]
	i = skipSpace(s, i)
	if i >= len(s) || s[i] != ')' {
		return 0, 0, false
	}
	w, err := strconv.ParseFloat(number, 64)
	if err != nil { // "1.2.3", "." and the like: not a weight
		return 0, 0, false
	}
	return w, i + 1, true
}

func skipSpace(s string, i int) int {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += n
	}
	return i
}

// appendWithBreaks adds a run of plain text, cutting it at each BREAK
// keyword (a whole word, upper case) together with the white space around it.
func appendWithBreaks(res []Piece, run string) []Piece {
	for {
		at, end := findBreak(run)
		if at < 0 {
			return append(res, Piece{Text: run, Weight: 1})
		}
		res = append(res, Piece{Text: run[:at], Weight: 1}, Piece{Break: true})
		run = run[end:]
	}
}

// findBreak locates the first `\s*\bBREAK\b\s*` in s.
func findBreak(s string) (start, end int) {
	for from := 0; ; {
		k := strings.Index(s[from:], "BREAK")
		if k < 0 {
			return -1, -1
		}
		at, after := from+k, from+k+len("BREAK")
		before, _ := utf8.DecodeLastRuneInString(s[:at])
		next, _ := utf8.DecodeRuneInString(s[after:])
		if (at == 0 || !isWordRune(before)) && (after == len(s) || !isWordRune(next)) {
			start = at
			for start > 0 {
				r, n := utf8.DecodeLastRuneInString(s[:start])
				if !unicode.IsSpace(r) {
					break
				}
				start -= n
			}
			return start, skipSpace(s, after)
		}
		from = at + 1
	}
}

// isWordRune is Python's \w: letters, digits and the underscore.
func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

// mergeEqualWeights joins neighbouring text pieces of exactly equal weight.
func mergeEqualWeights(res []Piece) []Piece {
	out := res[:1]
	for _, p := range res[1:] {
		last := &out[len(out)-1]
		if !p.Break && !last.Break && p.Weight == last.Weight {
			last.Text += p.Text
			continue
		}
		out = append(out, p)
	}
	return out
}
