//go:build cuda

package kernels

import (
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// Backend calls made inside OnDeviceThread give the same results as the
// same calls made from a test goroutine, and a panic inside reaches the
// caller.
func TestOnDeviceThreadRunsCallsInPlace(t *testing.T) {
	b := newTestBackend(t, "simple")
	x := b.FromFloat32(tensor.F32, tensor.Shape{4}, []float32{-1, 0, 1, 2})
	defer b.Free(x)
	outside := b.Alloc(tensor.F32, 4)
	defer b.Free(outside)
	b.Unary(outside, x, tensor.SiLU)
	want := b.ToFloat32(outside)

	var got []float32
	b.OnDeviceThread(func() {
		y := b.Alloc(tensor.F32, 4)
		b.Unary(y, x, tensor.SiLU)
		got = b.ToFloat32(y)
		b.Free(y)
	})
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("inside OnDeviceThread %v, outside %v", got, want)
		}
	}

	defer func() {
		if r, _ := recover().(string); !strings.Contains(r, "used after Free") {
			t.Fatalf("recovered %q, want the panic from inside", r)
		}
		// The backend still serves calls after the panic.
		if err := b.Sync(); err != nil {
			t.Errorf("Sync after the panic: %v", err)
		}
	}()
	b.OnDeviceThread(func() {
		y := b.Alloc(tensor.F32, 4)
		b.Free(y)
		b.Unary(y, x, tensor.SiLU) // a freed tensor: panics by name
	})
	t.Fatal("no panic")
}

// BenchmarkWorkerHandOff is what OnDeviceThread saves: the cost of one
// backend call's hand-off to the context thread (from_other_goroutine)
// against the same call made on that thread (on_device_thread). The call
// itself does nothing, so the difference is the hand-off alone.
func BenchmarkWorkerHandOff(bm *testing.B) {
	b := newTestBackend(bm, "simple")
	bm.Run("from_other_goroutine", func(bm *testing.B) {
		for range bm.N {
			b.w.do(func() {})
		}
	})
	bm.Run("on_device_thread", func(bm *testing.B) {
		b.OnDeviceThread(func() {
			for range bm.N {
				b.w.do(func() {})
			}
		})
	})
}
