package nn

import "github.com/gosdxl/gosdxl/tensor"

// ResBlock is the UNet residual block (SGM names): GroupNorm+SiLU and a 3×3
// conv, plus the projected time embedding added per channel, GroupNorm+SiLU
// and another 3×3 conv, added to the input (through a 1×1 conv when the
// channel count changes).
type ResBlock struct {
	InNorm  GroupNorm `weight:"in_layers.0"`
	InConv  Conv2D    `weight:"in_layers.2"`
	Emb     Linear    `weight:"emb_layers.1"`
	OutNorm GroupNorm `weight:"out_layers.0"`
	OutConv Conv2D    `weight:"out_layers.3"`
	// Skip is nil when in == out: the input is added as it is.
	Skip *Conv2D `weight:"skip_connection"`
}

// ResBlockNormEps is the epsilon of the UNet ResBlocks' GroupNorms.
const ResBlockNormEps = 1e-5

// NewResBlock declares a block from in to out channels taking an embDim-wide
// time embedding.
func NewResBlock(in, out, embDim, groups int) ResBlock {
	r := ResBlock{
		InNorm:  NewGroupNorm(in, groups, ResBlockNormEps, true),
		InConv:  NewConv2D(in, out, 3, 1, 1),
		Emb:     NewLinear(embDim, out),
		OutNorm: NewGroupNorm(out, groups, ResBlockNormEps, true),
		OutConv: NewConv2D(out, out, 3, 1, 1),
	}
	if in != out {
		skip := NewConv2D(in, out, 1, 1, 0)
		r.Skip = &skip
	}
	return r
}

// Forward maps x [B,H,W,in] to [B,H,W,out] with embAct [B,embDim], the
// time embedding after the SiLU that opens emb_layers: every ResBlock of a
// UNet call reads the same one, so the UNet applies it once per call
// rather than each of its blocks.
func (r *ResBlock) Forward(b tensor.Backend, x, embAct *tensor.Tensor) *tensor.Tensor {
	return r.forward(b, tensor.ConvInput{X: x}, embAct)
}

// ForwardCat is Forward of cat(h, skip) along the channels, a UNet up
// block's input, which is never written where the backend reads both
// tensors itself (tensor.FusedConvReader). The block must have a skip
// convolution (its input is wider than its output).
func (r *ResBlock) ForwardCat(b tensor.Backend, h, skip, embAct *tensor.Tensor) *tensor.Tensor {
	r.mustSkip()
	return r.forward(b, tensor.ConvInput{X: h, X2: skip}, embAct)
}

// ForwardProjected is Forward given the projected embedding emb_layers(embAct)
// as columns of a wider matrix [B, W]: a UNet computes every block's
// projection with one Linear (the blocks' Emb weights side by side) and
// each block reads its columns in place.
func (r *ResBlock) ForwardProjected(b tensor.Backend, x *tensor.Tensor, e tensor.Columns) *tensor.Tensor {
	return r.forwardProjected(b, tensor.ConvInput{X: x}, e)
}

// ForwardCatProjected is ForwardCat given the projected embedding as
// columns, as ForwardProjected.
func (r *ResBlock) ForwardCatProjected(b tensor.Backend, h, skip *tensor.Tensor, e tensor.Columns) *tensor.Tensor {
	r.mustSkip()
	return r.forwardProjected(b, tensor.ConvInput{X: h, X2: skip}, e)
}

func (r *ResBlock) mustSkip() {
	if r.Skip == nil {
		panic("nn: a ResBlock reading cat(h, skip) needs a skip convolution")
	}
}

func (r *ResBlock) forward(b tensor.Backend, in tensor.ConvInput, embAct *tensor.Tensor) *tensor.Tensor {
	e := r.Emb.Forward(b, embAct)
	y := r.forwardProjected(b, in, tensor.AllColumns(e))
	b.Free(e)
	return y
}

func (r *ResBlock) forwardProjected(b tensor.Backend, in tensor.ConvInput, e tensor.Columns) *tensor.Tensor {
	// Both GroupNorms are applied by the convolution that reads them, and
	// the projected time embedding is added per image in the first one's
	// epilogue; the skip convolution is the second one's extra K segment
	// (one kernel each where the backend can: tensor.FusedConv).
	s := in.Shape()
	y := b.Alloc(in.X.DType(), s[0], r.InConv.OutSize(s[1]), r.InConv.OutSize(s[2]), r.InConv.Weight.Shape()[0])
	inNorm := r.InNorm.Channel()
	tensor.Conv2DFused(b, y, tensor.FusedConv{In: in, Norm: &inNorm, Weight: r.InConv.Weight, Bias: r.InConv.Bias,
		Stride: r.InConv.Stride, Pad: r.InConv.Pad, ImageBias: e})

	ys := y.Shape()
	out := b.Alloc(y.DType(), ys[0], r.OutConv.OutSize(ys[1]), r.OutConv.OutSize(ys[2]), r.OutConv.Weight.Shape()[0])
	outNorm := r.OutNorm.Channel()
	c := tensor.FusedConv{In: tensor.ConvInput{X: y}, Norm: &outNorm, Weight: r.OutConv.Weight, Bias: r.OutConv.Bias,
		Stride: r.OutConv.Stride, Pad: r.OutConv.Pad}
	if r.Skip == nil {
		c.Residual = in.X
	} else {
		c.Skip = &tensor.ConvSkip{In: in, Weight: r.Skip.Weight, Bias: r.Skip.Bias}
	}
	tensor.Conv2DFused(b, out, c)
	b.Free(y)
	return out
}
