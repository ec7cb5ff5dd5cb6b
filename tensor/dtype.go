// Package tensor holds what every part of gosdxl shares: element types, shapes,
// the Tensor handle, the Backend interface that layers compute through, and the
// exact float16/bfloat16 conversions. The pure-Go reference backend is tensor/cpu.
package tensor

import "fmt"

// DType is the element type of a tensor.
type DType uint8

const (
	F32 DType = iota + 1
	F16
	BF16
	I32
	I64
)

// Size is the number of bytes one element takes.
func (d DType) Size() int {
	switch d {
	case F32, I32:
		return 4
	case F16, BF16:
		return 2
	case I64:
		return 8
	}
	return 0
}

// String returns the safetensors spelling of the type ("F16", "BF16", ...).
func (d DType) String() string {
	switch d {
	case F32:
		return "F32"
	case F16:
		return "F16"
	case BF16:
		return "BF16"
	case I32:
		return "I32"
	case I64:
		return "I64"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// IsFloat reports whether d is one of the floating-point types.
func (d DType) IsFloat() bool { return d == F32 || d == F16 || d == BF16 }

// ParseDType reads the safetensors spelling of a type. Types gosdxl never
// stores (F64, I8, U8, ...) are reported as unsupported, naming the type.
func ParseDType(s string) (DType, error) {
	switch s {
	case "F32":
		return F32, nil
	case "F16":
		return F16, nil
	case "BF16":
		return BF16, nil
	case "I32":
		return I32, nil
	case "I64":
		return I64, nil
	}
	return 0, fmt.Errorf("unsupported dtype %q", s)
}
