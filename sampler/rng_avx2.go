package sampler

import "math"

// The AVX2 kernel of torch's normal_fill evaluates Box–Muller with the
// Cephes-style log256_ps and sincos256_ps of ATen's avx_mathfun.h, compiled
// with FMA contraction. Every step below is one float32 instruction of that
// kernel, in the same order, so the results agree bit for bit.

// boxMuller16AVX2 transforms 16 uniforms in place: u1 = 1 − d[j],
// u2 = d[j+8], r = sqrt(−2·log u1), d[j] = r·cos θ, d[j+8] = r·sin θ.
func boxMuller16AVX2(d []float32) {
	for j := 0; j < 8; j++ {
		u1 := 1 - d[j]
		u2 := d[j+8]
		r := float32(math.Sqrt(float64(-2 * log256(u1))))
		s, c := sincos256(twoPi32 * u2)
		d[j] = r * c
		d[j+8] = r * s
	}
}

// Cephes logf polynomial coefficients as float32 constants.
var logPoly = [...]float32{
	-1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
	-1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
}

// log256 is one lane of log256_ps for a positive float32.
func log256(x float32) float32 {
	const minNormPos = 0x00800000 // 2^-126
	if math.Float32bits(x) < minNormPos {
		x = math.Float32frombits(minNormPos)
	}
	bits := math.Float32bits(x)
	e := float32(int32(bits>>23)-0x7f) + 1
	// Keep the mantissa, force the exponent of 0.5: x in [0.5, 1).
	x = math.Float32frombits(bits&^0x7f800000 | math.Float32bits(0.5))
	var t float32
	if x < float32(0.707106781186547524) {
		t = x
		e--
	}
	x = x - 1
	x = x + t
	z := x * x
	y := float32(7.0376836292e-2)
	for _, c := range logPoly {
		y = fma32(y, x, c)
	}
	y = y * x
	y = fma32(y, z, e*float32(-2.12194440e-4))
	y = fma32(z, -0.5, y)
	x = x + y
	return fma32(e, 0.693359375, x)
}

// sincos256 is one lane of sincos256_ps: the argument is reduced to
// [−π/4, π/4] by octant (extended-precision π/4 in three parts), then the
// sine or cosine polynomial is chosen per octant and the signs are applied
// by flipping the sign bit.
func sincos256(theta float32) (sin, cos float32) {
	signSin := math.Float32bits(theta) & 0x80000000
	x := float32(math.Abs(float64(theta)))
	j := int32(float32(x * float32(1.27323954473516))) // truncation, like cvttps
	j = (j + 1) &^ 1
	yq := float32(j)
	signSin ^= uint32(j&4) << 29
	usePolySin := j&2 == 0
	signCos := uint32(^(j-2)&4) << 29

	x = fma32(yq, -0.78515625, x)
	x = fma32(yq, -2.4187564849853515625e-4, x)
	x = fma32(yq, -3.77489497744594108e-8, x)
	z := x * x

	c := fma32(2.443315711809948e-5, z, -1.388731625493765e-3)
	c = fma32(c, z, 4.166664568298827e-2)
	c = c * z
	c = fma32(c, z, -(z * 0.5))
	c = c + 1

	s := fma32(-1.9515295891e-4, z, 8.3321608736e-3)
	s = fma32(s, z, -1.6666654611e-1)
	s = s * z
	s = fma32(s, x, x)

	if usePolySin {
		sin, cos = s, c
	} else {
		sin, cos = c, s
	}
	sin = math.Float32frombits(math.Float32bits(sin) ^ signSin)
	cos = math.Float32frombits(math.Float32bits(cos) ^ signCos)
	return sin, cos
}
