package prompt

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func pieces(args ...any) []Piece {
	var out []Piece
	for i := 0; i < len(args); i += 2 {
		if args[i] == "BREAK" && args[i+1] == -1 {
			out = append(out, Piece{Break: true})
			continue
		}
		out = append(out, Piece{Text: args[i].(string), Weight: args[i+1].(float64)})
	}
	return out
}

// Expected values are A1111's documented parse_prompt_attention results
// (its docstring examples, float values as Python prints them) plus cases
// worked out by hand from its grammar.
func TestParseA1111(t *testing.T) {
	// Weights multiply step by step in float64, as Python does (Go constant
	// arithmetic would be exact and differ in the last bit).
	one, round, square := 1.0, 1.1, 1/1.1
	for _, c := range []struct {
		in   string
		want []Piece
	}{
		{"normal text", pieces("normal text", 1.0)},
		{"an (important) word", pieces("an ", 1.0, "important", 1.1, " word", 1.0)},
		{"(unbalanced", pieces("unbalanced", 1.1)},
		{`\(literal\]`, pieces("(literal]", 1.0)},
		{"(unnecessary)(parens)", pieces("unnecessaryparens", 1.1)},
		{"a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).", pieces(
			"a ", 1.0, "house", 1.5730000000000004, " ", 1.1, "on", 1.0, " a ", 1.1,
			"hill", 0.55, ", sun, ", 1.1, "sky", 1.4641000000000006, ".", 1.1)},
		// nesting and explicit weights multiply
		{"((a:1.5) b)", pieces("a", 1.5*round, " b", 1.1)},
		{"[[x]]", pieces("x", one*square*square)},
		{"(x:-0.5) (y: 2 )", pieces("x", -0.5, " ", 1.0, "y", 2.0)},
		// escapes inside weights; the escaped bracket is plain text
		{`(firefly \(honkai\):1.2)`, pieces("firefly (honkai)", 1.2)},
		{`a\\b \c`, pieces(`a\b c`, 1.0)},
		// unbalanced closers are text; an unclosed "[" applies to the end
		{"a) b] [c", pieces("a) b] ", 1.0, "c", 1/1.1)},
		// a weight without an open bracket, or one that is no number, is text
		{"x:1.2) y", pieces("x:1.2) y", 1.0)},
		{"(x:1.2.3)", pieces("x:1.2.3", 1.1)},
		{"(a:b)", pieces("a:b", 1.1)},
		// BREAK is a whole upper-case word; it eats the space around it
		{"a BREAK b", pieces("a", 1.0, "BREAK", -1, "b", 1.0)},
		{"aBREAK BREAKing break", pieces("aBREAK BREAKing break", 1.0)},
		{"(a BREAK b)", pieces("a", 1.1, "BREAK", -1, "b", 1.1)},
		{"BREAK", pieces("", 1.0, "BREAK", -1, "", 1.0)},
		{"", pieces("", 1.0)},
		{"()", pieces("", 1.0)},
	} {
		if got := Parse(c.in, SyntaxA1111); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Parse(%q):\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
}

func TestParseNoneIsVerbatim(t *testing.T) {
	in := `(masterpiece:1.2), \(x\) BREAK y`
	if got := Parse(in, SyntaxNone); !reflect.DeepEqual(got, pieces(in, 1.0)) {
		t.Errorf("got %+v", got)
	}
}

func TestParseSyntax(t *testing.T) {
	for in, want := range map[string]Syntax{"a1111": SyntaxA1111, "": SyntaxA1111, "none": SyntaxNone, "diffusers": SyntaxNone} {
		if got, err := ParseSyntax(in); err != nil || got != want {
			t.Errorf("ParseSyntax(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseSyntax("comfy"); err == nil || !strings.Contains(err.Error(), `"comfy"`) {
		t.Errorf("err = %v, want an error naming the value", err)
	}
}

// A1111 mode on the reference long prompt (its one "(season)" escaped so
// that every weight is 1) gives exactly the golden chunk ids.
func TestTokenizePromptChunksMatchGolden(t *testing.T) {
	cases := loadReferenceCases(t)
	golden := cases.Chunked["eos_then_pad"]
	text := cases.Prompts[golden.Prompt].Text
	text = strings.NewReplacer("(", `\(`, ")", `\)`).Replace(text)
	p, err := newTestTokenizer(t).Tokenize(text, SyntaxA1111)
	if err != nil {
		t.Fatal(err)
	}
	if p.Chunks() != golden.Chunks || p.Weighted() {
		t.Fatalf("%d chunks (weighted %v), want %d unweighted", p.Chunks(), p.Weighted(), golden.Chunks)
	}
	for enc, ids := range map[string][][]int32{"tokenizer": p.IDs1, "tokenizer_2": p.IDs2} {
		for k := range ids {
			want := golden.IDs[enc][k]
			for i := range want {
				if int(ids[k][i]) != want[i] {
					t.Fatalf("%s chunk %d:\n got %v\nwant %v", enc, k, ids[k], want)
				}
			}
		}
	}
}

func TestTokenizePromptNoneTruncates(t *testing.T) {
	cases := loadReferenceCases(t)
	ref := cases.Prompts["long"]
	p, err := newTestTokenizer(t).Tokenize(ref.Text, SyntaxNone)
	if err != nil {
		t.Fatal(err)
	}
	if p.Chunks() != 1 || !slices.Equal(p.IDs1[0], ref.Tokenizer.IDs77) || !slices.Equal(p.IDs2[0], ref.Tokenizer2.IDs77) {
		t.Fatalf("SyntaxNone ids differ from diffusers' ids_77")
	}
	if want := len(ref.Tokenizer.IDsUntruncated) - 2 - ChunkTokens; p.Truncated != want {
		t.Errorf("Truncated = %d, want %d", p.Truncated, want)
	}
}

func TestTokenizePromptWeightsAndBreak(t *testing.T) {
	tok := newTestTokenizer(t)
	p, err := tok.Tokenize("cat (dog:1.5) BREAK [bird]", SyntaxA1111)
	if err != nil {
		t.Fatal(err)
	}
	if p.Chunks() != 2 {
		t.Fatalf("%d chunks, want 2", p.Chunks())
	}
	// chunk 0: BOS cat dog EOS pad...; chunk 1: BOS bird EOS pad...
	wantW := [][]float32{{1, 1, 1.5, 1, 1}, {1, float32(1 / 1.1), 1, 1}}
	for k, w := range wantW {
		if !slices.Equal(p.Weight[k][:len(w)], w) {
			t.Errorf("chunk %d weights %v, want prefix %v", k, p.Weight[k][:6], w)
		}
	}
	if tok.Token(p.IDs1[0][2]) != "dog</w>" || p.IDs1[0][3] != EOS || p.IDs2[0][4] != PadBigG || p.IDs1[0][4] != PadCLIPL {
		t.Errorf("chunk 0 ids %v / %v", p.IDs1[0][:6], p.IDs2[0][:6])
	}
	if !p.Weighted() {
		t.Error("Weighted() = false")
	}

	// BREAK first gives an empty first chunk, as in A1111.
	p, _ = tok.Tokenize("BREAK cat", SyntaxA1111)
	if p.Chunks() != 2 || p.IDs1[0][1] != EOS {
		t.Errorf("BREAK cat: %d chunks, first %v", p.Chunks(), p.IDs1[0][:3])
	}
	// Exactly 75 tokens fill one chunk, 76 spill into a second.
	for n, want := range map[int]int{75: 1, 76: 2, 150: 2, 151: 3} {
		p, _ = tok.Tokenize(strings.Repeat("cat ", n), SyntaxA1111)
		if p.Chunks() != want {
			t.Errorf("%d tokens: %d chunks, want %d", n, p.Chunks(), want)
		}
	}
}

func TestTokenizePromptLong(t *testing.T) {
	tok := newTestTokenizer(t)
	text := strings.Repeat("(masterpiece:1.2), [[bad]], \\(x\\) a ", 250) // 2,000 tokens
	n := 0
	for _, piece := range Parse(text, SyntaxA1111) {
		ids, _ := tok.Encode(piece.Text)
		n += len(ids)
	}
	p, err := tok.Tokenize(text, SyntaxA1111)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2000 || p.Chunks() != (n+ChunkTokens-1)/ChunkTokens {
		t.Errorf("%d tokens in %d chunks", n, p.Chunks())
	}
	for k := range p.IDs1 {
		if len(p.IDs1[k]) != ContextLength || len(p.IDs2[k]) != ContextLength || len(p.Weight[k]) != ContextLength {
			t.Fatalf("chunk %d has wrong length", k)
		}
	}
}

func TestTokenizePromptPadTo(t *testing.T) {
	tok := newTestTokenizer(t)
	p, _ := tok.Tokenize("", SyntaxA1111)
	p.PadTo(3)
	if p.Chunks() != 3 || !slices.Equal(p.IDs2[2][:3], []int32{BOS, EOS, PadBigG}) || !slices.Equal(p.IDs1[2][:3], []int32{BOS, EOS, PadCLIPL}) {
		t.Errorf("padded chunks: %v", p.IDs2)
	}
}

func TestTokenizePromptInvalidUTF8(t *testing.T) {
	for _, s := range []Syntax{SyntaxA1111, SyntaxNone} {
		if _, err := newTestTokenizer(t).Tokenize("(a\xc3:1.2)", s); err == nil || !strings.Contains(err.Error(), "UTF-8") {
			t.Errorf("%v: err = %v", s, err)
		}
	}
}
