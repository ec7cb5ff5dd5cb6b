//go:build cuda

package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// GroupNorm over `groups` groups of consecutive channels of x [B, ..., C],
// then gamma, beta and optionally SiLU. Two launches: statistics per chunk
// of positions of each (image, group) into the backend's workspace, then
// the apply, whose blocks merge their groups' statistics themselves.
// Nothing is allocated per call.
func (b *Backend) GroupNorm(dst, x, gamma, beta *tensor.Tensor, groups int, eps float32, silu bool) {
	mustFloat("GroupNorm", dst, x, gamma, beta)
	mustSameDType("GroupNorm", dst, x)
	mustShape("GroupNorm", "dst", dst, x.Shape()...)
	xs := x.Shape()
	C := xs.Last()
	if len(xs) < 2 || groups < 1 || C%groups != 0 {
		panic(fmt.Sprintf("kernels: GroupNorm: x %v cannot be split into %d groups of channels", x, groups))
	}
	mustShape("GroupNorm", "gamma", gamma, C)
	mustShape("GroupNorm", "beta", beta, C)
	total := elems("GroupNorm", x)
	if total == 0 {
		return // no images or no positions: nothing to normalise
	}
	batch := xs[0]
	positions := total / (batch * C)
	p := planGroupNorm(positions, groups, C/groups)
	bgs := batch * groups

	partial := b.workspace(groupNormWorkspace(bgs, p.chunks))
	gammaPtr, doneG := b.paramAs(gamma, gamma.DType())
	betaPtr, doneB := b.paramAs(beta, gamma.DType())
	defer doneG()
	defer doneB()

	b.Launch(Kernel{"norm", "groupnorm_stats_" + suffix(x.DType())}, D2(bgs, p.chunks), D1(groupNormThreads), 0,
		partial, x, positions, C, groups, p.per)
	b.Launch(Kernel{"norm", "groupnorm_apply_" + pairSuffix(x.DType(), gamma.DType())},
		D2(bgs/p.span, p.applyY), D1(groupNormThreads), 0,
		dst, x, partial, gammaPtr, betaPtr, positions, C, groups, p.span, p.chunks, p.applyPer, eps, silu)
}

// LayerNorm over the last dimension, then gamma and beta: one launch, which
// reads each row once into registers (rows up to 4096 long: a warp per row
// up to 512, else a block; longer rows are read three times).
func (b *Backend) LayerNorm(dst, x, gamma, beta *tensor.Tensor, eps float32) {
	mustFloat("LayerNorm", dst, x, gamma, beta)
	mustSameDType("LayerNorm", dst, x)
	mustShape("LayerNorm", "dst", dst, x.Shape()...)
	C := x.Shape().Last()
	mustShape("LayerNorm", "gamma", gamma, C)
	mustShape("LayerNorm", "beta", beta, C)
	if elems("LayerNorm", x) == 0 {
		return // no rows, or empty ones: nothing to write
	}
	betaPtr, done := b.paramAs(beta, gamma.DType())
	defer done()
	rows := x.Shape().Rows()
	kind, grid, threads := layerNormKernel(rows, C)
	switch kind {
	case layerNormWarp:
		b.Launch(Kernel{"norm", "layernorm_warp_" + pairSuffix(x.DType(), gamma.DType())}, D1(grid), D1(threads), 0,
			dst, x, gamma, betaPtr, rows, C, eps)
	case layerNormBlock:
		b.Launch(Kernel{"norm", "layernorm_block_" + pairSuffix(x.DType(), gamma.DType())}, D1(grid), D1(threads), 0,
			dst, x, gamma, betaPtr, C, eps)
	default:
		b.Launch(Kernel{"norm", "layernorm_" + pairSuffix(x.DType(), gamma.DType())}, D1(grid), D1(threads), 0,
			dst, x, gamma, betaPtr, C, eps)
	}
}
