package sdxl

import (
	"github.com/gosdxl/gosdxl/prompt"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// TextEncoders holds SDXL's two text encoders and the shared tokenizer.
type TextEncoders struct {
	CLIPL     *CLIPTextEncoder
	BigG      *OpenCLIPTextEncoder
	Tokenizer *prompt.Tokenizer
	// Embeddings are the textual-inversion embeddings prompts may use
	// (nil: none; see SetEmbeddings).
	Embeddings *prompt.EmbeddingSet
}

// NewTextEncoders declares both encoders from their configurations (as
// weights.InferConfig reports them); Bind then loads their weights.
func NewTextEncoders(cfg1, cfg2 weights.TextEncoderConfig) (*TextEncoders, error) {
	e1, err := NewCLIPTextEncoder(cfg1)
	if err != nil {
		return nil, err
	}
	e2, err := NewOpenCLIPTextEncoder(cfg2)
	if err != nil {
		return nil, err
	}
	tok, err := prompt.NewTokenizer()
	if err != nil {
		return nil, err
	}
	return &TextEncoders{CLIPL: e1, BigG: e2, Tokenizer: tok}, nil
}

// Bind binds both encoders, their weights converted to dt on the way (0:
// as the checkpoint stores them).
func (e *TextEncoders) Bind(bd *weights.Binder, dt tensor.DType) {
	bd.BindAs(weights.TextEncoder1Prefix, e.CLIPL, dt)
	bd.BindAs(weights.TextEncoder2Prefix, e.BigG, dt)
}
