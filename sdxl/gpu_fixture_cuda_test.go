//go:build cuda

package sdxl

import (
	"testing"

	"github.com/gosdxl/gosdxl/kernels"
	"github.com/gosdxl/gosdxl/tensor"
)

// Shared pieces of the GPU checks (run from gpu-bundle/run.sh; on a machine
// without a GPU every one of them skips, saying so).

// newGPU opens the CUDA backend with the default (auto) kernel choice, or
// skips when this machine has no usable GPU.
func newGPU(t testing.TB) *kernels.Backend {
	t.Helper()
	return newGPUWith(t, kernels.Options{})
}

// newGPUWith is newGPU with options (their Logf set to the test's).
func newGPUWith(t testing.TB, opts kernels.Options) *kernels.Backend {
	t.Helper()
	requireGPU(t)
	opts.Logf = t.Logf
	b, err := kernels.New(opts)
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

func requireGPU(t testing.TB) {
	t.Helper()
	if !kernels.Available() {
		t.Skip("no CUDA GPU found (no driver or no device): GPU check not run")
	}
}

// toDType returns x converted to dt on its backend, freeing x when a
// conversion was needed.
func toDType(b tensor.Backend, x *tensor.Tensor, dt tensor.DType) *tensor.Tensor {
	if x.DType() == dt {
		return x
	}
	y := b.Alloc(dt, x.Shape()...)
	b.Cast(y, x)
	b.Free(x)
	return y
}

// unetInputAs converts the tensors of a UNet call to dt.
func unetInputAs(b tensor.Backend, in UNetInput, dt tensor.DType) UNetInput {
	in.Sample = toDType(b, in.Sample, dt)
	in.Context = toDType(b, in.Context, dt)
	in.TextEmbeds = toDType(b, in.TextEmbeds, dt)
	return in
}

// syncOrFatal reports a sticky device error.
func syncOrFatal(t testing.TB, b tensor.Backend) {
	t.Helper()
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
}
