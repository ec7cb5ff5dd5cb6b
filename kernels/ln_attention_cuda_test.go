//go:build cuda

package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// TestCrossAttentionNormedMatchesComposite runs CrossAttentionNormed
// against its composite on the same backend: the LayerNorm kernel, the
// plain query GEMM (no bias) and the flash-attention kernel. They differ
// where q's elements round differently to the storage type (the GEMM
// planner's split-K and the statistics' summation order), so the bound is
// twice the measured crossNormedSpread. Query tails (not multiples of
// 128), the text lengths 77 and 154, SDXL's widths and a small one, batch
// 2, rows around 0 and 300 ± 2.
func TestCrossAttentionNormedMatchesComposite(t *testing.T) {
	cases := []struct {
		batch, tq, tk, c int
		mean             float64
	}{
		{2, 70, 77, 128, 300},
		{1, 200, 77, 640, 300},
		{1, 130, 154, 1280, 0},
		{2, 33, 154, 192, 0},
	}
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
		r := newFastRig(t, dt)
		for _, c := range cases {
			B, Tq, Tk, C := c.batch, c.tq, c.tk, c.c
			x := r.around(t, c.mean, 2, B, Tq, C)
			n := tensor.RowNorm{Gamma: r.around(t, 1, 0.5, C), Beta: r.around(t, 0, 0.5, C), Eps: 1e-5}
			wq, _ := r.input(t, 1/math.Sqrt(float64(C)), C, C)
			k, _ := r.input(t, 1, B, Tk, C)
			v, _ := r.input(t, 1, B, Tk, C)
			t.Run(fmt.Sprintf("%v/B%d_Tq%d_Tk%d_C%d_mean%g", dt, B, Tq, Tk, C, c.mean), func(t *testing.T) {
				r.compareSpread(t, []int{B, Tq, C}, crossNormedSpread[dt],
					func(y *tensor.Tensor) bool { return r.b.CrossAttentionNormed(y, x, n, wq, k, v, C/64) },
					func(y *tensor.Tensor) bool {
						h, q := r.b.Alloc(dt, B, Tq, C), r.b.Alloc(dt, B, Tq, C)
						r.b.LayerNorm(h, x, n.Gamma, n.Beta, n.Eps)
						ok := r.b.LinearFused(q, h, wq, nil, nil, tensor.NoActivation)
						r.b.Attention(y, q, k, v, C/64, false)
						r.b.Free(h)
						r.b.Free(q)
						return ok
					})
			})
		}
	}
}

// crossNormedSpread is the largest difference between CrossAttentionNormed
// and its composite measured in the test above, relative to the
// composite's largest magnitude (on the emulated driver: 4.9e-4 for F16,
// 2.6e-3 for BF16, one rounding of an output where a q element rounded
// the other way; with k and v swapped in the launch all eight cases fail).
var crossNormedSpread = map[tensor.DType]float64{tensor.F16: 5.0e-4, tensor.BF16: 2.6e-3}

// TestCrossAttentionNormedDeclines: F32, heads other than 64 wide and rows
// not a multiple of 8 are left to the composite, with nothing queued.
func TestCrossAttentionNormedDeclines(t *testing.T) {
	b := newTestBackend(t, "fast")
	for _, c := range []struct {
		name          string
		dt            tensor.DType
		cin, c, heads int
	}{{"F32", tensor.F32, 128, 128, 2}, {"heads of 32", tensor.F16, 128, 128, 4}, {"124 input channels", tensor.BF16, 124, 128, 2}} {
		x := b.Alloc(c.dt, 1, 9, c.cin)
		n := tensor.RowNorm{Gamma: b.Alloc(c.dt, c.cin), Beta: b.Alloc(c.dt, c.cin), Eps: 1e-5}
		wq, k, v, o := b.Alloc(c.dt, c.c, c.cin), b.Alloc(c.dt, 1, 5, c.c), b.Alloc(c.dt, 1, 5, c.c), b.Alloc(c.dt, 1, 9, c.c)
		before := b.Counters()
		if b.CrossAttentionNormed(o, x, n, wq, k, v, c.heads) {
			t.Errorf("%s: ran, want declined", c.name)
		}
		if d := b.Counters().Sub(before); d.Launches != 0 {
			t.Errorf("%s: declined after queuing %d launches", c.name, d.Launches)
		}
	}
}
