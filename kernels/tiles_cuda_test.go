//go:build cuda

package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/conformance"
)

// Every tile shape, with and without split-K, through the backend's
// launchers (tryGemm, tryConv) against float64 references: tails in M, N
// and K, every epilogue operand, in place, and the unaligned variants. A
// planted planner forces each choice on shapes small enough for the
// emulated driver; the real planner is exercised with a small SM count.

// forcing plants a planner that answers c (K cut into c.splits) for the
// rest of the test.
func forcing(t *testing.T, b *Backend, c tileChoice) {
	b.tileOverride = fixedTiles(c.tile, c.splits)
	t.Cleanup(func() { b.tileOverride = nil })
}

func TestTileShapesGemm(t *testing.T) {
	sizes := [][3]int{ // M, K, N
		{130, 200, 72},  // tails in M and N, 7 K steps
		{65, 264, 129},  // odd N: scalar stores; M just past a 64-row tile
		{70, 45, 33},    // K % 8 != 0: the unaligned kernel
		{129, 328, 136}, // aligned, M past a 128-row tile
	}
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
		r := newFastRig(t, dt)
		for _, c := range tileCheckChoices() {
			for i, s := range sizes {
				M, K, N := s[0], s[1], s[2]
				act := Activation(i % 3)
				t.Run(fmt.Sprintf("%v/%v/M%d_K%d_N%d", dt, c, M, K, N), func(t *testing.T) {
					forcing(t, r.b, c)
					x, xv := r.input(t, 1, M, K)
					w, wv := r.input(t, 1/math.Sqrt(float64(K)), N, K)
					bias, bv := r.input(t, 0.5, N)
					res, rv := r.input(t, 1, M, N)
					y := r.output(M, N)
					if !r.b.tryGemm(y, x, w, bias, res, act) {
						t.Fatal("the fast GEMM declined the case")
					}
					expectClose(t, "act(x·wᵀ+b)+res", y.Shape(), r.read(t, y), refGemm(xv, wv, bv, rv, M, N, K, act), dt)
					// In place, no bias: the residual is the output.
					if !r.b.tryGemm(res, x, w, nil, res, act) {
						t.Fatal("the fast GEMM declined the in-place case")
					}
					expectClose(t, "in place", res.Shape(), r.read(t, res), refGemm(xv, wv, nil, rv, M, N, K, act), dt)
				})
			}
		}
	}
}

func TestTileShapesConv(t *testing.T) {
	cases := []struct{ b, h, w, cin, cout, k, stride, pad int }{
		{2, 9, 7, 24, 72, 3, 1, 1}, // K = 216: 7 steps; M = 126
		{1, 11, 9, 5, 20, 3, 2, 1}, // Cin % 8 != 0: the unaligned kernel
		{1, 9, 15, 40, 130, 1, 1, 0},
	}
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
		r := newFastRig(t, dt)
		for _, tc := range tileCheckChoices() {
			for _, c := range cases {
				t.Run(fmt.Sprintf("%v/%v/%dx%dx%d_to_%d_k%d_s%d", dt, tc, c.h, c.w, c.cin, c.cout, c.k, c.stride), func(t *testing.T) {
					forcing(t, r.b, tc)
					ho, wo := convOut(c.h, c.k, c.stride, c.pad), convOut(c.w, c.k, c.stride, c.pad)
					x, xv := r.input(t, 1, c.b, c.h, c.w, c.cin)
					w, wv := r.input(t, 1/math.Sqrt(float64(c.k*c.k*c.cin)), c.cout, c.k, c.k, c.cin)
					bias, bv := r.input(t, 0.5, c.cout)
					res, rv := r.input(t, 1, c.b, ho, wo, c.cout)
					y := r.output(c.b, ho, wo, c.cout)
					if !r.b.tryConv(y, x, w, bias, res, c.stride, c.pad) {
						t.Fatal("the fast conv declined the case")
					}
					want := refConv(xv, wv, bv, rv, c.b, c.h, c.w, c.cin, c.cout, c.k, c.k, c.stride, c.pad)
					expectClose(t, "conv+b+res", y.Shape(), r.read(t, y), want, dt)
				})
			}
		}
	}
}

// The backend's own planner on a pretend 4-SM device splits a one-tile
// GEMM with a long K, and the split result is right.
func TestTilePlannerSplitsOnFewSMs(t *testing.T) {
	const M, K, N = 64, 4096, 128
	c := chooseTiles(M, N, K, 4)
	if c.splits < 2 {
		t.Fatalf("on 4 SMs M=%d N=%d K=%d chose %v, want a split", M, N, K, c)
	}
	r := newFastRig(t, tensor.F16)
	r.b.tileOverride = func(M, N, K int) tileChoice { return chooseTiles(M, N, K, 4) }
	defer func() { r.b.tileOverride = nil }()
	x, xv := r.input(t, 1, M, K)
	w, wv := r.input(t, 1/math.Sqrt(K), N, K)
	bias, bv := r.input(t, 0.5, N)
	y := r.output(M, N)
	if !r.b.tryGemm(y, x, w, bias, nil, ActGELU) {
		t.Fatal("the fast GEMM declined the case")
	}
	expectClose(t, fmt.Sprintf("%v", c), y.Shape(), r.read(t, y), refGemm(xv, wv, bv, nil, M, N, K, ActGELU), tensor.F16)
}

// TestTileSplitKIsOneLaunch: a split GEMM is finished by its tiles' last
// splits in the same launch, and leaves the tile semaphores re-armed, so
// the next launch on them (here the same GEMM again, into the residual it
// reads) is right too.
func TestTileSplitKIsOneLaunch(t *testing.T) {
	const M, K, N = 130, 264, 136
	r := newFastRig(t, tensor.F16)
	forcing(t, r.b, tileChoice{tile: blockTiles[0], splits: 3})
	x, xv := r.input(t, 1, M, K)
	w, wv := r.input(t, 1/math.Sqrt(K), N, K)
	bias, bv := r.input(t, 0.5, N)
	y, yv := r.input(t, 1, M, N)
	r.b.settleAll()
	held := yv // what y holds before each call
	for i := range 2 {
		before := r.b.Counters()
		if !r.b.tryGemm(y, x, w, bias, y, ActSiLU) { // residual in place: y += silu(x·wᵀ + b)
			t.Fatal("the fast GEMM declined the case")
		}
		if c := r.b.Counters().Sub(before); c.Launches != 1 {
			t.Errorf("call %d: %d launches, want 1 (no reduce kernel)", i+1, c.Launches)
		}
		got := r.read(t, y)
		expectClose(t, fmt.Sprintf("call %d", i+1), y.Shape(), got, refGemm(xv, wv, bv, held, M, N, K, ActSiLU), tensor.F16)
		held = got
	}
}

// Split-K inside a graph capture: the partials' scratch and the tile
// semaphores are used like any launch's, and replays recompute the same
// output.
func TestTileSplitKInGraph(t *testing.T) {
	const M, K, N = 70, 200, 72
	r := newFastRig(t, tensor.F16)
	forcing(t, r.b, tileChoice{tile: blockTiles[1], splits: 3})
	x, xv := r.input(t, 1, M, K)
	w, wv := r.input(t, 1/math.Sqrt(K), N, K)
	bias, bv := r.input(t, 0.5, N)
	y := r.output(M, N)
	r.b.settleAll()
	g, err := r.b.Capture(func() {
		if !r.b.tryGemm(y, x, w, bias, nil, ActSiLU) {
			t.Error("the fast GEMM declined the case")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Destroy()
	want := refGemm(xv, wv, bv, nil, M, N, K, ActSiLU)
	for i := range 2 {
		r.b.fill(y, 0xff)
		g.Launch()
		expectClose(t, fmt.Sprintf("replay %d", i), y.Shape(), r.read(t, y), want, tensor.F16)
	}
}

// TestConformanceForcedTiles runs the conformance suite (its Linear and
// Conv2D cases are the GEMMs and convolutions) with the planner forced to
// choices that, with TestConformanceFastKernels' own planner, cover every
// tile shape with and without split-K. F16 only: the per-dtype code is the
// same template, which TestTileShapes* run in BF16 too.
func TestConformanceForcedTiles(t *testing.T) {
	b := newTestBackend(t, "fast")
	full := !emulated(t, b, "the full-size SDXL shapes are left out (hours on the CPU); every other case runs")
	for _, c := range []tileChoice{{tile: blockTiles[1]}, {tile: blockTiles[2], splits: 3}, {tile: blockTiles[0], splits: 3}} {
		if c.splits == 0 {
			c.splits = 1
		}
		t.Run(c.String(), func(t *testing.T) {
			forcing(t, b, c)
			conformance.Run(t, b, tensor.F16, gpuTolerance[tensor.F16], conformance.Options{Full: full})
		})
	}
}
