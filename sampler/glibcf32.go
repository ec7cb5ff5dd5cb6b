package sampler

import "math"

// torch's scalar normal_fill kernel calls glibc's logf, sinf and cosf.
// Those are not correctly rounded (up to ~0.8 ulp for logf, 0.56 ulp for
// sinf/cosf), so rounding a float64 result to float32 disagrees with them
// on some inputs. These functions follow glibc's algorithms (table-driven
// logf; sinf/cosf with quadrant reduction and short double-precision
// polynomials, glibc ≥ 2.28) as built for x86-64 CPUs with FMA, where
// glibc selects its -mfma variants and the compiler fuses every a·b + c
// into one fused multiply-add. Each math.FMA below is one such fusion.
//
// Only the argument ranges of Box–Muller are implemented exactly:
// logf on (0, 1] and sinf/cosf on |x| < 120; anything else falls back to
// float64 math rounded to float32.

// logfTable holds, for 16 subintervals of [0x3f330000, 2·0x3f330000) as
// float bits, 1/c and log(c) for a c near each subinterval's centre.
var logfTable = [16][2]float64{
	{0x1.661ec79f8f3bep+0, -0x1.57bf7808caadep-2},
	{0x1.571ed4aaf883dp+0, -0x1.2bef0a7c06ddbp-2},
	{0x1.49539f0f010bp+0, -0x1.01eae7f513a67p-2},
	{0x1.3c995b0b80385p+0, -0x1.b31d8a68224e9p-3},
	{0x1.30d190c8864a5p+0, -0x1.6574f0ac07758p-3},
	{0x1.25e227b0b8eap+0, -0x1.1aa2bc79c81p-3},
	{0x1.1bb4a4a1a343fp+0, -0x1.a4e76ce8c0e5ep-4},
	{0x1.12358f08ae5bap+0, -0x1.1973c5a611cccp-4},
	{0x1.0953f419900a7p+0, -0x1.252f438e10c1ep-5},
	{0x1p+0, 0x0p+0},
	{0x1.e608cfd9a47acp-1, 0x1.aa5aa5df25984p-5},
	{0x1.ca4b31f026aap-1, 0x1.c5e53aa362eb4p-4},
	{0x1.b2036576afce6p-1, 0x1.526e57720db08p-3},
	{0x1.9c2d163a1aa2dp-1, 0x1.bc2860d22477p-3},
	{0x1.886e6037841edp-1, 0x1.1058bc8a07ee1p-2},
	{0x1.767dcf5534862p-1, 0x1.4043057b6ee09p-2},
}

const (
	logfLn2   = 0x1.62e42fefa39efp-1
	logfA0    = -0x1.00ea348b88334p-2
	logfA1    = 0x1.5575b0be00b6ap-2
	logfA2    = -0x1.ffffef20a4123p-2
	logfOff   = 0x3f330000
	minNormal = 0x00800000
)

// glibcLogf is glibc's logf: x = 2^k·z, log x = log1p(z/c − 1) + log c + k·ln 2.
func glibcLogf(x float32) float32 {
	ix := math.Float32bits(x)
	if ix == 0x3f800000 {
		return 0
	}
	if ix-minNormal >= 0x7f800000-minNormal {
		return float32(math.Log(float64(x))) // zero, subnormal, negative, Inf, NaN
	}
	tmp := ix - logfOff
	i := (tmp >> (23 - 4)) % 16
	k := int32(tmp) >> 23
	iz := ix - (tmp & (0x1ff << 23))
	invc, logc := logfTable[i][0], logfTable[i][1]
	z := float64(math.Float32frombits(iz))

	r := math.FMA(z, invc, -1)
	y0 := math.FMA(float64(k), logfLn2, logc)
	r2 := r * r
	y := math.FMA(logfA1, r, logfA2)
	y = math.FMA(logfA0, r2, y)
	y = math.FMA(y, r2, y0+r)
	return float32(y)
}

// sincosfCoeffs are glibc's polynomial coefficients: cos ≈ c0 + c1·x² + …
// + c4·x⁸, sin ≈ x + s1·x³ + s2·x⁵ + s3·x⁷ on [−π/4, π/4].
type sincosfCoeffs struct {
	c0, c1, c2, c3, c4 float64
	s1, s2, s3         float64
}

// sincosfPoly[1] negates the cosine polynomial: used in the quadrants
// where the result is −cos.
var sincosfPoly = [2]sincosfCoeffs{
	{1, -0x1.ffffffd0c621cp-2, 0x1.55553e1068f19p-5, -0x1.6c087e89a359dp-10, 0x1.99343027bf8c3p-16,
		-0x1.555545995a603p-3, 0x1.1107605230bc4p-7, -0x1.994eb3774cf24p-13},
	{-1, 0x1.ffffffd0c621cp-2, -0x1.55553e1068f19p-5, 0x1.6c087e89a359dp-10, -0x1.99343027bf8c3p-16,
		-0x1.555545995a603p-3, 0x1.1107605230bc4p-7, -0x1.994eb3774cf24p-13},
}

var sincosfSign = [4]float64{1, -1, -1, 1}

const (
	sincosfHalfPiInv = 0x1.45F306DC9C883p+23 // 2/π · 2^24
	sincosfHalfPi    = 0x1.921FB54442D18p0
)

// abstop12 is the top 12 bits of a float32 without its sign: a cheap
// magnitude class used for glibc's range dispatch.
func abstop12(x float32) uint32 { return (math.Float32bits(x) >> 20) & 0x7ff }

// sinfPoly evaluates the sine (n even) or cosine (n odd) polynomial.
func sinfPoly(x, x2 float64, p *sincosfCoeffs, n int) float32 {
	if n&1 == 0 {
		x3 := x * x2
		s1 := math.FMA(x2, p.s3, p.s2)
		x7 := x3 * x2
		s := math.FMA(x3, p.s1, x)
		return float32(math.FMA(x7, s1, s))
	}
	x4 := x2 * x2
	c2 := math.FMA(x2, p.c4, p.c3)
	c1 := math.FMA(x2, p.c1, p.c0)
	x6 := x4 * x2
	c := math.FMA(x4, p.c2, c1)
	return float32(math.FMA(x6, c2, c))
}

// reduceFast returns x − n·π/2 in [−π/4, π/4] and the quadrant n.
func reduceFast(x float64) (float64, int) {
	r := x * sincosfHalfPiInv
	n := (int32(r) + 0x800000) >> 24
	return math.FMA(-float64(n), sincosfHalfPi, x), int(n)
}

// glibcSinCosf is glibc's sinf (cosine=false) or cosf (cosine=true).
func glibcSinCosf(y float32, cosine bool) float32 {
	quadrantShift := 0
	if cosine {
		quadrantShift = 1
	}
	x := float64(y)
	switch {
	case abstop12(y) < abstop12(0x1.921FB6p-1): // |y| below ~π/4
		if abstop12(y) < abstop12(0x1p-12) {
			if cosine {
				return 1
			}
			return y
		}
		return sinfPoly(x, x*x, &sincosfPoly[0], quadrantShift)
	case abstop12(y) < abstop12(120):
		r, n := reduceFast(x)
		s := sincosfSign[n&3]
		p := &sincosfPoly[0]
		if n&2 != 0 {
			p = &sincosfPoly[1]
		}
		return sinfPoly(r*s, r*r, p, n^quadrantShift)
	}
	if cosine {
		return float32(math.Cos(x))
	}
	return float32(math.Sin(x))
}

func glibcSinf(x float32) float32 { return glibcSinCosf(x, false) }
func glibcCosf(x float32) float32 { return glibcSinCosf(x, true) }
