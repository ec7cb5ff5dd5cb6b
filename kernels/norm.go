//go:build cuda

package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// GroupNorm over `groups` groups of consecutive channels of x [B, ..., C],
// then gamma, beta and optionally SiLU. Three launches: per-chunk statistics,
// their merge per (image, group), and the element-wise apply.
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
	cpg := C / groups
	per, chunks := groupNormChunks(positions, cpg)
	bgs := batch * groups

	partial := b.scratch(bgs * chunks * 3 * 4)
	stats := b.scratch(bgs * 2 * 4)
	defer b.release(partial)
	defer b.release(stats)
	gammaPtr, doneG := b.paramAs(gamma, gamma.DType())
	betaPtr, doneB := b.paramAs(beta, gamma.DType())
	defer doneG()
	defer doneB()

	b.Launch(Kernel{"norm", "groupnorm_stats_" + suffix(x.DType())}, D2(bgs, chunks), D1(256), 0,
		partial.ptr, x, positions, C, groups, per)
	b.Launch(Kernel{"norm", "groupnorm_finalize"}, D1(ceilDiv(bgs, 128)), D1(128), 0,
		stats.ptr, partial.ptr, bgs, chunks, eps)
	b.Launch(Kernel{"norm", "groupnorm_apply_" + pairSuffix(x.DType(), gamma.DType())},
		D1(gridFor(total)), D1(256), 0, dst, x, stats.ptr, gammaPtr, betaPtr, positions, C, groups, total, silu)
}

// LayerNorm over the last dimension, then gamma and beta. One block per row.
func (b *Backend) LayerNorm(dst, x, gamma, beta *tensor.Tensor, eps float32) {
	mustFloat("LayerNorm", dst, x, gamma, beta)
	mustSameDType("LayerNorm", dst, x)
	mustShape("LayerNorm", "dst", dst, x.Shape()...)
	C := x.Shape().Last()
	mustShape("LayerNorm", "gamma", gamma, C)
	mustShape("LayerNorm", "beta", beta, C)
	elems("LayerNorm", x)
	betaPtr, done := b.paramAs(beta, gamma.DType())
	defer done()
	b.Launch(Kernel{"norm", "layernorm_" + pairSuffix(x.DType(), gamma.DType())},
		D1(x.Shape().Rows()), D1(256), 0, dst, x, gamma, betaPtr, C, eps)
}
