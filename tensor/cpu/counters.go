package cpu

import (
	"sync/atomic"

	"github.com/gosdxl/gosdxl/tensor"
)

// counters are the running totals behind Backend.Counters. On the CPU a
// "launch" is one Backend operation, an "upload" a FromFloat32 or FromRaw,
// a "download" a ToFloat32, and a "driver allocation" an Alloc the pool
// could not serve from freed storage (in both modes: strict mode keeps the
// pool's books even though it never reuses memory).
type counters struct {
	launches, allocs, driverAllocs, allocBytes     atomic.Int64
	uploads, uploadBytes, downloads, downloadBytes atomic.Int64
	syncs                                          atomic.Int64
}

var _ tensor.Counting = (*Backend)(nil)

// Counters returns the backend's totals since it was made.
func (b *Backend) Counters() tensor.Counters {
	c := &b.counts
	return tensor.Counters{
		Launches:      c.launches.Load(),
		Allocs:        c.allocs.Load(),
		DriverAllocs:  c.driverAllocs.Load(),
		AllocBytes:    c.allocBytes.Load(),
		Uploads:       c.uploads.Load(),
		UploadBytes:   c.uploadBytes.Load(),
		Downloads:     c.downloads.Load(),
		DownloadBytes: c.downloadBytes.Load(),
		Syncs:         c.syncs.Load(),
	}
}

func (c *counters) upload(t *tensor.Tensor) {
	c.uploads.Add(1)
	c.uploadBytes.Add(int64(t.NumElements() * t.DType().Size()))
}

// launch counts one operation and, in strict mode, checks that none of its
// tensors (nil ones are skipped) was freed.
func (b *Backend) launch(op string, ts ...*tensor.Tensor) {
	b.counts.launches.Add(1)
	b.use(op, ts...)
}

// use panics in strict mode when one of ts was freed.
func (b *Backend) use(op string, ts ...*tensor.Tensor) {
	if b.strict == nil {
		return
	}
	for _, t := range ts {
		if t != nil {
			b.strict.check(op, t)
		}
	}
}
