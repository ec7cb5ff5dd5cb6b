//go:build cuda

package kernels

import (
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// TestCountersCountEachKindOfWork does one of each thing and checks the
// difference of two snapshots field by field.
func TestCountersCountEachKindOfWork(t *testing.T) {
	b := newTestBackend(t, "simple")
	before := b.Counters()
	x := b.FromFloat32(tensor.F32, tensor.Shape{3}, []float32{1, 2, 3}) // alloc + upload
	one := b.FromFloat32(tensor.F32, tensor.Shape{1}, []float32{1})     // alloc + upload
	b.Unary(x, x, tensor.SiLU)                                          // launch
	g, err := b.Capture(func() { b.Binary(x, x, one, tensor.Add) })     // captured: no launch yet
	if err != nil {
		t.Fatal(err)
	}
	defer g.Destroy()
	g.Launch() // one replayed kernel
	g.Launch()
	b.ToFloat32(x)                   // download + wait
	if err := b.Sync(); err != nil { // wait
		t.Fatal(err)
	}
	got := b.Counters().Sub(before)
	want := tensor.Counters{Launches: 3, Allocs: 2, Uploads: 2, UploadBytes: 16, Downloads: 1, DownloadBytes: 12, Syncs: 2, GraphLaunches: 2}
	// The pool's first blocks come from the driver: two 256-byte blocks.
	want.DriverAllocs, want.AllocBytes = 2, 512
	if got != want {
		t.Errorf("counters after the sequence:\n got %+v\nwant %+v", got, want)
	}
}
