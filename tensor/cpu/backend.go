// Package cpu is the pure-Go tensor.Backend: the reference every other
// backend is tested against, and fast enough (a blocked, register-tiled
// SGEMM under Linear, Conv2D and Attention) to run the full-size SDXL UNet.
//
// Storage: F32 tensors hold []float32, F16/BF16 []uint16, I32 []int32,
// I64 []int64. Activations are F32; weights (Linear/Conv weights, biases,
// norm scales, embedding tables) may be F16, BF16 or F32 and are widened
// while an operation reads them, so a memory-mapped fp16 checkpoint is used
// in place and never copied to float32 as a whole.
//
// On amd64 with AVX2 and FMA (checked at run time) the GEMM micro-kernel,
// the fp16 weight packing (F16C) and the softmax exponentials run in
// assembly; elsewhere the same algorithms run in plain Go.
package cpu

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Backend computes on the host. Its scratch buffers and freed storage are
// pooled package-wide (safe for concurrent use); a Backend itself holds only
// its Counters and, in strict mode, the record of its allocations. One
// Backend may be shared; its operations spread their work over all cores.
type Backend struct {
	counts counters
	strict *tracker // nil in Fast mode
}

var _ tensor.Backend = (*Backend)(nil)

// New returns the CPU backend in DefaultMode: strict under go test (or
// with GOSDXL_CPU_STRICT=1), fast otherwise.
func New() *Backend { return NewMode(DefaultMode()) }

// NewMode returns the CPU backend in mode m.
func NewMode(m Mode) *Backend {
	b := &Backend{}
	if m == Strict {
		b.strict = newTracker()
	}
	return b
}

// Name is "cpu".
func (b *Backend) Name() string { return "cpu" }

// HostResident is true: the CPU backend's tensors are Go memory (tensor.OnHost).
func (b *Backend) HostResident() bool { return true }

// Sync returns nil: CPU operations finish before they return and report
// misuse by panicking.
func (b *Backend) Sync() error {
	b.counts.syncs.Add(1)
	return nil
}

// Free hands t's storage back for reuse by Alloc (see pool.go). In fast
// mode calling it is optional: unfreed storage is reclaimed by the garbage
// collector. In strict mode freeing a view or freeing twice panics (and any
// later operation on t, see strict.go).
func (b *Backend) Free(t *tensor.Tensor) {
	if t == nil {
		return
	}
	if b.strict != nil {
		b.strict.free(t)
	}
	pool.release(t)
}

// Alloc returns a tensor, reusing freed storage of the same dtype and size
// when there is some: zero-filled in fast mode, NaN-filled in strict mode.
func (b *Backend) Alloc(dt tensor.DType, shape ...int) *tensor.Tensor {
	s := tensor.Shape(shape)
	for _, d := range s {
		if d < 0 {
			panic(fmt.Sprintf("cpu: Alloc with negative dimension %v", s))
		}
	}
	t, missed := pool.alloc(b, dt, s)
	b.counts.allocs.Add(1)
	if missed {
		b.counts.driverAllocs.Add(1)
		b.counts.allocBytes.Add(int64(s.NumElements() * dt.Size()))
	}
	if b.strict != nil {
		b.strict.add(t, false)
	}
	return t
}

// Mark returns a position in the allocation order: LiveSince(Mark()) later
// lists only what was allocated in between. 0 in fast mode.
func (b *Backend) Mark() uint64 {
	if b.strict == nil {
		return 0
	}
	b.strict.mu.Lock()
	defer b.strict.mu.Unlock()
	return b.strict.seq
}

// LiveSince lists the tensors allocated after mark (0: since the start)
// that are not freed yet, each with its allocation site: the leaks when a
// test expects everything it allocated back. Only a strict backend keeps
// this record; a fast one returns nil.
func (b *Backend) LiveSince(mark uint64) []Allocation {
	if b.strict == nil {
		return nil
	}
	return b.strict.live(mark)
}

// IsStrict reports whether b runs in Strict mode.
func (b *Backend) IsStrict() bool { return b.strict != nil }

func makeStorage(dt tensor.DType, n int) any {
	switch dt {
	case tensor.F32:
		return make([]float32, n)
	case tensor.F16, tensor.BF16:
		return make([]uint16, n)
	case tensor.I32:
		return make([]int32, n)
	case tensor.I64:
		return make([]int64, n)
	}
	panic(fmt.Sprintf("cpu: unsupported dtype %v", dt))
}

// FromFloat32 rounds data to dt (integers are truncated toward zero).
func (b *Backend) FromFloat32(dt tensor.DType, shape tensor.Shape, data []float32) *tensor.Tensor {
	if len(data) != shape.NumElements() {
		panic(fmt.Sprintf("cpu: FromFloat32 got %d values for shape %v", len(data), shape))
	}
	t := b.Alloc(dt, shape...)
	b.counts.upload(t)
	fill(t, data)
	return t
}

var _ tensor.HostWriter = (*Backend)(nil)

// WriteFloat32 overwrites dst with data, rounded as FromFloat32 rounds.
func (b *Backend) WriteFloat32(dst *tensor.Tensor, data []float32) {
	if len(data) != dst.NumElements() {
		panic(fmt.Sprintf("cpu: WriteFloat32 got %d values for %v", len(data), dst))
	}
	b.use("WriteFloat32", dst)
	b.counts.upload(dst)
	fill(dst, data)
}

// fill stores data in t's dtype (integers are truncated toward zero).
func fill(t *tensor.Tensor, data []float32) {
	switch s := t.Storage().(type) {
	case []float32:
		copy(s, data)
	case []uint16:
		narrow(s, data, t.DType())
	case []int32:
		for i, v := range data {
			s[i] = int32(v)
		}
	case []int64:
		for i, v := range data {
			s[i] = int64(v)
		}
	}
}

// ToFloat32 returns a fresh float32 copy of a floating-point tensor.
func (b *Backend) ToFloat32(t *tensor.Tensor) []float32 {
	if !t.DType().IsFloat() {
		panic(fmt.Sprintf("cpu: ToFloat32 of non-float tensor %v", t))
	}
	b.use("ToFloat32", t)
	b.counts.downloads.Add(1)
	b.counts.downloadBytes.Add(int64(t.NumElements() * t.DType().Size()))
	out := make([]float32, t.NumElements())
	widen(out, t, 0)
	return out
}
