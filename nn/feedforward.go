package nn

import "github.com/gosdxl/gosdxl/tensor"

// FeedForward is the GEGLU feed-forward of SDXL's transformer blocks:
// net.0.proj maps C to 2·inner, the first half is gated by the exact GELU of
// the second, and net.2 maps inner back to C.
type FeedForward struct {
	Proj Linear `weight:"net.0.proj"`
	Out  Linear `weight:"net.2"`
}

// NewFeedForward declares a GEGLU feed-forward of the given widths
// (inner = 4·dim in SDXL).
func NewFeedForward(dim, inner int) FeedForward {
	return FeedForward{Proj: NewLinear(dim, 2*inner), Out: NewLinear(inner, dim)}
}

// Forward maps x [..., dim] to [..., dim].
func (f *FeedForward) Forward(b tensor.Backend, x *tensor.Tensor) *tensor.Tensor {
	return f.ForwardAdd(b, x, nil)
}

// ForwardAdd is Forward plus residual [..., dim] (nil: nothing), added in
// the second linear's epilogue where the backend can fuse it. The GEGLU
// gate runs in the first linear's epilogue where the backend can fuse that
// (tensor.FusedGEGLU), else as a separate operation on the [..., 2·inner]
// projection.
func (f *FeedForward) ForwardAdd(b tensor.Backend, x, residual *tensor.Tensor) *tensor.Tensor {
	shape := x.Shape().Clone()
	shape[len(shape)-1] = f.Proj.Out() / 2
	g := b.Alloc(x.DType(), shape...)
	linearGEGLUInto(b, g, x, f.Proj.Weight, f.Proj.Bias)
	y := f.Out.ForwardFused(b, g, tensor.NoActivation, residual)
	b.Free(g)
	return y
}
