//go:build cuda

package kernels

import (
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// emulatedDeviceName is what the emulated driver (kernels/emulator/driver,
// loaded through LD_LIBRARY_PATH by `make test-cuda-emulated`) calls its
// device. The backend itself never asks: only tests do, to shrink the
// problems that would take too long on the CPU (and to say so).
const emulatedDeviceName = "gosdxl emulated GPU"

// emulated reports whether b runs on the emulated driver, logging what the
// caller reduces because of it.
func emulated(t testing.TB, b *Backend, reduced string) bool {
	t.Helper()
	if b.DeviceName() != emulatedDeviceName {
		return false
	}
	t.Logf("emulated driver: %s", reduced)
	return true
}

// TestSelfCheckDropsAPlantedWrongFastKernel plants a fast Linear that is
// wrong (the real fast kernel, then SiLU over its output) in the self-check
// and checks that auto mode falls back to the simple kernel while fast mode
// keeps it as asked.
func TestSelfCheckDropsAPlantedWrongFastKernel(t *testing.T) {
	for _, c := range []struct {
		kernels string
		fast    bool
	}{{"auto", false}, {"fast", true}} {
		b := newTestBackend(t, c.kernels)
		planted := func(f opFamily) (string, error) {
			in := newCheckInputs(b)
			defer in.free()
			cases := b.checkCases(f, in)
			for i := range cases {
				real := cases[i].fast
				cases[i].fast = func(dst *tensor.Tensor) bool {
					if !real(dst) {
						return false
					}
					b.Unary(dst, dst, tensor.SiLU)
					return true
				}
			}
			return b.compare(f, cases)
		}
		b.settle(opLinear, planted)
		if !b.families[opLinear].settled {
			t.Fatalf("%s mode: linear not settled by its self-check", c.kernels)
		}
		if got := b.useFast(opLinear); got != c.fast {
			t.Errorf("%s mode with a wrong fast Linear: runs fast = %v, want %v (auto drops it, fast keeps it as asked)", c.kernels, got, c.fast)
		}
	}
}

// The emulated driver checks what a GPU would only show as a fault or as
// garbage. These tests plant the bugs and need the emulated device.

// TestEmulatedDriverCatchesSwappedLauncherArguments launches unary_f16 as
// Unary does, but with its x and n arguments swapped: the driver sees a
// 4-byte int where a pointer should be (and a pointer in an int's slot) and
// the backend's sticky error names the kernel.
func TestEmulatedDriverCatchesSwappedLauncherArguments(t *testing.T) {
	b := newTestBackend(t, "simple")
	if !emulated(t, b, "planted swapped launcher arguments") {
		t.Skip("needs the emulated driver: on a GPU the planted launch would corrupt memory")
	}
	x := b.FromFloat32(tensor.F16, tensor.Shape{300}, make([]float32, 300))
	n := x.NumElements()
	b.Launch(Kernel{"elementwise", "unary_f16"}, D1(gridFor(n)), D1(256), 0, x, n, x, int(tensor.SiLU))
	err := b.Sync()
	if err == nil || !strings.Contains(err.Error(), "unary_f16") {
		t.Fatalf("Sync after the planted launch = %v, want an error naming unary_f16", err)
	}
	t.Logf("caught: %v", err)
}

// TestEmulatedDriverCatchesAPoolThatFreesABlockTwice plants a pool bug
// below put's own check (the same block twice in the idle list, as a pool
// with a broken bookkeeping would have): releasing the idle blocks frees it
// twice, which the emulated driver refuses, and Close reports.
func TestEmulatedDriverCatchesAPoolThatFreesABlockTwice(t *testing.T) {
	b := newTestBackend(t, "simple")
	if !emulated(t, b, "planted double free in the pool") {
		t.Skip("needs the emulated driver, which remembers freed blocks")
	}
	var err error
	b.w.do(func() {
		ptr, class, getErr := b.pool.get(4096)
		if getErr != nil {
			err = getErr
			return
		}
		b.pool.idle[class] = append(b.pool.idle[class], ptr, ptr) // the planted bug
		_, err = b.pool.releaseIdle()
	})
	if err == nil || !strings.Contains(err.Error(), "cuMemFree") {
		t.Fatalf("releasing a block listed twice: %v, want the driver's cuMemFree error", err)
	}
	t.Logf("caught: %v", err)
}
