package sdxl

import (
	"github.com/gosdxl/gosdxl/nn"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// vaeEncoder maps pixels to the latent distribution's 2·latent channels
// (mean ‖ log-variance), before quant_conv.
type vaeEncoder struct {
	ConvIn  nn.Conv2D      `weight:"conv_in"`
	Down    []vaeDownLevel `weight:"down"`
	Mid     vaeMid         `weight:"mid"`
	NormOut nn.GroupNorm   `weight:"norm_out"`
	ConvOut nn.Conv2D      `weight:"conv_out"`
}

type vaeDownLevel struct {
	Blocks     []vaeResBlock  `weight:"block"`
	Downsample *vaeDownsample `weight:"downsample"`
}

// vaeResBlocksPerDownLevel is SDXL's layers_per_block.
const vaeResBlocksPerDownLevel = 2

func newVAEEncoder(cfg weights.VAEConfig) vaeEncoder {
	ch := cfg.Channels
	last := len(ch) - 1
	e := vaeEncoder{
		ConvIn:  nn.NewConv2D(3, ch[0], 3, 1, 1),
		Down:    make([]vaeDownLevel, len(ch)),
		Mid:     newVAEMid(ch[last]),
		NormOut: nn.NewGroupNorm(ch[last], weights.NormGroups, vaeNormEps, true),
		ConvOut: nn.NewConv2D(ch[last], 2*cfg.LatentChannels, 3, 1, 1),
	}
	prev := ch[0]
	for l := range ch {
		level := vaeDownLevel{Blocks: make([]vaeResBlock, vaeResBlocksPerDownLevel)}
		for i := range level.Blocks {
			level.Blocks[i] = newVAEResBlock(prev, ch[l])
			prev = ch[l]
		}
		if l != last {
			level.Downsample = &vaeDownsample{Conv: nn.NewConv2D(prev, prev, 3, 2, 0)}
		}
		e.Down[l] = level
	}
	return e
}

func (e *vaeEncoder) Forward(b tensor.Backend, img *tensor.Tensor) *tensor.Tensor {
	h := e.ConvIn.Forward(b, img)
	for l := range e.Down {
		level := &e.Down[l]
		next := runResBlocks(b, level.Blocks, h)
		b.Free(h)
		h = next
		if level.Downsample != nil {
			next = level.Downsample.Forward(b, h)
			b.Free(h)
			h = next
		}
	}
	next := e.Mid.Forward(b, h)
	b.Free(h)
	return normConv(b, &e.NormOut, &e.ConvOut, next)
}

// vaeDownsample halves the resolution like diffusers' Downsample2D with
// padding 0: the input gets one zero row at the bottom and one zero column
// on the right (not one on every side), then a 3×3 stride-2 convolution.
type vaeDownsample struct {
	Conv nn.Conv2D `weight:"conv"`
}

func (d *vaeDownsample) Forward(b tensor.Backend, x *tensor.Tensor) *tensor.Tensor {
	padded := padBottomRight(b, x)
	y := d.Conv.Forward(b, padded)
	b.Free(padded)
	return y
}

// padBottomRight returns x [B,H,W,C] with a zero column appended to every
// row and a zero row appended to every image: [B,H+1,W+1,C]. Both are
// concatenations along the last axis of a reshaped view, since the
// channels-last layout puts a row's pixels, and an image's rows, next to
// each other in memory.
func padBottomRight(b tensor.Backend, x *tensor.Tensor) *tensor.Tensor {
	s := x.Shape()
	n, h, w, c := s[0], s[1], s[2], s[3]
	dt := x.DType()

	zeroCol := b.FromFloat32(dt, tensor.Shape{n * h, c}, make([]float32, n*h*c))
	wide := b.Alloc(dt, n*h, (w+1)*c)
	b.Concat(wide, x.Reshape(n*h, w*c), zeroCol)
	b.Free(zeroCol)

	zeroRow := b.FromFloat32(dt, tensor.Shape{n, (w + 1) * c}, make([]float32, n*(w+1)*c))
	out := b.Alloc(dt, n, h+1, w+1, c) // not a view: the caller frees it
	b.Concat(out.Reshape(n, (h+1)*(w+1)*c), wide.Reshape(n, h*(w+1)*c), zeroRow)
	b.Free(zeroRow)
	b.Free(wide)
	return out
}
