//go:build cuda

package kernels

import (
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// BenchmarkLinearChain times SDXL's time embedding with CFG (4 rows: 320 →
// 1280, SiLU; → 1280, + label, SiLU; → the 17 ResBlocks' 13,760
// projections) both ways: "fused" is linear_chain (1 launch), "composite"
// the tensor-core GEMMs with their epilogues (3 launches, plus the add and
// SiLU of the middle layer). Reading the 37 MB of weights is the floor.
func BenchmarkLinearChain(b *testing.B) {
	be := newTestBackend(b, "fast")
	const rows = 4
	x := randomF16(be, 1, rows, 320)
	w1, b1 := randomF16(be, 0.05, 1280, 320), randomF16(be, 0.1, 1280)
	w2, b2 := randomF16(be, 0.03, 1280, 1280), randomF16(be, 0.1, 1280)
	w3, b3 := randomF16(be, 0.03, 13760, 1280), randomF16(be, 0.1, 13760)
	label := randomF16(be, 1, rows, 1280)
	layers := []tensor.ChainLayer{
		{W: w1, Bias: b1, Act: tensor.SiLU, Out: be.Alloc(tensor.F16, rows, 1280)},
		{W: w2, Bias: b2, Residual: label, Act: tensor.SiLU, Out: be.Alloc(tensor.F16, rows, 1280)},
		{W: w3, Bias: b3, Out: be.Alloc(tensor.F16, rows, 13760)},
	}
	bytes := 2 * float64(w1.NumElements()+w2.NumElements()+w3.NumElements())
	b.Run("fused", func(b *testing.B) {
		timeOp(b, be, 0, bytes, func() {
			if !be.LinearChain(x, layers) {
				b.Fatal("linear_chain declined the case")
			}
		})
	})
	b.Run("composite", func(b *testing.B) {
		timeOp(b, be, 0, bytes, func() { tensor.LinearChain(plainBackend{be}, x, layers) })
	})
}
