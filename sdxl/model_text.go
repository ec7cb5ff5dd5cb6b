package sdxl

import (
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// textSide is the model's prompt encoder: both CLIP encoders and the
// tokenizer.
type textSide struct{ enc *TextEncoders }

func bindText(bd *weights.Binder, cfg weights.Config) (textSide, error) {
	enc, err := NewTextEncoders(cfg.TextEncoder1, cfg.TextEncoder2)
	if err != nil {
		return textSide{}, err
	}
	enc.Bind(bd)
	return textSide{enc}, nil
}

// encodedPrompt is one prompt's embeddings: [tokens, width] and [pooled].
type encodedPrompt struct {
	emb    []float32
	tokens int
	width  int
	pooled []float32
}

// encode runs both encoders over every 77-token chunk of tp and joins the
// penultimate states on the feature axis, the chunks on the token axis;
// the pooled vector is encoder 2's of the first chunk (as A1111/ComfyUI).
// Prompt weights are not applied here.
func (m *Model) encode77(tp *TokenizedPrompt) encodedPrompt {
	b := m.backend
	o1 := m.text.enc.CLIPL.Forward(b, tensor.F32, tp.IDs1, false)
	o2 := m.text.enc.BigG.Forward(b, tensor.F32, tp.IDs2, false)
	h1, h2 := b.ToFloat32(o1.Penultimate), b.ToFloat32(o2.Penultimate)
	pooled := b.ToFloat32(o2.Pooled)
	c1, c2 := o1.Penultimate.Shape()[2], o2.Penultimate.Shape()[2]
	k := tp.Chunks()
	out := encodedPrompt{tokens: 77 * k, width: c1 + c2, pooled: pooled[:len(pooled)/k]}
	out.emb = make([]float32, 0, out.tokens*out.width)
	for i := 0; i < 77*k; i++ {
		out.emb = append(out.emb, h1[i*c1:(i+1)*c1]...)
		out.emb = append(out.emb, h2[i*c2:(i+1)*c2]...)
	}
	for _, t := range []*tensor.Tensor{o1.Penultimate, o1.Pooled, o2.Penultimate, o2.Pooled} {
		if t != nil {
			b.Free(t)
		}
	}
	return out
}

// conditioning encodes the prompt pair of r for a batch, with zeros for a
// negative prompt that was not given (force_zeros_for_empty_prompt) and
// time ids (h, w, 0, 0, h, w) of the output size.
func (m *Model) conditioning(r *Request, width, height int) (*conditioning, error) {
	tok := m.text.enc.Tokenizer
	pos, err := tok.TokenizePrompt(r.Prompt, r.Syntax)
	if err != nil {
		return nil, err
	}
	var neg *TokenizedPrompt
	if r.HasNegative {
		if neg, err = tok.TokenizePrompt(r.Negative, r.Syntax); err != nil {
			return nil, err
		}
		k := max(pos.Chunks(), neg.Chunks())
		pos.PadTo(k)
		neg.PadTo(k)
	}
	p := m.encode77(pos)
	var n encodedPrompt
	if neg != nil {
		n = m.encode77(neg)
	} else {
		n = encodedPrompt{emb: make([]float32, len(p.emb)), pooled: make([]float32, len(p.pooled))}
	}
	if err := m.backend.Sync(); err != nil {
		return nil, err
	}
	c := &conditioning{batch: r.Batch, tokens: p.tokens, width: p.width, pooledWidth: len(p.pooled)}
	for i := 0; i < r.Batch; i++ {
		c.pos = append(c.pos, p.emb...)
		c.neg = append(c.neg, n.emb...)
		c.posPooled = append(c.posPooled, p.pooled...)
		c.negPooled = append(c.negPooled, n.pooled...)
	}
	h, w := float32(height), float32(width)
	c.timeIDs = [6]float32{h, w, 0, 0, h, w}
	return c, nil
}
