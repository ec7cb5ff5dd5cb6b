//go:build cuda

package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Launch runs kernel k on the backend's stream with the given grid, block and
// dynamic shared memory. Each argument is boxed into an 8-byte slot (see
// boxArgs); a *tensor.Tensor argument passes its device address, a nil one 0
// (an absent optional operand). An empty grid (X = 0) launches nothing.
//
// Errors are sticky: once the backend has failed, Launch does nothing, and a
// failure here is recorded (naming the kernel) for Sync to return. With
// GOSDXL_CUDA_SYNC=1 the stream is synchronised after every launch, so an
// asynchronous fault is reported against the kernel that caused it.
func (b *Backend) Launch(k Kernel, grid, block Dim3, sharedBytes int, args ...any) {
	if grid.X == 0 {
		return // an empty problem (no rows): nothing to launch
	}
	for i, a := range args {
		if t, ok := a.(*tensor.Tensor); ok {
			args[i] = devicePtr(0) // an absent optional operand (nil bias)
			if t != nil {
				args[i] = b.ptr(t)
			}
		}
	}
	b.w.do(func() {
		if b.err != nil {
			return
		}
		b.err = b.launchOnWorker(k, grid.norm(), block.norm(), sharedBytes, args)
	})
}

func (b *Backend) launchOnWorker(k Kernel, grid, block Dim3, shared int, args []any) error {
	fn, err := b.resolve(k)
	if err != nil {
		return err
	}
	if shared > fn.maxShared {
		if shared > b.info.maxSharedOptin {
			return fmt.Errorf("kernel %s: %d bytes of shared memory, the device allows %d", k, shared, b.info.maxSharedOptin)
		}
		if err := funcSetMaxDynamicShared(fn.f, shared); err != nil {
			return fmt.Errorf("kernel %s: %w", k, err)
		}
		fn.maxShared = shared
	}
	b.slots = boxArgs(b.slots, args)
	if b.capture != nil {
		b.capture.kernels++
	} else {
		b.counts.Launches++
	}
	if err := launchKernel(fn.f, grid, block, shared, b.stream, b.slots); err != nil {
		return fmt.Errorf("kernel %s grid %v block %v shared %d: %w", k, grid, block, shared, err)
	}
	if b.syncEach && b.capture == nil {
		if err := b.syncStream(); err != nil {
			return fmt.Errorf("kernel %s (synchronised after launch): %w", k, err)
		}
	}
	return nil
}
