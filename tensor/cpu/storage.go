package cpu

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// f32 returns the float32 storage of an activation tensor, panicking with
// the tensor's description when it is not an F32 tensor of this backend.
func f32(t *tensor.Tensor, op, role string) []float32 {
	s, ok := t.Storage().([]float32)
	if !ok || t.DType() != tensor.F32 {
		panic(fmt.Sprintf("cpu: %s: %s must be an F32 tensor of the cpu backend, got %v", op, role, t))
	}
	return s
}

// widen converts len(dst) elements of the floating-point tensor t, starting
// at element off, to float32. It is how weights of any float dtype are read.
func widen(dst []float32, t *tensor.Tensor, off int) {
	switch s := t.Storage().(type) {
	case []float32:
		copy(dst, s[off:off+len(dst)])
	case []uint16:
		widenHalf(dst, s[off:off+len(dst)], t.DType())
	default:
		panic(fmt.Sprintf("cpu: cannot read %v as floating point", t))
	}
}

// widenHalf converts F16 or BF16 bit patterns to float32.
func widenHalf(dst []float32, src []uint16, dt tensor.DType) {
	if dt == tensor.BF16 {
		for i, h := range src {
			dst[i] = tensor.BF16ToF32(h)
		}
		return
	}
	dst = dst[:len(src)]
	for i, h := range src {
		dst[i] = f16Table[h]
	}
}

// narrow rounds float32 values to F16 or BF16 bit patterns.
func narrow(dst []uint16, src []float32, dt tensor.DType) {
	if dt == tensor.BF16 {
		for i, v := range src {
			dst[i] = tensor.F32ToBF16(v)
		}
		return
	}
	for i, v := range src {
		dst[i] = tensor.F32ToF16(v)
	}
}

// vector widens a whole small weight tensor (a bias, a norm scale) of
// length n to float32; nil stays nil.
func vector(t *tensor.Tensor, n int, op, role string) []float32 {
	if t == nil {
		return nil
	}
	if t.NumElements() != n || len(t.Shape()) != 1 {
		panic(fmt.Sprintf("cpu: %s: %s has shape %v, want [%d]", op, role, t.Shape(), n))
	}
	out := make([]float32, n)
	widen(out, t, 0)
	return out
}
