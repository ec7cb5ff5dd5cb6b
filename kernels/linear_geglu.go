//go:build cuda

package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// LinearGEGLU: the feed-forward projection with its GEGLU gate in the
// tensor-core GEMM's epilogue (gemm_geglu in cuda/gemm.cu, planned in
// geglu_plan.go), and the self-check's cases for it.

var _ tensor.FusedGEGLU = (*Backend)(nil)

// LinearGEGLU computes dst = GEGLU(x·wᵀ + bias) in one GEMM, without the
// [..., 2N] intermediate, when the fast linear kernel is active and handles
// the case, and reports whether it ran (nothing is queued when it does not).
func (b *Backend) LinearGEGLU(dst, x, w, bias *tensor.Tensor) bool {
	mustFloat("LinearGEGLU", dst, x, w, bias)
	return b.useFast(opLinear) && b.tryGemmGEGLU(dst, x, w, bias)
}

// tryGemmGEGLU launches gemm_geglu, or returns false for a case it does
// not handle.
func (b *Backend) tryGemmGEGLU(y, x, w, bias *tensor.Tensor) bool {
	p := gegluProblem{
		y: b.operandOf("output", y), x: b.operandOf("x", x), w: b.operandOf("weight", w),
		bias: b.operandOf("bias", bias), tiles: b.tilePlanner(),
	}
	pl, err := p.plan()
	if !handles(err) {
		return false
	}
	if !pl.empty() {
		b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
			y, x, w, b.ptrOrNull(bias), pl.M, pl.N, pl.K)
	}
	return true
}

// gegluCheckCases compare gemm_geglu with the simple Linear followed by the
// GEGLU kernel, on every tile shape with tails in M, N and K, an odd
// number of 8-column groups, and an unaligned K.
func (b *Backend) gegluCheckCases(in *checkInputs) []checkCase {
	var cases []checkCase
	for _, c := range [][3]int{{130, 200, 40}, {77, 36, 24}} {
		m, k, n := c[0], c[1], c[2]
		x, w, bias := in.random(m, k), in.random(2*n, k), in.random(2*n)
		for _, t := range blockTiles {
			cases = append(cases, checkCase{
				name: fmt.Sprintf("GEGLU(x[%d %d]·w[%d %d]ᵀ), %v", m, k, 2*n, k, t),
				dst:  []int{m, n},
				simple: func(dst *tensor.Tensor) {
					h := b.Alloc(dst.DType(), m, 2*n)
					b.simpleLinear(h, x, w, bias)
					b.GEGLU(dst, h)
					b.Free(h)
				},
				fast: func(dst *tensor.Tensor) bool {
					return b.withTiles(tileChoice{tile: t, splits: 1}, func() bool { return b.tryGemmGEGLU(dst, x, w, bias) })
				},
			})
		}
	}
	return cases
}
