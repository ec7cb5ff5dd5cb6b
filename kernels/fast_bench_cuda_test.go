//go:build cuda

package kernels

import (
	"fmt"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// Benchmarks of the tensor-core kernels called directly (bypassing the fast-or-simple choice), at
// the SDXL shapes of a 1024² image with CFG (batch 2), including the fused
// epilogues; bench_cuda_test.go compares fast and simple through the Backend.

func BenchmarkFastGemm(b *testing.B) {
	be := newTestBackend(b, "fast")
	shapes := []struct {
		m, k, n int
		act     Activation
		res     bool
	}{
		{2 * 4096, 640, 640, ActNone, false},  // attention projections, 64² tokens
		{2 * 4096, 640, 640, ActNone, true},   // out projection + skip
		{2 * 4096, 640, 5120, ActNone, false}, // GEGLU projection
		{2 * 1024, 1280, 1280, ActNone, false},
		{2 * 1024, 1280, 10240, ActNone, false},
		{2 * 77, 1280, 5120, ActGELU, false}, // bigG MLP with fused GELU
	}
	for _, s := range shapes {
		b.Run(fmt.Sprintf("M%d_K%d_N%d_act%d_res%v", s.m, s.k, s.n, s.act, s.res), func(b *testing.B) {
			x, w, bias := randomF16(be, 1, s.m, s.k), randomF16(be, 0.03, s.n, s.k), randomF16(be, 0.1, s.n)
			y := be.Alloc(tensor.F16, s.m, s.n)
			var res *tensor.Tensor
			if s.res {
				res = randomF16(be, 1, s.m, s.n)
			}
			timeOp(b, be, 2*float64(s.m)*float64(s.n)*float64(s.k), 0, func() {
				if !be.tryGemm(y, x, w, bias, res, s.act) {
					b.Fatal("the fast GEMM declined the case")
				}
			})
		})
	}
}

func BenchmarkFastConv(b *testing.B) {
	be := newTestBackend(b, "fast")
	shapes := []struct{ hw, cin, cout, stride int }{
		{64, 640, 640, 1},
		{128, 320, 320, 1},
		{128, 320, 320, 2}, // downsample
		{128, 4, 320, 1},   // conv_in (unaligned path)
	}
	for _, s := range shapes {
		b.Run(fmt.Sprintf("%dx%dx%d_to_%d_s%d", s.hw, s.hw, s.cin, s.cout, s.stride), func(b *testing.B) {
			x := randomF16(be, 1, 2, s.hw, s.hw, s.cin)
			w, bias := randomF16(be, 0.02, s.cout, 3, 3, s.cin), randomF16(be, 0.1, s.cout)
			ho := convOut(s.hw, 3, s.stride, 1)
			y := be.Alloc(tensor.F16, 2, ho, ho, s.cout)
			flops := 2 * float64(2*ho*ho) * float64(s.cout) * float64(9*s.cin)
			timeOp(b, be, flops, 0, func() {
				if !be.tryConv(y, x, w, bias, nil, s.stride, 1) {
					b.Fatal("the fast conv declined the case")
				}
			})
		})
	}
}

func BenchmarkFastAttention(b *testing.B) {
	be := newTestBackend(b, "fast")
	shapes := []struct {
		tq, tk, heads int
		causal        bool
	}{
		{4096, 4096, 10, false},
		{1024, 1024, 20, false},
		{4096, 77, 10, false},
		{1024, 154, 20, false},
		{77, 77, 20, true}, // bigG text encoder
	}
	for _, s := range shapes {
		b.Run(fmt.Sprintf("Tq%d_Tk%d_H%d_causal%v", s.tq, s.tk, s.heads, s.causal), func(b *testing.B) {
			c := 64 * s.heads
			q, k, v := randomF16(be, 1, 2, s.tq, c), randomF16(be, 1, 2, s.tk, c), randomF16(be, 1, 2, s.tk, c)
			o := be.Alloc(tensor.F16, 2, s.tq, c)
			flops := 4 * float64(2*s.heads) * float64(s.tq) * float64(s.tk) * 64
			if s.causal {
				flops /= 2
			}
			timeOp(b, be, flops, 0, func() {
				if !be.tryAttention(o, q, k, v, s.heads, s.causal) {
					b.Fatal("the fast attention declined the case")
				}
			})
		})
	}
}
