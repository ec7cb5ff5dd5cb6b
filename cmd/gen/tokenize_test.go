package main

import (
	"strings"
	"testing"
)

func TestTokenizeCommand(t *testing.T) {
	code, out, errOut := runCapture(t, "tokenize", "-p", `a (red cat:1.5) \(x\) BREAK dog`)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"syntax: a1111",
		`1.5      "red cat"`,
		"  BREAK",
		"chunk 1 of 2: 6 tokens",
		"red</w>×1.5 cat</w>×1.5 (</w> x</w> )</w>",
		"chunk 2 of 2: 1 tokens",
		"encoder 1: 49406 1929 49407 49407",
		"encoder 2: 49406 1929 49407 0 0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = runCapture(t, "tokenize", "--syntax", "none", "--prompt", "(cat:1.5)")
	if code != 0 || !strings.Contains(out, "syntax: none") || !strings.Contains(out, ":</w> 1</w> .</w> 5</w>") {
		t.Errorf("--syntax none: exit %d, output:\n%s", code, out)
	}
}

func TestTokenizeBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tokenize"}, "no prompt"},
		{[]string{"tokenize", "-p", "x", "--syntax", "comfy"}, `--syntax: unknown prompt syntax "comfy"`},
		{[]string{"tokenize", "-p", "bad \xff"}, "--prompt: prompt is not valid UTF-8"},
		{[]string{"tokenize", "-p", "x", "extra"}, `unexpected argument "extra"`},
	} {
		code, _, errOut := runCapture(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, stderr %q, want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}
