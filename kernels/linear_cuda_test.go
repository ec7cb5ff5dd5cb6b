//go:build cuda

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// Tests of the tensor-core kernels on awkward sizes (tails in every
// dimension, unaligned K and Cin, odd N, key counts that are not multiples
// of the tile) against naive float64 references computed from the exact
// rounded inputs, and against the CPU backend. Outputs are poisoned (NaN)
// first, so an element a kernel forgets to write fails. Tolerances are
// gpuTolerance: one rounding of the output to F16/BF16 plus float32
// reduction-order noise, with margin.

// fastRig makes inputs for one backend and dtype.
type fastRig struct {
	b   *Backend
	dt  tensor.DType
	rng *rand.Rand
}

func newFastRig(t *testing.T, dt tensor.DType) *fastRig {
	return &fastRig{b: newTestBackend(t, "fast"), dt: dt, rng: rand.New(rand.NewPCG(11, uint64(dt)))}
}

// input uploads normal(0, std) values and returns the tensor with the values
// it holds after rounding to the rig's dtype (read back, so exact).
func (r *fastRig) input(t *testing.T, std float64, shape ...int) (*tensor.Tensor, []float32) {
	data := make([]float32, tensor.Shape(shape).NumElements())
	for i := range data {
		data[i] = float32(std * r.rng.NormFloat64())
	}
	x := r.b.FromFloat32(r.dt, shape, data)
	return x, r.read(t, x)
}

// output allocates a destination filled with NaN (all-ones bits).
func (r *fastRig) output(shape ...int) *tensor.Tensor {
	y := r.b.Alloc(r.dt, shape...)
	r.b.fill(y, 0xff)
	return y
}

func (r *fastRig) read(t *testing.T, x *tensor.Tensor) []float32 {
	t.Helper()
	v := r.b.ToFloat32(x)
	if err := r.b.Sync(); err != nil {
		t.Fatal(err)
	}
	return v
}

// expectClose fails when got differs from want by more than
// atol + rtol·|want| anywhere, printing the first mismatches with their
// coordinates in shape and the worst error.
func expectClose(t *testing.T, what string, shape tensor.Shape, got []float32, want []float64, dt tensor.DType) {
	t.Helper()
	tol := gpuTolerance[dt]
	bad, worst, worstAt := 0, 0.0, 0
	for i, w := range want {
		d := math.Abs(float64(got[i]) - w)
		if !(d <= tol.Atol+tol.Rtol*math.Abs(w)) {
			if bad < 5 {
				t.Errorf("%s: at %v got %g, want %g (diff %.3g)", what, coords(shape, i), got[i], w, d)
			}
			bad++
		}
		if !(d <= worst) {
			worst, worstAt = d, i
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values outside %g + %g·|want|; worst diff %.3g at %v", what, bad, len(want), tol.Atol, tol.Rtol, worst, coords(shape, worstAt))
	}
}

func coords(shape tensor.Shape, i int) []int {
	c := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		c[d] = i % shape[d]
		i /= shape[d]
	}
	return c
}

// refGemm is y = act(x·wᵀ + bias) + res in float64 (bias, res may be nil).
func refGemm(x, w, bias, res []float32, M, N, K int, act Activation) []float64 {
	y := make([]float64, M*N)
	for m := range M {
		for n := range N {
			s := 0.0
			for k := range K {
				s += float64(x[m*K+k]) * float64(w[n*K+k])
			}
			if bias != nil {
				s += float64(bias[n])
			}
			after := act&ActAfterResidual != 0
			if res != nil && after {
				s += float64(res[m*N+n])
			}
			switch act &^ ActAfterResidual {
			case ActSiLU:
				s = s / (1 + math.Exp(-s))
			case ActGELU:
				s = 0.5 * s * (1 + math.Erf(s/math.Sqrt2))
			}
			if res != nil && !after {
				s += float64(res[m*N+n])
			}
			y[m*N+n] = s
		}
	}
	return y
}

func TestFastGemmAwkwardSizes(t *testing.T) {
	sizes := [][3]int{ // M, K, N
		{1, 8, 8}, {77, 768, 768}, {130, 200, 72}, {257, 64, 136}, {300, 40, 520},
		{129, 1280, 129}, // odd N: scalar stores
		{33, 36, 320},    // K % 8 != 0: unaligned kernel
		{5, 3, 7},
	}
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
		r := newFastRig(t, dt)
		for _, s := range sizes {
			M, K, N := s[0], s[1], s[2]
			t.Run(fmt.Sprintf("%v/M%d_K%d_N%d", dt, M, K, N), func(t *testing.T) {
				x, xv := r.input(t, 1, M, K)
				w, wv := r.input(t, 1/math.Sqrt(float64(K)), N, K)
				bias, bv := r.input(t, 0.5, N)
				y := r.output(M, N)
				if !r.b.tryGemm(y, x, w, bias, nil, ActNone) {
					t.Fatal("the fast GEMM declined the case")
				}
				got := r.read(t, y)
				expectClose(t, "fast vs float64", y.Shape(), got, refGemm(xv, wv, bv, nil, M, N, K, ActNone), dt)

				// The CPU backend on the same rounded inputs, in float32.
				c := cpu.New()
				cy := c.Alloc(tensor.F32, M, N)
				c.Linear(cy, c.FromFloat32(tensor.F32, x.Shape(), xv), c.FromFloat32(tensor.F32, w.Shape(), wv), c.FromFloat32(tensor.F32, bias.Shape(), bv))
				expectClose(t, "fast vs CPU backend", y.Shape(), got, widen(c.ToFloat32(cy)), dt)

				sy := r.output(M, N)
				r.b.simpleLinear(sy, x, w, bias)
				expectClose(t, "fast vs simple kernel", y.Shape(), got, widen(r.read(t, sy)), dt)
			})
		}
	}
}

func TestFastGemmEpilogue(t *testing.T) {
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
		r := newFastRig(t, dt)
		for _, act := range []Activation{ActNone, ActSiLU, ActGELU, ActSiLU | ActAfterResidual, ActGELU | ActAfterResidual} {
			// {2, 640, 320}: a time_embed.2 of a CFG batch, activated after the
			// label embedding is added.
			for _, s := range [][3]int{{200, 320, 130}, {64, 36, 64}, {2, 640, 320}} {
				M, K, N := s[0], s[1], s[2]
				t.Run(fmt.Sprintf("%v/act%d/M%d_K%d_N%d", dt, act, M, K, N), func(t *testing.T) {
					x, xv := r.input(t, 1, M, K)
					w, wv := r.input(t, 1/math.Sqrt(float64(K)), N, K)
					bias, bv := r.input(t, 0.5, N)
					res, rv := r.input(t, 1, M, N)
					y := r.output(M, N)
					if !r.b.tryGemm(y, x, w, bias, res, act) {
						t.Fatal("the fast GEMM declined the case")
					}
					expectClose(t, "act(x·wᵀ+b)+res", y.Shape(), r.read(t, y), refGemm(xv, wv, bv, rv, M, N, K, act), dt)

					// In place: the residual is the output (a transformer's x += ff(x)).
					if !r.b.tryGemm(res, x, w, nil, res, act) {
						t.Fatal("the fast GEMM declined the in-place case")
					}
					expectClose(t, "in place, no bias", res.Shape(), r.read(t, res), refGemm(xv, wv, nil, rv, M, N, K, act), dt)
				})
			}
		}
	}
}

func widen(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}
