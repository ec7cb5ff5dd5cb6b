package kernels

import (
	"errors"
	"fmt"
	"math/bits"
	"sort"
)

// pool hands out device memory in size classes and keeps freed blocks for
// reuse, so that at steady state (the same ops every denoising step) no
// cuMemAlloc happens at all. All calls come from the context goroutine, so it
// needs no locking. The raw allocator is injected to keep it testable without
// a GPU.
//
// Classes are 256 bytes, then for every power of two p from 512 up: p and
// 1.5·p. A request never wastes more than a third of its block.
type pool struct {
	alloc func(bytes int) (devicePtr, error)
	free  func(devicePtr) error

	idle   map[int][]devicePtr // class size -> blocks ready for reuse
	isIdle map[devicePtr]bool  // the same blocks, to refuse a second put

	held     int64 // bytes obtained from the driver and not returned to it
	peakHeld int64
	inUse    int64 // bytes handed out and not yet released
	peakUse  int64
	allocs   int // calls to the raw allocator
	reuses   int // requests served from idle blocks
	retries  int // driver refusals retried after releasing idle blocks
	ooms     int // requests that failed even so
}

// PoolStats summarises the allocator for logs and benchmarks.
type PoolStats struct {
	HeldBytes, PeakHeldBytes   int64 // memory taken from the driver
	InUseBytes, PeakInUseBytes int64 // memory handed to tensors
	DriverAllocs, Reuses       int
	// AllocRetries counts requests the driver refused until the idle
	// blocks were released (PyTorch's num_alloc_retries); OOMs those that
	// failed even then (num_ooms).
	AllocRetries, OOMs int
}

func (s PoolStats) String() string {
	return fmt.Sprintf("device memory: %.1f MiB held (peak %.1f), %.1f MiB in use (peak %.1f), %d driver allocations, %d reuses",
		mib(s.HeldBytes), mib(s.PeakHeldBytes), mib(s.InUseBytes), mib(s.PeakInUseBytes), s.DriverAllocs, s.Reuses)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func newPool(alloc func(int) (devicePtr, error), free func(devicePtr) error) *pool {
	return &pool{alloc: alloc, free: free, idle: map[int][]devicePtr{}, isIdle: map[devicePtr]bool{}}
}

// SizeClass is the block a request of bytes takes from the pool: what an
// activation of that size holds on the GPU (for memory plans).
func SizeClass(bytes int) int { return sizeClass(bytes) }

// sizeClass rounds a request up to its block size.
func sizeClass(bytes int) int {
	if bytes <= 256 {
		return 256
	}
	p := 1 << (bits.Len(uint(bytes-1)) - 1) // largest power of two < bytes
	if mid := p + p/2; bytes <= mid {
		return mid
	}
	return 2 * p
}

// get returns a block of at least bytes bytes and its class size. When the
// driver is out of memory, idle blocks are released and the request retried.
func (p *pool) get(bytes int) (devicePtr, int, error) {
	class := sizeClass(bytes)
	if list := p.idle[class]; len(list) > 0 {
		ptr := list[len(list)-1]
		p.idle[class] = list[:len(list)-1]
		delete(p.isIdle, ptr)
		p.reuses++
		p.use(int64(class))
		return ptr, class, nil
	}
	ptr, err := p.fromDriver(class)
	if err != nil {
		return 0, 0, err
	}
	return ptr, class, nil
}

// getExact returns a block of exactly bytes bytes, outside the size classes,
// for a tensor that lives as long as the model (a weight): rounding it to a
// class would waste up to a third of it for good. Give it back with
// freeExact.
func (p *pool) getExact(bytes int) (devicePtr, error) {
	return p.fromDriver(bytes)
}

// freeExact returns a block from getExact to the driver.
func (p *pool) freeExact(ptr devicePtr, bytes int) error {
	if err := p.free(ptr); err != nil {
		return err
	}
	p.held -= int64(bytes)
	p.inUse -= int64(bytes)
	return nil
}

// fromDriver allocates bytes from the driver, in use from now on. When the
// driver is out of memory, idle blocks are released and the request retried.
func (p *pool) fromDriver(bytes int) (devicePtr, error) {
	ptr, err := p.alloc(bytes)
	if err != nil {
		p.retries++
		freed, releaseErr := p.releaseIdle()
		if freed > 0 {
			ptr, err = p.alloc(bytes)
		}
		if err != nil {
			err = errors.Join(err, releaseErr)
		}
	}
	if err != nil {
		p.ooms++
		return 0, fmt.Errorf("allocating %d bytes (%.1f MiB held): %w", bytes, mib(p.held), err)
	}
	p.allocs++
	p.held += int64(bytes)
	p.peakHeld = max(p.peakHeld, p.held)
	p.use(int64(bytes))
	return ptr, nil
}

func (p *pool) use(n int64) {
	p.inUse += n
	p.peakUse = max(p.peakUse, p.inUse)
}

// put makes a block available for reuse. Work already queued on the stream
// that reads or writes it runs before any later user's work, because every
// operation goes to the same stream. A block that is already idle is refused:
// taking it twice would give two tensors the same memory.
func (p *pool) put(ptr devicePtr, class int) error {
	if p.isIdle[ptr] {
		return fmt.Errorf("device block %#x (%d bytes) returned to the pool twice", uint64(ptr), class)
	}
	p.isIdle[ptr] = true
	p.inUse -= int64(class)
	p.idle[class] = append(p.idle[class], ptr)
	return nil
}

// releaseIdle returns every idle block to the driver and reports the bytes
// freed and the driver's errors (a block it refuses to free stays lost).
func (p *pool) releaseIdle() (int64, error) {
	var freed int64
	var errs []error
	classes := make([]int, 0, len(p.idle))
	for c := range p.idle {
		classes = append(classes, c)
	}
	sort.Ints(classes)
	for _, c := range classes {
		for _, ptr := range p.idle[c] {
			if err := p.free(ptr); err != nil {
				errs = append(errs, err)
				continue
			}
			freed += int64(c)
		}
		delete(p.idle, c)
	}
	clear(p.isIdle)
	p.held -= freed
	return freed, errors.Join(errs...)
}

func (p *pool) stats() PoolStats {
	return PoolStats{p.held, p.peakHeld, p.inUse, p.peakUse, p.allocs, p.reuses, p.retries, p.ooms}
}
