package nn

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Downsample halves the resolution with a 3×3 stride-2 convolution (the
// UNet's "op"); odd sizes round up, as torch does with padding 1.
type Downsample struct {
	Op Conv2D `weight:"op"`
}

// NewDownsample declares a stride-2 convolution keeping the channel count.
func NewDownsample(channels int) Downsample {
	return Downsample{Op: NewConv2D(channels, channels, 3, 2, 1)}
}

// Forward maps x [B,H,W,C] to [B,⌈H/2⌉,⌈W/2⌉,C].
func (d *Downsample) Forward(b tensor.Backend, x *tensor.Tensor) *tensor.Tensor {
	return d.Op.Forward(b, x)
}

// Upsample enlarges a feature map by nearest-neighbour sampling, then
// applies a 3×3 convolution.
type Upsample struct {
	Conv Conv2D `weight:"conv"`
}

// NewUpsample declares the convolution that follows the resize.
func NewUpsample(channels int) Upsample {
	return Upsample{Conv: NewConv2D(channels, channels, 3, 1, 1)}
}

// Forward resizes x [B,H,W,C] to [B,outH,outW,C] and convolves it. outH and
// outW are normally 2H and 2W; other sizes (the UNet matching a skip
// connection of odd size) follow torch's nearest interpolation to a given
// size.
func (u *Upsample) Forward(b tensor.Backend, x *tensor.Tensor, outH, outW int) *tensor.Tensor {
	s := x.Shape()
	if len(s) == 4 && outH == 2*s[1] && outW == 2*s[2] {
		// Exactly 2×: the convolution reads x at (y/2, x/2) where the
		// backend can, and the enlarged map is never written.
		y := b.Alloc(x.DType(), s[0], u.Conv.OutSize(outH), u.Conv.OutSize(outW), u.Conv.Weight.Shape()[0])
		tensor.Conv2DFused(b, y, tensor.FusedConv{In: tensor.ConvInput{X: x, Up2: true},
			Weight: u.Conv.Weight, Bias: u.Conv.Bias, Stride: u.Conv.Stride, Pad: u.Conv.Pad})
		return y
	}
	big := ResizeNearest(b, x, outH, outW)
	y := u.Conv.Forward(b, big)
	b.Free(big)
	return y
}

// ResizeNearest resizes x [B,H,W,C] to [B,outH,outW,C] like torch's
// F.interpolate(mode="nearest", size=(outH, outW)) (Backend.ResizeNearest).
func ResizeNearest(b tensor.Backend, x *tensor.Tensor, outH, outW int) *tensor.Tensor {
	s := x.Shape()
	if len(s) != 4 {
		panic(fmt.Sprintf("nn: ResizeNearest input must be [B,H,W,C], got %v", s))
	}
	y := b.Alloc(x.DType(), s[0], outH, outW, s[3])
	b.ResizeNearest(y, x)
	return y
}
