//go:build cuda

package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// The linear family: Linear and LinearFused, run by the tensor-core GEMM
// (cuda/gemm.cu, planned in linear_plan.go) or the simple kernel
// (cuda/simple_linear.cu), and the cases its self-check compares them on.

var (
	_ tensor.FusedLinear       = (*Backend)(nil)
	_ tensor.FusedLinearAddAct = (*Backend)(nil)
)

// Linear: dst[..., N] = x[..., K] · wᵀ + bias.
func (b *Backend) Linear(dst, x, w, bias *tensor.Tensor) {
	mustFloat("Linear", dst, x, w, bias)
	mustSameDType("Linear", dst, x)
	if len(w.Shape()) != 2 || x.Shape().Last() != w.Shape()[1] || dst.Shape().Last() != w.Shape()[0] ||
		dst.Shape().Rows() != x.Shape().Rows() {
		panic(fmt.Sprintf("kernels: Linear: x %v, w %v, dst %v do not fit x[...,K]·w[N,K]ᵀ -> dst[...,N]", x, w, dst))
	}
	if bias != nil {
		mustShape("Linear", "bias", bias, w.Shape()[0])
	}
	elems("Linear", x)
	elems("Linear", dst)
	elems("Linear", w)
	if b.useFast(opLinear) && b.tryGemm(dst, x, w, bias, nil, ActNone) {
		return
	}
	b.simpleLinear(dst, x, w, bias)
}

// LinearFused computes dst = act(x·wᵀ + bias) + residual with one
// tensor-core GEMM (bias and residual may be nil; residual may be dst
// itself) when the fast linear kernel is active and handles the case, and
// reports whether it ran. The epilogue knows SiLU and GELU; other
// activations return false. When it returns false nothing was queued and
// the caller composes Linear, Unary and Binary instead.
func (b *Backend) LinearFused(dst, x, w, bias, residual *tensor.Tensor, op tensor.UnaryOp) bool {
	act, ok := epilogueActivation(op)
	return ok && b.useFast(opLinear) && b.tryGemm(dst, x, w, bias, residual, act)
}

// LinearAddAct computes dst = act(x·wᵀ + bias + residual) with one
// tensor-core GEMM whose epilogue activates after the residual add
// (ActAfterResidual), under the same conditions as LinearFused.
func (b *Backend) LinearAddAct(dst, x, w, bias, residual *tensor.Tensor, op tensor.UnaryOp) bool {
	act, ok := epilogueActivation(op)
	return ok && residual != nil && b.useFast(opLinear) && b.tryGemm(dst, x, w, bias, residual, act|ActAfterResidual)
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

// simpleLinear launches the reference kernel, which takes every case.
func (b *Backend) simpleLinear(dst, x, w, bias *tensor.Tensor) {
	M, N, K := x.Shape().Rows(), w.Shape()[0], w.Shape()[1]
	biasPtr, done := b.paramAs(bias, w.DType())
	defer done()
	b.Launch(Kernel{"simple_linear", "linear_simple_" + pairSuffix(x.DType(), w.DType())},
		D2(ceilDiv(M, 16), ceilDiv(N, 16)), D2(16, 16), 0, dst, x, w, biasPtr, M, N, K)
}

// tryGemm launches gemm.cu for y = act(x·wᵀ + bias) + residual, or returns
// false for a case it does not handle.
func (b *Backend) tryGemm(y, x, w, bias, residual *tensor.Tensor, act Activation) bool {
	if b.tryStreamK(y, x, w, bias, residual, act) {
		return true
	}
	p := gemmProblem{
		y: b.operandOf("output", y), x: b.operandOf("x", x), w: b.operandOf("weight", w),
		bias: b.operandOf("bias", bias), residual: b.operandOf("residual", residual), act: act,
		tiles: b.tilePlanner(),
	}
	pl, err := p.plan()
	if !handles(err) {
		return false
	}
	if !pl.empty() {
		r := b.startTiles(pl.tileLaunch)
		b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
			y, x, w, b.ptrOrNull(bias), b.ptrOrNull(residual), pl.M, pl.N, pl.K, int32(act), r.partial, r.sem, pl.kChunk())
		b.finishTiles(r)
	}
	return true
}

// linearCheckCases are the self-check's GEMMs: a ragged token count, sizes
// that are not multiples of the tile, and a CFG batch at an SDXL width.
func (b *Backend) linearCheckCases(in *checkInputs) []checkCase {
	var cases []checkCase
	for _, c := range [][3]int{{77, 320, 640}, {130, 200, 72}, {2 * 64, 1280, 320}} {
		m, k, n := c[0], c[1], c[2]
		x, w, bias := in.random(m, k), in.random(n, k), in.random(n)
		cases = append(cases, checkCase{
			name:   fmt.Sprintf("x[%d %d]·w[%d %d]ᵀ", m, k, n, k),
			dst:    []int{m, n},
			simple: func(dst *tensor.Tensor) { b.simpleLinear(dst, x, w, bias) },
			fast:   func(dst *tensor.Tensor) bool { return b.tryGemm(dst, x, w, bias, nil, ActNone) },
		})
	}
	// Every tile shape and split-K, forced, on tails in M, N and K, with
	// the bias (the simple kernel has no activation or residual).
	const m, k, n = 130, 200, 72
	x, w, bias := in.random(m, k), in.random(n, k), in.random(n)
	for _, c := range tileCheckChoices() {
		cases = append(cases, checkCase{
			name:   fmt.Sprintf("x[%d %d]·w[%d %d]ᵀ, %v", m, k, n, k, c),
			dst:    []int{m, n},
			simple: func(dst *tensor.Tensor) { b.simpleLinear(dst, x, w, bias) },
			fast: func(dst *tensor.Tensor) bool {
				return b.withTiles(c, func() bool { return b.tryGemm(dst, x, w, bias, nil, ActNone) })
			},
		})
	}
	cases = append(cases, b.linearNormCheckCase(in))
	cases = append(cases, b.streamkCheckCases(in)...)
	cases = append(cases, b.gegluCheckCases(in)...)
	return append(cases, b.normCheckCases(in)...)
}
