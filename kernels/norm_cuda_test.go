//go:build cuda

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// Norm cases beyond the conformance suite's: each LayerNorm kernel at its
// edges, GroupNorm's chunk merge up to the 256-chunk cap, one position,
// and values around 300 ± 1, where statistics as E[x²] − E[x]² in float32
// would lose the variance. References are float64, computed from the
// values the backend holds (read back after rounding to the dtype).

// normInput uploads normal values of the given mean and spread in dt and
// returns the tensor and the values it holds.
func normInput(b *Backend, rng *rand.Rand, dt tensor.DType, mean, std float64, shape ...int) (*tensor.Tensor, []float64) {
	data := make([]float32, tensor.Shape(shape).NumElements())
	for i := range data {
		data[i] = float32(mean + std*rng.NormFloat64())
	}
	t := b.FromFloat32(dt, shape, data)
	return t, widen(b.ToFloat32(t))
}

// normalise writes (x−mean)/sqrt(var+eps)·gamma+beta (then SiLU) for the
// elements at idx(0..n-1), whose channels are ch(i), in float64.
func normalise(out, x []float64, n int, idx, ch func(int) int, gamma, beta []float64, eps float64, silu bool) {
	var mean, v float64
	for i := range n {
		mean += x[idx(i)]
	}
	mean /= float64(n)
	for i := range n {
		d := x[idx(i)] - mean
		v += d * d
	}
	rstd := 1 / math.Sqrt(v/float64(n)+eps)
	for i := range n {
		y := (x[idx(i)]-mean)*rstd*gamma[ch(i)] + beta[ch(i)]
		if silu {
			y /= 1 + math.Exp(-y)
		}
		out[idx(i)] = y
	}
}

func checkNorm(t *testing.T, got []float32, want []float64, tol float64) {
	t.Helper()
	worst := 0.0
	for i := range want {
		d := math.Abs(float64(got[i]) - want[i])
		if !(d <= tol+tol*math.Abs(want[i])) {
			t.Fatalf("element %d is %g, want %g (|diff| %.3g, tolerance %.3g + %.3g·|want|)", i, got[i], want[i], d, tol, tol)
		}
		worst = max(worst, d)
	}
	t.Logf("worst |diff| %.3g", worst)
}

// normTolerance is a few roundings of the output dtype; float32 outputs
// get the float32-vs-float64 spread of the emulator's checks with room.
var normTolerance = map[tensor.DType]float64{tensor.F32: 2e-5, tensor.F16: 2e-3, tensor.BF16: 1.6e-2}

func TestLayerNormAgainstFloat64(t *testing.T) {
	b := newTestBackend(t, "simple")
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct {
		rows, C    int
		mean, std  float64
		paramDType tensor.DType
	}{
		{1, 1, 0, 1, tensor.F16},            // one element: the output is beta
		{3, 77, 0.5, 2, tensor.F16},         // fewer rows than a warp block holds
		{9, 320, 300, 1, tensor.F16},        // a row past the last block of 8, a large mean
		{5, 512, 0, 3, tensor.BF16},         // the warp kernel's longest row
		{5, 513, 300, 1, tensor.F16},        // the block kernel's shortest: 64 threads
		{154, 768, 300, 1, tensor.F32},      // CLIP-L's rows
		{2, 1280, 0, 1, tensor.F16},         // CLIP-G, the UNet's deepest transformer: 96 threads
		{2, 4096, 300, 1, tensor.F16},       // the block kernel's longest row
		{2, 4097, 300, 1, tensor.F16},       // three reads of the row
		{2, 2048 + 33, -300, 1, tensor.F16}, // not a multiple of the block
	} {
		for _, dt := range []tensor.DType{tensor.F32, tensor.F16, tensor.BF16} {
			t.Run(fmt.Sprintf("%s_%dx%d_mean%g_%s", dt, c.rows, c.C, c.mean, c.paramDType), func(t *testing.T) {
				x, xv := normInput(b, rng, dt, c.mean, c.std, c.rows, c.C)
				gamma, gv := normInput(b, rng, c.paramDType, 1, 0.2, c.C)
				beta, bv := normInput(b, rng, c.paramDType, 0, 0.2, c.C)
				dst := b.Alloc(dt, c.rows, c.C)
				b.fill(dst, 0xff)
				defer func() {
					for _, t := range []*tensor.Tensor{x, gamma, beta, dst} {
						b.Free(t)
					}
				}()
				b.LayerNorm(dst, x, gamma, beta, 1e-5)
				want := make([]float64, len(xv))
				for r := range c.rows {
					normalise(want, xv, c.C, func(i int) int { return r*c.C + i }, func(i int) int { return i },
						gv, bv, 1e-5, false)
				}
				checkNorm(t, b.ToFloat32(dst), want, normTolerance[dt])
			})
		}
	}
}

func TestGroupNormAgainstFloat64(t *testing.T) {
	b := newTestBackend(t, "simple")
	rng := rand.New(rand.NewPCG(9, 10))
	type gnCase struct {
		shape     []int
		groups    int
		mean, std float64
		silu      bool
	}
	cases := []gnCase{
		{[]int{1, 1, 1, 64}, 32, 0, 1, true},             // one position
		{[]int{3, 7, 5, 96}, 32, 300, 1, false},          // odd positions, 3 channels per group, a large mean
		{[]int{2, 33, 31, 320}, 32, 300, 1, true},        // several chunks per group, a large mean
		{[]int{1, 4097, 6}, 3, -300, 1, false},           // two channels per group: 2 chunks, the last short
		{[]int{2, 9, 9, 1280}, 32, 0.5, 2, true},         // 40 channels per group
		{[]int{1, 300001, 2}, 2, 300, 1, true},           // 37 chunks of one channel
		{[]int{1, 256*8192 + 1001, 1}, 1, 300, 1, false}, // capped at 256 chunks
	}
	for _, c := range cases {
		for _, dt := range []tensor.DType{tensor.F32, tensor.F16, tensor.BF16} {
			if c.shape[1] > 1e6 && dt != tensor.F32 {
				continue // the emulator's time: the cap is the same code in every dtype
			}
			t.Run(fmt.Sprintf("%s_%v_g%d_mean%g_silu%v", dt, c.shape, c.groups, c.mean, c.silu), func(t *testing.T) {
				C := c.shape[len(c.shape)-1]
				x, xv := normInput(b, rng, dt, c.mean, c.std, c.shape...)
				gamma, gv := normInput(b, rng, tensor.F16, 1, 0.2, C)
				beta, bv := normInput(b, rng, tensor.F16, 0, 0.2, C)
				dst := b.Alloc(dt, c.shape...)
				b.fill(dst, 0xff)
				defer func() {
					for _, t := range []*tensor.Tensor{x, gamma, beta, dst} {
						b.Free(t)
					}
				}()
				b.GroupNorm(dst, x, gamma, beta, c.groups, 1e-5, c.silu)
				want := make([]float64, len(xv))
				positions := len(xv) / (c.shape[0] * C)
				cpg := C / c.groups
				for img := range c.shape[0] {
					for g := range c.groups {
						idx := func(i int) int { return (img*positions+i/cpg)*C + g*cpg + i%cpg }
						ch := func(i int) int { return g*cpg + i%cpg }
						normalise(want, xv, positions*cpg, idx, ch, gv, bv, 1e-5, c.silu)
					}
				}
				checkNorm(t, b.ToFloat32(dst), want, normTolerance[dt])
			})
		}
	}
}

// TestNormsLaunchOnceOrTwiceAndAllocateNothingWhenWarm pins the cost of a
// normalisation: GroupNorm two launches, LayerNorm one, and after the
// first GroupNorm no allocation at all, not even a pool reuse, whatever
// the shape (a smaller one fits the workspace).
func TestNormsLaunchOnceOrTwiceAndAllocateNothingWhenWarm(t *testing.T) {
	b := newTestBackend(t, "simple")
	rng := rand.New(rand.NewPCG(11, 12))
	x, _ := normInput(b, rng, tensor.F16, 0, 1, 2, 16, 16, 320)
	small, _ := normInput(b, rng, tensor.F16, 0, 1, 1, 3, 3, 64)
	gamma, _ := normInput(b, rng, tensor.F16, 1, 0.2, 320)
	beta, _ := normInput(b, rng, tensor.F16, 0, 0.2, 320)
	g64, _ := normInput(b, rng, tensor.F16, 1, 0.2, 64)
	b64, _ := normInput(b, rng, tensor.F16, 0, 0.2, 64)
	dst, dstSmall := b.Alloc(tensor.F16, 2, 16, 16, 320), b.Alloc(tensor.F16, 1, 3, 3, 64)
	b.GroupNorm(dst, x, gamma, beta, 32, 1e-5, true) // the first: takes the workspace
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		launches int64
		op       func()
	}{
		{"GroupNorm+SiLU", 2, func() { b.GroupNorm(dst, x, gamma, beta, 32, 1e-5, true) }},
		{"GroupNorm, smaller", 2, func() { b.GroupNorm(dstSmall, small, g64, b64, 32, 1e-6, false) }},
		{"LayerNorm over 320", 1, func() { b.LayerNorm(dst, x, gamma, beta, 1e-5) }},
		{"LayerNorm over 64", 1, func() { b.LayerNorm(dstSmall, small, g64, b64, 1e-5) }},
	} {
		before, pool := b.Counters(), b.Stats()
		c.op()
		if err := b.Sync(); err != nil {
			t.Fatal(err)
		}
		got := b.Counters().Sub(before)
		want := tensor.Counters{Launches: c.launches, Syncs: 1}
		if got != want {
			t.Errorf("%s: counters\n got %+v\nwant %+v", c.name, got, want)
		}
		if after := b.Stats(); after.Reuses != pool.Reuses || after.InUseBytes != pool.InUseBytes {
			t.Errorf("%s took memory from the pool: %v, before %v", c.name, after, pool)
		}
	}
}

// TestGroupNormGraphOutlivesItsWorkspace captures a GroupNorm, grows the
// workspace with a larger one, hands the pool's blocks of the old
// workspace's size to a tensor, and replays the graph: the replay must
// still be right and must not write into that tensor, so an outgrown
// workspace block may never go back to the pool while a graph can use it.
func TestGroupNormGraphOutlivesItsWorkspace(t *testing.T) {
	b := newTestBackend(t, "simple")
	rng := rand.New(rand.NewPCG(13, 14))
	x, _ := normInput(b, rng, tensor.F32, 3, 1, 1, 4, 4, 64) // 32 groups × 1 chunk: a 384-byte workspace
	gamma, _ := normInput(b, rng, tensor.F32, 1, 0.2, 64)
	beta, _ := normInput(b, rng, tensor.F32, 0, 0.2, 64)
	want, got := b.Alloc(tensor.F32, 1, 4, 4, 64), b.Alloc(tensor.F32, 1, 4, 4, 64)
	b.GroupNorm(want, x, gamma, beta, 32, 1e-5, true)
	before := b.Counters()
	g, err := b.Capture(func() { b.GroupNorm(got, x, gamma, beta, 32, 1e-5, true) })
	if err != nil {
		t.Fatal(err)
	}
	defer g.Destroy()
	if d := b.Counters().Sub(before); d.DriverAllocs != 0 || g.kernels != 2 {
		t.Errorf("capturing a warm GroupNorm: %d driver allocations, %d kernels; want 0 and 2", d.DriverAllocs, g.kernels)
	}

	big, _ := normInput(b, rng, tensor.F32, 0, 1, 2, 64, 64, 64) // 64 groups × 2 chunks: outgrows it
	bigDst := b.Alloc(tensor.F32, 2, 64, 64, 64)
	b.GroupNorm(bigDst, big, gamma, beta, 32, 1e-5, false)
	var bystanders []*tensor.Tensor
	for range 4 { // every idle block of the old workspace's class, and then some
		bystander := b.FromFloat32(tensor.F32, tensor.Shape{96}, make([]float32, 96))
		bystanders = append(bystanders, bystander)
	}
	b.fill(got, 0xff)
	g.Launch()
	checkNorm(t, b.ToFloat32(got), widen(b.ToFloat32(want)), 0)
	for i, bystander := range bystanders {
		for j, v := range b.ToFloat32(bystander) {
			if v != 0 {
				t.Fatalf("the replay wrote %g into element %d of tensor %d, allocated after the workspace grew", v, j, i)
			}
		}
	}
}
