package main

import (
	"flag"
	"fmt"
	"github.com/gosdxl/gosdxl/prompt"
	"io"
	"strconv"
	"strings"
)

const tokenizeUsage = `usage: gen tokenize -p TEXT [--prompt-syntax a1111|none]

Shows how a prompt is read: the weighted pieces of the prompt syntax, then
per 77-token chunk the tokens (with their weights where not 1) and the id
sequences of both text encoders (encoder 1 pads with 49407, encoder 2 with 0).

  -p, --prompt TEXT   the prompt
  --prompt-syntax a1111  A1111 emphasis, escapes and BREAK, 75-token chunks (default)
  --prompt-syntax none   the text as is, truncated to 77 tokens (diffusers)`

// runTokenize prints the parsed pieces and the token ids of a prompt.
func runTokenize(args []string) error {
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var text, syntaxName string
	fs.StringVar(&text, "prompt", "", "")
	fs.StringVar(&text, "p", "", "")
	fs.StringVar(&syntaxName, "prompt-syntax", "a1111", "")
	fs.StringVar(&syntaxName, "syntax", "a1111", "") // the older name
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fmt.Fprintln(stdout, tokenizeUsage)
			return nil
		}
		return usagef("tokenize: %s", flagError(err, spellings(args)))
	}
	if fs.NArg() != 0 {
		return usagef("tokenize: unexpected argument %q (the prompt goes after -p)", fs.Arg(0))
	}
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "p" || f.Name == "prompt" })
	if !given {
		return usagef("tokenize: no prompt: give one with -p \"...\"")
	}
	syntax, err := prompt.ParseSyntax(syntaxName)
	if err != nil {
		name := "--prompt-syntax"
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "syntax" {
				name = spellings(args)["syntax"]
			}
		})
		return usagef("tokenize: %s: %v", name, err)
	}
	tok, err := prompt.NewTokenizer()
	if err != nil {
		return err
	}
	p, err := tok.Tokenize(text, syntax)
	if err != nil {
		return usagef("tokenize: --prompt: %v", err)
	}
	printTokenized(stdout, tok, p, syntax)
	return nil
}

func printTokenized(w io.Writer, tok *prompt.Tokenizer, p *prompt.Tokenized, syntax prompt.Syntax) {
	fmt.Fprintf(w, "syntax: %s\npieces:\n", syntax)
	for _, piece := range p.Pieces {
		if piece.Break {
			fmt.Fprintln(w, "  BREAK")
			continue
		}
		fmt.Fprintf(w, "  %-8s %q\n", strconv.FormatFloat(piece.Weight, 'g', 6, 64), piece.Text)
	}
	if p.Truncated > 0 {
		fmt.Fprintf(w, "truncated: %d tokens beyond %d were dropped\n", p.Truncated, prompt.ChunkTokens)
	}
	for k := 0; k < p.Chunks(); k++ {
		ids := p.IDs1[k]
		var tokens []string
		content := 0
		for i, id := range ids[1:] {
			if id == prompt.EOS {
				break
			}
			content++
			s := tok.Token(id)
			if wt := p.Weight[k][i+1]; wt != 1 {
				s += "×" + strconv.FormatFloat(float64(wt), 'g', 4, 32)
			}
			tokens = append(tokens, s)
		}
		fmt.Fprintf(w, "chunk %d of %d: %d tokens\n", k+1, p.Chunks(), content)
		fmt.Fprintf(w, "  tokens:    %s\n", strings.Join(tokens, " "))
		fmt.Fprintf(w, "  encoder 1: %s\n", joinIDs(p.IDs1[k]))
		fmt.Fprintf(w, "  encoder 2: %s\n", joinIDs(p.IDs2[k]))
	}
}

func joinIDs(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, " ")
}
