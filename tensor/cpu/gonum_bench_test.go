package cpu

import (
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// BenchmarkGonumSgemm_M2048_K640_N640 measures gonum's pure-Go float32 GEMM
// (blas32.Gemm, the gonum implementation behind gorgonia's float32 MatMul)
// at the shape of BenchmarkLinear_M2048_K640_N640, with float32 weights
// already in place (no fp16 widening), to compare with our SGEMM.
func BenchmarkGonumSgemm_M2048_K640_N640(bm *testing.B) {
	const m, k, n = 2048, 640, 640
	a := blas32.General{Rows: m, Cols: k, Stride: k, Data: make([]float32, m*k)}
	w := blas32.General{Rows: n, Cols: k, Stride: k, Data: make([]float32, n*k)}
	c := blas32.General{Rows: m, Cols: n, Stride: n, Data: make([]float32, m*n)}
	for i := range a.Data {
		a.Data[i] = float32(i%7) * 0.1
	}
	for i := range w.Data {
		w.Data[i] = float32(i%5) * 0.1
	}
	start := cpuTime()
	for bm.Loop() {
		blas32.Gemm(blas.NoTrans, blas.Trans, 1, a, w, 0, c)
	}
	reportFlops(bm, 2*m*k*n, start)
}
