//go:build cuda

package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/nn"
	"github.com/gosdxl/gosdxl/tensor"
)

// refLinearGEGLU is GEGLU(x·wᵀ + bias) in float64 for w [2N, K] (bias may
// be nil): value columns [0, N), gates [N, 2N), exact erf GELU.
func refLinearGEGLU(x, w, bias []float32, M, N, K int) []float64 {
	h := refGemm(x, w, bias, nil, M, 2*N, K, ActNone)
	y := make([]float64, M*N)
	for m := range M {
		for n := range N {
			g := h[m*2*N+N+n]
			y[m*N+n] = h[m*2*N+n] * 0.5 * g * (1 + math.Erf(g/math.Sqrt2))
		}
	}
	return y
}

// TestFastLinearGEGLUAgainstFloat64 runs gemm_geglu with every tile shape
// forced on tails in M, N (odd N, an odd number of 8-column groups) and K,
// K % 8 != 0 (the unaligned kernel), with and without the bias, and with a
// planner that asks for split-K (the kernel must run unsplit).
func TestFastLinearGEGLUAgainstFloat64(t *testing.T) {
	sizes := [][3]int{ // M, K, N (outputs; w has 2N rows)
		{130, 200, 72}, {77, 64, 40}, {65, 36, 37}, {5, 3, 7}, {129, 320, 136},
	}
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
		r := newFastRig(t, dt)
		for _, s := range sizes {
			M, K, N := s[0], s[1], s[2]
			x, xv := r.input(t, 1, M, K)
			w, wv := r.input(t, 1/math.Sqrt(float64(K)), 2*N, K)
			bias, bv := r.input(t, 0.5, 2*N)
			for _, c := range []tileChoice{
				{tile: blockTiles[0], splits: 1}, {tile: blockTiles[1], splits: 1},
				{tile: blockTiles[2], splits: 3},
			} {
				for _, withBias := range []bool{true, false} {
					t.Run(fmt.Sprintf("%v/M%d_K%d_N%d/%v/bias=%v", dt, M, K, N, c, withBias), func(t *testing.T) {
						b, bvals := bias, bv
						if !withBias {
							b, bvals = nil, nil
						}
						y := r.output(M, N)
						if !r.b.withTiles(c, func() bool { return r.b.tryGemmGEGLU(y, x, w, b) }) {
							t.Fatal("the fused GEGLU GEMM declined the case")
						}
						expectClose(t, "GEGLU(x·wᵀ+b) vs float64", y.Shape(), r.read(t, y), refLinearGEGLU(xv, wv, bvals, M, N, K), dt)
					})
				}
			}
		}
	}
}

// plainBackend hides the CUDA backend's optional fused interfaces, so nn
// composes every fused operation from plain ones.
type plainBackend struct{ tensor.Backend }

// TestFeedForwardGEGLUSavesALaunch runs the feed-forward of an SDXL
// transformer block (640 wide, inner 2560) both ways: with the fused GEGLU
// it launches one kernel fewer and allocates one tensor fewer (the [..., 2N]
// projection), and both outputs match the float64 feed-forward.
func TestFeedForwardGEGLUSavesALaunch(t *testing.T) {
	const dim, inner, tokens = 640, 4 * 640, 12
	r := newFastRig(t, tensor.F16)
	x, xv := r.input(t, 1, 2, tokens, dim)
	ff := nn.FeedForward{}
	var pw, pb, ow, ob []float32
	ff.Proj.Weight, pw = r.input(t, 1/math.Sqrt(dim), 2*inner, dim)
	ff.Proj.Bias, pb = r.input(t, 0.5, 2*inner)
	ff.Out.Weight, ow = r.input(t, 1/math.Sqrt(inner), dim, inner)
	ff.Out.Bias, ob = r.input(t, 0.5, dim)
	g := refLinearGEGLU(xv, pw, pb, 2*tokens, inner, dim)
	want := make([]float64, 2*tokens*dim)
	for m := range 2 * tokens {
		for n := range dim {
			s := float64(ob[n])
			for k := range inner {
				s += g[m*inner+k] * float64(ow[n*inner+k])
			}
			want[m*dim+n] = s
		}
	}
	r.b.useFast(opLinear) // the self-check's launches are not the layer's

	run := func(b tensor.Backend) ([]float32, tensor.Counters) {
		before := r.b.Counters()
		y := ff.Forward(b, x)
		got := r.b.Counters().Sub(before)
		return r.read(t, y), got
	}
	fused, fc := run(r.b)
	plain, pc := run(plainBackend{r.b})
	if fc.Launches != pc.Launches-1 || fc.Allocs != pc.Allocs-1 {
		t.Errorf("fused: %d launches, %d allocs; composite: %d, %d; want one of each fewer",
			fc.Launches, fc.Allocs, pc.Launches, pc.Allocs)
	}
	expectClose(t, "fused feed-forward vs float64", x.Shape(), fused, want, tensor.F16)
	expectClose(t, "composite feed-forward vs float64", x.Shape(), plain, want, tensor.F16)
}

// BenchmarkLinearGEGLU times the feed-forward projection of SDXL's two
// transformer levels (1024² image, CFG batch) fused and as Linear into the
// [M, 2N] projection followed by the GEGLU kernel. TFLOP/s counts the
// GEMM's multiply-adds only.
func BenchmarkLinearGEGLU(b *testing.B) {
	shapes := []struct {
		name    string
		m, k, n int // n: outputs (the weight has 2n rows)
	}{
		{"4096x640x2560", 2 * 4096, 640, 2560},
		{"1024x1280x5120", 2 * 1024, 1280, 5120},
	}
	be := newTestBackend(b, "fast")
	for _, s := range shapes {
		x, w, bias := randomF16(be, 1, s.m, s.k), randomF16(be, 0.03, 2*s.n, s.k), randomF16(be, 0.1, 2*s.n)
		dst, h := be.Alloc(tensor.F16, s.m, s.n), be.Alloc(tensor.F16, s.m, 2*s.n)
		flops := 2 * float64(s.m) * float64(2*s.n) * float64(s.k)
		b.Run("fused/"+s.name, func(b *testing.B) {
			timeOp(b, be, flops, 0, func() {
				if !be.LinearGEGLU(dst, x, w, bias) {
					b.Fatal("the fused GEGLU GEMM declined the case")
				}
			})
		})
		b.Run("composite/"+s.name, func(b *testing.B) {
			timeOp(b, be, flops, 0, func() { be.Linear(h, x, w, bias); be.GEGLU(dst, h) })
		})
	}
}
