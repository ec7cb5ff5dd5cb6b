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

// convOut is the output size of a convolution along one axis.
func convOut(in, k, stride, pad int) int { return (in+2*pad-k)/stride + 1 }

// broadcastPlan collapses Binary's shapes to at most 4 dimensions: the
// extents of a and, for each, b's element stride (0 where b broadcasts).
// Adjacent dimensions merge when b's layout allows it. ok is false for
// patterns needing more than 4 dimensions, or b dims that are neither a's
// nor 1.
func broadcastPlan(a, b tensor.Shape) (n, stride [4]int, ok bool) {
	if len(a) != len(b) {
		return n, stride, false
	}
	// b's contiguous strides, zeroed where it broadcasts.
	bs := make([]int, len(b))
	s := 1
	for i := len(b) - 1; i >= 0; i-- {
		switch {
		case b[i] == a[i]:
			bs[i] = s
		case b[i] == 1:
			bs[i] = 0
		default:
			return n, stride, false
		}
		s *= b[i]
	}
	var dims, strides []int
	for i := range a {
		if a[i] == 1 {
			continue
		}
		last := len(dims) - 1
		if last >= 0 && strides[last] == bs[i]*a[i] && (bs[i] != 0 || strides[last] == 0) {
			dims[last] *= a[i] // contiguous with the previous dim, or both broadcast
			strides[last] = bs[i]
			continue
		}
		dims = append(dims, a[i])
		strides = append(strides, bs[i])
	}
	if len(dims) > 4 {
		return n, stride, false
	}
	for i := range n {
		n[i], stride[i] = 1, 0
	}
	off := 4 - len(dims)
	for i := range dims {
		n[off+i], stride[off+i] = dims[i], strides[i]
	}
	return n, stride, true
}
