package sdxl

import (
	"fmt"

	"github.com/gosdxl/gosdxl/nn"
	"github.com/gosdxl/gosdxl/prompt"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// CLIPTextEncoder is SDXL's first text encoder, CLIP ViT-L/14's text
// transformer with transformers' names (under weights.TextEncoder1Prefix):
// pre-norm layers with separate q/k/v projections and quick_gelu MLPs.
type CLIPTextEncoder struct {
	TokenEmbedding    *tensor.Tensor `weight:"embeddings.token_embedding.weight"`
	PositionEmbedding *tensor.Tensor `weight:"embeddings.position_embedding.weight"`
	Layers            []clipLayer    `weight:"encoder.layers"`
	FinalNorm         nn.LayerNorm   `weight:"final_layer_norm"`
	Heads             int
	// Extra holds textual-inversion vectors for ids past the vocabulary.
	Extra [][]float32
}

type clipLayer struct {
	Norm1 nn.LayerNorm `weight:"layer_norm1"`
	Q     nn.Linear    `weight:"self_attn.q_proj"`
	K     nn.Linear    `weight:"self_attn.k_proj"`
	V     nn.Linear    `weight:"self_attn.v_proj"`
	Out   nn.Linear    `weight:"self_attn.out_proj"`
	Norm2 nn.LayerNorm `weight:"layer_norm2"`
	FC1   nn.Linear    `weight:"mlp.fc1"`
	FC2   nn.Linear    `weight:"mlp.fc2"`
}

// NewCLIPTextEncoder declares encoder 1 with the shapes of cfg.
func NewCLIPTextEncoder(cfg weights.TextEncoderConfig) (*CLIPTextEncoder, error) {
	if err := checkTextConfig("text encoder 1", cfg); err != nil {
		return nil, err
	}
	c := cfg.Hidden
	e := &CLIPTextEncoder{
		TokenEmbedding:    tensor.Spec(cfg.Vocab, c),
		PositionEmbedding: tensor.Spec(cfg.Positions, c),
		Layers:            make([]clipLayer, cfg.Layers),
		FinalNorm:         nn.NewLayerNorm(c, clipLayerNormEps),
		Heads:             cfg.Heads,
	}
	for i := range e.Layers {
		e.Layers[i] = clipLayer{
			Norm1: nn.NewLayerNorm(c, clipLayerNormEps),
			Q:     nn.NewLinear(c, c),
			K:     nn.NewLinear(c, c),
			V:     nn.NewLinear(c, c),
			Out:   nn.NewLinear(c, c),
			Norm2: nn.NewLayerNorm(c, clipLayerNormEps),
			FC1:   nn.NewLinear(c, cfg.Intermediate),
			FC2:   nn.NewLinear(cfg.Intermediate, c),
		}
	}
	return e, nil
}

// Forward encodes rows of 77 ids with activations of type dt. Only the
// penultimate state is computed unless full is set (then also Last and the
// pooled output, which SDXL does not use from this encoder).
func (e *CLIPTextEncoder) Forward(b tensor.Backend, dt tensor.DType, ids [][]int32, full bool) TextOutput {
	layers := make([]textLayer, len(e.Layers))
	for i := range e.Layers {
		layers[i] = &e.Layers[i]
	}
	penult, last := runTextTransformer(b, dt, e.TokenEmbedding, e.PositionEmbedding, e.Extra, layers, e.Heads, ids, full)
	out := TextOutput{Penultimate: penult}
	if full {
		out.Last = e.FinalNorm.Forward(b, last)
		b.Free(last)
		out.Pooled = poolFirstEOS(b, out.Last, ids)
	}
	return out
}

func (l *clipLayer) forward(b tensor.Backend, x *tensor.Tensor, heads int) *tensor.Tensor {
	h := l.Norm1.Forward(b, x)
	q, k, v := l.Q.Forward(b, h), l.K.Forward(b, h), l.V.Forward(b, h)
	b.Free(h)
	a := residualAttention(b, x, q, k, v, &l.Out, heads)
	y := residualMLP(b, a, &l.Norm2, &l.FC1, &l.FC2, tensor.QuickGELU)
	b.Free(a)
	return y
}

// checkTextConfig rejects a configuration the encoders cannot run.
func checkTextConfig(what string, cfg weights.TextEncoderConfig) error {
	switch {
	case cfg.Hidden <= 0 || cfg.Layers < 2 || cfg.Heads <= 0 || cfg.Intermediate <= 0:
		return fmt.Errorf("%s: unusable configuration %+v (need width, heads, MLP width and at least 2 layers)", what, cfg)
	case cfg.Hidden%cfg.Heads != 0:
		return fmt.Errorf("%s: width %d does not split into %d heads", what, cfg.Hidden, cfg.Heads)
	case cfg.Vocab != prompt.VocabSize:
		return fmt.Errorf("%s: vocabulary of %d tokens, the CLIP tokenizer has %d", what, cfg.Vocab, prompt.VocabSize)
	case cfg.Positions < prompt.ContextLength:
		return fmt.Errorf("%s: %d positions, need %d", what, cfg.Positions, prompt.ContextLength)
	}
	return nil
}
