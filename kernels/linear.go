//go:build cuda

package kernels

import (
	"errors"
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Launchers of the tensor-core kernels (cuda/gemm.cu, conv.cu, attention.cu).
// The checks and grids live in the untagged *_plan.go files; here they get
// device addresses and launch.

func init() {
	fastLinear = func(b *Backend, dst, x, w, bias *tensor.Tensor) bool {
		return b.tryGemm(dst, x, w, bias, nil, ActNone)
	}
}

var _ tensor.FusedLinear = (*Backend)(nil)

// LinearFused computes dst = act(x·wᵀ + bias) + residual with one
// tensor-core GEMM (bias and residual may be nil; residual may be dst
// itself) when the fast linear kernel is active and handles the case, and
// reports whether it ran. The epilogue knows SiLU and GELU; other
// activations return false. When it returns false nothing was queued and
// the caller composes Linear, Unary and Binary instead.
func (b *Backend) LinearFused(dst, x, w, bias, residual *tensor.Tensor, op tensor.UnaryOp) bool {
	act, ok := epilogueActivation(op)
	return ok && b.useFast("linear") && b.tryGemm(dst, x, w, bias, residual, act)
}

// epilogueActivation maps a tensor.UnaryOp to the GEMM epilogue's
// Activation, reporting false for one the epilogue does not implement.
func epilogueActivation(op tensor.UnaryOp) (Activation, bool) {
	switch op {
	case tensor.NoActivation:
		return ActNone, true
	case tensor.SiLU:
		return ActSiLU, true
	case tensor.GELU:
		return ActGELU, true
	}
	return ActNone, false
}

// tryGemm launches gemm.cu for y = act(x·wᵀ + bias) + residual, or returns
// false for a case it does not handle.
func (b *Backend) tryGemm(y, x, w, bias, residual *tensor.Tensor, act Activation) bool {
	p := gemmProblem{
		y: b.operandOf("output", y), x: b.operandOf("x", x), w: b.operandOf("weight", w),
		bias: b.operandOf("bias", bias), residual: b.operandOf("residual", residual), act: act,
	}
	pl, err := p.plan()
	if !handles(err) {
		return false
	}
	if !pl.empty() {
		b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
			y, x, w, b.ptrOrNull(bias), b.ptrOrNull(residual), pl.M, pl.N, pl.K, int32(act))
	}
	return true
}

// operandOf describes t, with its device address, for the planners.
func (b *Backend) operandOf(name string, t *tensor.Tensor) operand {
	if t == nil {
		return tensorOperand(name, nil, 0)
	}
	return tensorOperand(name, t, uint64(b.ptr(t)))
}

// ptrOrNull is t's device address, or a null pointer for an absent operand
// (the kernels test bias and residual against null).
func (b *Backend) ptrOrNull(t *tensor.Tensor) devicePtr {
	if t == nil {
		return 0
	}
	return b.ptr(t)
}

// handles turns a plan error into the launcher's answer: mismatched shapes
// are the caller's bug and panic (as every Backend op does); other errors
// mean the fast kernel does not take the case and the simple one runs.
func handles(err error) bool {
	var se *shapeError
	if errors.As(err, &se) {
		panic(fmt.Sprintf("kernels: %v", se))
	}
	return err == nil
}
