//go:build cuda

package kernels

import (
	"github.com/gosdxl/gosdxl/tensor"
)

// The fused self-attention: q, k and v of x projected by one GEMM into
// one [B,T,3C] buffer (gemm.cu's gemm_qkv, planned in
// self_attention_plan.go), which the flash-attention kernel reads in place
// through its row strides. Two launches instead of four, and a GEMM three
// times as wide; the checkpoint's three weights stay three tensors.

var _ tensor.FusedSelfAttention = (*Backend)(nil)

// SelfAttention is tensor.FusedSelfAttention: it runs when the linear and
// attention families both run their tensor-core kernels and the case fits
// them (F16/BF16, heads of 64, C a multiple of 64); otherwise it queues
// nothing and reports false.
func (b *Backend) SelfAttention(dst, x, wq, wk, wv *tensor.Tensor, heads int) bool {
	xs, ds := x.Shape(), dst.Shape()
	if len(xs) != 3 || len(ds) != 3 || ds[0] != xs[0] || ds[1] != xs[1] || len(wq.Shape()) != 2 || ds[2] != wq.Shape()[0] {
		return false
	}
	return b.useFast(opLinear) && b.useFast(opAttention) && b.trySelfAttention(dst, x, nil, wq, wk, wv, heads)
}

// trySelfAttention launches the fused kernels, or returns false for a
// case they do not take (the attention family's self-check calls it). n,
// when set, is a LayerNorm of x that the QKV GEMM applies in its loader
// (ln_gemm_qkv, SelfAttentionNormed); the rest is the same.
func (b *Backend) trySelfAttention(dst, x *tensor.Tensor, n *tensor.RowNorm, wq, wk, wv *tensor.Tensor, heads int) bool {
	xs, ds := x.Shape(), dst.Shape()
	B, T, C := xs[0], xs[1], ds[2]
	// Plan both kernels before allocating: the attention on operands of
	// the q, k and v views' shapes (strided views are the kernel's
	// business; their alignment holds since C is a multiple of 64).
	view := operand{name: "q/k/v", shape: tensor.Shape{B, T, C}, dtype: x.DType()}
	ap, err := attentionProblem{o: b.operandOf("output", dst), q: view, k: view, v: view, heads: heads}.plan()
	if !handles(err) {
		return false
	}
	qkv := b.Alloc(x.DType(), B, T, 3*C)
	defer b.Free(qkv)
	p := qkvProblem{
		y: b.operandOf("output", qkv), x: b.operandOf("x", x),
		wq: b.operandOf("wq", wq), wk: b.operandOf("wk", wk), wv: b.operandOf("wv", wv),
		tiles: b.tilePlanner(),
	}
	var project func() // the QKV GEMM into qkv
	if n == nil {
		pl, err := p.plan()
		if !handles(err) {
			return false
		}
		if pl.empty() {
			return true // no tokens: nothing to compute
		}
		project = func() {
			r := b.startTiles(pl.tileLaunch)
			b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
				qkv, x, wq, wk, wv, pl.M, C, pl.K, r.partial, r.sem, pl.kChunk())
			b.finishTiles(r)
		}
	} else {
		pl, err := normQkvProblem{p, b.rowNormOf(*n)}.plan()
		if !handles(err) {
			return false
		}
		if pl.empty() {
			return true
		}
		project = func() {
			r := b.startTiles(pl.tileLaunch)
			b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
				qkv, x, wq, wk, wv, n.Gamma, n.Beta, n.Eps, pl.M, C, pl.K, r.partial, r.sem, pl.kChunk())
			b.finishTiles(r)
		}
	}
	if ap.empty() {
		return true
	}
	project()
	base := b.ptr(qkv)
	size := devicePtr(x.DType().Size() * C)
	ld := 3 * C
	b.Launch(Kernel{ap.module, ap.name}, ap.grid, ap.block, ap.shared,
		dst, base, base+size, base+2*size, ap.Tq, ap.Tk, ld, ld, ld, ap.C, ap.scale, false)
	return true
}
