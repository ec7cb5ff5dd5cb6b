//go:build cuda

package kernels

import (
	"fmt"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// BenchmarkConvNormed times a ResBlock's conv1 at the SDXL shapes of a
// 1024² image with CFG (batch 2) both ways: "fused" is groupnorm_table +
// conv2d_norm with the time embedding in the epilogue (2 launches), and
// "composite" GroupNorm's two launches, the fast conv and the broadcast add
// (4 launches, the normalised map written and read once more).
func BenchmarkConvNormed(b *testing.B) {
	be := newTestBackend(b, "fast")
	for _, s := range []struct{ hw, c int }{{128, 320}, {64, 640}, {32, 1280}} {
		x := randomF16(be, 1, 2, s.hw, s.hw, s.c)
		w, bias := randomF16(be, 0.02, s.c, 3, 3, s.c), randomF16(be, 0.1, s.c)
		gamma, beta, emb := randomF16(be, 1, s.c), randomF16(be, 0.1, s.c), randomF16(be, 1, 2, s.c)
		n := tensor.ChannelNorm{Gamma: gamma, Beta: beta, Groups: 32, Eps: 1e-5, SiLU: true}
		y := be.Alloc(tensor.F16, 2, s.hw, s.hw, s.c)
		flops := 2 * float64(2*s.hw*s.hw) * float64(s.c) * float64(9*s.c)
		b.Run(fmt.Sprintf("fused/%dx%dx%d", s.hw, s.hw, s.c), func(b *testing.B) {
			timeOp(b, be, flops, 0, func() {
				if !be.tryConvNormed(y, x, n, w, bias, tensor.AllColumns(emb), nil, 1, 1) {
					b.Fatal("conv2d_norm declined the case")
				}
			})
		})
		b.Run(fmt.Sprintf("composite/%dx%dx%d", s.hw, s.hw, s.c), func(b *testing.B) {
			h := be.Alloc(tensor.F16, x.Shape()...)
			defer be.Free(h)
			timeOp(b, be, flops, 0, func() {
				be.GroupNorm(h, x, gamma, beta, 32, 1e-5, true)
				if !be.tryConv(y, h, w, bias, nil, 1, 1) {
					b.Fatal("the fast conv declined the case")
				}
				be.Binary(y, y, emb.Reshape(2, 1, 1, s.c), tensor.Add)
			})
		})
	}
}
