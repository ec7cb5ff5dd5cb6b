package weights

import (
	"fmt"
)

// InferConfig reads the model configuration from tensor shapes. It accepts
// SDXL base-type checkpoints (Animagine XL and other SDXL fine-tunes) and
// says what anything else is: SD 1.x, SD 2.x, the SDXL refiner, a LoRA or
// LyCORIS adapter, a lone VAE, ...
func InferConfig(src Source) (Config, error) {
	names := src.Names()
	if err := identify(names); err != nil {
		return Config{}, fmt.Errorf("%s: %v", src.Path(), err)
	}
	r := &shapeReader{src: src}
	var cfg Config
	cfg.UNet = r.unet(names)
	if err := checkUNetKind(cfg.UNet); err != nil {
		return Config{}, fmt.Errorf("%s: %v", src.Path(), err)
	}
	cfg.TextEncoder1 = r.textEncoder1(names)
	cfg.TextEncoder2 = r.textEncoder2(names)
	cfg.UNet.PooledDim = cfg.TextEncoder2.Projection
	cfg.VAE = r.vae(names)
	if r.err != nil {
		return Config{}, fmt.Errorf("%s: cannot infer the model configuration: %v", src.Path(), r.err)
	}
	if err := checkConsistent(cfg); err != nil {
		return Config{}, fmt.Errorf("%s: %v", src.Path(), err)
	}
	return cfg, nil
}

// shapeReader reads dimensions of named tensors, keeping the first problem.
type shapeReader struct {
	src Source
	err error
}

// dim returns dimension axis of the tensor name (0 after a problem).
func (r *shapeReader) dim(name string, axis int) int {
	if r.err != nil {
		return 0
	}
	e, ok := r.src.Lookup(name)
	if !ok {
		r.err = fmt.Errorf("tensor %s is missing", name)
		return 0
	}
	if axis >= len(e.Shape) {
		r.err = fmt.Errorf("tensor %s has shape %v, expected at least %d dimensions", name, e.Shape, axis+1)
		return 0
	}
	return e.Shape[axis]
}

func (r *shapeReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

// heads is the attention head count of a width, head size 64.
func (r *shapeReader) heads(what string, width int) int {
	if width%HeadDim != 0 {
		r.fail("%s width %d is not a multiple of the head size %d", what, width, HeadDim)
	}
	return width / HeadDim
}

func (r *shapeReader) unet(names []string) UNetConfig {
	p := UNetPrefix
	var u UNetConfig
	blocks := readUNetBlocks(names)
	if len(blocks.down) == 0 || len(blocks.down[0].blocks) == 0 {
		r.fail("no UNet input blocks (%sinput_blocks.*)", p)
		return u
	}
	u.ResBlocksPerLevel = len(blocks.down[0].blocks)
	for i, lvl := range blocks.down {
		if len(lvl.blocks) != u.ResBlocksPerLevel {
			r.fail("the UNet's level %d has %d ResBlocks, level 0 has %d: the levels are not equal", i, len(lvl.blocks), u.ResBlocksPerLevel)
			return u
		}
		ch := r.dim(p+"input_blocks."+itoa(lvl.blocks[0])+".0.out_layers.3.weight", 0)
		heads := 0
		if lvl.depth > 0 {
			heads = r.heads("UNet level "+itoa(i), ch)
		}
		u.Channels = append(u.Channels, ch)
		u.TransformerDepth = append(u.TransformerDepth, lvl.depth)
		u.Heads = append(u.Heads, heads)
	}
	u.MidTransformerDepth = blocks.midDepth
	u.ContextDim = r.dim(firstCrossAttention(blocks), 1)
	u.ADMInChannels = r.dim(p+"label_emb.0.0.weight", 1)
	u.TimeEmbedDim = r.dim(p+"time_embed.0.weight", 0)
	u.InChannels = r.dim(p+"input_blocks.0.0.weight", 1)
	u.OutChannels = r.dim(p+"out.2.weight", 0)
	return u
}

// firstCrossAttention names the key projection of the first cross-attention,
// whose input width is the context width.
func firstCrossAttention(blocks unetBlocks) string {
	for _, lvl := range blocks.down {
		if lvl.depth > 0 {
			return UNetPrefix + "input_blocks." + itoa(lvl.blocks[0]) + ".1.transformer_blocks.0.attn2.to_k.weight"
		}
	}
	return UNetPrefix + "middle_block.1.transformer_blocks.0.attn2.to_k.weight"
}

func (r *shapeReader) textEncoder1(names []string) TextEncoderConfig {
	p := TextEncoder1Prefix
	var t TextEncoderConfig
	t.Vocab = r.dim(p+"embeddings.token_embedding.weight", 0)
	t.Hidden = r.dim(p+"embeddings.token_embedding.weight", 1)
	t.Positions = r.dim(p+"embeddings.position_embedding.weight", 0)
	t.Layers = countIndexed(names, p+"encoder.layers.")
	t.Intermediate = r.dim(p+"encoder.layers.0.mlp.fc1.weight", 0)
	t.Heads = r.heads("text encoder 1", t.Hidden)
	return t
}

func (r *shapeReader) textEncoder2(names []string) TextEncoderConfig {
	p := TextEncoder2Prefix
	var t TextEncoderConfig
	t.Vocab = r.dim(p+"token_embedding.weight", 0)
	t.Hidden = r.dim(p+"token_embedding.weight", 1)
	t.Positions = r.dim(p+"positional_embedding", 0)
	t.Layers = countIndexed(names, p+"transformer.resblocks.")
	t.Intermediate = r.dim(p+"transformer.resblocks.0.mlp.c_fc.weight", 0)
	t.Projection = r.dim(p+"text_projection", 1)
	t.Heads = r.heads("text encoder 2", t.Hidden)
	return t
}

func (r *shapeReader) vae(names []string) VAEConfig {
	p := VAEPrefix
	var v VAEConfig
	levels := countIndexed(names, p+"encoder.down.")
	if levels == 0 {
		r.fail("no VAE encoder levels (%sencoder.down.*)", p)
	}
	v.ResBlocksPerLevel = countIndexed(names, p+"encoder.down.0.block.")
	for i := 0; i < levels; i++ {
		v.Channels = append(v.Channels, r.dim(p+"encoder.down."+itoa(i)+".block.0.conv1.weight", 0))
	}
	v.LatentChannels = r.dim(p+"post_quant_conv.weight", 0)
	return v
}

// checkConsistent verifies how the parts fit together in SDXL: the UNet's
// context is both encoders' hidden states side by side, and its ADM input
// is the pooled vector plus six size/crop embeddings.
func checkConsistent(cfg Config) error {
	u := cfg.UNet
	if te := cfg.TextEncoder1.Hidden + cfg.TextEncoder2.Hidden; u.ContextDim != te {
		return fmt.Errorf("the UNet's context width %d is not the sum of the text encoders' widths %d + %d",
			u.ContextDim, cfg.TextEncoder1.Hidden, cfg.TextEncoder2.Hidden)
	}
	if rest := u.ADMInChannels - u.PooledDim; rest <= 0 || rest%6 != 0 {
		return fmt.Errorf("the UNet's label_emb input width %d is not the pooled width %d plus six size/crop embeddings",
			u.ADMInChannels, u.PooledDim)
	}
	if len(cfg.VAE.Channels) > 0 && cfg.VAE.ResBlocksPerLevel == 0 {
		return fmt.Errorf("the VAE encoder has no ResBlocks")
	}
	return nil
}
