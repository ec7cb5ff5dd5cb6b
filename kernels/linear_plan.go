package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Argument checks and grid of the tensor-core GEMM (cuda/gemm.cu) behind
// Linear and LinearFused, free of the cuda build tag so that they are
// unit-tested without a GPU.

// Activation selects the function the GEMM epilogue applies after the bias
// (values match enum Activation in cuda/mma.cuh).
type Activation int32

const (
	ActNone Activation = 0
	ActSiLU Activation = 1
	ActGELU Activation = 2 // exact erf GELU
	// ActAfterResidual, or-ed into ActSiLU or ActGELU, applies the
	// activation after the residual add: y = act(x·wᵀ + bias + residual).
	// gemm.cu's gemm kernels take it (stream-K and the fused-loader GEMMs
	// do not: their launchers never pass it).
	ActAfterResidual Activation = 8
)

// valid reports whether a is an activation the epilogue implements,
// flagged or not.
func (a Activation) valid() bool {
	base := a &^ ActAfterResidual
	return base >= ActNone && base <= ActGELU
}

// gemmProblem is y[M,N] = act(x[M,K] · w[N,K]ᵀ + bias[N]) + residual[M,N].
type gemmProblem struct {
	y, x, w, bias, residual operand
	act                     Activation
	tiles                   tilePlanner // nil: chooseTiles for an H100
}

// shapes checks the operands' shapes (programmer errors: the caller panics)
// and returns M, N, K. x and y may have any leading dimensions with the same product.
func (p gemmProblem) shapes() (M, N, K int, err error) {
	if len(p.w.shape) != 2 || len(p.x.shape) == 0 || len(p.y.shape) == 0 {
		return 0, 0, 0, fmt.Errorf("linear: x %v, w %v, y %v: want x [..., K], w [N, K], y [..., N]", p.x.shape, p.w.shape, p.y.shape)
	}
	N, K = p.w.shape[0], p.w.shape[1]
	// Rows are whatever the leading dimensions multiply to ([B,T,K] or
	// [B·T,K] alike); only their counts must agree.
	if p.x.shape.Last() != K || p.y.shape.Last() != N || rows(p.x.shape) != rows(p.y.shape) {
		return 0, 0, 0, fmt.Errorf("linear: x %v, w %v, y %v do not match", p.x.shape, p.w.shape, p.y.shape)
	}
	M = rows(p.y.shape)
	if p.bias.present() && !p.bias.shape.Equal(tensor.Shape{N}) {
		return 0, 0, 0, fmt.Errorf("linear: bias %v for %d outputs", p.bias.shape, N)
	}
	if p.residual.present() && !p.residual.shape.Equal(p.y.shape) {
		return 0, 0, 0, fmt.Errorf("linear: residual %v for output %v", p.residual.shape, p.y.shape)
	}
	return M, N, K, nil
}

// rows is the product of all but the last dimension (defined for K = 0 too).
func rows(s tensor.Shape) int { return s[:len(s)-1].NumElements() }

// gemmPlan is a launch plan with the problem's GEMM sizes.
type gemmPlan struct {
	tileLaunch
	M, N, K int
}

// plan picks the kernel and grid. Shape mismatches come back as a
// *shapeError (a programmer error: launchers panic); any other error means
// the tensor-core GEMM does not handle the case and the simple kernel runs.
func (p gemmProblem) plan() (gemmPlan, error) {
	M, N, K, err := p.shapes()
	if err != nil {
		return gemmPlan{}, &shapeError{err}
	}
	if !p.act.valid() {
		return gemmPlan{}, fmt.Errorf("fast linear: unknown activation %d", p.act)
	}
	ops := tileOperands{p.y, p.x, p.w, p.bias, p.residual}
	suffix, err := ops.check(M, N, K)
	if err != nil {
		return gemmPlan{}, fmt.Errorf("fast linear: %w", err)
	}
	out := gemmPlan{M: M, N: N, K: K}
	if M == 0 || N == 0 {
		return out, nil
	}
	// K is the row length of both x and w.
	out.tileLaunch = ops.launch("gemm", "gemm", suffix, K, M, N, K, p.tiles)
	return out, nil
}
