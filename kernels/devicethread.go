//go:build cuda

package kernels

import "github.com/gosdxl/gosdxl/tensor"

var _ tensor.DeviceThread = (*Backend)(nil)

// OnDeviceThread runs f on the thread that owns the CUDA context, so that
// the backend calls f makes are direct driver calls instead of one
// hand-off each (worker.do). A panic in f (a programmer error such as a
// freed tensor given to a kernel) is raised again on the caller's
// goroutine, where it would have happened without OnDeviceThread.
func (b *Backend) OnDeviceThread(f func()) {
	var failure any
	panicked := true
	b.w.do(func() {
		defer func() {
			if panicked {
				failure = recover()
			}
		}()
		f()
		panicked = false
	})
	if panicked {
		panic(failure)
	}
}
