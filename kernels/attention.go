//go:build cuda

package kernels

import (
	"fmt"
	"math"

	"github.com/gosdxl/gosdxl/tensor"
)

// The attention family: Attention, run by the flash-attention kernel
// (cuda/attention.cu, planned in attention_plan.go) or the simple kernel
// (cuda/simple_attention.cu), and the cases its self-check compares them
// on.

// Attention: softmax(q·kᵀ/sqrt(d))·v per head; q [B,Tq,H·d], k, v [B,Tk,H·d].
func (b *Backend) Attention(dst, q, k, v *tensor.Tensor, heads int, causal bool) {
	mustFloat("Attention", dst, q, k, v)
	for _, t := range []*tensor.Tensor{dst, k, v} {
		mustSameDType("Attention", q, t)
	}
	qs, ks := q.Shape(), k.Shape()
	if len(qs) != 3 || len(ks) != 3 || heads < 1 || qs[2]%heads != 0 || ks[0] != qs[0] || ks[2] != qs[2] || ks[1] < 1 {
		panic(fmt.Sprintf("kernels: Attention: q %v, k %v with %d heads do not fit q[B,Tq,H·d], k[B,Tk,H·d]", q, k, heads))
	}
	mustShape("Attention", "v", v, ks...)
	mustShape("Attention", "dst", dst, qs...)
	if qs[0] > maxGridY || heads > maxGridY {
		panic(fmt.Sprintf("kernels: Attention: batch %d or heads %d beyond the grid limit 65535", qs[0], heads))
	}
	elems("Attention", q)
	elems("Attention", k)
	if qs[0] == 0 || qs[1] == 0 {
		// No queries. Launch must not see the zero: Dim3 counts a zero Y or
		// Z as 1, which would run batch 0 on empty buffers.
		return
	}
	if b.useFast(opAttention) && b.tryAttention(dst, q, k, v, heads, causal) {
		return
	}
	b.simpleAttention(dst, q, k, v, heads, causal)
}

const attentionThreads = 128

// simpleAttention launches the reference kernel, which takes every case.
func (b *Backend) simpleAttention(dst, q, k, v *tensor.Tensor, heads int, causal bool) {
	B, Tq, C, Tk := q.Shape()[0], q.Shape()[1], q.Shape()[2], k.Shape()[1]
	d := C / heads
	shared := (2*d + attentionThreads + 32) * 4
	b.Launch(Kernel{"simple_attention", "attention_simple_" + suffix(q.DType())},
		Dim3{Tq, heads, B}, D1(attentionThreads), shared,
		dst, q, k, v, Tq, Tk, heads, d, causal, float32(1/math.Sqrt(float64(d))))
}

// tryAttention launches the flash-attention kernel (heads of 64), or the
// wide path for one head wider than that (wide_attention.go), or returns
// false for a case neither handles (F32, several wide heads).
func (b *Backend) tryAttention(o, q, k, v *tensor.Tensor, heads int, causal bool) bool {
	p := attentionProblem{
		o: b.operandOf("output", o), q: b.operandOf("q", q), k: b.operandOf("k", k), v: b.operandOf("v", v),
		heads: heads,
	}
	pl, err := p.plan()
	if !handles(err) {
		return b.wideAttention(o, q, k, v, heads, causal)
	}
	if !pl.empty() {
		// Tensors are contiguous: every row stride is C.
		b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
			o, q, k, v, pl.Tq, pl.Tk, pl.C, pl.C, pl.C, pl.C, pl.scale, causal)
	}
	return true
}

// attentionCheckCases are the self-check's attentions: causal text
// self-attention, cross-attention with ragged lengths, and full tiles.
func (b *Backend) attentionCheckCases(in *checkInputs) []checkCase {
	var cases []checkCase
	for _, c := range []struct {
		tq, tk, heads int
		causal        bool
	}{{77, 77, 2, true}, {150, 77, 5, false}, {256, 256, 2, false}} {
		q, k, v := in.random(2, c.tq, 64*c.heads), in.random(2, c.tk, 64*c.heads), in.random(2, c.tk, 64*c.heads)
		cases = append(cases, checkCase{
			name:   fmt.Sprintf("Tq %d Tk %d heads %d causal %v", c.tq, c.tk, c.heads, c.causal),
			dst:    []int{2, c.tq, 64 * c.heads},
			simple: func(dst *tensor.Tensor) { b.simpleAttention(dst, q, k, v, c.heads, c.causal) },
			fast:   func(dst *tensor.Tensor) bool { return b.tryAttention(dst, q, k, v, c.heads, c.causal) },
		})
	}
	// One head of 512 (the VAE's), on the wide path.
	q, k, v := in.random(1, 150, 512), in.random(1, 136, 512), in.random(1, 136, 512)
	cases = append(cases, checkCase{
		name:   "Tq 150 Tk 136 one head of 512",
		dst:    []int{1, 150, 512},
		simple: func(dst *tensor.Tensor) { b.simpleAttention(dst, q, k, v, 1, false) },
		fast:   func(dst *tensor.Tensor) bool { return b.tryAttention(dst, q, k, v, 1, false) },
	})
	return append(cases, b.selfAttentionCheckCase(in), b.crossNormedCheckCase(in))
}

// selfAttentionCheckCase compares the fused self-attention
// (self_attention.go: q, k and v from one GEMM, read in place) with three
// simple Linears and the simple attention. x is scaled to a tenth so the
// scores stay of order one: a peaked softmax would turn the GEMMs'
// different summation orders into different winners.
func (b *Backend) selfAttentionCheckCase(in *checkInputs) checkCase {
	const batch, tokens, width, heads = 2, 100, 64, 2
	x := in.random(batch, tokens, width)
	tenth := in.b.FromFloat32(tensor.F16, tensor.Shape{1, 1, 1}, []float32{0.1})
	in.inputs = append(in.inputs, tenth)
	b.Binary(x, x, tenth, tensor.Mul)
	C := 64 * heads
	wq, wk, wv := in.random(C, width), in.random(C, width), in.random(C, width)
	return checkCase{
		name: fmt.Sprintf("fused self-attention, %d tokens, %d heads", tokens, heads),
		dst:  []int{batch, tokens, C},
		simple: func(dst *tensor.Tensor) {
			var qkv [3]*tensor.Tensor
			for i, w := range []*tensor.Tensor{wq, wk, wv} {
				qkv[i] = b.Alloc(tensor.F16, batch, tokens, C)
				b.simpleLinear(qkv[i], x, w, nil)
			}
			b.simpleAttention(dst, qkv[0], qkv[1], qkv[2], heads, false)
			for _, t := range qkv {
				b.Free(t)
			}
		},
		fast: func(dst *tensor.Tensor) bool { return b.trySelfAttention(dst, x, nil, wq, wk, wv, heads) },
	}
}
