package sdxl

import (
	"fmt"

	"github.com/gosdxl/gosdxl/nn"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// UNet is SDXL's denoising UNet in the SGM single-file layout, bound with
//
//	weights.NewBinder(b, src).Bind(weights.UNetPrefix, u)
type UNet struct {
	TimeEmbed1  nn.Linear    `weight:"time_embed.0"`
	TimeEmbed2  nn.Linear    `weight:"time_embed.2"`
	LabelEmbed1 nn.Linear    `weight:"label_emb.0.0"`
	LabelEmbed2 nn.Linear    `weight:"label_emb.0.2"`
	Input       []unetBlock  `weight:"input_blocks"`
	Middle      middleBlock  `weight:"middle_block"`
	Output      []unetBlock  `weight:"output_blocks"`
	OutNorm     nn.GroupNorm `weight:"out.0"`
	OutConv     nn.Conv2D    `weight:"out.2"`
	cfg         weights.UNetConfig
	// embProj is the ResBlocks' emb_layers stacked (unet_embproj.go),
	// built on a call's first use and freed by releaseEmbProjection.
	embProj *embProjection
}

// UNetInput is one batched UNet call.
type UNetInput struct {
	Sample     *tensor.Tensor // [B,H,W,Cin] channels-last, already scale_model_input-ed
	Timesteps  []float32      // one per batch element, may be fractional
	Context    *tensor.Tensor // [B,T,ContextDim], T = 77·k
	TextEmbeds *tensor.Tensor // [B,PooledDim], the pooled text embedding
	TimeIDs    [][6]float32   // per batch element: orig_h, orig_w, crop_top, crop_left, target_h, target_w
	// ContextKV, if set, is Context's cross-attention keys and values from
	// PrepareContext, reused by every call with this Context; nil: Forward
	// prepares them for the call and frees them after.
	ContextKV *ContextKV
}

// NewUNet declares the UNet of cfg with Spec-shaped weights. cfg must come
// from a supported (SDXL-shaped) checkpoint: a config that cannot describe
// an SDXL UNet is a programmer error and panics. ResBlocksPerLevel 0 means
// SDXL's 2.
func NewUNet(cfg weights.UNetConfig) *UNet {
	if cfg.ResBlocksPerLevel == 0 {
		cfg.ResBlocksPerLevel = 2
	}
	if err := checkUNetConfig(cfg); err != nil {
		panic(err)
	}
	u := &UNet{
		TimeEmbed1:  nn.NewLinear(cfg.Channels[0], cfg.TimeEmbedDim),
		TimeEmbed2:  nn.NewLinear(cfg.TimeEmbedDim, cfg.TimeEmbedDim),
		LabelEmbed1: nn.NewLinear(cfg.ADMInChannels, cfg.TimeEmbedDim),
		LabelEmbed2: nn.NewLinear(cfg.TimeEmbedDim, cfg.TimeEmbedDim),
		OutNorm:     nn.NewGroupNorm(cfg.Channels[0], weights.NormGroups, nn.ResBlockNormEps, true),
		OutConv:     nn.NewConv2D(cfg.Channels[0], cfg.OutChannels, 3, 1, 1),
		cfg:         cfg,
	}
	u.Input, u.Middle, u.Output = buildUNetBlocks(cfg)
	return u
}

func checkUNetConfig(cfg weights.UNetConfig) error {
	n := len(cfg.Channels)
	switch {
	case n == 0 || len(cfg.TransformerDepth) != n:
		return fmt.Errorf("sdxl: UNet config needs one transformer depth per level, got channels %v, depths %v", cfg.Channels, cfg.TransformerDepth)
	case cfg.PooledDim <= 0 || cfg.ADMInChannels <= cfg.PooledDim || (cfg.ADMInChannels-cfg.PooledDim)%6 != 0:
		return fmt.Errorf("sdxl: UNet adm_in_channels %d minus pooled width %d is not six size/crop embeddings", cfg.ADMInChannels, cfg.PooledDim)
	case cfg.InChannels <= 0 || cfg.OutChannels <= 0 || cfg.TimeEmbedDim <= 0 || cfg.ContextDim <= 0:
		return fmt.Errorf("sdxl: UNet config has non-positive widths: %+v", cfg)
	}
	for _, c := range cfg.Channels {
		if c%weights.HeadDim != 0 || c%weights.NormGroups != 0 {
			return fmt.Errorf("sdxl: UNet width %d is not a multiple of the head size %d and of %d groups", c, weights.HeadDim, weights.NormGroups)
		}
	}
	return nil
}

// Config returns the configuration the UNet was declared with.
func (u *UNet) Config() weights.UNetConfig { return u.cfg }

// Validate checks a call's shapes against the model. Forward panics on
// what Validate rejects, so callers handling user input call it first.
func (u *UNet) Validate(in UNetInput) error {
	if in.Sample == nil || in.Context == nil || in.TextEmbeds == nil {
		return fmt.Errorf("sdxl: UNet input needs a sample, a context and text embeddings")
	}
	s := in.Sample.Shape()
	if len(s) != 4 || s[3] != u.cfg.InChannels {
		return fmt.Errorf("sdxl: UNet sample must be [B,H,W,%d], got %v", u.cfg.InChannels, s)
	}
	batch := s[0]
	if len(in.Timesteps) != batch || len(in.TimeIDs) != batch {
		return fmt.Errorf("sdxl: UNet batch of %d needs %d timesteps and time ids, got %d and %d", batch, batch, len(in.Timesteps), len(in.TimeIDs))
	}
	if err := u.validateContext(in.Context, batch); err != nil {
		return err
	}
	if in.ContextKV != nil {
		if err := in.ContextKV.check(in.Context); err != nil {
			return err
		}
	}
	if p := in.TextEmbeds.Shape(); !p.Equal(tensor.Shape{batch, u.cfg.PooledDim}) {
		return fmt.Errorf("sdxl: UNet text embeddings must be [%d,%d], got %v", batch, u.cfg.PooledDim, p)
	}
	if s[1] == 0 || s[2] == 0 {
		return fmt.Errorf("sdxl: UNet sample %v is empty", s)
	}
	return nil
}

// Forward predicts the noise [B,H,W,Cout] of one batched call. Any latent
// size works: odd sizes are downsampled rounding up and upsampled back to
// each skip connection's size, as diffusers does.
func (u *UNet) Forward(b tensor.Backend, in UNetInput) *tensor.Tensor {
	if err := u.Validate(in); err != nil {
		panic(err)
	}
	kv := in.ContextKV
	if kv == nil {
		kv = u.PrepareContext(b, in.Context)
		defer kv.Free(b)
	}
	dt := in.Sample.DType()
	embs := u.timeEmbeddings(b, in, dt)
	s := in.Sample.Shape()
	out := b.Alloc(dt, s[0], s[1], s[2], u.cfg.OutChannels)
	u.forwardInto(b, out, in.Sample, embs, kv)
	embs.free(b)
	return out
}

// forwardInto runs the network on sample [B,H,W,Cin] with the ResBlocks'
// time embeddings (stepEmbeddings) and the context's prepared keys and
// values, writing the prediction into dst [B,H,W,Cout]. It frees
// everything it allocates (not embs).
func (u *UNet) forwardInto(b tensor.Backend, dst, sample *tensor.Tensor, embs blockEmbeddings, kv *ContextKV) {
	// Down path: every block's output is kept for the skip connections.
	var skips []*tensor.Tensor
	var h *tensor.Tensor
	for i := range u.Input {
		blk := &u.Input[i]
		switch {
		case blk.ConvIn != nil:
			h = blk.ConvIn.Forward(b, sample)
		case blk.Down != nil:
			h = blk.Down.Forward(b, h)
		default:
			h = embs.forward(b, blk.Res, h)
			h = u.attend(b, blk.Attn, h, kv.input[i])
		}
		skips = append(skips, h)
	}

	m := &u.Middle
	h = embs.forward(b, &m.Res1, h) // the last skip stays on the stack
	h = u.attend(b, &m.Attn, h, kv.middle)
	next := embs.forward(b, &m.Res2, h)
	b.Free(h)
	h = next

	for i := range u.Output {
		blk := &u.Output[i]
		skip := skips[len(skips)-1]
		skips = skips[:len(skips)-1]
		// cat(h, skip) is read where it lies (nn.ResBlock.ForwardCat).
		next := embs.forwardCat(b, blk.Res, h, skip)
		b.Free(h)
		b.Free(skip)
		h = next
		h = u.attend(b, blk.Attn, h, kv.output[i])
		if up := blk.upsampler(); up != nil {
			// Upsample to the size of the skip connection it meets next.
			target := skips[len(skips)-1].Shape()
			next := up.Forward(b, h, target[1], target[2])
			b.Free(h)
			h = next
		}
	}
	u.OutConv.ForwardNormedInto(b, dst, h, &u.OutNorm)
	b.Free(h)
}

// attend runs the transformer (if any) on h with its blocks' prepared
// keys and values, freeing h when replaced.
func (u *UNet) attend(b tensor.Backend, st *nn.SpatialTransformer, h *tensor.Tensor, kv []nn.CrossKV) *tensor.Tensor {
	if st == nil {
		return h
	}
	y := st.ForwardKV(b, h, kv)
	b.Free(h)
	return y
}
