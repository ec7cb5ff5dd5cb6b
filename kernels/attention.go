//go:build cuda

package kernels

import "github.com/gosdxl/gosdxl/tensor"

func init() {
	fastAttention = func(b *Backend, dst, q, k, v *tensor.Tensor, heads int, causal bool) bool {
		return b.tryAttention(dst, q, k, v, heads, causal)
	}
}

// tryAttention launches the flash-attention kernel, or returns false for a
// case it does not handle (head size other than 64, F32).
func (b *Backend) tryAttention(o, q, k, v *tensor.Tensor, heads int, causal bool) bool {
	p := attentionProblem{
		o: b.operandOf("output", o), q: b.operandOf("q", q), k: b.operandOf("k", k), v: b.operandOf("v", v),
		heads: heads, causal: causal,
	}
	pl, err := p.plan()
	if !handles(err) {
		return false
	}
	if !pl.empty() {
		// Tensors are contiguous: every row stride is C.
		b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
			o, q, k, v, pl.Tq, pl.Tk, pl.C, pl.C, pl.C, pl.C, pl.scale, causal)
	}
	return true
}
