package sdxl

import (
	"github.com/gosdxl/gosdxl/nn"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// OpenCLIPTextEncoder is SDXL's second text encoder, OpenCLIP ViT-bigG/14's
// text transformer in OpenCLIP's layout (under weights.TextEncoder2Prefix):
// fused q/k/v projection, exact-GELU MLPs and a text projection for the
// pooled output.
type OpenCLIPTextEncoder struct {
	TokenEmbedding    *tensor.Tensor  `weight:"token_embedding.weight"`
	PositionEmbedding *tensor.Tensor  `weight:"positional_embedding"`
	Layers            []openCLIPLayer `weight:"transformer.resblocks"`
	FinalNorm         nn.LayerNorm    `weight:"ln_final"`
	// Projection is stored [width, proj] and applied as x·P; the Binder
	// transposes it into a Linear weight [proj, width] while loading.
	Projection *tensor.Tensor `weight:"text_projection,transpose"`
	Heads      int
	// Extra holds textual-inversion vectors for ids past the vocabulary.
	Extra [][]float32
}

type openCLIPLayer struct {
	Norm1 nn.LayerNorm `weight:"ln_1"`
	// The fused in_proj [3C, C] stays one GEMM; q, k, v are sliced after.
	InProjWeight *tensor.Tensor `weight:"attn.in_proj_weight"`
	InProjBias   *tensor.Tensor `weight:"attn.in_proj_bias"`
	Out          nn.Linear      `weight:"attn.out_proj"`
	Norm2        nn.LayerNorm   `weight:"ln_2"`
	FC           nn.Linear      `weight:"mlp.c_fc"`
	Proj         nn.Linear      `weight:"mlp.c_proj"`
}

// NewOpenCLIPTextEncoder declares encoder 2 with the shapes of cfg.
func NewOpenCLIPTextEncoder(cfg weights.TextEncoderConfig) (*OpenCLIPTextEncoder, error) {
	if err := checkTextConfig("text encoder 2", cfg); err != nil {
		return nil, err
	}
	c := cfg.Hidden
	proj := cfg.Projection
	if proj <= 0 {
		proj = c
	}
	e := &OpenCLIPTextEncoder{
		TokenEmbedding:    tensor.Spec(cfg.Vocab, c),
		PositionEmbedding: tensor.Spec(cfg.Positions, c),
		Layers:            make([]openCLIPLayer, cfg.Layers),
		FinalNorm:         nn.NewLayerNorm(c, clipLayerNormEps),
		Projection:        tensor.Spec(c, proj),
		Heads:             cfg.Heads,
	}
	for i := range e.Layers {
		e.Layers[i] = openCLIPLayer{
			Norm1:        nn.NewLayerNorm(c, clipLayerNormEps),
			InProjWeight: tensor.Spec(3*c, c),
			InProjBias:   tensor.Spec(3 * c),
			Out:          nn.NewLinear(c, c),
			Norm2:        nn.NewLayerNorm(c, clipLayerNormEps),
			FC:           nn.NewLinear(c, cfg.Intermediate),
			Proj:         nn.NewLinear(cfg.Intermediate, c),
		}
	}
	return e, nil
}

// Forward encodes rows of 77 ids with activations of type dt: the
// penultimate state, and with full set also Last. Pooled (the projected
// state at the first EOS) is always computed: SDXL needs it.
func (e *OpenCLIPTextEncoder) Forward(b tensor.Backend, dt tensor.DType, ids [][]int32, full bool) TextOutput {
	layers := make([]textLayer, len(e.Layers))
	for i := range e.Layers {
		layers[i] = &e.Layers[i]
	}
	penult, last := runTextTransformer(b, dt, e.TokenEmbedding, e.PositionEmbedding, e.Extra, layers, e.Heads, ids, true)
	normed := e.FinalNorm.Forward(b, last)
	b.Free(last)
	pooled := poolFirstEOS(b, normed, ids)
	projection := nn.Linear{Weight: e.Projection}
	out := TextOutput{Penultimate: penult, Pooled: projection.Forward(b, pooled)}
	b.Free(pooled)
	if full {
		out.Last = normed
	} else {
		b.Free(normed)
	}
	return out
}

func (l *openCLIPLayer) forward(b tensor.Backend, x *tensor.Tensor, heads int) *tensor.Tensor {
	s := x.Shape()
	c := s.Last()
	h := l.Norm1.Forward(b, x)
	inProj := nn.Linear{Weight: l.InProjWeight, Bias: l.InProjBias}
	qkv := inProj.Forward(b, h)
	b.Free(h)
	q, k, v := b.Alloc(x.DType(), s...), b.Alloc(x.DType(), s...), b.Alloc(x.DType(), s...)
	b.Slice(q, qkv, 0)
	b.Slice(k, qkv, c)
	b.Slice(v, qkv, 2*c)
	b.Free(qkv)
	a := residualAttention(b, x, q, k, v, &l.Out, heads)
	y := residualMLP(b, a, &l.Norm2, &l.FC, &l.Proj, tensor.GELU)
	b.Free(a)
	return y
}
