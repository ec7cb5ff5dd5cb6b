package nn

import (
	"encoding/binary"
	"fmt"
	"math"

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
	big := ResizeNearest(b, x, outH, outW)
	y := u.Conv.Forward(b, big)
	b.Free(big)
	return y
}

// ResizeNearest resizes x [B,H,W,C] to [B,outH,outW,C] like torch's
// F.interpolate(mode="nearest", size=(outH, outW)).
func ResizeNearest(b tensor.Backend, x *tensor.Tensor, outH, outW int) *tensor.Tensor {
	s := x.Shape()
	if len(s) != 4 {
		panic(fmt.Sprintf("nn: ResizeNearest input must be [B,H,W,C], got %v", s))
	}
	n, h, w, c := s[0], s[1], s[2], s[3]
	y := b.Alloc(x.DType(), n, outH, outW, c)
	if outH == 2*h && outW == 2*w {
		b.Upsample2x(y, x)
		return y
	}
	// General sizes gather source pixels by index: the table is x as
	// [B·H·W, C] rows, one row index per output pixel.
	rows, cols := NearestIndex(h, outH), NearestIndex(w, outW)
	raw := make([]byte, 4*n*outH*outW)
	i := 0
	for img := 0; img < n; img++ {
		for _, r := range rows {
			for _, col := range cols {
				binary.LittleEndian.PutUint32(raw[4*i:], uint32((img*h+r)*w+col))
				i++
			}
		}
	}
	ids := b.FromRaw(tensor.I32, tensor.Shape{n, outH, outW}, raw)
	b.Gather(y, x.Reshape(n*h*w, c), ids)
	b.Free(ids)
	return y
}

// NearestIndex lists, for each of the out positions, the source position of
// torch's nearest interpolation from in positions: exact halving for 2×,
// otherwise min(floor(i·in/out), in−1) computed in float32 as torch does.
func NearestIndex(in, out int) []int {
	idx := make([]int, out)
	scale := float32(in) / float32(out)
	for i := range idx {
		switch {
		case out == in:
			idx[i] = i
		case out == 2*in:
			idx[i] = i >> 1
		default:
			idx[i] = min(int(math.Floor(float64(float32(i)*scale))), in-1)
		}
	}
	return idx
}
