//go:build cuda

package kernels

import "github.com/gosdxl/gosdxl/tensor"

// A convolution that reads its input where it lies (tensor.FusedConv):
// conv.cu's loader reads two tensors' channels (a ResBlock's cat(h, skip)),
// an input enlarged 2x by nearest-neighbour sampling (the Upsample's), and,
// in conv2d_norm, a 1x1 skip connection as an extra K segment. Planned in
// conv_plan.go; the kernels are checked by `make kernels-emulate`.

var _ tensor.FusedConvReader = (*Backend)(nil)

// Conv2DFused computes c into dst (tensor.FusedConvReader) with one conv.cu
// launch (after groupnorm_table when normalised) when the fast conv2d
// kernel is active and handles the case, and reports whether it ran; when
// it returns false nothing was queued.
func (b *Backend) Conv2DFused(dst *tensor.Tensor, c tensor.FusedConv) bool {
	if !b.useFast(opConv2D) {
		return false
	}
	if c.Norm != nil {
		return b.tryConvNormedFrom(dst, c)
	}
	if c.ImageBias.Present() || c.Skip != nil {
		return false // conv2d has neither: they come with the normalised kernel only
	}
	return b.tryConvFrom(dst, c.In, c.Weight, c.Bias, c.Residual, c.Stride, c.Pad)
}
