//go:build cuda

package kernels

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/conformance"
)

// Tolerances for the CUDA backend by activation dtype. Every kernel computes
// in float32 and rounds once when it stores, so the expected error is about
// one rounding of the output (F16: 2^-11 relative, BF16: 2^-8) on top of
// float32 reduction-order noise. The bounds leave a margin of ~10x over
// that and stay below the smallest real mistake of interest (a weight in
// BF16 instead of F16, ~4e-3 relative, is only separable in the F32 run).
// They are to be confirmed by the measured spread of the first GPU run.
var gpuTolerance = map[tensor.DType]conformance.Tolerance{
	tensor.F16:  {Atol: 1e-3, Rtol: 1e-2},
	tensor.BF16: {Atol: 1e-2, Rtol: 3e-2},
	tensor.F32:  {Atol: 1e-4, Rtol: 5e-4},
}

// newTestBackend opens the GPU with the given kernel choice. These tests run
// from gpu-bundle/run.sh on a GPU host, and on the emulated driver (`make
// test-cuda-emulated`); elsewhere the cuda test binary does not get this far
// (gorgonia.org/cu exits at start-up), and the skip is for a driver that
// reports no devices after all.
func newTestBackend(t testing.TB, kernels string) *Backend {
	t.Helper()
	if !Available() {
		t.Skip("no CUDA device")
	}
	b, err := New(Options{Kernels: kernels, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

func TestConformanceSimpleKernels(t *testing.T) {
	b := newTestBackend(t, "simple")
	full := !emulated(t, b, "the full-size SDXL shapes are left out (hours on the CPU); every other case runs")
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16, tensor.F32} {
		t.Run(dt.String(), func(t *testing.T) {
			conformance.Run(t, b, dt, gpuTolerance[dt], conformance.Options{Full: full})
		})
	}
}

func TestConformanceFastKernels(t *testing.T) {
	b := newTestBackend(t, "fast")
	full := !emulated(t, b, "the full-size SDXL shapes are left out (hours on the CPU); every other case runs")
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
		t.Run(dt.String(), func(t *testing.T) {
			conformance.Run(t, b, dt, gpuTolerance[dt], conformance.Options{Full: full})
		})
	}
}

// TestFastKernelsPassTheirSelfCheck fails when a fast kernel disagrees with
// the simple one (auto mode would silently fall back). Asking useFast runs
// each family's self-check, as its first use would.
func TestFastKernelsPassTheirSelfCheck(t *testing.T) {
	b := newTestBackend(t, "auto")
	for f := range numOpFamilies {
		if !b.useFast(f) {
			t.Errorf("%s: the fast kernel failed its self-check (see the log above)", f)
		}
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestSelfCheckRunsOnFirstUseOnly checks that New leaves the fast families
// unsettled (no self-check in the constructor), that a family's first use
// settles it, and that the check's work does not show in the caller's
// counters (it could otherwise land inside a measured denoising step).
func TestSelfCheckRunsOnFirstUseOnly(t *testing.T) {
	b := newTestBackend(t, "auto")
	for f := range numOpFamilies {
		if b.families[f].settled {
			t.Errorf("%s settled by New: the self-check ran in the constructor", f)
		}
	}
	before := b.Counters()
	if !b.useFast(opAttention) {
		t.Fatal("attention: the fast kernel failed its self-check")
	}
	if c := b.Counters().Sub(before); c.Launches != 0 || c.Uploads != 0 || c.Downloads != 0 || c.Syncs != 0 || c.Allocs != 0 {
		t.Errorf("the self-check's work shows in the counters: %+v", c)
	}
	if !b.families[opAttention].settled || b.families[opLinear].settled || b.families[opConv2D].settled {
		t.Errorf("after attention's first use: %+v, want only attention settled", b.families)
	}
}

// TestFastMatchesSimpleAtSDXLShapes compares the two implementations of each
// heavy op on full-size SDXL cases, F16 activations and weights. Emulated,
// the token counts and image sides are divided by 16 (the channel counts,
// head size and head count stay SDXL's).
func TestFastMatchesSimpleAtSDXLShapes(t *testing.T) {
	b := newTestBackend(t, "fast")
	tokens, side := 4096, 64
	if emulated(t, b, "4096 tokens reduced to 256, 64×64 images to 16×16") {
		tokens, side = 256, 16
	}
	rng := rand.New(rand.NewPCG(3, 4))
	rnd := func(std float64, shape ...int) *tensor.Tensor {
		data := make([]float32, tensor.Shape(shape).NumElements())
		for i := range data {
			data[i] = float32(std * rng.NormFloat64())
		}
		return b.FromFloat32(tensor.F16, shape, data)
	}
	compare := func(t *testing.T, shape []int, fast func(dst *tensor.Tensor) bool, simple func(dst *tensor.Tensor)) {
		want, got := b.Alloc(tensor.F16, shape...), b.Alloc(tensor.F16, shape...)
		defer b.Free(want)
		defer b.Free(got)
		b.fill(got, 0xff)
		simple(want)
		if !fast(got) {
			t.Skip("the fast kernel declines this case")
		}
		w, g := b.ToFloat32(want), b.ToFloat32(got)
		if err := b.Sync(); err != nil {
			t.Fatal(err)
		}
		tol := gpuTolerance[tensor.F16]
		if i, ok := withinTolerance(g, w, tol.Atol, tol.Rtol); !ok {
			t.Fatalf("element %d: fast %g, simple %g", i, g[i], w[i])
		}
	}
	t.Run(fmt.Sprintf("Linear/%dx640x5120", tokens), func(t *testing.T) {
		x, w, bias := rnd(1, 2*tokens, 640), rnd(0.04, 5120, 640), rnd(0.1, 5120)
		compare(t, []int{2 * tokens, 5120},
			func(d *tensor.Tensor) bool { return b.tryGemm(d, x, w, bias, nil, ActNone) },
			func(d *tensor.Tensor) { b.simpleLinear(d, x, w, bias) })
	})
	t.Run(fmt.Sprintf("Conv2D/%dx%dx640", side, side), func(t *testing.T) {
		x, w, bias := rnd(1, 2, side, side, 640), rnd(0.013, 640, 3, 3, 640), rnd(0.1, 640)
		compare(t, []int{2, side, side, 640},
			func(d *tensor.Tensor) bool { return b.tryConv(d, x, w, bias, nil, 1, 1) },
			func(d *tensor.Tensor) { b.simpleConv2D(d, x, w, bias, 1, 1) })
	})
	t.Run(fmt.Sprintf("Attention/%dx%dx10heads", tokens, tokens), func(t *testing.T) {
		q, k, v := rnd(1, 2, tokens, 640), rnd(1, 2, tokens, 640), rnd(1, 2, tokens, 640)
		compare(t, []int{2, tokens, 640},
			func(d *tensor.Tensor) bool { return b.tryAttention(d, q, k, v, 10, false) },
			func(d *tensor.Tensor) { b.simpleAttention(d, q, k, v, 10, false) })
	})
}

func TestLaunchErrorIsStickyAndNamesTheKernel(t *testing.T) {
	b := newTestBackend(t, "simple")
	x := b.FromFloat32(tensor.F16, tensor.Shape{4}, []float32{1, 2, 3, 4})
	b.Launch(Kernel{"elementwise", "no_such_kernel"}, D1(1), D1(32), 0, x)
	b.Unary(x, x, tensor.SiLU) // must be skipped: the backend has failed
	err := b.Sync()
	if err == nil || !strings.Contains(err.Error(), "no_such_kernel") {
		t.Fatalf("Sync = %v, want an error naming no_such_kernel", err)
	}
	if got := b.ToFloat32(x); got[0] != 1 || got[3] != 4 {
		t.Errorf("an operation ran after the error: %v", got)
	}
	if err := b.Sync(); err != nil {
		t.Errorf("the error was not cleared by Sync: %v", err)
	}
}

// A freed tensor passed to a kernel is named at the launch. Before, its
// address was silently 0 and the GPU reported CUDA_ERROR_ILLEGAL_ADDRESS
// some launches later (seen on the first GPU lease: a benchmark reused
// weights its first run had freed).
func TestKernelArgumentUsedAfterFreeIsNamed(t *testing.T) {
	b := newTestBackend(t, "simple")
	x := b.FromFloat32(tensor.F16, tensor.Shape{4}, []float32{1, 2, 3, 4})
	y := b.Alloc(tensor.F16, 4)
	defer b.Free(y)
	b.Free(x)
	defer func() {
		r := recover()
		if msg, _ := r.(string); !strings.Contains(msg, "used after Free") {
			t.Fatalf("recovered %v, want a panic naming a use after Free", r)
		}
	}()
	b.Unary(y, x, tensor.SiLU)
	t.Fatal("a freed tensor was launched without complaint")
}

func TestPoolDoesNotAllocateAtSteadyState(t *testing.T) {
	b := newTestBackend(t, "simple")
	x := b.FromFloat32(tensor.F16, tensor.Shape{2, 16, 16, 64}, make([]float32, 2*16*16*64))
	gamma := b.FromFloat32(tensor.F16, tensor.Shape{64}, make([]float32, 64))
	step := func() {
		y := b.Alloc(tensor.F16, 2, 16, 16, 64)
		b.GroupNorm(y, x, gamma, gamma, 32, 1e-5, true)
		b.Free(y)
	}
	step()
	before := b.Stats().DriverAllocs
	for range 20 {
		step()
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if after := b.Stats().DriverAllocs; after != before {
		t.Errorf("driver allocations grew from %d to %d over identical steps", before, after)
	}
}

func TestGraphReplaysCapturedWork(t *testing.T) {
	b := newTestBackend(t, "simple")
	x := b.FromFloat32(tensor.F32, tensor.Shape{3}, []float32{1, 2, 3})
	ones := b.FromFloat32(tensor.F32, tensor.Shape{1}, []float32{1})
	g, err := b.Capture(func() { b.Binary(x, x, ones, tensor.Add) })
	if err != nil {
		t.Fatal(err)
	}
	defer g.Destroy()
	for range 3 {
		g.Launch()
	}
	got := b.ToFloat32(x)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if got[0] != 4 || got[1] != 5 || got[2] != 6 {
		t.Errorf("after 3 replays of x += 1: %v, want [4 5 6] (capture must not run the work)", got)
	}
}

// WriteFloat32 overwrites an existing buffer in one upload, without an
// allocation or a copy kernel: the per-step input path of a planned UNet call.
func TestWriteFloat32OverwritesInPlace(t *testing.T) {
	b := newTestBackend(t, "simple")
	dst := b.Alloc(tensor.F16, 3, 5)
	defer b.Free(dst)
	data := make([]float32, 15)
	for i := range data {
		data[i] = float32(i) - 7.25
	}
	before := b.Counters()
	b.WriteFloat32(dst, data)
	c := b.Counters().Sub(before)
	if c.Uploads != 1 || c.UploadBytes != 30 || c.Allocs != 0 || c.Launches != 0 {
		t.Errorf("one write cost %+v, want 1 upload of 30 bytes and nothing else", c)
	}
	got := b.ToFloat32(dst)
	for i, v := range data {
		if got[i] != v {
			t.Fatalf("element %d: %v, want %v", i, got[i], v)
		}
	}
}

// A weight's block is exactly its size and goes back to the driver when
// freed; kernels read it like any tensor.
func TestWeightsAreAllocatedExactly(t *testing.T) {
	b := newTestBackend(t, "simple")
	before := b.Stats()
	vals := make([]float32, 3*1001) // 6006 bytes in F16: the class would be 6144
	for i := range vals {
		vals[i] = float32(i%17) - 8
	}
	w := b.FromRawWeight(tensor.F16, tensor.Shape{3, 1001}, tensor.EncodeFloat32(tensor.F16, vals))
	if got := b.Stats().HeldBytes - before.HeldBytes; got != 6006 {
		t.Errorf("the weight holds %d bytes of device memory, want 6006", got)
	}
	y := b.Alloc(tensor.F16, 3, 1001)
	b.Slice(y, w, 0)
	got := b.ToFloat32(y)
	b.Free(y)
	for i := range vals {
		if got[i] != vals[i] {
			t.Fatalf("element %d read back as %g, want %g", i, got[i], vals[i])
		}
	}
	b.Free(w)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if s := b.Stats(); s.InUseBytes != before.InUseBytes || s.HeldBytes > before.HeldBytes+6144 {
		t.Errorf("after Free: %v; the weight's 6006 bytes should be back with the driver (before: %v)", s, before)
	}
}
