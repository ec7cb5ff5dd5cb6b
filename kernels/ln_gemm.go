//go:build cuda

package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// The row-normed GEMMs (tensor.FusedRowNorm): a transformer block's
// LayerNorms applied in the A loader of the GEMM that follows each
// (cuda/ln_gemm.cu, planned in ln_gemm_plan.go), so the norms cost no
// launch and no [M, K] tensor. They run where the plain fused operation
// would run its tensor-core kernel; otherwise nothing is queued and the
// caller composes the LayerNorm and the operation.

var _ tensor.FusedRowNorm = (*Backend)(nil)

// rowNormOf describes n's gamma and beta for the planners.
func (b *Backend) rowNormOf(n tensor.RowNorm) rowNormOperands {
	return rowNormOperands{gamma: b.operandOf("gamma", n.Gamma), beta: b.operandOf("beta", n.Beta)}
}

// LinearFusedNormed is LinearFused on n's LayerNorm of x.
func (b *Backend) LinearFusedNormed(dst, x *tensor.Tensor, n tensor.RowNorm, w, bias, residual *tensor.Tensor, op tensor.UnaryOp) bool {
	act, ok := epilogueActivation(op)
	return ok && b.useFast(opLinear) && b.tryNormGemm(dst, x, n, w, bias, residual, act)
}

// tryNormGemm launches ln_gemm, or returns false for a case it does not
// handle.
func (b *Backend) tryNormGemm(y, x *tensor.Tensor, n tensor.RowNorm, w, bias, residual *tensor.Tensor, act Activation) bool {
	p := normGemmProblem{gemmProblem{
		y: b.operandOf("output", y), x: b.operandOf("x", x), w: b.operandOf("weight", w),
		bias: b.operandOf("bias", bias), residual: b.operandOf("residual", residual), act: act,
		tiles: b.tilePlanner(),
	}, b.rowNormOf(n)}
	pl, err := p.plan()
	if !handles(err) {
		return false
	}
	if !pl.empty() {
		r := b.startTiles(pl.tileLaunch)
		b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
			y, x, w, b.ptrOrNull(bias), b.ptrOrNull(residual), n.Gamma, n.Beta, n.Eps, pl.M, pl.N, pl.K, int32(act),
			r.partial, r.sem, pl.kChunk())
		b.finishTiles(r)
	}
	return true
}

// LinearGEGLUNormed is LinearGEGLU on n's LayerNorm of x.
func (b *Backend) LinearGEGLUNormed(dst, x *tensor.Tensor, n tensor.RowNorm, w, bias *tensor.Tensor) bool {
	mustFloat("LinearGEGLUNormed", dst, x, w, bias)
	return b.useFast(opLinear) && b.tryNormGEGLU(dst, x, n, w, bias)
}

// tryNormGEGLU launches ln_gemm_geglu, or returns false for a case it does
// not handle.
func (b *Backend) tryNormGEGLU(y, x *tensor.Tensor, n tensor.RowNorm, w, bias *tensor.Tensor) bool {
	p := normGegluProblem{gegluProblem{
		y: b.operandOf("output", y), x: b.operandOf("x", x), w: b.operandOf("weight", w),
		bias: b.operandOf("bias", bias), tiles: b.tilePlanner(),
	}, b.rowNormOf(n)}
	pl, err := p.plan()
	if !handles(err) {
		return false
	}
	if !pl.empty() {
		b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
			y, x, w, b.ptrOrNull(bias), n.Gamma, n.Beta, n.Eps, pl.M, pl.N, pl.K)
	}
	return true
}

// SelfAttentionNormed is SelfAttention on n's LayerNorm of x: ln_gemm_qkv
// into the [B,T,3C] buffer, then the flash-attention kernel reading it in
// place (trySelfAttention with the norm).
func (b *Backend) SelfAttentionNormed(dst, x *tensor.Tensor, n tensor.RowNorm, wq, wk, wv *tensor.Tensor, heads int) bool {
	xs, ds := x.Shape(), dst.Shape()
	if len(xs) != 3 || len(ds) != 3 || ds[0] != xs[0] || ds[1] != xs[1] || len(wq.Shape()) != 2 || ds[2] != wq.Shape()[0] {
		return false
	}
	return b.useFast(opLinear) && b.useFast(opAttention) && b.trySelfAttention(dst, x, &n, wq, wk, wv, heads)
}

// normCheckCases are the linear family self-check's row-normed GEMMs: the
// simple LayerNorm then the simple Linear (and GEGLU) against each normed
// kernel, with tails in M, N and K, split-K and an unaligned K.
func (b *Backend) normCheckCases(in *checkInputs) []checkCase {
	var cases []checkCase
	for _, c := range []struct {
		m, k, n int
		tiles   tileChoice
	}{{130, 200, 72, tileChoice{tile: blockTiles[0], splits: 1}}, {77, 320, 64, tileChoice{tile: blockTiles[1], splits: 3}}, {33, 45, 40, tileChoice{tile: blockTiles[2], splits: 1}}} {
		m, k, n, tiles := c.m, c.k, c.n, c.tiles
		x, w, bias := in.random(m, k), in.random(n, k), in.random(n)
		norm := tensor.RowNorm{Gamma: in.random(k), Beta: in.random(k), Eps: 1e-5}
		normed := func(dst *tensor.Tensor, op func(h *tensor.Tensor)) {
			h := b.Alloc(dst.DType(), m, k)
			b.LayerNorm(h, x, norm.Gamma, norm.Beta, norm.Eps)
			op(h)
			b.Free(h)
		}
		cases = append(cases, checkCase{
			name:   fmt.Sprintf("LN(x[%d %d])·w[%d %d]ᵀ, %v", m, k, n, k, tiles),
			dst:    []int{m, n},
			simple: func(dst *tensor.Tensor) { normed(dst, func(h *tensor.Tensor) { b.simpleLinear(dst, h, w, bias) }) },
			fast: func(dst *tensor.Tensor) bool {
				return b.withTiles(tiles, func() bool { return b.tryNormGemm(dst, x, norm, w, bias, nil, ActNone) })
			},
		})
		wg, bg := in.random(2*n, k), in.random(2*n)
		cases = append(cases, checkCase{
			name: fmt.Sprintf("GEGLU(LN(x[%d %d])·w[%d %d]ᵀ), %v", m, k, 2*n, k, tiles.tile),
			dst:  []int{m, n},
			simple: func(dst *tensor.Tensor) {
				normed(dst, func(h *tensor.Tensor) {
					p := b.Alloc(dst.DType(), m, 2*n)
					b.simpleLinear(p, h, wg, bg)
					b.GEGLU(dst, p)
					b.Free(p)
				})
			},
			fast: func(dst *tensor.Tensor) bool {
				return b.withTiles(tileChoice{tile: tiles.tile, splits: 1}, func() bool { return b.tryNormGEGLU(dst, x, norm, wg, bg) })
			},
		})
	}
	return cases
}
