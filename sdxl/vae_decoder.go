package sdxl

import (
	"github.com/gosdxl/gosdxl/nn"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// vaeDecoder maps latents to pixels. Its levels are numbered like the
// encoder's (up.0 is the narrowest, full resolution) but run from the
// widest: up.N−1 first, each level but up.0 ending with a 2× upsample.
type vaeDecoder struct {
	ConvIn  nn.Conv2D    `weight:"conv_in"`
	Mid     vaeMid       `weight:"mid"`
	Up      []vaeUpLevel `weight:"up"`
	NormOut nn.GroupNorm `weight:"norm_out"`
	ConvOut nn.Conv2D    `weight:"conv_out"`
}

type vaeUpLevel struct {
	Blocks   []vaeResBlock `weight:"block"`
	Upsample *nn.Upsample  `weight:"upsample"`
}

// vaeResBlocksPerUpLevel is SDXL's layers_per_block + 1.
const vaeResBlocksPerUpLevel = 3

func newVAEDecoder(cfg weights.VAEConfig) vaeDecoder {
	ch := cfg.Channels
	last := len(ch) - 1
	d := vaeDecoder{
		ConvIn:  nn.NewConv2D(cfg.LatentChannels, ch[last], 3, 1, 1),
		Mid:     newVAEMid(ch[last]),
		Up:      make([]vaeUpLevel, len(ch)),
		NormOut: nn.NewGroupNorm(ch[0], weights.NormGroups, vaeNormEps, true),
		ConvOut: nn.NewConv2D(ch[0], 3, 3, 1, 1),
	}
	prev := ch[last]
	for l := last; l >= 0; l-- {
		level := vaeUpLevel{Blocks: make([]vaeResBlock, vaeResBlocksPerUpLevel)}
		for i := range level.Blocks {
			level.Blocks[i] = newVAEResBlock(prev, ch[l])
			prev = ch[l]
		}
		if l != 0 {
			up := nn.NewUpsample(prev)
			level.Upsample = &up
		}
		d.Up[l] = level
	}
	return d
}

func (d *vaeDecoder) Forward(b tensor.Backend, z *tensor.Tensor) *tensor.Tensor {
	h := d.ConvIn.Forward(b, z)
	next := d.Mid.Forward(b, h)
	b.Free(h)
	h = next
	for l := len(d.Up) - 1; l >= 0; l-- {
		level := &d.Up[l]
		next = runResBlocks(b, level.Blocks, h)
		b.Free(h)
		h = next
		if level.Upsample != nil {
			s := h.Shape()
			next = level.Upsample.Forward(b, h, 2*s[1], 2*s[2])
			b.Free(h)
			h = next
		}
	}
	return normConv(b, &d.NormOut, &d.ConvOut, h)
}
