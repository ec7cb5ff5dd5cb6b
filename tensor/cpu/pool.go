package cpu

import (
	"runtime"
	"sync"
	"weak"

	"github.com/gosdxl/gosdxl/tensor"
)

// Freed activation buffers are kept for reuse by Alloc: a UNet step
// allocates and frees the same few shapes thousands of times, and fresh
// memory for each costs page faults and garbage collection (about a fifth
// of a step on two cores). Only storage this backend allocated is ever
// pooled: Free on a tensor that aliases a memory-mapped checkpoint
// (FromRaw), on a view made by Reshape, or a second time does nothing (a
// strict backend panics on the last two before they get here, see
// strict.go). Nothing depends on Free being called; without it the garbage
// collector reclaims storage as before.

// maxPooledBytes bounds the memory kept for reuse.
const maxPooledBytes = 1 << 30

type poolKey struct {
	dt tensor.DType
	n  int
}

// bufferPool recognises its storage by the *tensor.Tensor that Alloc
// returned, held weakly: a tensor from FromRaw, a Reshape view or another
// backend is never registered, and a weak pointer cannot be confused with
// a later object at the same address. (Weak pointers to the storage itself
// are not an option: a mapped checkpoint is not Go memory.)
type bufferPool struct {
	mu    sync.Mutex
	owned map[weak.Pointer[tensor.Tensor]]struct{} // allocated, not yet freed
	free  map[poolKey][]any
	bytes int
}

var pool = bufferPool{owned: map[weak.Pointer[tensor.Tensor]]struct{}{}, free: map[poolKey][]any{}}

// alloc returns a new tensor, reusing freed storage when possible, and
// whether it had to make new storage (a pool miss). Fast mode zero-fills
// the storage; strict mode makes fresh storage even on a hit (so that no
// stale handle can reach the new tensor's data) and fills it with NaN.
func (p *bufferPool) alloc(b *Backend, dt tensor.DType, shape tensor.Shape) (*tensor.Tensor, bool) {
	n := shape.NumElements()
	key := poolKey{dt, n}
	var storage any
	p.mu.Lock()
	if list := p.free[key]; len(list) > 0 {
		storage = list[len(list)-1]
		p.free[key] = list[:len(list)-1]
		p.bytes -= n * dt.Size()
	}
	p.mu.Unlock()
	missed := storage == nil
	switch {
	case b.strict != nil:
		storage = makeStorage(dt, n)
	case missed:
		storage = makeStorage(dt, n)
	default:
		clearStorage(storage)
	}
	t := tensor.New(b, dt, shape, storage)
	if b.strict != nil {
		poisonTensor(t)
	}
	w := weak.Make(t)
	p.mu.Lock()
	p.owned[w] = struct{}{}
	p.mu.Unlock()
	runtime.AddCleanup(t, func(w weak.Pointer[tensor.Tensor]) {
		p.mu.Lock()
		delete(p.owned, w)
		p.mu.Unlock()
	}, w)
	return t, missed
}

// release takes back the storage of a tensor alloc returned; any other
// tensor, or one already released, is ignored.
func (p *bufferPool) release(t *tensor.Tensor) {
	w := weak.Make(t)
	size := t.NumElements() * t.DType().Size()
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.owned[w]; !ok {
		return
	}
	delete(p.owned, w)
	if size == 0 || p.bytes+size > maxPooledBytes {
		return // left to the garbage collector
	}
	key := poolKey{t.DType(), t.NumElements()}
	p.free[key] = append(p.free[key], t.Storage())
	p.bytes += size
}

func clearStorage(storage any) {
	switch s := storage.(type) {
	case []float32:
		clear(s)
	case []uint16:
		clear(s)
	case []int32:
		clear(s)
	case []int64:
		clear(s)
	}
}
