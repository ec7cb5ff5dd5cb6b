package sdxl

import (
	"encoding/json"
	"os"
	"testing"
)

// referenceCases is the part of tiny-sdxl-a-cases.json the tests read.
type referenceCases struct {
	Pipelines []pipeCase `json:"pipelines"`

	Prompts map[string]struct {
		Text       string             `json:"text"`
		Tokenizer  referenceTokenized `json:"tokenizer"`
		Tokenizer2 referenceTokenized `json:"tokenizer_2"`
	} `json:"prompts"`
	EncodePrompt []struct {
		Index          int     `json:"index"`
		Prompt         string  `json:"prompt"`
		NegativePrompt *string `json:"negative_prompt"`
	} `json:"encode_prompt"`
	Chunked map[string]struct {
		Prompt string             `json:"prompt"`
		Chunks int                `json:"n_chunks"`
		IDs    map[string][][]int `json:"ids"`
	} `json:"chunked"`
}

type referenceTokenized struct {
	IDs77          []int32  `json:"ids_77"`
	IDsUntruncated []int32  `json:"ids_untruncated"`
	Tokens         []string `json:"tokens"`
}

func loadReferenceCases(t testing.TB) referenceCases {
	t.Helper()
	raw, err := os.ReadFile(refDir + "tiny-sdxl-a-cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var c referenceCases
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Prompts) == 0 {
		t.Fatal("no prompts in the reference cases")
	}
	return c
}
