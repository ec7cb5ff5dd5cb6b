//go:build cuda

package kernels

import (
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
// wrong (the real fast kernel, then SiLU over its output) and checks that
// auto mode falls back to the simple kernel while fast mode keeps it as asked.
func TestSelfCheckDropsAPlantedWrongFastKernel(t *testing.T) {
	real := fastLinear
	if real == nil {
		t.Skip("no fast Linear in this build")
	}
	fastLinear = func(b *Backend, dst, x, w, bias *tensor.Tensor) bool {
		if !real(b, dst, x, w, bias) {
			return false
		}
		b.Unary(dst, dst, tensor.SiLU)
		return true
	}
	defer func() { fastLinear = real }()
	if got := newTestBackend(t, "auto").KernelChoice("linear"); got != Simple {
		t.Errorf("auto mode with a wrong fast Linear: %s, want simple (the self-check must drop it)", got)
	}
	if got := newTestBackend(t, "fast").KernelChoice("linear"); got != Fast {
		t.Errorf("fast mode: %s, want fast (kept as asked, with a log line)", got)
	}
}
