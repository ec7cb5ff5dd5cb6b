package cpu

import "github.com/gosdxl/gosdxl/tensor"

var _ tensor.FusedConvReader = (*Backend)(nil)

// Conv2DFused runs c as tensor.ComposeConv2D, its reference meaning: the
// CPU backend has no kernel that reads a concatenation or an enlargement
// where it lies, so it writes them, as the composite does. Implementing
// the interface lets the conformance suite hold every backend's fused
// kernel to this same composite.
func (b *Backend) Conv2DFused(dst *tensor.Tensor, c tensor.FusedConv) bool {
	tensor.ComposeConv2D(b, dst, c)
	return true
}
