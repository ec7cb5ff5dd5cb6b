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

// Backend computes on the host. It holds no state (scratch buffers and
// freed storage are pooled package-wide, safe for concurrent use), so one
// Backend may be shared; its operations spread their work over all cores.
type Backend struct{}

var _ tensor.Backend = (*Backend)(nil)

// New returns the CPU backend.
func New() *Backend { return &Backend{} }

// Name is "cpu".
func (b *Backend) Name() string { return "cpu" }

// Sync returns nil: CPU operations finish before they return and report
// misuse by panicking.
func (b *Backend) Sync() error { return nil }

// Free hands t's storage back for reuse by Alloc (see pool.go). Calling it
// is optional: unfreed storage is reclaimed by the garbage collector.
func (b *Backend) Free(t *tensor.Tensor) {
	if t != nil {
		pool.release(t)
	}
}

// Alloc returns a zero-filled tensor, reusing freed storage of the same
// dtype and size when there is some.
func (b *Backend) Alloc(dt tensor.DType, shape ...int) *tensor.Tensor {
	s := tensor.Shape(shape)
	for _, d := range s {
		if d < 0 {
			panic(fmt.Sprintf("cpu: Alloc with negative dimension %v", s))
		}
	}
	return pool.alloc(b, dt, s)
}

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
	switch s := t.Storage().(type) {
	case []float32:
		copy(s, data)
	case []uint16:
		narrow(s, data, dt)
	case []int32:
		for i, v := range data {
			s[i] = int32(v)
		}
	case []int64:
		for i, v := range data {
			s[i] = int64(v)
		}
	}
	return t
}

// ToFloat32 returns a fresh float32 copy of a floating-point tensor.
func (b *Backend) ToFloat32(t *tensor.Tensor) []float32 {
	if !t.DType().IsFloat() {
		panic(fmt.Sprintf("cpu: ToFloat32 of non-float tensor %v", t))
	}
	out := make([]float32, t.NumElements())
	widen(out, t, 0)
	return out
}
