package nn

import "github.com/gosdxl/gosdxl/tensor"

// GroupNorm applied by the op that reads it (tensor.FusedNormConv2D,
// tensor.FusedNormLinear): where the backend can, the normalised tensor is
// never written; otherwise GroupNorm runs into a temporary and the op reads
// that, which is the exact meaning (the CPU backend's).

// Channel is g as the fused ops take it.
func (g *GroupNorm) Channel() tensor.ChannelNorm {
	return tensor.ChannelNorm{Gamma: g.Weight, Beta: g.Bias, Groups: g.Groups, Eps: g.Eps, SiLU: g.SiLU}
}

// ForwardNormed convolves norm(x) for x [B,H,W,in] and adds imageBias
// (out columns of a [B, W] matrix) per image and residual [B,Ho,Wo,out]
// (either may be absent): a ResBlock's "conv(silu(gn(x))) + emb" in one
// kernel where the backend can.
func (c *Conv2D) ForwardNormed(b tensor.Backend, x *tensor.Tensor, norm *GroupNorm, imageBias tensor.Columns, residual *tensor.Tensor) *tensor.Tensor {
	s := x.Shape()
	y := b.Alloc(x.DType(), s[0], c.OutSize(s[1]), c.OutSize(s[2]), c.Weight.Shape()[0])
	conv2DNormInto(b, y, x, norm, c, imageBias, residual)
	return y
}

// ForwardNormedInto convolves norm(x) into dst, which the caller allocated.
func (c *Conv2D) ForwardNormedInto(b tensor.Backend, dst, x *tensor.Tensor, norm *GroupNorm) {
	conv2DNormInto(b, dst, x, norm, c, tensor.Columns{}, nil)
}

// ForwardGroupNormed computes act(norm(x)·wᵀ + bias) for x [B, ..., in], each
// image (first dimension) normalised alone.
func (l *Linear) ForwardGroupNormed(b tensor.Backend, x *tensor.Tensor, norm *GroupNorm, act tensor.UnaryOp) *tensor.Tensor {
	shape := x.Shape().Clone()
	shape[len(shape)-1] = l.Out()
	y := b.Alloc(x.DType(), shape...)
	if f, ok := b.(tensor.FusedNormLinear); ok && f.LinearNormed(y, x, norm.Channel(), l.Weight, l.Bias, nil, act) {
		return y
	}
	h := norm.Forward(b, x)
	linearInto(b, y, h, l.Weight, l.Bias, nil, act)
	b.Free(h)
	return y
}

// conv2DNormInto computes dst = conv(norm(x), w) + bias + imageBias[b] +
// residual; imageBias (out columns of a [B, W] matrix) and residual may be
// absent, residual may be dst.
func conv2DNormInto(b tensor.Backend, dst, x *tensor.Tensor, norm *GroupNorm, c *Conv2D, imageBias tensor.Columns, residual *tensor.Tensor) {
	if f, ok := b.(tensor.FusedNormConv2D); ok &&
		f.Conv2DNormed(dst, x, norm.Channel(), c.Weight, c.Bias, imageBias, residual, c.Stride, c.Pad) {
		return
	}
	h := norm.Forward(b, x)
	if !imageBias.Present() {
		conv2DInto(b, dst, h, c, residual)
		b.Free(h)
		return
	}
	out := scratchFor(b, dst, residual)
	b.Conv2D(out, h, c.Weight, c.Bias, c.Stride, c.Pad)
	b.Free(h)
	n := dst.Shape().Last()
	e, copied := imageBias.Dense(b, n)
	if copied {
		defer b.Free(e)
	}
	b.Binary(out, out, e.Reshape(e.Shape()[0], 1, 1, n), tensor.Add)
	addResidual(b, dst, out, residual)
}

// ForwardNormedFreeing is ForwardNormed that frees x as soon as nothing
// needs it, so that the largest activation is not held twice: after the
// fused kernel, or, composed, once x is normalised (the VAE's blocks).
func (c *Conv2D) ForwardNormedFreeing(b tensor.Backend, x *tensor.Tensor, norm *GroupNorm, residual *tensor.Tensor) *tensor.Tensor {
	if f, ok := b.(tensor.FusedNormConv2D); ok {
		s := x.Shape()
		y := b.Alloc(x.DType(), s[0], c.OutSize(s[1]), c.OutSize(s[2]), c.Weight.Shape()[0])
		if f.Conv2DNormed(y, x, norm.Channel(), c.Weight, c.Bias, tensor.Columns{}, residual, c.Stride, c.Pad) {
			b.Free(x)
			return y
		}
		b.Free(y)
	}
	h := norm.Forward(b, x)
	b.Free(x)
	y := c.ForwardAdd(b, h, residual)
	b.Free(h)
	return y
}
