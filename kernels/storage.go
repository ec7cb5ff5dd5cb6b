//go:build cuda

package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// deviceBuffer is a tensor's storage: one pool block. Reshaped views share it.
type deviceBuffer struct {
	ptr   devicePtr
	class int // pool size class; 0 for a buffer that failed to allocate
	bytes int
	owner *Backend
	freed bool // released: its block may already belong to another tensor
	exact bool // a block of exactly bytes from the driver (a weight), not a pool class
}

// buffer returns t's device storage; a tensor from another backend is a
// programmer error.
func (b *Backend) buffer(t *tensor.Tensor) *deviceBuffer {
	buf, ok := t.Storage().(*deviceBuffer)
	if !ok || buf.owner != b {
		panic(fmt.Sprintf("kernels: tensor %v does not belong to this CUDA backend (backend %v)", t, t.Backend()))
	}
	return buf
}

// ptr is t's device address, for kernel arguments. A freed tensor has none:
// passing one to a kernel would read another tensor's memory or fault
// (CUDA_ERROR_ILLEGAL_ADDRESS, reported launches later), so it is named here.
func (b *Backend) ptr(t *tensor.Tensor) devicePtr {
	buf := b.buffer(t)
	if buf.freed {
		panic(fmt.Sprintf("kernels: tensor %v used after Free", t))
	}
	return buf.ptr
}

// scratch returns a device work buffer for a launcher. Give it back with
// release; reuse follows stream order, so freeing right after
// the launches that use it is safe.
func (b *Backend) scratch(n int) *deviceBuffer { return b.newBuffer(n, false) }

// newBuffer takes n bytes of device memory: a pool block of n's size class,
// or (exact) a block of exactly n bytes from the driver.
func (b *Backend) newBuffer(n int, exact bool) *deviceBuffer {
	buf := &deviceBuffer{bytes: n, owner: b, exact: exact}
	b.w.do(func() {
		if b.err != nil {
			return
		}
		size := max(n, 1)
		if !exact && b.capture != nil {
			if spare, ok := b.capture.takeSpare(sizeClass(size)); ok {
				buf.ptr, buf.class = spare.ptr, spare.class
				return
			}
		}
		var ptr devicePtr
		var err error
		if exact {
			ptr, err = b.pool.getExact(size)
		} else {
			ptr, size, err = b.pool.get(size)
		}
		if err != nil {
			b.err = fmt.Errorf("cuda: %w", err)
			return
		}
		buf.ptr, buf.class = ptr, size
	})
	return buf
}

// release returns a buffer from scratch (or a tensor's) to the pool.
// While a graph is being captured, the graph keeps the block until it is
// destroyed, because replays keep using its address (Graph.keep).
func (b *Backend) release(buf *deviceBuffer) {
	b.w.do(func() {
		if buf.class == 0 {
			return
		}
		if b.capture != nil {
			b.capture.keep(*buf)
		} else if err := b.giveBack(*buf); err != nil && b.err == nil {
			b.err = fmt.Errorf("cuda: %w", err)
		}
		buf.class, buf.ptr, buf.freed = 0, 0, true
	})
}

// giveBack returns a released block: a pool block to the pool for reuse in
// stream order; an exact one to the driver, once the work queued on it has
// run (weights are freed rarely: a model closed, a LoRA swapped).
// Runs on the context goroutine.
func (b *Backend) giveBack(buf deviceBuffer) error {
	if !buf.exact {
		return b.pool.put(buf.ptr, buf.class)
	}
	if err := b.syncStream(); err != nil {
		return err
	}
	return b.pool.freeExact(buf.ptr, buf.class)
}

// FromRawWeight uploads a weight (tensor.WeightUploader) into a block of
// exactly its size, outside the pool's size classes: over the full-size
// SDXL weights the classes would hold about a quarter more than the
// weights themselves, for the model's life.
func (b *Backend) FromRawWeight(dt tensor.DType, shape tensor.Shape, raw []byte) *tensor.Tensor {
	if len(raw) != shape.NumElements()*dt.Size() {
		panic(fmt.Sprintf("kernels: FromRawWeight got %d bytes for %v%v", len(raw), dt, shape))
	}
	buf := b.newBuffer(len(raw), true)
	b.w.do(func() { b.counts.Allocs++ })
	t := tensor.New(b, dt, shape, buf)
	b.upload(t, raw)
	return t
}

// Stats reports the allocator's counters.
func (b *Backend) Stats() PoolStats {
	var s PoolStats
	b.w.do(func() { s = b.pool.stats() })
	return s
}
