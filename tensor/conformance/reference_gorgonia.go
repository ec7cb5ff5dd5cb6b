package conformance

import (
	"fmt"

	gt "gorgonia.org/tensor"
)

// matMulIndependent computes x·wᵀ (x [m,k], w [n,k]) with gorgonia.org/tensor's
// float64 dense product: a second, independently written implementation that
// the naive refLinear is checked against before it is trusted to judge a
// backend.
func matMulIndependent(x []float64, m, k int, w []float64, n int) []float64 {
	a := gt.New(gt.WithShape(m, k), gt.WithBacking(append([]float64(nil), x...)))
	b := gt.New(gt.WithShape(n, k), gt.WithBacking(append([]float64(nil), w...)))
	if err := b.T(); err != nil {
		panic(fmt.Sprintf("conformance: transposing the reference weights: %v", err))
	}
	c, err := gt.MatMul(a, b)
	if err != nil {
		panic(fmt.Sprintf("conformance: gorgonia MatMul: %v", err))
	}
	return c.Data().([]float64)
}
