package nn

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Conv2D is a 2-D convolution with zero padding on channels-last images.
// Checkpoints store the weight [out, in, kh, kw]; PrepareWeights repacks it
// once to [out, kh, kw, in] so that every output pixel reads contiguous
// input channels (the layout tensor.Backend.Conv2D takes).
type Conv2D struct {
	Weight *tensor.Tensor `weight:"weight"`
	Bias   *tensor.Tensor `weight:"bias,optional"`
	Stride int
	Pad    int
}

// NewConv2D declares a kernel×kernel convolution from in to out channels.
func NewConv2D(in, out, kernel, stride, pad int) Conv2D {
	return Conv2D{
		Weight: tensor.Spec(out, in, kernel, kernel),
		Bias:   tensor.Spec(out),
		Stride: stride,
		Pad:    pad,
	}
}

// PrepareWeights repacks the bound weight from [O,I,KH,KW] to [O,KH,KW,I].
// The transpose runs on the host and keeps the stored dtype, so an fp16
// checkpoint stays fp16. A 1×1 kernel has the same bytes in both layouts
// and is only re-viewed.
func (c *Conv2D) PrepareWeights(b tensor.Backend) {
	s := c.Weight.Shape()
	o, in, kh, kw := s[0], s[1], s[2], s[3]
	if kh == 1 && kw == 1 {
		c.Weight = c.Weight.Reshape(o, 1, 1, in)
		return
	}
	src := b.ToFloat32(c.Weight)
	dst := make([]float32, len(src))
	for oc := 0; oc < o; oc++ {
		for ic := 0; ic < in; ic++ {
			for y := 0; y < kh; y++ {
				for x := 0; x < kw; x++ {
					dst[((oc*kh+y)*kw+x)*in+ic] = src[((oc*in+ic)*kh+y)*kw+x]
				}
			}
		}
	}
	packed := b.FromFloat32(c.Weight.DType(), tensor.Shape{o, kh, kw, in}, dst)
	b.Free(c.Weight)
	c.Weight = packed
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
