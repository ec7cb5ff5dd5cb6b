package nn

import "github.com/gosdxl/gosdxl/tensor"

// The helpers below are the only places that know about fused
// operations: they try the backend's optional interface (tensor.FusedLinear,
// tensor.FusedGEGLU, tensor.FusedConv2D) and otherwise compose the same result from plain
// Backend operations, in an order that gives the fused meaning exactly.
// The normed forms (a norm applied by the next operation as it reads its
// input: tensor.FusedNormConv2D, FusedNormLinear, FusedRowNorm) are in
// fused_groupnorm.go and fused_layernorm.go.
//
// residual may be dst itself (the same *tensor.Tensor): the result is then
// accumulated into it. A fused kernel does that in place; the composite
// computes into a temporary first, since Linear and Conv2D overwrite dst.

// linearInto computes dst = act(x·wᵀ + bias) + residual. bias and residual
// may be nil; act may be tensor.NoActivation.
func linearInto(b tensor.Backend, dst, x, w, bias, residual *tensor.Tensor, act tensor.UnaryOp) {
	if residual == nil && act == tensor.NoActivation {
		b.Linear(dst, x, w, bias)
		return
	}
	if f, ok := b.(tensor.FusedLinear); ok && f.LinearFused(dst, x, w, bias, residual, act) {
		return
	}
	out := scratchFor(b, dst, residual)
	b.Linear(out, x, w, bias)
	if act != tensor.NoActivation {
		b.Unary(out, out, act)
	}
	addResidual(b, dst, out, residual)
}

// linearAddActInto computes dst = act(x·wᵀ + bias + residual): the
// residual is added before the activation. bias may be nil; residual may
// be dst.
func linearAddActInto(b tensor.Backend, dst, x, w, bias, residual *tensor.Tensor, act tensor.UnaryOp) {
	if f, ok := b.(tensor.FusedLinearAddAct); ok && f.LinearAddAct(dst, x, w, bias, residual, act) {
		return
	}
	out := scratchFor(b, dst, residual)
	b.Linear(out, x, w, bias)
	addResidual(b, dst, out, residual)
	b.Unary(dst, dst, act)
}

// linearGEGLUInto computes dst [..., N] = GEGLU(x·wᵀ + bias) for the
// stored projection w [2N, K] (bias [2N] or nil).
func linearGEGLUInto(b tensor.Backend, dst, x, w, bias *tensor.Tensor) {
	if f, ok := b.(tensor.FusedGEGLU); ok && f.LinearGEGLU(dst, x, w, bias) {
		return
	}
	shape := dst.Shape().Clone()
	shape[len(shape)-1] = w.Shape()[0]
	h := b.Alloc(x.DType(), shape...)
	b.Linear(h, x, w, bias)
	b.GEGLU(dst, h)
	b.Free(h)
}

// conv2DInto computes dst = conv(x, w) + bias + residual with the layer's
// stride and padding. bias and residual may be nil.
func conv2DInto(b tensor.Backend, dst, x *tensor.Tensor, c *Conv2D, residual *tensor.Tensor) {
	if residual == nil {
		b.Conv2D(dst, x, c.Weight, c.Bias, c.Stride, c.Pad)
		return
	}
	if f, ok := b.(tensor.FusedConv2D); ok && f.Conv2DResidual(dst, x, c.Weight, c.Bias, residual, c.Stride, c.Pad) {
		return
	}
	out := scratchFor(b, dst, residual)
	b.Conv2D(out, x, c.Weight, c.Bias, c.Stride, c.Pad)
	addResidual(b, dst, out, residual)
}

// scratchFor is where the composite writes its main operation: dst itself,
// unless the residual lives in dst and must survive until it is added.
func scratchFor(b tensor.Backend, dst, residual *tensor.Tensor) *tensor.Tensor {
	if residual == dst {
		return b.Alloc(dst.DType(), dst.Shape()...)
	}
	return dst
}

// addResidual finishes the composite: dst = out + residual, where out is
// dst or a scratch tensor from scratchFor (freed here). Float addition is
// commutative, so both orders below give the fused result bit for bit.
func addResidual(b tensor.Backend, dst, out, residual *tensor.Tensor) {
	switch {
	case residual == nil:
	case out == dst:
		b.Binary(dst, dst, residual, tensor.Add)
	default:
		b.Binary(dst, dst, out, tensor.Add)
		b.Free(out)
	}
}
