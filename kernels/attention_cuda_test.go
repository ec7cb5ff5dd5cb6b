//go:build cuda

package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// refAttention is softmax(q·kᵀ/8)·v per head in float64, q [B,Tq,H·64],
// k and v [B,Tk,H·64]; with causal, query i sees keys 0..i.
func refAttention(q, k, v []float32, B, Tq, Tk, H int, causal bool) []float64 {
	return refAttentionHeads(q, k, v, B, Tq, Tk, H, 64, causal)
}

// refAttentionHeads is softmax(q·kᵀ/√d)·v for H heads of size d in float64.
func refAttentionHeads(q, k, v []float32, B, Tq, Tk, H, d int, causal bool) []float64 {
	C := H * d
	scale := 1 / math.Sqrt(float64(d))
	o := make([]float64, B*Tq*C)
	s := make([]float64, Tk)
	for b := range B {
		for h := range H {
			for i := range Tq {
				mx := math.Inf(-1)
				for j := range Tk {
					s[j] = math.Inf(-1)
					if causal && j > i {
						continue
					}
					dot := 0.0
					for e := range d {
						dot += float64(q[(b*Tq+i)*C+h*d+e]) * float64(k[(b*Tk+j)*C+h*d+e])
					}
					s[j] = dot * scale
					mx = math.Max(mx, s[j])
				}
				sum := 0.0
				for j := range Tk {
					s[j] = math.Exp(s[j] - mx)
					sum += s[j]
				}
				for e := range d {
					acc := 0.0
					for j := range Tk {
						acc += s[j] * float64(v[(b*Tk+j)*C+h*d+e])
					}
					o[(b*Tq+i)*C+h*d+e] = acc / sum
				}
			}
		}
	}
	return o
}

func TestFastAttentionAwkwardSizes(t *testing.T) {
	cases := []struct {
		b, tq, tk, heads int
		causal           bool
	}{
		{2, 100, 77, 3, false},  // cross attention, one 77-token chunk
		{1, 64, 154, 2, false},  // two chunks
		{1, 130, 231, 1, false}, // three chunks, query tail
		{2, 77, 77, 2, true},    // CLIP: causal, both tails
		{1, 200, 200, 1, true},  // causal over several tiles
		{1, 300, 300, 2, false}, // self attention tails
		{1, 5, 1, 1, false},     // a single key
		// Whole tiles: no key tile is masked, except those crossing the
		// causal diagonal of a 128-query block.
		{1, 128, 192, 2, false},
		{1, 256, 256, 1, true},
	}
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
		r := newFastRig(t, dt)
		for _, c := range cases {
			t.Run(fmt.Sprintf("%v/B%d_Tq%d_Tk%d_H%d_causal%v", dt, c.b, c.tq, c.tk, c.heads, c.causal), func(t *testing.T) {
				C := 64 * c.heads
				// std 2: scores of several units, so the softmax is far from uniform.
				q, qv := r.input(t, 2, c.b, c.tq, C)
				k, kv := r.input(t, 1, c.b, c.tk, C)
				v, vv := r.input(t, 1, c.b, c.tk, C)
				o := r.output(c.b, c.tq, C)
				if !r.b.tryAttention(o, q, k, v, c.heads, c.causal) {
					t.Fatal("the fast attention declined the case")
				}
				got := r.read(t, o)
				expectClose(t, "fast vs float64", o.Shape(), got, refAttention(qv, kv, vv, c.b, c.tq, c.tk, c.heads, c.causal), dt)

				cb := cpu.New()
				co := cb.Alloc(tensor.F32, o.Shape()...)
				cb.Attention(co, cb.FromFloat32(tensor.F32, q.Shape(), qv), cb.FromFloat32(tensor.F32, k.Shape(), kv), cb.FromFloat32(tensor.F32, v.Shape(), vv), c.heads, c.causal)
				expectClose(t, "fast vs CPU backend", o.Shape(), got, widen(cb.ToFloat32(co)), dt)

				so := r.output(o.Shape()...)
				r.b.simpleAttention(so, q, k, v, c.heads, c.causal)
				expectClose(t, "fast vs simple kernel", o.Shape(), got, widen(r.read(t, so)), dt)
			})
		}
	}
}
