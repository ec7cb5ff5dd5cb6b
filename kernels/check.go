package kernels

import (
	"fmt"
	"math"

	"github.com/gosdxl/gosdxl/tensor"
)

// Argument checks shared by the ops. A violation is a programmer error
// (tensor.Backend's contract): they panic, naming the op and the shapes.

// suffix is a dtype's kernel-name suffix.
func suffix(dt tensor.DType) string {
	switch dt {
	case tensor.F32:
		return "f32"
	case tensor.F16:
		return "f16"
	case tensor.BF16:
		return "bf16"
	}
	panic(fmt.Sprintf("kernels: no float kernels for dtype %v", dt))
}

// pairSuffix names the activation × parameter instantiation: "f16_f32".
func pairSuffix(act, param tensor.DType) string { return suffix(act) + "_" + suffix(param) }

func mustFloat(op string, ts ...*tensor.Tensor) {
	for _, t := range ts {
		if t != nil && !t.DType().IsFloat() {
			panic(fmt.Sprintf("kernels: %s needs floating-point tensors, got %v", op, t))
		}
	}
}

func mustSameDType(op string, a, b *tensor.Tensor) {
	if a.DType() != b.DType() {
		panic(fmt.Sprintf("kernels: %s: dtype mismatch %v vs %v", op, a, b))
	}
}

func mustShape(op, what string, t *tensor.Tensor, want ...int) {
	if !t.Shape().Equal(tensor.Shape(want)) {
		panic(fmt.Sprintf("kernels: %s: %s is %v, want shape %v", op, what, t, tensor.Shape(want)))
	}
}

// elems is t's element count, which must fit the kernels' int indices.
func elems(op string, t *tensor.Tensor) int {
	n := t.NumElements()
	if n > math.MaxInt32 {
		panic(fmt.Sprintf("kernels: %s: %v has %d elements, more than the kernels' 2^31-1", op, t, n))
	}
	return n
}
