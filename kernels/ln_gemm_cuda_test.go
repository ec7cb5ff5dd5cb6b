//go:build cuda

package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// TestRowNormedOpsMatchComposite runs each tensor.FusedRowNorm method
// against its composite on the same backend: the LayerNorm kernel into a
// temporary, then the plain fused operation (the same tensor-core GEMM
// and tile). The two differ only where the normalised values round
// differently to the storage type (the statistics are summed in another
// order), so the difference is a small multiple of the output's rounding:
// normedSpread holds what it was measured at, per type, and the test allows
// twice that. Widths of SDXL's three levels, K not a multiple of 8 or 32,
// token counts that leave tails, split-K, and rows around 0 and 300 ± 2.
func TestRowNormedOpsMatchComposite(t *testing.T) {
	cases := []struct {
		tokens, c int
		mean      float64
		tiles     tileChoice
	}{
		{77, 320, 0, tileChoice{tile: blockTiles[0], splits: 1}},
		{130, 640, 300, tileChoice{tile: blockTiles[1], splits: 3}},
		{33, 1280, 300, tileChoice{tile: blockTiles[2], splits: 2}},
		{70, 200, 300, tileChoice{tile: blockTiles[0], splits: 1}},
		{65, 45, 0, tileChoice{tile: blockTiles[1], splits: 1}},
	}
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
		r := newFastRig(t, dt)
		for _, c := range cases {
			T, C := c.tokens, c.c
			x := r.around(t, c.mean, 2, 1, T, C)
			n := tensor.RowNorm{Gamma: r.around(t, 1, 0.5, C), Beta: r.around(t, 0, 0.5, C), Eps: 1e-5}
			w, _ := r.input(t, 1/math.Sqrt(float64(C)), C, C)
			bias, _ := r.input(t, 0.5, C)
			res, _ := r.input(t, 1, 1, T, C)
			name := fmt.Sprintf("%v/T%d_C%d_mean%g/%v", dt, T, C, c.mean, c.tiles)
			composite := func(y *tensor.Tensor, op func(h *tensor.Tensor) bool) bool {
				h := r.b.Alloc(dt, 1, T, C)
				r.b.LayerNorm(h, x, n.Gamma, n.Beta, n.Eps)
				ok := r.b.withTiles(c.tiles, func() bool { return op(h) })
				r.b.Free(h)
				return ok
			}
			t.Run(name+"/linear", func(t *testing.T) {
				r.compareNormed(t, []int{1, T, C},
					func(y *tensor.Tensor) bool {
						return r.b.withTiles(c.tiles, func() bool { return r.b.LinearFusedNormed(y, x, n, w, bias, res, tensor.GELU) })
					},
					func(y *tensor.Tensor) bool {
						return composite(y, func(h *tensor.Tensor) bool { return r.b.LinearFused(y, h, w, bias, res, tensor.GELU) })
					})
			})
			wg, _ := r.input(t, 1/math.Sqrt(float64(C)), 2*C, C)
			bg, _ := r.input(t, 0.5, 2*C)
			t.Run(name+"/geglu", func(t *testing.T) {
				r.compareNormed(t, []int{1, T, C},
					func(y *tensor.Tensor) bool {
						return r.b.withTiles(c.tiles, func() bool { return r.b.LinearGEGLUNormed(y, x, n, wg, bg) })
					},
					func(y *tensor.Tensor) bool {
						return composite(y, func(h *tensor.Tensor) bool { return r.b.LinearGEGLU(y, h, wg, bg) })
					})
			})
			if C%64 != 0 {
				continue // the fused self-attention takes heads of 64
			}
			wk, _ := r.input(t, 1/math.Sqrt(float64(C)), C, C)
			wv, _ := r.input(t, 1/math.Sqrt(float64(C)), C, C)
			t.Run(name+"/self-attention", func(t *testing.T) {
				r.compareNormed(t, []int{1, T, C},
					func(y *tensor.Tensor) bool {
						return r.b.withTiles(c.tiles, func() bool { return r.b.SelfAttentionNormed(y, x, n, w, wk, wv, C/64) })
					},
					func(y *tensor.Tensor) bool {
						return composite(y, func(h *tensor.Tensor) bool { return r.b.SelfAttention(y, h, w, wk, wv, C/64) })
					})
			})
		}
	}
}

// normedSpread is the largest difference between a normed operation and
// its composite measured in TestRowNormedOpsMatchComposite, relative to the
// composite's largest magnitude (on the emulated driver): about one
// rounding of the output, where a normalised input rounded the other way.
var normedSpread = map[tensor.DType]float64{tensor.F16: 6.0e-4, tensor.BF16: 2.2e-3}

// around uploads normal(mean, std) values.
func (r *fastRig) around(t *testing.T, mean, std float64, shape ...int) *tensor.Tensor {
	data := make([]float32, tensor.Shape(shape).NumElements())
	for i := range data {
		data[i] = float32(mean + std*r.rng.NormFloat64())
	}
	return r.b.FromFloat32(r.dt, shape, data)
}

// compareNormed runs both forms and compares them (see normedSpread).
func (r *fastRig) compareNormed(t *testing.T, shape []int, fused, composite func(y *tensor.Tensor) bool) {
	t.Helper()
	r.compareSpread(t, shape, normedSpread[r.dt], fused, composite)
}

// compareSpread runs both forms and fails when they differ by more than
// twice spread, relative to the composite's largest magnitude.
func (r *fastRig) compareSpread(t *testing.T, shape []int, spread float64, fused, composite func(y *tensor.Tensor) bool) {
	t.Helper()
	yf, yc := r.output(shape...), r.output(shape...)
	if !fused(yf) {
		t.Fatal("the normed kernel declined the case")
	}
	if !composite(yc) {
		t.Fatal("the composite's fused kernel declined the case")
	}
	got, want := r.read(t, yf), r.read(t, yc)
	scale, worst := 0.0, 0.0
	for i := range want {
		scale = max(scale, math.Abs(float64(want[i])))
		if d := math.Abs(float64(got[i] - want[i])); !(d <= worst) {
			worst = d
		}
	}
	rel := worst / scale
	t.Logf("worst difference %.3g, %.3g of the largest output %.3g", worst, rel, scale)
	if !(rel <= 2*spread) {
		t.Errorf("normed and composite differ by %.3g of the largest output, more than twice the measured %.3g", rel, spread)
	}
	r.b.Free(yf)
	r.b.Free(yc)
}

// BenchmarkRowNormedOps times the normed operations at SDXL's 1024²
// shapes (CFG batch: 8192 tokens at 640 wide, 2048 at 1280) against the
// LayerNorm kernel followed by the plain fused operation(s). TFLOP/s counts
// the GEMMs' multiply-adds only (and, for the cross-attention, the
// attention's two products with 77 keys).
func BenchmarkRowNormedOps(b *testing.B) {
	be := newTestBackend(b, "fast")
	for _, s := range []struct{ tokens, c int }{{4096, 640}, {1024, 1280}} {
		T, C := s.tokens, s.c
		x := randomF16(be, 1, 2, T, C)
		n := tensor.RowNorm{Gamma: randomF16(be, 1, C), Beta: randomF16(be, 1, C), Eps: 1e-5}
		wq, wk, wv := randomF16(be, 0.03, C, C), randomF16(be, 0.03, C, C), randomF16(be, 0.03, C, C)
		wg, bg := randomF16(be, 0.03, 8*C, C), randomF16(be, 0.1, 8*C)
		h, q, o, g := be.Alloc(tensor.F16, 2, T, C), be.Alloc(tensor.F16, 2, T, C), be.Alloc(tensor.F16, 2, T, C), be.Alloc(tensor.F16, 2, T, 4*C)
		kc, vc := randomF16(be, 1, 2, 77, C), randomF16(be, 1, 2, 77, C) // a prompt's cross K/V
		M := 2 * float64(T)
		norm := func() { be.LayerNorm(h, x, n.Gamma, n.Beta, n.Eps) }
		for _, op := range []struct {
			name     string
			flops    float64
			fused    func() bool
			composed func() bool
		}{
			{"query", 2 * M * float64(C) * float64(C),
				func() bool { return be.LinearFusedNormed(q, x, n, wq, nil, nil, tensor.NoActivation) },
				func() bool { return be.LinearFused(q, h, wq, nil, nil, tensor.NoActivation) }},
			{"self-attention q/k/v", 2 * M * float64(3*C) * float64(C),
				func() bool { return be.SelfAttentionNormed(o, x, n, wq, wk, wv, C/64) },
				func() bool { return be.SelfAttention(o, h, wq, wk, wv, C/64) }},
			{"cross-attention query", 2*M*float64(C)*float64(C) + 4*M*77*float64(C),
				func() bool { return be.CrossAttentionNormed(o, x, n, wq, kc, vc, C/64) },
				func() bool {
					ok := be.LinearFused(q, h, wq, nil, nil, tensor.NoActivation)
					be.Attention(o, q, kc, vc, C/64, false)
					return ok
				}},
			{"geglu", 2 * M * float64(8*C) * float64(C),
				func() bool { return be.LinearGEGLUNormed(g, x, n, wg, bg) },
				func() bool { return be.LinearGEGLU(g, h, wg, bg) }},
		} {
			name := fmt.Sprintf("%s/%dx%d", op.name, 2*T, C)
			b.Run("normed/"+name, func(b *testing.B) {
				timeOp(b, be, op.flops, 0, func() {
					if !op.fused() {
						b.Fatal("the normed kernel declined the case")
					}
				})
			})
			b.Run("composite/"+name, func(b *testing.B) {
				timeOp(b, be, op.flops, 0, func() {
					norm()
					if !op.composed() {
						b.Fatal("the plain fused kernel declined the case")
					}
				})
			})
		}
	}
}
