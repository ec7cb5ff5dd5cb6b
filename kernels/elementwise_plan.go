package kernels

import "github.com/gosdxl/gosdxl/tensor"

// The element-wise family's planning, free of the cuda build tag so that it
// is unit-tested without a GPU.

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
