package conformance

import "gonum.org/v1/gonum/mat"

// matMulIndependent computes x·wᵀ (x [m,k], w [n,k]) with gonum's float64
// mat.Dense product: a second, independently written implementation that
// the naive refLinear is checked against before it is trusted.
//
// gorgonia.org/tensor's Dense.MatMul would serve the same purpose, but that
// package imports go4.org/unsafe/assume-no-moving-gc, whose init panics
// under Go 1.26 unless ASSUME_NO_MOVING_GC_UNSAFE_RISK_IT_WITH=go1.26 is
// set, which would make `go test` fail on a clean machine.
func matMulIndependent(x []float64, m, k int, w []float64, n int) []float64 {
	a := mat.NewDense(m, k, append([]float64(nil), x...))
	b := mat.NewDense(n, k, append([]float64(nil), w...))
	var c mat.Dense
	c.Mul(a, b.T())
	return c.RawMatrix().Data
}
