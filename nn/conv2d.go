package nn

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Conv2D is a 2-D convolution with zero padding on channels-last images.
// Checkpoints store the weight [out, in, kh, kw]; the Binder repacks its
// bytes to [out, kh, kw, in] before the upload (the channels_last tag
// option) so that every output pixel reads contiguous input channels (the
// layout tensor.Backend.Conv2D takes). The stored dtype is kept.
type Conv2D struct {
	Weight *tensor.Tensor `weight:"weight,channels_last"`
	Bias   *tensor.Tensor `weight:"bias,optional"`
	Stride int
	Pad    int
}

// NewConv2D declares a kernel×kernel convolution from in to out channels,
// with the weight's shape as checkpoints store it.
func NewConv2D(in, out, kernel, stride, pad int) Conv2D {
	return Conv2D{
		Weight: tensor.Spec(out, in, kernel, kernel),
		Bias:   tensor.Spec(out),
		Stride: stride,
		Pad:    pad,
	}
}

// OutSize is the output height or width for an input of size n.
func (c *Conv2D) OutSize(n int) int {
	k := c.Weight.Shape()[1]
	return (n+2*c.Pad-k)/c.Stride + 1
}

// Forward convolves x [B,H,W,in] into [B,Ho,Wo,out].
func (c *Conv2D) Forward(b tensor.Backend, x *tensor.Tensor) *tensor.Tensor {
	return c.ForwardAdd(b, x, nil)
}

// ForwardAdd convolves x [B,H,W,in] and adds residual [B,Ho,Wo,out] (or
// nothing when it is nil), in one kernel where the backend can
// (tensor.FusedConv2D).
func (c *Conv2D) ForwardAdd(b tensor.Backend, x, residual *tensor.Tensor) *tensor.Tensor {
	s := x.Shape()
	if len(s) != 4 {
		panic(fmt.Sprintf("nn: Conv2D input must be [B,H,W,C], got %v", s))
	}
	y := b.Alloc(x.DType(), s[0], c.OutSize(s[1]), c.OutSize(s[2]), c.Weight.Shape()[0])
	conv2DInto(b, y, x, c, residual)
	return y
}

// ForwardInto convolves x [B,H,W,in] into dst [B,Ho,Wo,out], which the
// caller allocated (a buffer kept across calls).
func (c *Conv2D) ForwardInto(b tensor.Backend, dst, x *tensor.Tensor) {
	conv2DInto(b, dst, x, c, nil)
}
