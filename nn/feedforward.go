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
// gate stays a separate operation: it halves the width, which no linear
// epilogue does.
func (f *FeedForward) ForwardAdd(b tensor.Backend, x, residual *tensor.Tensor) *tensor.Tensor {
	h := f.Proj.Forward(b, x)
	shape := h.Shape().Clone()
	shape[len(shape)-1] /= 2
	g := b.Alloc(x.DType(), shape...)
	b.GEGLU(g, h)
	b.Free(h)
	y := f.Out.ForwardFused(b, g, tensor.NoActivation, residual)
	b.Free(g)
	return y
}
