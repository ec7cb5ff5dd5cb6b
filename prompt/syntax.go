package prompt

import "fmt"

// Syntax selects how prompt text is read before tokenization.
type Syntax int

const (
	// SyntaxA1111 (the default) reads AUTOMATIC1111's attention syntax:
	// (text) ×1.1, [text] ÷1.1, (text:w), \( \) \[ \] \\ escapes and BREAK;
	// long prompts are split into 75-token chunks, encoded separately and
	// concatenated.
	SyntaxA1111 Syntax = iota
	// SyntaxNone feeds the text as is and truncates it to 77 tokens: exactly
	// diffusers' StableDiffusionXLPipeline.encode_prompt.
	SyntaxNone
)

// ParseSyntax reads a --syntax flag value: "a1111" or "none" ("diffusers" is
// accepted as another name for "none").
func ParseSyntax(s string) (Syntax, error) {
	switch s {
	case "a1111", "":
		return SyntaxA1111, nil
	case "none", "diffusers":
		return SyntaxNone, nil
	}
	return 0, fmt.Errorf("unknown prompt syntax %q (want a1111 or none)", s)
}

func (s Syntax) String() string {
	switch s {
	case SyntaxA1111:
		return "a1111"
	case SyntaxNone:
		return "none"
	}
	return fmt.Sprintf("Syntax(%d)", int(s))
}

// Piece is a run of prompt text sharing one attention weight. A piece
// with Break set stands for the BREAK keyword: it carries no text and starts
// a new 75-token chunk.
type Piece struct {
	Text   string
	Weight float64
	Break  bool
}

// Parse splits text into weighted pieces according to syntax. With
// SyntaxNone the whole text is one piece of weight 1.
func Parse(text string, syntax Syntax) []Piece {
	if syntax == SyntaxNone {
		return []Piece{{Text: text, Weight: 1}}
	}
	return parseA1111(text)
}
