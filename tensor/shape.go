package tensor

import (
	"fmt"
	"strings"
)

// Shape lists a tensor's dimensions, outermost first. Activations are
// channels-last: images [B,H,W,C], token sequences [B,T,C].
type Shape []int

// NumElements is the product of the dimensions (1 for a scalar).
func (s Shape) NumElements() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Equal reports whether both shapes have the same dimensions.
func (s Shape) Equal(o Shape) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		if s[i] != o[i] {
			return false
		}
	}
	return true
}

// Last is the innermost dimension (the channel or feature axis).
func (s Shape) Last() int { return s[len(s)-1] }

// Rows is the number of innermost vectors: NumElements / Last.
func (s Shape) Rows() int { return s.NumElements() / s.Last() }

// Clone returns a copy that can be changed without touching s.
func (s Shape) Clone() Shape { return append(Shape(nil), s...) }

// String formats the shape as [2 77 2048].
func (s Shape) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
