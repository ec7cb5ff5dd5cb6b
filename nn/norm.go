package nn

import "github.com/gosdxl/gosdxl/tensor"

// GroupNorm normalises groups of consecutive channels over all positions,
// then applies a per-channel affine transform and, when SiLU is set, the
// SiLU activation fused in (SDXL follows almost every GroupNorm by SiLU).
type GroupNorm struct {
	Weight *tensor.Tensor `weight:"weight"`
	Bias   *tensor.Tensor `weight:"bias"`
	Groups int
	Eps    float32
	SiLU   bool
}

// NewGroupNorm declares a GroupNorm over channels split into groups.
func NewGroupNorm(channels, groups int, eps float32, silu bool) GroupNorm {
	return GroupNorm{
		Weight: tensor.Spec(channels),
		Bias:   tensor.Spec(channels),
		Groups: groups,
		Eps:    eps,
		SiLU:   silu,
	}
}

// Forward normalises x [B, ..., C].
func (g *GroupNorm) Forward(b tensor.Backend, x *tensor.Tensor) *tensor.Tensor {
	y := b.Alloc(x.DType(), x.Shape()...)
	b.GroupNorm(y, x, g.Weight, g.Bias, g.Groups, g.Eps, g.SiLU)
	return y
}

// LayerNorm normalises over the last dimension, then scales and shifts.
type LayerNorm struct {
	Weight *tensor.Tensor `weight:"weight"`
	Bias   *tensor.Tensor `weight:"bias"`
	Eps    float32
}

// NewLayerNorm declares a LayerNorm over the given width.
func NewLayerNorm(width int, eps float32) LayerNorm {
	return LayerNorm{Weight: tensor.Spec(width), Bias: tensor.Spec(width), Eps: eps}
}

// Forward normalises x [..., C].
func (l *LayerNorm) Forward(b tensor.Backend, x *tensor.Tensor) *tensor.Tensor {
	y := b.Alloc(x.DType(), x.Shape()...)
	b.LayerNorm(y, x, l.Weight, l.Bias, l.Eps)
	return y
}
