//go:build cuda

package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

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

// crossNormedCheckCase is the attention family self-check's
// CrossAttentionNormed: the LayerNorm kernel, the simple Linear and the
// simple attention against ln_attention, two heads, query and key tails.
// wq is scaled to a tenth so the scores stay of order one (see
// selfAttentionCheckCase).
func (b *Backend) crossNormedCheckCase(in *checkInputs) checkCase {
	const batch, tq, tk, cin, heads = 2, 100, 77, 64, 2
	const C = 64 * heads
	x, k, v := in.random(batch, tq, cin), in.random(batch, tk, C), in.random(batch, tk, C)
	n := tensor.RowNorm{Gamma: in.random(cin), Beta: in.random(cin), Eps: 1e-5}
	wq := in.random(C, cin)
	tenth := in.b.FromFloat32(tensor.F16, tensor.Shape{1, 1}, []float32{0.1})
	in.inputs = append(in.inputs, tenth)
	b.Binary(wq, wq, tenth, tensor.Mul)
	return checkCase{
		name: fmt.Sprintf("normed cross-attention, %d queries, %d keys, %d heads", tq, tk, heads),
		dst:  []int{batch, tq, C},
		simple: func(dst *tensor.Tensor) {
			h, q := b.Alloc(tensor.F16, batch, tq, cin), b.Alloc(tensor.F16, batch, tq, C)
			b.LayerNorm(h, x, n.Gamma, n.Beta, n.Eps)
			b.simpleLinear(q, h, wq, nil)
			b.simpleAttention(dst, q, k, v, heads, false)
			b.Free(h)
			b.Free(q)
		},
		fast: func(dst *tensor.Tensor) bool { return b.tryCrossAttentionNormed(dst, x, n, wq, k, v, heads) },
	}
}
