package tensor

import "fmt"

// Tensor is a handle to data owned by a backend: its shape, its element type,
// the backend's storage (for tensor/cpu a Go slice, for the CUDA backend a
// device allocation) and the backend itself.
//
// A Tensor with no backend is a Spec: a placeholder that declares the shape a
// layer expects for a weight before the checkpoint is bound (see weights.Bind).
type Tensor struct {
	shape   Shape
	dtype   DType
	storage any
	backend Backend
}

// New wraps backend storage in a Tensor. Only backends call it.
func New(b Backend, dt DType, shape Shape, storage any) *Tensor {
	return &Tensor{shape: shape.Clone(), dtype: dt, storage: storage, backend: b}
}

// Spec declares an expected weight shape, with no data.
func Spec(shape ...int) *Tensor { return &Tensor{shape: Shape(shape).Clone()} }

// Shape returns the dimensions. Callers must not modify the result.
func (t *Tensor) Shape() Shape { return t.shape }

// DType returns the element type.
func (t *Tensor) DType() DType { return t.dtype }

// Storage returns the backend's storage; only the owning backend interprets it.
func (t *Tensor) Storage() any { return t.storage }

// Backend returns the owning backend (nil for a Spec).
func (t *Tensor) Backend() Backend { return t.backend }

// NumElements is the product of the dimensions.
func (t *Tensor) NumElements() int { return t.shape.NumElements() }

// Reshape returns a view of the same storage with another shape of the same
// size: a pure reinterpretation of contiguous data, as [B,H,W,C] <-> [B,H·W,C].
func (t *Tensor) Reshape(shape ...int) *Tensor {
	s := Shape(shape)
	if s.NumElements() != t.shape.NumElements() {
		panic(fmt.Sprintf("tensor: cannot reshape %v to %v", t.shape, s))
	}
	return &Tensor{shape: s.Clone(), dtype: t.dtype, storage: t.storage, backend: t.backend}
}

// String describes the tensor, as F16[320 4 3 3].
func (t *Tensor) String() string { return t.dtype.String() + t.shape.String() }
