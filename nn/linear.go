package nn

import "github.com/gosdxl/gosdxl/tensor"

// Linear is y = x·Wᵀ + bias over the last dimension, with W [out, in] as
// torch stores it. The bias is optional: attention projections have none.
type Linear struct {
	Weight *tensor.Tensor `weight:"weight"`
	Bias   *tensor.Tensor `weight:"bias,optional"`
}

// NewLinear declares a Linear layer from in to out features.
func NewLinear(in, out int) Linear {
	return Linear{Weight: tensor.Spec(out, in), Bias: tensor.Spec(out)}
}

// NewLinearFrom1x1Conv declares a Linear layer stored in the checkpoint as a
// 1×1 convolution, weight [out, in, 1, 1] (the VAE attention projections).
// PrepareWeights views the weight as [out, in]: the bytes are the same.
func NewLinearFrom1x1Conv(in, out int) Linear {
	return Linear{Weight: tensor.Spec(out, in, 1, 1), Bias: tensor.Spec(out)}
}

// PrepareWeights turns a bound [out, in, 1, 1] weight into its [out, in]
// view; 2-D weights are left alone.
func (l *Linear) PrepareWeights(b tensor.Backend) {
	s := l.Weight.Shape()
	if len(s) == 4 && s[2] == 1 && s[3] == 1 {
		l.Weight = l.Weight.Reshape(s[0], s[1])
	}
}

// Out is the number of output features.
func (l *Linear) Out() int { return l.Weight.Shape()[0] }

// Forward maps x [..., in] to [..., out].
func (l *Linear) Forward(b tensor.Backend, x *tensor.Tensor) *tensor.Tensor {
	return l.ForwardFused(b, x, tensor.NoActivation, nil)
}

// ForwardFused maps x [..., in] to act(x·Wᵀ + bias) + residual, [..., out],
// in one kernel where the backend can (tensor.FusedLinear). act may be
// tensor.NoActivation and residual nil; residual has the output's shape.
func (l *Linear) ForwardFused(b tensor.Backend, x *tensor.Tensor, act tensor.UnaryOp, residual *tensor.Tensor) *tensor.Tensor {
	shape := x.Shape().Clone()
	shape[len(shape)-1] = l.Out()
	y := b.Alloc(x.DType(), shape...)
	l.ForwardInto(b, y, x, act, residual)
	return y
}

// ForwardAddAct maps x [..., in] to act(x·Wᵀ + bias + residual), [..., out]:
// the residual (the output's shape) is added before the activation, in one
// kernel where the backend can (tensor.FusedLinearAddAct).
func (l *Linear) ForwardAddAct(b tensor.Backend, x, residual *tensor.Tensor, act tensor.UnaryOp) *tensor.Tensor {
	shape := x.Shape().Clone()
	shape[len(shape)-1] = l.Out()
	y := b.Alloc(x.DType(), shape...)
	linearAddActInto(b, y, x, l.Weight, l.Bias, residual, act)
	return y
}

// ForwardInto is ForwardFused writing into dst [..., out], which the caller
// allocated (possibly as a view of a tensor of another shape, so that the
// tensor handed on is the one Alloc returned and can be freed).
func (l *Linear) ForwardInto(b tensor.Backend, dst, x *tensor.Tensor, act tensor.UnaryOp, residual *tensor.Tensor) {
	linearInto(b, dst, x, l.Weight, l.Bias, residual, act)
}
