//go:build cuda

package kernels

import (
	"errors"
	"fmt"

	"gorgonia.org/cu"

	"github.com/gosdxl/gosdxl/tensor"
)

var (
	_ tensor.Trimmer        = (*Backend)(nil)
	_ tensor.MemoryReporter = (*Backend)(nil)
)

// errTrimDuringCapture refuses a trim while a graph is being captured: the
// blocks taken during the capture are baked into the graph, and freeing
// memory is not a call a capturing stream allows.
var errTrimDuringCapture = errors.New("cuda: not releasing memory while a graph is being captured")

// Trim returns the pool's idle blocks to the driver (tensor.Trimmer) and
// reports the bytes released. Blocks tensors hold, weights and the blocks a
// captured graph keeps are never released (a graph's tensors must stay
// allocated until its Destroy, so no block a replay uses is idle). It first
// waits for the queued work, which may still use a block that was put back
// in stream order; so call it between generations, not inside one. After a
// device error it releases nothing and returns that error (Sync reports it
// too).
func (b *Backend) Trim() (int64, error) {
	var freed int64
	var err error
	b.w.do(func() {
		switch {
		case b.capture != nil:
			err = errTrimDuringCapture
		case b.err != nil:
			err = fmt.Errorf("cuda: not releasing memory after a device error: %w", b.err)
		default:
			if err = b.syncStream(); err != nil {
				b.err = err
				return
			}
			freed, err = b.pool.releaseIdle()
		}
	})
	if freed > 0 {
		b.logf("cuda: released %.1f MiB of idle device memory", mib(freed))
	}
	return freed, err
}

// DeviceMemory reports the pool's counters and the driver's free and total
// memory (tensor.MemoryReporter).
func (b *Backend) DeviceMemory() (tensor.DeviceMemory, error) {
	var m tensor.DeviceMemory
	var err error
	b.w.do(func() {
		s := b.pool.stats()
		m = tensor.DeviceMemory{
			Held: s.HeldBytes, PeakHeld: s.PeakHeldBytes,
			InUse: s.InUseBytes, PeakInUse: s.PeakInUseBytes,
			AllocRetries: int64(s.AllocRetries), OOMs: int64(s.OOMs),
		}
		m.Free, m.Total, err = cu.MemInfo()
		err = driverFailed("cuMemGetInfo", err)
	})
	return m, err
}
