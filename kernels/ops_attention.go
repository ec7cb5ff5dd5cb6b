//go:build cuda

package kernels

import (
	"fmt"
	"math"

	"github.com/gosdxl/gosdxl/tensor"
)

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
	if b.useFast("attention") && (fastAttention(b, dst, q, k, v, heads, causal) || b.wideAttention(dst, q, k, v, heads, causal)) {
		return
	}
	b.simpleAttention(dst, q, k, v, heads, causal)
}

const attentionThreads = 128

func (b *Backend) simpleAttention(dst, q, k, v *tensor.Tensor, heads int, causal bool) {
	B, Tq, C, Tk := q.Shape()[0], q.Shape()[1], q.Shape()[2], k.Shape()[1]
	d := C / heads
	shared := (2*d + attentionThreads + 32) * 4
	b.Launch(Kernel{"simple_attention", "attention_simple_" + suffix(q.DType())},
		Dim3{Tq, heads, B}, D1(attentionThreads), shared,
		dst, q, k, v, Tq, Tk, heads, d, causal, float32(1/math.Sqrt(float64(d))))
}
