package prompt

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
)

// refDir holds the diffusers goldens (testdata/reference).
const refDir = "../testdata/reference/"

// loadReferenceCases reads the tokenizer cases the goldens were made from.
func loadReferenceCases(t testing.TB) refdata.PromptCases {
	t.Helper()
	var c refdata.PromptCases
	refdata.LoadJSON(t, refdata.CasesFile, &c)
	if len(c.Prompts) == 0 {
		t.Fatal("no prompts in the reference cases")
	}
	return c
}

func newTestTokenizer(t testing.TB) *Tokenizer {
	t.Helper()
	tok, err := NewTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// The ids of both diffusers tokenizers, untruncated and laid out to 77, and
// the BPE strings, for every reference prompt.
func TestTokenizerMatchesTransformers(t *testing.T) {
	tok := newTestTokenizer(t)
	for name, p := range loadReferenceCases(t).Prompts {
		t.Run(name, func(t *testing.T) {
			ids1, err := tok.Encode(p.Text)
			if err != nil {
				t.Fatal(err)
			}
			ids2, err := tok.EncodeBangAsPad(p.Text)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name    string
				content []int32
				pad     int32
				want    refdata.Tokenized
			}{{"tokenizer", ids1, PadCLIPL, p.Tokenizer}, {"tokenizer_2", ids2, PadBigG, p.Tokenizer2}} {
				untruncated := append(append([]int32{BOS}, c.content...), EOS)
				if !slices.Equal(untruncated, c.want.IDsUntruncated) {
					t.Errorf("%s untruncated:\n got %v\nwant %v", c.name, untruncated, c.want.IDsUntruncated)
				}
				if got := truncatedIDs(c.content, c.pad); !slices.Equal(got, c.want.IDs77) {
					t.Errorf("%s ids_77:\n got %v\nwant %v", c.name, got, c.want.IDs77)
				}
				var tokens []string
				for _, id := range untruncated {
					tokens = append(tokens, tok.Token(id))
				}
				if !slices.Equal(tokens, c.want.Tokens) {
					t.Errorf("%s tokens:\n got %q\nwant %q", c.name, tokens, c.want.Tokens)
				}
			}
		})
	}
}

// tokenizer-check.json holds explicit ids for the prompt where transformers
// (no ftfy) and openai/CLIP disagree; we follow transformers.
func TestTokenizerCheckCJK(t *testing.T) {
	raw, err := os.ReadFile(refDir + "tokenizer-check.json")
	if err != nil {
		t.Fatal(err)
	}
	var check struct {
		Prompts []struct {
			Text         string  `json:"text"`
			Transformers []int32 `json:"transformers_slow_no_ftfy"`
		} `json:"prompts"`
	}
	if err := json.Unmarshal(raw, &check); err != nil {
		t.Fatal(err)
	}
	tok := newTestTokenizer(t)
	n := 0
	for _, p := range check.Prompts {
		if p.Transformers == nil {
			continue
		}
		n++
		got, err := tok.Encode(p.Text)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, p.Transformers) {
			t.Errorf("%q:\n got %v\nwant %v", p.Text, got, p.Transformers)
		}
	}
	if n == 0 {
		t.Fatal("tokenizer-check.json has no explicit ids")
	}
}

func TestTokenizerBangAsPad(t *testing.T) {
	tok := newTestTokenizer(t)
	// diffusers' tokenizer_2 output for "! !! !!!" (a known upstream report):
	// every "!" is the pad token, id 0.
	got, err := tok.EncodeBangAsPad("! !! !!!")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{0, 0, 0, 0, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("EncodeBangAsPad = %v, want %v", got, want)
	}
	// open_clip tokenizes the same text as "!</w>", "!!</w>", "!!!</w>".
	plain, err := tok.Encode("! !! !!!")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{256, 748, 995}; !slices.Equal(plain, want) {
		t.Errorf("Encode = %v, want %v", plain, want)
	}
}

func TestTokenizerRejectsInvalidUTF8(t *testing.T) {
	tok := newTestTokenizer(t)
	for _, encode := range []func(string) ([]int32, error){tok.Encode, tok.EncodeBangAsPad} {
		_, err := encode("cat\xff dog")
		if err == nil || !strings.Contains(err.Error(), "UTF-8") || !strings.Contains(err.Error(), "byte 3") {
			t.Errorf("err = %v, want an invalid UTF-8 error naming byte 3", err)
		}
	}
}

func TestTokenizerSpecialTokensInText(t *testing.T) {
	tok := newTestTokenizer(t)
	got, err := tok.Encode("a<|endoftext|>")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1] != EOS || tok.Token(got[0]) != "a</w>" {
		t.Errorf("Encode = %v, want [a</w> EOS]", got)
	}
}

// benchmarkPrompt is about 300 tokens of typical tag-style prompt.
var benchmarkPrompt = strings.Repeat("1girl, solo, long hair, looking at viewer, smile, open mouth, blue eyes, masterpiece, ", 14)

// BenchmarkTokenize300 measures a 300-token prompt with the word cache warm,
// the usual case (prompts repeat their tags).
func BenchmarkTokenize300(b *testing.B) {
	tok := newTestTokenizer(b)
	ids, _ := tok.Encode(benchmarkPrompt)
	for b.Loop() {
		if _, err := tok.Encode(benchmarkPrompt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(ids)), "tokens")
}

// BenchmarkTokenize300Cold runs BPE on every word: an empty cache each time.
func BenchmarkTokenize300Cold(b *testing.B) {
	shared := newTestTokenizer(b)
	for b.Loop() {
		tok := &Tokenizer{vocab: shared.vocab, cache: map[string][]int32{}}
		if _, err := tok.Encode(benchmarkPrompt); err != nil {
			b.Fatal(err)
		}
	}
}
