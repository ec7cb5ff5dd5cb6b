//go:build cuda

package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// The stream-K GEMM (cuda/streamk.cu) through the backend's launcher, on
// grids small enough that tiles really split between blocks: against
// float64, against gemm.cu's plain tile kernel, launched twice (the flags
// must be lowered again), inside a captured graph, and as a pointwise
// convolution. Then the occupancy query and the model's choice on this
// device.

// forcingStreamK makes the launcher run stream-K with tile t on `blocks`
// blocks for the rest of the test.
func forcingStreamK(t *testing.T, b *Backend, tile blockTile, blocks int) {
	b.streamk.force = &streamkForce{tile, blocks}
	t.Cleanup(func() { b.streamk.force = nil })
}

// streamkSizes: M, K, N and a grid; tails in every dimension, tiles shared
// by two or three blocks, a block inside one tile, data-parallel tiles
// after the stream-K ones, and more blocks than iterations.
var streamkSizes = [][4]int{{300, 200, 136, 4}, {130, 264, 300, 4}, {77, 72, 40, 5}, {200, 104, 72, 7}}

// ulps is |a−b| in units of the last place of dtype dt at |b|'s binade,
// or at 1's for |b| < 1: the outputs are sums of order 1, and a residual
// that cancels one leaves the sum's rounding in a smaller binade.
func ulps(a, b float32, dt tensor.DType) float64 {
	mant := 10 // F16
	if dt == tensor.BF16 {
		mant = 7
	}
	_, e := math.Frexp(math.Max(math.Abs(float64(b)), 1))
	return math.Abs(float64(a)-float64(b)) / math.Ldexp(1, e-1-mant)
}

// flagsLowered reports whether every semaphore of the backend (the stream-K
// flags among them) is 0.
func flagsLowered(t *testing.T, b *Backend) bool {
	t.Helper()
	buf := b.sems.cur
	raw := make([]byte, buf.class)
	var err error
	b.w.do(func() { err = copyToHost(raw, buf.ptr, b.stream) })
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+4 <= len(raw); i += 4 {
		if binary.LittleEndian.Uint32(raw[i:]) != 0 {
			return false
		}
	}
	return true
}

func TestStreamKGemm(t *testing.T) {
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
		r := newFastRig(t, dt)
		for _, tl := range blockTiles {
			for i, s := range streamkSizes {
				M, K, N, blocks := s[0], s[1], s[2], s[3]
				act := Activation(i % 3)
				t.Run(fmt.Sprintf("%v/%v/M%d_K%d_N%d_on%d", dt, tl, M, K, N, blocks), func(t *testing.T) {
					x, xv := r.input(t, 1, M, K)
					w, wv := r.input(t, 1/math.Sqrt(float64(K)), N, K)
					bias, bv := r.input(t, 0.5, N)
					res, rv := r.input(t, 1, M, N)
					// gemm.cu's unsplit tile kernel, for comparison.
					plain := r.output(M, N)
					if !r.b.withTiles(tileChoice{tile: tl, splits: 1}, func() bool { return r.b.tryGemm(plain, x, w, bias, res, act) }) {
						t.Fatal("the tile GEMM declined the case")
					}
					forcingStreamK(t, r.b, tl, blocks)
					if c := streamkSchedule(M, N, K, tl, blocks); c.fixupTiles() == 0 && c.tiles > 1 {
						t.Fatalf("%v splits no tile: the case tests nothing", c)
					}
					y := r.output(M, N)
					if !r.b.tryStreamK(y, x, w, bias, res, act) {
						t.Fatal("stream-K declined the case")
					}
					got := r.read(t, y)
					expectClose(t, "act(x·wᵀ+b)+res", y.Shape(), got, refGemm(xv, wv, bv, rv, M, N, K, act), dt)
					if !flagsLowered(t, r.b) {
						t.Error("a flag is still raised after the launch")
					}
					// Against the tile kernel: the same products, summed in
					// another order where a tile is split, so a few outputs
					// differ in their last place (measured over these cases:
					// at most 1 ulp, on at most 6 of 40,800 outputs; the
					// bounds are twice and about six times that).
					pv, differ, worst := r.read(t, plain), 0, 0.0
					for i := range pv {
						if got[i] != pv[i] {
							differ++
							worst = max(worst, ulps(got[i], pv[i], dt))
						}
					}
					t.Logf("against the tile kernel: %d of %d outputs differ, by at most %.2f ulp", differ, len(pv), worst)
					if worst > 2 || differ*1000 > len(pv) {
						t.Errorf("stream-K differs from the tile kernel in %d of %d outputs, by up to %.2f ulp", differ, len(pv), worst)
					}
					// Again on the same workspace: the same bits.
					r.b.fill(y, 0xff)
					if !r.b.tryStreamK(y, x, w, bias, res, act) {
						t.Fatal("stream-K declined the second launch")
					}
					again := r.read(t, y)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(again[i]) {
							t.Fatalf("second launch: output %d is %g, first %g", i, again[i], got[i])
						}
					}
					// In place, no bias: the residual is the output.
					if !r.b.tryStreamK(res, x, w, nil, res, act) {
						t.Fatal("stream-K declined the in-place case")
					}
					expectClose(t, "in place", res.Shape(), r.read(t, res), refGemm(xv, wv, nil, rv, M, N, K, act), dt)
				})
			}
		}
	}
}

// A captured stream-K GEMM replays to the bits of the op-by-op launch,
// every time (the flags it raises are lowered within each replay).
func TestStreamKInGraph(t *testing.T) {
	const M, K, N = 300, 200, 136
	r := newFastRig(t, tensor.F16)
	r.b.settleAll() // the self-checks run before the forcing, with the model's choices
	forcingStreamK(t, r.b, blockTiles[0], 5)
	x, _ := r.input(t, 1, M, K)
	w, _ := r.input(t, 1/math.Sqrt(K), N, K)
	bias, _ := r.input(t, 0.5, N)
	y := r.output(M, N)
	if !r.b.tryStreamK(y, x, w, bias, nil, ActSiLU) { // op by op: the workspace exists before the capture
		t.Fatal("stream-K declined the case")
	}
	want := r.read(t, y)
	g, err := r.b.Capture(func() {
		if !r.b.tryStreamK(y, x, w, bias, nil, ActSiLU) {
			t.Error("stream-K declined the case")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Destroy()
	for i := range 3 {
		r.b.fill(y, 0xff)
		g.Launch()
		got := r.read(t, y)
		for j := range want {
			if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
				t.Fatalf("replay %d: output %d is %g, op by op %g", i, j, got[j], want[j])
			}
		}
	}
	if !flagsLowered(t, r.b) {
		t.Error("a flag is still raised after the replays")
	}
}

// A 1x1 convolution (stride 1, no padding) runs stream-K as the GEMM it
// is, through Conv2DResidual's launcher; others are left to conv.cu.
func TestStreamKPointwiseConv(t *testing.T) {
	r := newFastRig(t, tensor.BF16)
	forcingStreamK(t, r.b, blockTiles[1], 6)
	const B, H, W, Cin, Cout = 2, 9, 15, 40, 130
	x, xv := r.input(t, 1, B, H, W, Cin)
	w, wv := r.input(t, 1/math.Sqrt(Cin), Cout, 1, 1, Cin)
	bias, bv := r.input(t, 0.5, Cout)
	res, rv := r.input(t, 1, B, H, W, Cout)
	y := r.output(B, H, W, Cout)
	if !r.b.tryPointwiseStreamK(y, x, w, bias, res, 1, 0) {
		t.Fatal("stream-K declined the pointwise convolution")
	}
	expectClose(t, "conv1x1+b+res", y.Shape(), r.read(t, y), refConv(xv, wv, bv, rv, B, H, W, Cin, Cout, 1, 1, 1, 0), tensor.BF16)
	w3, _ := r.input(t, 0.1, Cout, 3, 3, Cin)
	if r.b.tryPointwiseStreamK(y, x, w3, bias, nil, 1, 1) || r.b.tryPointwiseStreamK(y, x, w, bias, nil, 2, 0) {
		t.Error("stream-K took a 3x3 or strided convolution")
	}
}

// The occupancy query answers what the emulated sm_90 holds (228 KiB of
// shared memory, 1 KiB reserved a block; 64K registers at 64 a thread):
// three 128x128 blocks (64 KiB each) and four of the half tiles (48 KiB).
// (A real H100 holds two and three: the kernels use up to 128 and 80
// registers a thread.)
// On it the model runs the 32² level's attention output stream-K on one
// block per SM, and leaves whole-wave and small problems to gemm.cu.
func TestStreamKOccupancyAndChoiceOnTheDevice(t *testing.T) {
	b := newTestBackend(t, "fast")
	for tl, want := range map[blockTile]int{blockTiles[0]: 3, blockTiles[1]: 4, blockTiles[2]: 4} {
		k := Kernel{"streamk", streamkKernelName(tl, "f16")}
		if got := b.residentBlocks(k, tl.sharedBytes()); got != want {
			t.Errorf("%s: %d blocks per SM, want %d", k, got, want)
		}
	}
	if b.info.multiprocessors != 132 {
		t.Skipf("%d SMs: the choices below are for 132", b.info.multiprocessors)
	}
	gemm := func(M, N, K int) gemmProblem {
		return gemmProblem{
			y: operand{"y", tensor.Shape{M, N}, tensor.F16, 256}, x: operand{"x", tensor.Shape{M, K}, tensor.F16, 256},
			w: operand{"w", tensor.Shape{N, K}, tensor.F16, 256},
		}
	}
	for _, c := range []struct {
		M, N, K int
		want    string
	}{
		{2048, 1280, 1280, "128x64 stream-K 188 of 320 tiles on 132 blocks"},
		{33792, 128, 1280, ""}, // 264 tiles: two whole waves
		{130, 72, 200, ""},     // a few µs: launch-bound
	} {
		got := ""
		if pl, ok := b.planStreamK(gemm(c.M, c.N, c.K)); ok {
			got = pl.choice.String()
		}
		if got != c.want {
			t.Errorf("M=%d N=%d K=%d: got %q, want %q", c.M, c.N, c.K, got, c.want)
		}
	}
}
