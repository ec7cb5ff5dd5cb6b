package kernels

import (
	"fmt"
	"math"

	"github.com/gosdxl/gosdxl/tensor"
)

// A fast kernel's planner (its family's untagged <family>_plan.go) checks
// whether the kernel takes a case and computes its grid, from shapes,
// dtypes and addresses only, so that it is unit-tested without a GPU; the
// family's tagged file turns tensors into operands and launches the plan.
// This file holds what the planners share.

// launchPlan is everything Launch needs besides the kernel arguments.
type launchPlan struct {
	module string // the .cu file's base name
	name   string // the kernel; empty when there is nothing to launch
	grid   Dim3
	block  Dim3
	shared int
}

// operand is what the planners need to know about one tensor argument: its
// shape, type and device address (for alignment). A nil *tensor.Tensor
// becomes the zero operand (absent).
type operand struct {
	name  string
	shape tensor.Shape
	dtype tensor.DType
	addr  uint64
}

func (o operand) present() bool { return o.shape != nil }

// tensorOperand describes t for the planners (nil t: absent).
func tensorOperand(name string, t *tensor.Tensor, addr uint64) operand {
	if t == nil {
		return operand{name: name}
	}
	return operand{name: name, shape: t.Shape(), dtype: t.DType(), addr: addr}
}

// empty reports that there is nothing to launch (an empty problem).
func (p launchPlan) empty() bool { return p.name == "" }

// tensorCoreSuffix names the kernel instantiation for dt, or fails for types
// the tensor-core kernels do not take (F32 runs on the simple kernels).
func tensorCoreSuffix(dt tensor.DType) (string, error) {
	switch dt {
	case tensor.F16:
		return "f16", nil
	case tensor.BF16:
		return "bf16", nil
	}
	return "", fmt.Errorf("tensor-core kernels take F16 or BF16, not %v", dt)
}

// sameDType checks that every present operand has dtype dt: the fast kernels
// take one storage type for activations, weights and bias alike.
func sameDType(dt tensor.DType, ops ...operand) error {
	for _, o := range ops {
		if o.present() && o.dtype != dt {
			return fmt.Errorf("%s is %v but the activations are %v (fast kernels need one type)", o.name, o.dtype, dt)
		}
	}
	return nil
}

// aligned reports whether every present operand's address is a multiple of
// bytes.
func aligned(bytes uint64, ops ...operand) bool {
	for _, o := range ops {
		if o.present() && o.addr%bytes != 0 {
			return false
		}
	}
	return true
}

// fitsInt32 guards the kernels' int arithmetic on sizes and indices.
func fitsInt32(vals ...int) bool {
	for _, v := range vals {
		if v < 0 || v > math.MaxInt32 {
			return false
		}
	}
	return true
}

// maxGridY is the CUDA limit on a grid's y (and z) dimension.
const maxGridY = 65535

// shapeError marks a shape mismatch: a bug in the caller, not a case to
// fall back from.
type shapeError struct{ err error }

func (e *shapeError) Error() string { return e.err.Error() }
func (e *shapeError) Unwrap() error { return e.err }
