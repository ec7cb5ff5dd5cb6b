//go:build cuda

package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// The fused self-attention against float64: q, k and v are x·wᵀ in
// float64, rounded to the activation type as the fused GEMM stores them,
// then softmax(q·kᵀ/8)·v. Widths that the 128-wide tile divides and ones it
// does not (the 64-wide tile then), token counts off the tiles, every tile
// and split-K forced.
func TestFusedSelfAttentionMatchesFloat64(t *testing.T) {
	cases := []struct{ b, t, k, heads int }{
		{2, 100, 96, 2}, // C = 128: any tile width divides it
		{1, 77, 80, 3},  // C = 192: the 64-wide tile
		{1, 130, 64, 1}, // query tail past a 128-row tile
	}
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
		r := newFastRig(t, dt)
		for _, c := range cases {
			C := 64 * c.heads
			x, xv := r.input(t, 1, c.b, c.t, c.k)
			var ws [3]*tensor.Tensor
			var wv [3][]float32
			for i := range ws {
				ws[i], wv[i] = r.input(t, 2/math.Sqrt(float64(c.k)), C, c.k)
			}
			// q, k, v as the GEMM stores them: float64 sums rounded to dt.
			var proj [3][]float32
			for i := range proj {
				sums := refGemm(xv, wv[i], nil, nil, c.b*c.t, C, c.k, ActNone)
				proj[i] = make([]float32, len(sums))
				for j, s := range sums {
					proj[i][j] = tensor.DecodeFloat32(dt, tensor.EncodeFloat32(dt, []float32{float32(s)}))[0]
				}
			}
			want := refAttention(proj[0], proj[1], proj[2], c.b, c.t, c.t, c.heads, false)
			for _, choice := range append([]tileChoice{{}}, tileCheckChoices()...) {
				name := "planned"
				if choice.splits > 0 {
					name = choice.String()
				}
				t.Run(fmt.Sprintf("%v/B%d_T%d_K%d_C%d/%s", dt, c.b, c.t, c.k, C, name), func(t *testing.T) {
					o := r.output(c.b, c.t, C)
					run := func() bool { return r.b.SelfAttention(o, x, ws[0], ws[1], ws[2], c.heads) }
					ran := false
					if choice.splits > 0 {
						ran = r.b.withTiles(choice, run)
					} else {
						ran = run()
					}
					if !ran {
						t.Fatal("the fused self-attention declined the case")
					}
					expectClose(t, "fused vs float64", o.Shape(), r.read(t, o), want, dt)
				})
			}
		}
	}
}

// One launch for the three projections (split or not), one for the
// attention, and nothing left allocated; a width that no tile
// fits (not a multiple of 64) or F32 is declined with nothing queued.
func TestFusedSelfAttentionLaunchesTwiceOrDeclines(t *testing.T) {
	r := newFastRig(t, tensor.F16)
	x, _ := r.input(t, 1, 2, 64, 128)
	w, _ := r.input(t, 0.1, 128, 128)
	o := r.output(2, 64, 128)
	r.b.SelfAttention(o, x, w, w, w, 2) // warm: self-checks, pool
	r.read(t, o)
	before := r.b.Counters()
	inUse := r.b.Stats().InUseBytes
	if !r.b.withTiles(tileChoice{tile: blockTiles[0], splits: 1}, func() bool { return r.b.SelfAttention(o, x, w, w, w, 2) }) {
		t.Fatal("declined")
	}
	r.read(t, o)
	if c := r.b.Counters().Sub(before); c.Launches != 2 {
		t.Errorf("fused self-attention made %d launches, want 2 (one GEMM, one attention)", c.Launches)
	}
	if r.b.Stats().InUseBytes != inUse {
		t.Errorf("device memory in use went from %d to %d bytes", inUse, r.b.Stats().InUseBytes)
	}

	odd, _ := r.input(t, 0.1, 96, 128) // C = 96: heads of 64 do not fit either
	oo := r.output(2, 64, 96)
	before = r.b.Counters()
	if r.b.SelfAttention(oo, x, odd, odd, odd, 1) {
		t.Error("C = 96 was accepted")
	}
	if c := r.b.Counters().Sub(before); c.Launches != 0 {
		t.Errorf("a declined case queued %d launches", c.Launches)
	}
}
