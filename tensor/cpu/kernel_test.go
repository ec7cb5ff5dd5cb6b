package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// TestMicroKernelsAgree checks the micro-kernel in use (assembly on amd64
// with AVX2+FMA) against the portable Go kernel, which the conformance
// suite does not reach on such machines. They differ only by FMA rounding.
func TestMicroKernelsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, kcs := range []int{1, 2, 7, 64, kc} {
		a := make([]float32, kcs*mr)
		b := make([]float32, kcs*nr)
		for i := range a {
			a[i] = float32(r.NormFloat64())
		}
		for i := range b {
			b[i] = float32(r.NormFloat64())
		}
		const ldc = nr + 3 // a stride wider than the tile
		c1 := make([]float32, mr*ldc)
		for i := range c1 {
			c1[i] = float32(r.NormFloat64())
		}
		c2 := append([]float32(nil), c1...)
		want := make([]float64, len(c1))
		for i, v := range c1 {
			want[i] = float64(v)
		}
		for row := range mr {
			for j := range nr {
				for k := range kcs {
					want[row*ldc+j] += float64(a[k*mr+row]) * float64(b[k*nr+j])
				}
			}
		}
		microKernel(kcs, a, b, c1, ldc)
		microKernelGo(kcs, a, b, c2, ldc)
		tol := 1e-6 * float64(kcs)
		for i := range want {
			if e := math.Abs(float64(c1[i]) - want[i]); e > tol {
				t.Fatalf("kcs %d: microKernel[%d] = %g, want %g", kcs, i, c1[i], want[i])
			}
			if e := math.Abs(float64(c2[i]) - want[i]); e > tol {
				t.Fatalf("kcs %d: microKernelGo[%d] = %g, want %g", kcs, i, c2[i], want[i])
			}
		}
	}
}

// BenchmarkMicroKernel measures the register-tiled kernel alone on packed
// panels that sit in L1/L2: the ceiling the blocked GEMM can approach.
func BenchmarkMicroKernel(bm *testing.B) {
	a := make([]float32, kc*mr)
	b := make([]float32, kc*nr)
	c := make([]float32, mr*nr)
	for i := range a {
		a[i] = 1e-3
	}
	for i := range b {
		b[i] = 1e-3
	}
	start := cpuTime()
	for bm.Loop() {
		microKernel(kc, a, b, c, nr)
	}
	flops := 2 * kc * mr * nr * float64(bm.N)
	bm.ReportMetric(flops/bm.Elapsed().Seconds()/1e9, "GFLOP/s")
	if used := cpuTime() - start; used > 0 {
		bm.ReportMetric(flops/used.Seconds()/1e9, "GFLOP/cpu-s")
	}
}

// TestPackHalfPanel checks the F16C panel packing against element-wise
// widening, on a full panel with a depth tail and on a partial panel.
func TestPackHalfPanel(t *testing.T) {
	const n, k = 19, 83 // 19 columns: one full panel of 16 and a partial one
	w := make([]uint16, n*k)
	for i := range w {
		w[i] = uint16(i*2654435761>>7) & 0xfbff // finite halves of both signs
	}
	src := rowsB{half: w, dt: tensor.F16, stride: k}
	for _, p := range []struct{ j0, cols, k0, kcs int }{{0, 16, 0, k}, {0, 16, 5, 64}, {16, 3, 0, k}} {
		dst := make([]float32, nr*p.kcs)
		src.packB(dst, p.j0, p.cols, p.k0, p.kcs)
		for kk := range p.kcs {
			for c := range nr {
				want := float32(0)
				if c < p.cols {
					want = tensor.F16ToF32(w[(p.j0+c)*k+p.k0+kk])
				}
				if got := dst[kk*nr+c]; got != want {
					t.Fatalf("panel %+v: dst[k=%d][c=%d] = %g, want %g", p, kk, c, got, want)
				}
			}
		}
	}
}
