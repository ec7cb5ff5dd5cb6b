//go:build cuda

package kernels

import (
	"errors"
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

// Helpers the launchers of every op family share.

// gridFor sizes a grid-stride launch of 256-thread blocks over n items.
func gridFor(n int) int { return max(1, min(ceilDiv(n, 256), 1<<20)) }

// paramAs returns the device address of p in dtype dt (0 for nil), casting
// into a scratch copy when p is stored in another type, and a func releasing
// that copy. Kernels read a parameter (bias, gamma, beta) in the weight's type.
func (b *Backend) paramAs(p *tensor.Tensor, dt tensor.DType) (devicePtr, func()) {
	if p == nil {
		return 0, func() {}
	}
	if p.DType() == dt {
		return b.ptr(p), func() {}
	}
	tmp := b.Alloc(dt, p.Shape()...)
	b.Cast(tmp, p)
	return b.ptr(tmp), func() { b.Free(tmp) }
}

// operandOf describes t, with its device address, for the planners.
func (b *Backend) operandOf(name string, t *tensor.Tensor) operand {
	if t == nil {
		return tensorOperand(name, nil, 0)
	}
	return tensorOperand(name, t, uint64(b.ptr(t)))
}

// ptrOrNull is t's device address, or a null pointer for an absent operand
// (the kernels test bias and residual against null).
func (b *Backend) ptrOrNull(t *tensor.Tensor) devicePtr {
	if t == nil {
		return 0
	}
	return b.ptr(t)
}

// handles turns a plan error into the launcher's answer: mismatched shapes
// are the caller's bug and panic (as every Backend op does); other errors
// mean the fast kernel does not take the case and the simple one runs.
func handles(err error) bool {
	var se *shapeError
	if errors.As(err, &se) {
		panic(fmt.Sprintf("kernels: %v", se))
	}
	return err == nil
}
