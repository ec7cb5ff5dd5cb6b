package cpu

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Linear computes dst[..., N] = x[..., K]·wᵀ + bias with w [N, K].
func (b *Backend) Linear(dst, x, w, bias *tensor.Tensor) {
	b.launch("Linear", dst, x, w, bias)
	xs, ws, ds := x.Shape(), w.Shape(), dst.Shape()
	if len(ws) != 2 || len(xs) < 1 || xs.Last() != ws[1] || !sameLeading(xs, ds) || ds.Last() != ws[0] {
		panic(fmt.Sprintf("cpu: Linear: x %v, w %v, dst %v do not fit (x [..., K], w [N, K], dst [..., N])", xs, ws, ds))
	}
	n, k := ws[0], ws[1]
	xd := f32(x, "Linear", "x")
	out := f32(dst, "Linear", "dst")
	m := xs.Rows()
	fillBias(out, m, n, vector(bias, n, "Linear", "bias"))
	gemm(m, n, k, denseA{xd, k}, weightRowsB(w, k), out, n, true)
}

// sameLeading reports whether a and b agree in every dimension but the last.
func sameLeading(a, b tensor.Shape) bool {
	return len(a) == len(b) && a[:len(a)-1].Equal(b[:len(b)-1])
}

// fillBias sets every row of the m×n matrix out to bias (or zero), the
// starting value the GEMM accumulates onto.
func fillBias(out []float32, m, n int, bias []float32) {
	out = out[:m*n]
	if bias == nil {
		clear(out)
		return
	}
	parallelFor(m, 256, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			copy(out[i*n:(i+1)*n], bias)
		}
	})
}
