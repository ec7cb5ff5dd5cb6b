//go:build cuda

package kernels

import (
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// twoResidualSteps is x += silu(x), twice, each through a temporary that is
// freed before the next is taken: the shape of a network's layers.
func twoResidualSteps(b *Backend, x *tensor.Tensor, taken *[]devicePtr) {
	for range 2 {
		tmp := b.Alloc(x.DType(), x.Shape()...)
		*taken = append(*taken, b.buffer(tmp).ptr)
		b.Unary(tmp, x, tensor.SiLU)
		b.Binary(x, x, tmp, tensor.Add)
		b.Free(tmp)
	}
}

// A capture reuses the memory freed inside it, as a plain run does, so a
// captured step holds its peak, not the sum of its temporaries; the
// memory stays the graph's until Destroy, so nothing taken after the
// capture can be overwritten by a replay; and replays compute what the
// same operations compute op by op, bit for bit.
func TestCaptureReusesWhatItFreesAndHoldsItUntilDestroy(t *testing.T) {
	b := newTestBackend(t, "simple")
	start := make([]float32, 1000)
	for i := range start {
		start[i] = float32(i%37)*0.125 - 2
	}
	x := b.FromFloat32(tensor.F32, tensor.Shape{1000}, start)
	plain := b.FromFloat32(tensor.F32, tensor.Shape{1000}, start)
	defer b.Free(x)
	defer b.Free(plain)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}

	before := b.Counters()
	var taken []devicePtr
	g, err := b.Capture(func() { twoResidualSteps(b, x, &taken) })
	if err != nil {
		t.Fatal(err)
	}
	if taken[0] != taken[1] {
		t.Errorf("the second temporary got block %#x, not the first's %#x freed before it", uint64(taken[1]), uint64(taken[0]))
	}
	if n := b.Counters().Sub(before).DriverAllocs; n > 1 {
		t.Errorf("the capture took %d blocks from the driver, want at most 1 (one temporary at a time)", n)
	}
	after := b.Alloc(tensor.F32, 1000)
	if got := b.buffer(after).ptr; got == taken[0] {
		t.Errorf("a tensor allocated after the capture got the graph's block %#x", uint64(got))
	}
	b.Free(after)

	for range 3 {
		g.Launch()
		var ignore []devicePtr
		twoResidualSteps(b, plain, &ignore)
	}
	got, want := b.ToFloat32(x), b.ToFloat32(plain)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("after 3 replays x[%d] = %g, op by op %g", i, got[i], want[i])
		}
	}
	if c := b.Counters().Sub(before); c.GraphLaunches != 3 || g.Kernels() != 4 {
		t.Errorf("%d graph launches of %d kernels each, want 3 of 4", c.GraphLaunches, g.Kernels())
	}

	inUse := b.Stats().InUseBytes
	g.Destroy()
	if freed := inUse - b.Stats().InUseBytes; freed != int64(sizeClass(4000)) {
		t.Errorf("Destroy returned %d bytes to the pool, want the one %d-byte block the graph held", freed, sizeClass(4000))
	}
}

// With graphs turned off (Options.NoGraphs, GOSDXL_CUDA_GRAPHS=0) Capture
// refuses and records nothing, so callers fall back to plain launches.
func TestCaptureRefusedWhenGraphsAreOff(t *testing.T) {
	if !Available() {
		t.Skip("no CUDA device")
	}
	b, err := New(Options{Kernels: "simple", NoGraphs: true, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	x := b.FromFloat32(tensor.F32, tensor.Shape{2}, []float32{1, 2})
	ran := false
	if g, err := b.CaptureGraph(func() { ran = true }); err == nil || g != nil || ran {
		t.Errorf("CaptureGraph with graphs off: graph %v, error %v, record ran %v; want a refusal before recording", g, err, ran)
	}
	b.Unary(x, x, tensor.SiLU) // the backend still works
	b.Free(x)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
}

// A host→device copy inside a capture would be replayed from host memory
// long gone: the capture fails, naming the copy, and records nothing; the
// backend works on.
func TestCaptureRefusesAnUpload(t *testing.T) {
	b := newTestBackend(t, "simple")
	x := b.FromFloat32(tensor.F32, tensor.Shape{4}, []float32{1, 2, 3, 4})
	defer b.Free(x)
	g, err := b.CaptureGraph(func() { b.WriteFloat32(x, []float32{5, 6, 7, 8}) })
	if err == nil || g != nil || !strings.Contains(err.Error(), "host→device copy") {
		t.Fatalf("capture with an upload: graph %v, error %v; want a refusal naming the copy", g, err)
	}
	b.Unary(x, x, tensor.SiLU)
	if err := b.Sync(); err != nil {
		t.Fatalf("after the refused capture: %v", err)
	}
}
