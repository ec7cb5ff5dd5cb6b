package refdata

import (
	"encoding/json"
	"os"
	"testing"
)

// CasesFile describes every reference case: prompts, encoder and pipeline
// settings, with what diffusers produced for them.
const CasesFile = "tiny-sdxl-a-cases.json"

// PromptCases are the tokenizer cases of CasesFile, read by the tests of
// the prompt package and of sdxl alike.
type PromptCases struct {
	Prompts map[string]struct {
		Text       string    `json:"text"`
		Tokenizer  Tokenized `json:"tokenizer"`
		Tokenizer2 Tokenized `json:"tokenizer_2"`
	} `json:"prompts"`
	Chunked map[string]struct {
		Prompt string             `json:"prompt"`
		Chunks int                `json:"n_chunks"`
		IDs    map[string][][]int `json:"ids"`
	} `json:"chunked"`
}

// Tokenized is one tokenizer's reference output for one prompt.
type Tokenized struct {
	IDs77          []int32  `json:"ids_77"`
	IDsUntruncated []int32  `json:"ids_untruncated"`
	Tokens         []string `json:"tokens"`
}

// LoadJSON decodes the reference file name into v, failing tb on error.
func LoadJSON(tb testing.TB, name string, v any) {
	tb.Helper()
	raw, err := os.ReadFile(Path(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
}
