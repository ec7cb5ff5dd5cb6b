//go:build cuda

package kernels

import "github.com/gosdxl/gosdxl/tensor"

// CrossAttentionNormed (tensor.FusedRowNorm): a cross-attention whose
// query projection, and the LayerNorm before it, run inside the
// flash-attention kernel (cuda/ln_attention.cu, planned in
// ln_attention_plan.go), so the queries cost no launch and no [B,Tq,C]
// tensor. Where the kernel does not take the case nothing is queued and
// the caller composes the normed query GEMM and the attention.
func (b *Backend) CrossAttentionNormed(dst, x *tensor.Tensor, n tensor.RowNorm, wq, k, v *tensor.Tensor, heads int) bool {
	return b.useFast(opLinear) && b.useFast(opAttention) && b.tryCrossAttentionNormed(dst, x, n, wq, k, v, heads)
}

// tryCrossAttentionNormed launches ln_attention, or returns false for a
// case it does not handle.
func (b *Backend) tryCrossAttentionNormed(o, x *tensor.Tensor, n tensor.RowNorm, wq, k, v *tensor.Tensor, heads int) bool {
	p := normAttentionProblem{
		o: b.operandOf("output", o), x: b.operandOf("x", x), wq: b.operandOf("wq", wq),
		k: b.operandOf("k", k), v: b.operandOf("v", v), heads: heads, norm: b.rowNormOf(n),
	}
	pl, err := p.plan()
	if !handles(err) {
		return false
	}
	if !pl.empty() {
		// k, v and o are contiguous: every row stride is C.
		b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
			o, x, wq, n.Gamma, n.Beta, n.Eps, k, v, pl.Tq, pl.Tk, pl.Cin, pl.C, pl.C, pl.C, pl.scale)
	}
	return true
}
