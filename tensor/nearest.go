package tensor

import "math"

// NearestIndex lists, for each of the out positions, the source position of
// torch's nearest interpolation from in positions: min(⌊i·(in/out)⌋, in−1)
// with the scale and the product in float32, as torch computes them (exact
// halving for 2×, the identity for the same size). Backend.ResizeNearest
// follows it.
func NearestIndex(in, out int) []int {
	idx := make([]int, out)
	scale := float32(in) / float32(out)
	for i := range idx {
		idx[i] = min(int(math.Floor(float64(float32(i)*scale))), in-1)
	}
	return idx
}
