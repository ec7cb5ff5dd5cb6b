package sdxl

import (
	"fmt"

	"github.com/gosdxl/gosdxl/prompt"
	"github.com/gosdxl/gosdxl/tensor"
)

// EncodeOptions says what to encode. Sizes are in pixels.
type EncodeOptions struct {
	Prompt string
	// Negative is the negative prompt. Nil means none was given: the
	// negative embeddings are then zeros (SDXL's
	// force_zeros_for_empty_prompt). A pointer to "" is encoded like any
	// prompt, which is not the same thing.
	Negative *string
	Syntax   prompt.Syntax
	// Width and Height are the target image size; the original size
	// defaults to it and the crop to (0, 0).
	Width, Height                 int
	OriginalWidth, OriginalHeight int
	CropTop, CropLeft             int
	// DType is the activation type inside the encoders (0: F32).
	DType tensor.DType
}

// Conditioning is everything the UNet needs from the text side, in host
// float32 memory (small: 77·k×2048 values per prompt), row-major. The
// pipeline uploads it in whatever dtype its backend runs.
type Conditioning struct {
	// PromptEmbeds is [Tokens, Width]: per chunk the penultimate states of
	// encoder 1 ‖ encoder 2 (768 + 1280 = 2048 in SDXL), chunks in order.
	PromptEmbeds []float32
	// PooledEmbeds is [PooledWidth]: encoder 2's projected pooled output of
	// the first chunk.
	PooledEmbeds []float32
	// NegativeEmbeds and NegativePooled have the same shapes; zeros when
	// no negative prompt was given.
	NegativeEmbeds []float32
	NegativePooled []float32
	// TimeIDs are SDXL's size conditioning: (orig_h, orig_w, crop_top,
	// crop_left, target_h, target_w), height first. Both CFG halves use it.
	TimeIDs [6]float32

	Tokens      int // 77 · chunks
	Width       int // hidden width of the concatenated encoders
	PooledWidth int

	// Positive and NegativeTokens are the tokenized prompts (after chunk
	// padding), for display; NegativeTokens is nil without a negative prompt.
	Positive, NegativeTokens *prompt.Tokenized
}

// Encode tokenizes and encodes the prompt and negative prompt on b. Prompts
// that need more chunks than the other are padded with empty chunks so both
// have the same length.
func (e *TextEncoders) Encode(b tensor.Backend, opt EncodeOptions) (*Conditioning, error) {
	if opt.Width <= 0 || opt.Height <= 0 {
		return nil, fmt.Errorf("encode: image size %dx%d must be positive", opt.Width, opt.Height)
	}
	dt := opt.DType
	if dt == 0 {
		dt = tensor.F32
	}
	pos, err := e.Tokenizer.TokenizeWith(opt.Prompt, opt.Syntax, e.Embeddings)
	if err != nil {
		return nil, fmt.Errorf("prompt: %w", err)
	}
	prompts := []*prompt.Tokenized{pos}
	var neg *prompt.Tokenized
	if opt.Negative != nil {
		if neg, err = e.Tokenizer.TokenizeWith(*opt.Negative, opt.Syntax, e.Embeddings); err != nil {
			return nil, fmt.Errorf("negative prompt: %w", err)
		}
		chunks := max(pos.Chunks(), neg.Chunks())
		pos.PadTo(chunks)
		neg.PadTo(chunks)
		prompts = append(prompts, neg)
	}

	embeds, pooled, width, err := e.encodeChunks(b, dt, prompts)
	if err != nil {
		return nil, err
	}
	c := &Conditioning{
		PromptEmbeds: embeds[0],
		PooledEmbeds: pooled[0],
		TimeIDs:      timeIDs(opt),
		Tokens:       pos.Chunks() * prompt.ContextLength,
		Width:        width,
		PooledWidth:  len(pooled[0]),
		Positive:     pos,
	}
	if neg != nil {
		c.NegativeEmbeds, c.NegativePooled, c.NegativeTokens = embeds[1], pooled[1], neg
	} else {
		c.NegativeEmbeds = make([]float32, len(c.PromptEmbeds))
		c.NegativePooled = make([]float32, len(c.PooledEmbeds))
	}
	return c, nil
}

// encodeChunks runs every chunk of every prompt through both encoders as one
// batch and assembles, per prompt, the weighted and concatenated hidden
// states [77·k, C1+C2] and the pooled output of its first chunk.
func (e *TextEncoders) encodeChunks(b tensor.Backend, dt tensor.DType, prompts []*prompt.Tokenized) (embeds, pooled [][]float32, width int, err error) {
	var ids1, ids2 [][]int32
	for _, p := range prompts {
		ids1 = append(ids1, p.IDs1...)
		ids2 = append(ids2, p.IDs2...)
	}
	out1 := e.CLIPL.Forward(b, dt, ids1, false)
	out2 := e.BigG.Forward(b, dt, ids2, false)
	if err := b.Sync(); err != nil {
		return nil, nil, 0, fmt.Errorf("text encoders on %s: %w", b.Name(), err)
	}
	z1, z2, p2 := b.ToFloat32(out1.Penultimate), b.ToFloat32(out2.Penultimate), b.ToFloat32(out2.Pooled)
	c1, c2, pw := out1.Penultimate.Shape().Last(), out2.Penultimate.Shape().Last(), out2.Pooled.Shape().Last()
	for _, t := range []*tensor.Tensor{out1.Penultimate, out2.Penultimate, out2.Pooled} {
		b.Free(t)
	}
	if err := checkTextFinite(dt, map[string][]float32{"text encoder 1 penultimate": z1, "text encoder 2 penultimate": z2, "text encoder 2 pooled": p2}); err != nil {
		return nil, nil, 0, err
	}

	row := 0 // chunk index within the batch
	for _, p := range prompts {
		emb := make([]float32, 0, p.Chunks()*prompt.ContextLength*(c1+c2))
		pooled = append(pooled, p2[row*pw:(row+1)*pw])
		for k := 0; k < p.Chunks(); k++ {
			h1 := z1[row*prompt.ContextLength*c1 : (row+1)*prompt.ContextLength*c1]
			h2 := z2[row*prompt.ContextLength*c2 : (row+1)*prompt.ContextLength*c2]
			if p.Weighted() {
				applyEmphasis(h1, p.Weight[k], c1)
				applyEmphasis(h2, p.Weight[k], c2)
			}
			for t := 0; t < prompt.ContextLength; t++ {
				emb = append(emb, h1[t*c1:(t+1)*c1]...)
				emb = append(emb, h2[t*c2:(t+1)*c2]...)
			}
			row++
		}
		embeds = append(embeds, emb)
	}
	return embeds, pooled, c1 + c2, nil
}

// applyEmphasis weights one encoder's chunk z [77, c] the way A1111 does
// (its "Original" emphasis): each position is multiplied by its weight, then
// the whole chunk is rescaled so that its mean is what it was before. A1111
// does this per encoder, before the two are concatenated.
func applyEmphasis(z, weights []float32, c int) {
	var before, after float64
	for t, w := range weights {
		for j := t * c; j < (t+1)*c; j++ {
			before += float64(z[j])
			z[j] *= w
			after += float64(z[j])
		}
	}
	if after == 0 {
		return // all weights zero: nothing to rescale
	}
	scale := float32(before / after)
	for j := range z {
		z[j] *= scale
	}
}

// timeIDs are (orig_h, orig_w, crop_top, crop_left, target_h, target_w).
func timeIDs(opt EncodeOptions) [6]float32 {
	oh, ow := opt.OriginalHeight, opt.OriginalWidth
	if oh <= 0 || ow <= 0 {
		oh, ow = opt.Height, opt.Width
	}
	return [6]float32{float32(oh), float32(ow), float32(opt.CropTop), float32(opt.CropLeft), float32(opt.Height), float32(opt.Width)}
}
