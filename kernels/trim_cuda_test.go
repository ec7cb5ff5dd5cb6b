//go:build cuda

package kernels

import (
	"errors"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// Trim hands the freed tensors' blocks back to the driver, keeps the live
// tensors' memory and contents, and the driver's free memory grows by what
// it reports.
func TestTrimReleasesFreedTensorsOnly(t *testing.T) {
	b := newTestBackend(t, "simple")
	keep := b.FromFloat32(tensor.F32, tensor.Shape{4}, []float32{1, 2, 3, 4})
	for range 3 {
		b.Free(b.Alloc(tensor.F32, 1<<16))
	}
	b.Free(b.Alloc(tensor.F16, 3, 1000))
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	before, err := b.DeviceMemory()
	if err != nil {
		t.Fatal(err)
	}
	freed, err := b.Trim()
	if err != nil {
		t.Fatal(err)
	}
	after, err := b.DeviceMemory()
	if err != nil {
		t.Fatal(err)
	}
	if idle := before.Held - before.InUse; freed != idle || idle == 0 {
		t.Errorf("Trim released %d bytes, the pool had %d idle", freed, idle)
	}
	if after.Held != before.Held-freed || after.InUse != before.InUse {
		t.Errorf("held %d→%d, in use %d→%d after releasing %d", before.Held, after.Held, before.InUse, after.InUse, freed)
	}
	if after.Free-before.Free != freed {
		t.Errorf("the driver's free memory grew by %d, Trim reported %d", after.Free-before.Free, freed)
	}
	if after.Total <= 0 || after.Free > after.Total {
		t.Errorf("driver memory: free %d of total %d", after.Free, after.Total)
	}
	got := b.ToFloat32(keep)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if got[0] != 1 || got[3] != 4 {
		t.Errorf("a live tensor reads %v after Trim", got)
	}
	// The backend keeps working: new work allocates again.
	y := b.Alloc(tensor.F32, 4)
	b.Binary(y, keep, keep, tensor.Add)
	if got := b.ToFloat32(y); got[3] != 8 {
		t.Errorf("after Trim, 4+4 = %v", got[3])
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
}

// A trim while a graph is being captured is refused and releases nothing.
func TestTrimRefusedDuringCapture(t *testing.T) {
	b := newTestBackend(t, "simple")
	x := b.FromFloat32(tensor.F32, tensor.Shape{3}, []float32{1, 2, 3})
	b.Free(b.Alloc(tensor.F32, 1<<12))
	var freed int64
	var trimErr error
	g, err := b.Capture(func() {
		b.Binary(x, x, x, tensor.Add)
		freed, trimErr = b.Trim()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Destroy()
	if !errors.Is(trimErr, errTrimDuringCapture) || freed != 0 {
		t.Errorf("Trim during capture: %d bytes, %v; want refused", freed, trimErr)
	}
	if s := b.Stats(); s.HeldBytes == s.InUseBytes {
		t.Error("the idle block was released during the capture")
	}
}
