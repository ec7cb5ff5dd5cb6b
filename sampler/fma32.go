package sampler

import "math"

// fma32 returns a·b + c rounded once to float32, like a hardware float32
// fused multiply-add.
//
// The product of two float32 values is exact in float64, but the float64
// sum p + c is rounded, and rounding that again to float32 can land on the
// wrong side of a float32 midpoint (double rounding). The sum is therefore
// rounded to odd: when it was inexact, the neighbour with an odd last bit is
// taken. A round-to-odd result with 29 spare bits rounds to float32 exactly
// as the infinitely precise sum would.
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b) // exact
	q := float64(c)
	s := p + q
	// TwoSum: err is the exact rounding error of s.
	bv := s - p
	err := (p - (s - bv)) + (q - bv)
	if err != 0 && math.Float64bits(s)&1 == 0 {
		if err > 0 {
			s = math.Nextafter(s, math.Inf(1))
		} else {
			s = math.Nextafter(s, math.Inf(-1))
		}
	}
	return float32(s)
}
