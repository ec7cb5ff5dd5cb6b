package sdxl

import (
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
)

// referenceCases is the part of tiny-sdxl-a-cases.json the tests read.
type referenceCases struct {
	Pipelines []pipeCase `json:"pipelines"`

	refdata.PromptCases
	EncodePrompt []struct {
		Index          int     `json:"index"`
		Prompt         string  `json:"prompt"`
		NegativePrompt *string `json:"negative_prompt"`
	} `json:"encode_prompt"`
}

func loadReferenceCases(t testing.TB) referenceCases {
	t.Helper()
	var c referenceCases
	refdata.LoadJSON(t, refdata.CasesFile, &c)
	if len(c.Prompts) == 0 {
		t.Fatal("no prompts in the reference cases")
	}
	return c
}
