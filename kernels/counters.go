//go:build cuda

package kernels

import "github.com/gosdxl/gosdxl/tensor"

// Counters reports the backend's running totals (tensor.Counting): kernel
// launches (a graph replay counts the kernels it holds), tensors handed
// out, the pool's driver allocations, host↔device copies, and host waits for
// the device (Sync, downloads, the uploader waiting for a staging buffer,
// timing). Tests compare two snapshots to pin what a UNet step costs.
func (b *Backend) Counters() tensor.Counters {
	var c tensor.Counters
	b.w.do(func() {
		c = b.counts
		c.Syncs += int64(b.uploads.waits)
	})
	return c
}

var _ tensor.Counting = (*Backend)(nil)
var _ tensor.WeightUploader = (*Backend)(nil)

// syncStream waits for the stream, counting the wait. Context goroutine only.
func (b *Backend) syncStream() error {
	b.counts.Syncs++
	return streamSync(b.stream)
}

// countedAlloc is the pool's raw allocator: cuMemAlloc, counted.
func (b *Backend) countedAlloc(bytes int) (devicePtr, error) {
	p, err := memAlloc(bytes)
	if err == nil {
		b.counts.DriverAllocs++
		b.counts.AllocBytes += int64(bytes)
	}
	return p, err
}
