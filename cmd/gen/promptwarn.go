package main

import (
	"fmt"
	"github.com/gosdxl/gosdxl/prompt"
	"io"
	"regexp"
)

// A1111 prompt syntax gen does not implement. Escaped brackets (\[) are
// literal text in A1111 and are not matched.
var (
	// [from:to:when] and [to:when] (prompt editing), when a number.
	promptEditing = regexp.MustCompile(`(^|[^\\])\[[^\[\]]*:\s*[0-9]*\.?[0-9]+\s*\]`)
	// [a|b] (alternating words).
	promptAlternation = regexp.MustCompile(`(^|[^\\])\[[^\[\]]*\|[^\[\]]*\]`)
	// <hypernet:name:weight>: the one extra network besides LoRA (<lora:…>,
	// <lyco:…>, applied by package lora) that A1111 knows.
	hypernetwork = regexp.MustCompile(`<hypernet:[^>]*>`)
)

// unsupportedSyntax lists the A1111 constructs in prompt that gen reads as
// plain text instead (tokenised, not applied).
func unsupportedSyntax(prompt string) []string {
	var found []string
	if m := promptEditing.FindString(prompt); m != "" {
		found = append(found, fmt.Sprintf("prompt editing %q (switching prompts during sampling) is not implemented", trimLead(m)))
	}
	if m := promptAlternation.FindString(prompt); m != "" {
		found = append(found, fmt.Sprintf("alternation %q (alternating words each step) is not implemented", trimLead(m)))
	}
	if m := hypernetwork.FindString(prompt); m != "" {
		found = append(found, fmt.Sprintf("%q: hypernetworks are not applied", m))
	}
	return found
}

func trimLead(m string) string {
	if len(m) > 0 && m[0] != '[' {
		return m[1:]
	}
	return m
}

// warnPrompts warns about syntax read as plain text, and, in diffusers
// compatibility, about prompts truncated at 77 tokens (as diffusers does,
// silently).
func (o *options) warnPrompts(w io.Writer) {
	prompts := []struct{ flag, text string }{{"prompt", o.prompt}}
	if o.negative.set {
		prompts = append(prompts, struct{ flag, text string }{"negative", o.negative.value})
	}
	for _, p := range prompts {
		if o.promptSyntax == "a1111" && o.compat != "diffusers" {
			for _, s := range unsupportedSyntax(p.text) {
				fmt.Fprintf(w, "gen: warning: %s: %s; it is read as plain text\n", o.flagName(p.flag), s)
			}
		}
		if o.compat == "diffusers" {
			tok, err := prompt.NewTokenizer()
			if err != nil {
				continue
			}
			if t, err := tok.Tokenize(p.text, prompt.SyntaxNone); err == nil && t.Truncated > 0 {
				fmt.Fprintf(w, "gen: warning: %s: %d tokens beyond the first %d are dropped (--compat diffusers truncates like diffusers)\n",
					o.flagName(p.flag), t.Truncated, prompt.ChunkTokens)
			}
		}
	}
}
